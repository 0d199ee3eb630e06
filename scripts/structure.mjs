// Prints the engine's structure: import cycles (strongly connected components of the relative
// import graph of src/), upward imports (a folder importing from a folder of a higher layer), and
// the largest source files. `node scripts/structure.mjs` — a measurement, not a test.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// Lower layers never import higher ones; folders of one layer may import each other.
const LAYERS = [
  ['shared', 'engine/ir', 'engine/hub'],
  ['engine/autodiff', 'engine/runtime'],
  ['engine/nn', 'engine/tokenizer'],
  ['engine/data', 'engine/checkpoint', 'engine/optim'],
  ['engine/models'],
  ['engine/infer', 'engine/train'],
  ['engine/workspace', 'engine/cli.ts', 'engine/cli-*.ts'],
  ['extension', 'webviews'],
];
const root = resolve('src');
const files = [];
(function walk(d) { for (const n of readdirSync(d)) { const p = join(d, n); if (statSync(p).isDirectory()) walk(p); else if (/\.ts$/.test(n)) files.push(p); } })(root);
const rel = (p) => relative(root, p);
/** A layer entry: a folder, a file, or files named like "engine/cli-*.ts" (the CLI's parts). */
const matches = (r, x) => r === x || r.startsWith(`${x}/`) || (x.includes('*') && r.startsWith(x.slice(0, x.indexOf('*'))) && r.endsWith(x.slice(x.indexOf('*') + 1)));
const layerOf = (f) => { const r = rel(f); const i = LAYERS.findIndex((l) => l.some((x) => matches(r, x))); return i; };
const folderOf = (f) => { const r = rel(f); return LAYERS.flat().find((x) => matches(r, x)) ?? dirname(r); };
const graph = new Map();
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const deps = new Set();
  for (const m of src.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]/gm)) {
    const spec = m[1] ?? m[2];
    const target = resolve(dirname(f), spec.replace(/\.js$/, '.ts'));
    if (files.includes(target)) deps.add(target);
  }
  graph.set(f, [...deps]);
}
// Tarjan's SCC.
let index = 0; const idx = new Map(), low = new Map(), stack = [], on = new Set(), sccs = [];
function strong(v) {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
  for (const w of graph.get(v)) {
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) { const c = []; let w; do { w = stack.pop(); on.delete(w); c.push(w); } while (w !== v); if (c.length > 1) sccs.push(c); }
}
for (const f of files) if (!idx.has(f)) strong(f);
const upward = [];
for (const [f, deps] of graph) for (const d of deps) if (layerOf(d) > layerOf(f)) upward.push(`${rel(f)} -> ${rel(d)} (${folderOf(f)} imports ${folderOf(d)})`);
const sizes = files.map((f) => [rel(f), readFileSync(f, 'utf8').split('\n').length]).sort((a, b) => b[1] - a[1]);
console.log(`${files.length} files, ${sizes.reduce((a, s) => a + s[1], 0)} lines`);
console.log(`import cycles: ${sccs.length}`);
for (const c of sccs) console.log(`  ${c.map(rel).sort().join(' <-> ')}`);
console.log(`upward imports: ${upward.length}`);
for (const u of upward) console.log(`  ${u}`);
console.log('largest files:');
for (const [f, n] of sizes.slice(0, 8)) console.log(`  ${String(n).padStart(5)}  ${f}`);

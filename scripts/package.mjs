#!/usr/bin/env node
// Packages the extension as a platform-specific .vsix: bert-lab-<version>-<target>.vsix.
//
//   node scripts/package.mjs [--target linux-x64] [--out <dir or file.vsix>] [--no-build] [--list]
//
// --target   a VS Code target (default: this machine's, e.g. linux-x64). onnxruntime-node 1.30 ships
//            binaries for linux-x64, linux-arm64, darwin-arm64, win32-x64 and win32-arm64; the
//            npm package holds all of them, so any target can be packaged on any machine.
// --out      where to write the .vsix (a folder, or a path ending in .vsix; default: the repository root).
// --no-build reuse dist/ as it is instead of running `node esbuild.mjs --minify`.
// --list     print the files that would be packaged and stop.
//
// The package holds dist/{extension,worker-main,cli}.js, package.json, README, LICENSE, schemas/,
// media/, and node_modules/onnxruntime-node (JS + the target's native binaries only) with its one
// runtime dependency onnxruntime-common. Selection: .vscodeignore (a whitelist) plus one line added
// here for the target's binaries, given to vsce as a temporary ignore file. vsce runs with npm
// dependencies on (it only collects files under node_modules when it lists the production
// dependencies with `npm list`); the whitelist keeps just the two onnxruntime packages.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ORT_BIN = 'node_modules/onnxruntime-node/bin/napi-v6';
/** Bundles the package cannot do without; every other dist/*.js that the build writes ships too. */
const BUNDLES = ['dist/extension.js', 'dist/worker-main.js', 'dist/cli.js'];
const builtBundles = () => readdirSync(join(ROOT, 'dist')).filter((f) => f.endsWith('.js')).map((f) => `dist/${f}`);

class Failure extends Error {}
/** Stops packaging with a message (no stack trace); temporary files are still removed. */
function fail(msg) {
  throw new Failure(msg);
}

function parseArgs(argv) {
  const o = { target: undefined, out: undefined, build: true, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    if (a === '--target' || a.startsWith('--target=')) o.target = value();
    else if (a === '--out' || a.startsWith('--out=')) o.out = value();
    else if (a === '--no-build') o.build = false;
    else if (a === '--list') o.list = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node scripts/package.mjs [--target <os-arch>] [--out <dir|file.vsix>] [--no-build] [--list]');
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  return o;
}

/** The targets onnxruntime-node has binaries for, from node_modules: [{ target, os, arch }]. */
function ortTargets() {
  const base = join(ROOT, ORT_BIN);
  if (!existsSync(base)) fail(`${ORT_BIN} not found: run npm install`);
  const out = [];
  for (const os of readdirSync(base).sort()) {
    for (const arch of readdirSync(join(base, os)).sort()) {
      if (existsSync(join(base, os, arch, 'onnxruntime_binding.node'))) out.push({ target: `${os}-${arch}`, os, arch });
    }
  }
  return out;
}

function resolveTarget(requested) {
  const available = ortTargets();
  const target = requested ?? `${process.platform}-${process.arch}`;
  if (/^alpine-/.test(target)) fail(`${target}: onnxruntime-node's Linux binaries are glibc builds; musl (Alpine) is not supported`);
  const t = available.find((x) => x.target === target);
  if (!t) fail(`no onnxruntime-node ${readOrtVersion()} binaries for ${target}; available: ${available.map((x) => x.target).join(', ')}`);
  return t;
}

/**
 * The target's native files to ship. the npm tarball holds no symlinks, so a library that the release tarball
 * links under two names arrives as two identical files (darwin-arm64: libonnxruntime.1.30.0.dylib
 * and libonnxruntime.1.dylib, 44.6 MB each). Of identical files only the names that the binding
 * refers to are kept; a group the binding names none of is kept whole.
 */
function targetBinaries({ os, arch }) {
  const dir = join(ROOT, ORT_BIN, os, arch);
  const names = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile()).sort();
  const binding = readFileSync(join(dir, 'onnxruntime_binding.node')).toString('latin1');
  const byHash = new Map();
  for (const f of names) {
    const h = createHash('sha256').update(readFileSync(join(dir, f))).digest('hex');
    byHash.set(h, [...(byHash.get(h) ?? []), f]);
  }
  const ship = [];
  const dropped = [];
  for (const group of byHash.values()) {
    const named = group.filter((f) => binding.includes(f));
    const keep = group.length > 1 && named.length ? named : group;
    ship.push(...keep);
    for (const f of group) if (!keep.includes(f)) dropped.push({ file: f, sameAs: keep[0] });
  }
  return { ship: ship.sort(), dropped };
}

function readOrtVersion() {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version;
}

function loadVsce() {
  try {
    return createRequire(join(ROOT, 'package.json'))('@vscode/vsce');
  } catch (e) {
    fail(`@vscode/vsce is not installed (${e.code ?? e.message}): run npm install`);
  }
}

/** The entries of a zip file from its central directory: { name, size, csize, offset, method }. */
export function zipEntries(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let k = 0; k < count; k++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry ${k}`);
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const offset = buf.readUInt32LE(p + 42);
    entries.push({ name: buf.toString('utf8', p + 46, p + 46 + nameLen), size, csize, offset, method });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The uncompressed bytes of one entry. */
export function zipRead(buf, e) {
  if (buf.readUInt32LE(e.offset) !== 0x04034b50) throw new Error(`bad local header for ${e.name}`);
  const start = e.offset + 30 + buf.readUInt16LE(e.offset + 26) + buf.readUInt16LE(e.offset + 28);
  const raw = buf.subarray(start, start + e.csize);
  if (e.method === 0) return raw;
  if (e.method === 8) return inflateRawSync(raw);
  throw new Error(`${e.name}: unsupported compression method ${e.method}`);
}

/** Files package.json points at (main, icons, walkthrough media, JSON schemas…) that exist here. */
function manifestFiles(manifest) {
  const out = new Set();
  const walk = (v, key) => {
    if (key === 'scripts') return;
    if (typeof v === 'string') {
      const f = v.replace(/^\.\//, '');
      if (/^[\w-]+(\/[\w.-]+)*\.\w+$/.test(f) && existsSync(join(ROOT, f)) && statSync(join(ROOT, f)).isFile()) out.add(f);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, k);
    }
  };
  walk(manifest, '');
  return [...out];
}

/** Problems with a package's file list (paths relative to the extension root), for a target. */
export function checkFiles(files, { os, arch }, manifest) {
  const problems = [];
  const has = new Set(files);
  for (const f of [...new Set([...BUNDLES, ...builtBundles(), ...manifestFiles(manifest)]), 'package.json', 'node_modules/onnxruntime-node/package.json', 'node_modules/onnxruntime-node/dist/index.js',
    'node_modules/onnxruntime-common/package.json', 'node_modules/onnxruntime-common/dist/cjs/index.js', `${ORT_BIN}/${os}/${arch}/onnxruntime_binding.node`]) {
    if (!has.has(f)) problems.push(`missing ${f}`);
  }
  for (const f of files) {
    if (f.startsWith(`${ORT_BIN}/`) && !f.startsWith(`${ORT_BIN}/${os}/${arch}/`)) problems.push(`another platform's binary: ${f}`);
    if (/\.(ts|map)$/.test(f) || /(^|\/)(src|test|out)\//.test(f)) problems.push(`not for shipping: ${f}`);
    if (f.startsWith('node_modules/') && !/^node_modules\/onnxruntime-(node|common)\//.test(f)) problems.push(`unexpected dependency file: ${f}`);
  }
  return problems;
}

const mb = (n) => `${(n / 1024 / 1024).toFixed(2)} MB`;

function group(name) {
  if (name.startsWith(`extension/${ORT_BIN}/`)) return 'onnxruntime-node native binaries';
  if (name.startsWith('extension/node_modules/onnxruntime-node/')) return 'onnxruntime-node JS';
  if (name.startsWith('extension/node_modules/onnxruntime-common/')) return 'onnxruntime-common JS';
  if (name.startsWith('extension/dist/')) return name.slice('extension/'.length);
  if (name.startsWith('extension/media/')) return 'media/';
  return 'manifest, README, schemas, other';
}

function printBreakdown(entries) {
  const groups = new Map();
  for (const e of entries) {
    const g = groups.get(group(e.name)) ?? { files: 0, size: 0, csize: 0 };
    g.files++; g.size += e.size; g.csize += e.csize;
    groups.set(group(e.name), g);
  }
  const rows = [...groups].sort((a, b) => b[1].csize - a[1].csize);
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`${'part'.padEnd(w)}  files  ${'unpacked'.padStart(10)}  ${'in vsix'.padStart(10)}`);
  for (const [k, g] of rows) console.log(`${k.padEnd(w)}  ${String(g.files).padStart(5)}  ${mb(g.size).padStart(10)}  ${mb(g.csize).padStart(10)}`);
  const big = [...entries].sort((a, b) => b.csize - a.csize).slice(0, 5);
  console.log('largest files:');
  for (const e of big) console.log(`  ${mb(e.csize).padStart(10)} in vsix, ${mb(e.size).padStart(10)} unpacked  ${e.name}`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t = resolveTarget(opts.target);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const vsce = loadVsce();

  const tmp = mkdtempSync(join(tmpdir(), 'bert-lab-package-'));
  try {
    const ignoreFile = join(tmp, '.vscodeignore');
    const base = readFileSync(join(ROOT, '.vscodeignore'), 'utf8');
    const bins = targetBinaries(t);
    // In --list mode stdout is the file list alone.
    const info = opts.list ? console.error : console.log;
    for (const d of bins.dropped) info(`package: leaving out ${ORT_BIN}/${t.os}/${t.arch}/${d.file}: identical to ${d.sameAs}, which the binding loads`);
    writeFileSync(ignoreFile, `${base.trimEnd()}\n# added by scripts/package.mjs for ${t.target}\n${bins.ship.map((f) => `!${ORT_BIN}/${t.os}/${t.arch}/${f}\n`).join('')}`);

    if (opts.list) {
      const files = await vsce.listFiles({ cwd: ROOT, ignoreFile, packageManager: vsce.PackageManager?.Npm ?? 'npm' });
      for (const f of files.sort()) console.log(f);
      const problems = checkFiles(files, t, manifest);
      if (problems.length) fail(`the file list is wrong for ${t.target}:\n  ${problems.join('\n  ')}`);
      return;
    }

    if (opts.build) {
      console.log('package: node esbuild.mjs --minify');
      const started = Date.now() - 1000;
      const r = spawnSync(process.execPath, ['esbuild.mjs', '--minify'], { cwd: ROOT, stdio: 'inherit' });
      if (r.status !== 0) fail('build failed');
      // Every dist/*.js ships; one this build did not write is left over from an older entry point.
      const stale = builtBundles().filter((f) => statSync(join(ROOT, f)).mtimeMs < started);
      if (stale.length) fail(`${stale.join(', ')}: not written by esbuild.mjs (left over?); delete or rebuild`);
    }
    for (const f of BUNDLES) if (!existsSync(join(ROOT, f))) fail(`${f} is missing: run npm run build (or drop --no-build)`);
    const sha = (b) => createHash('sha256').update(b).digest('hex');
    const built = new Map(builtBundles().map((f) => [f, sha(readFileSync(join(ROOT, f)))]));

    const name = `${manifest.name}-${manifest.version}-${t.target}.vsix`;
    let packagePath = opts.out ? resolve(opts.out) : join(ROOT, name);
    if (!packagePath.endsWith('.vsix')) packagePath = join(packagePath, name);
    mkdirSync(dirname(packagePath), { recursive: true });

    const hasLicense = ['LICENSE', 'LICENSE.md', 'LICENSE.txt'].some((f) => existsSync(join(ROOT, f)));
    if (!hasLicense) console.warn(`package: warning: no LICENSE file (package.json says "${manifest.license}"); packaging without one`);
    if (!manifest.repository) console.warn('package: warning: package.json has no "repository" field');

    await vsce.createVSIX({
      cwd: ROOT,
      packagePath,
      target: t.target,
      ignoreFile,
      dependencies: true,
      useYarn: false,
      // Both would otherwise stop at a y/N prompt; the warnings above say it instead.
      skipLicense: !hasLicense,
      allowMissingRepository: !manifest.repository,
    });

    const buf = readFileSync(packagePath);
    const entries = zipEntries(buf);
    const files = entries.map((e) => e.name).filter((n) => n.startsWith('extension/')).map((n) => n.slice('extension/'.length));
    const problems = checkFiles(files, t, manifest);
    if (problems.length) fail(`${relative(process.cwd(), packagePath)} is wrong for ${t.target}:\n  ${problems.join('\n  ')}`);
    // vsce reads dist/ after the build; a build running alongside (npm test, a watch) may have replaced it meanwhile.
    for (const [f, h] of built) {
      if (sha(zipRead(buf, entries.find((e) => e.name === `extension/${f}`))) !== h) fail(`${f} changed while packaging (another build running?); run again`);
    }
    // The manifest must name the target, or VS Code would offer this package on every platform.
    const vsixManifest = zipRead(buf, entries.find((e) => e.name === 'extension.vsixmanifest')).toString('utf8');
    if (!vsixManifest.includes(`TargetPlatform="${t.target}"`)) fail(`extension.vsixmanifest does not name TargetPlatform="${t.target}"`);

    console.log();
    printBreakdown(entries);
    console.log(`\n${packagePath}  ${mb(statSync(packagePath).size)}  (${entries.length} entries, ${t.target}, onnxruntime-node ${readOrtVersion()})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`package: ${e instanceof Failure ? e.message : (e?.stack ?? String(e))}`);
    process.exit(1);
  });
}

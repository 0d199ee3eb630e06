// Attention panel benchmark: a 512-token input through BERT-base's 12 layers × 12 heads.
//
//   npx tsc -p tsconfig.test.json && node esbuild.mjs && node bench/attention-render.mjs
//   (the page part needs Chromium and playwright-core: bash scripts/e2e/setup.sh)
//
// Host (plain Node, src/engine/infer/attention-view.ts on a random 12 × 12 × 512 × 512 result):
// time to make the 144 thumbnails (and the 12 layer means) and one head's 512 × 512 matrix (and
// the heads' mean). Page (the panel's bundle in Chromium via openPanelPage, measured inside the
// page with performance.now): time to first paint from the meta message to the frame where the
// heatmap and every visible thumbnail are drawn (the page's requests are answered at once, as
// precomputed data: host compute is measured above), time to switch head, and hover latency
// (the handler's work, and until the next frame). Prints a table; asserts nothing.
// BENCH_RUNS=n repeats (default 7); BENCH_SCREENSHOT=file.png saves the page at the end.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../scripts/e2e/run.mjs';

const L = 12, H = 12, T = 512, THUMB = 40, RUNS = Number(process.env.BENCH_RUNS ?? 7);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const p95 = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(0.95 * s.length))]; };
const rows = [];
const row = (what, xs) => rows.push({ what, median: median(xs), p95: p95(xs), n: xs.length });

// ---- host side ----
const view = join(REPO_ROOT, 'out', 'src', 'engine', 'infer', 'attention-view.js');
if (!existsSync(view)) throw new Error(`${view} is missing: run npx tsc -p tsconfig.test.json`);
const { thumbnails, headMatrix, keepIndices, viewTokens } = await import(view);
let seed = 12345;
const rand = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 4294967296; };
const tokens = Array.from({ length: T }, (_, i) => (i === 0 ? '[CLS]' : i === 255 || i === T - 1 ? '[SEP]' : `w${i}`));
const result = {
  tokens, offsets: tokens.map((_, i) => [i, i + 1]), sequenceIds: tokens.map((_, i) => (i === 0 || i === 255 || i === T - 1 ? null : i < 255 ? 0 : 1)), heads: H, warnings: [],
  layers: Array.from({ length: L }, () => {
    const a = new Float32Array(H * T * T);
    for (let r = 0; r < H * T; r++) {
      let s = 0;
      for (let j = 0; j < T; j++) { const v = Math.exp(6 * rand()); a[r * T + j] = v; s += v; }
      for (let j = 0; j < T; j++) a[r * T + j] /= s;
    }
    return a;
  }),
};
const all = keepIndices(viewTokens(result), false), noSpecial = keepIndices(viewTokens(result), true);
const time = (fn) => { const t = performance.now(); fn(); return performance.now() - t; };
const host = (what, fn) => { fn(); row(`host: ${what}`, Array.from({ length: RUNS }, () => time(fn))); };
host(`144 thumbnails ${THUMB}×${THUMB}, all ${T} tokens`, () => thumbnails(result, all, THUMB, false));
host(`144 thumbnails, ${noSpecial.length} kept (no [CLS]/[SEP])`, () => thumbnails(result, noSpecial, THUMB, false));
host('12 mean-of-heads thumbnails', () => thumbnails(result, all, THUMB, true));
host(`one head ${T}×${T}`, () => headMatrix(result, 5, 7, all));
host(`mean of 12 heads ${T}×${T}`, () => headMatrix(result, 5, -1, all));
const thumbs = thumbnails(result, all, THUMB, false);
const heads = [0, 1, 2, 3].map((h) => headMatrix(result, 0, h, all));
result.layers = null;

// ---- page side ----
const { openPanelPage } = await import('../scripts/e2e/panel-page.mjs');
const p = await openPanelPage('attention', { theme: 'dark', width: 1400, height: 900 });
try {
  const meta = { type: 'attention/meta', requestId: 0, checkpoint: '/bench/ckpt', tokens: viewTokens({ ...result, layers: [] }), layers: L, heads: H, warnings: [], ms: 0 };
  await p.send({ type: 'checkpoints', items: [{ label: 'bench', description: '', path: '/bench/ckpt' }], selected: ['/bench/ckpt'] });
  // Typed arrays cross into the page as plain arrays (page.evaluate serialises JSON) and are rebuilt there once.
  await p.page.evaluate(({ th, hs }) => {
    const data = Uint8Array.from(th.data), heads = hs.map((h) => Float32Array.from(h));
    // Answers the page's requests at once, the way the host's messages arrive (a 'message' event).
    const push = window.__posted.push.bind(window.__posted);
    window.__posted.push = (m) => {
      push(m);
      if (m.type === 'attention/thumbs') setTimeout(() => window.postMessage({ type: 'attention/thumbs', requestId: m.requestId, size: th.size, count: th.count, data, scale: th.scale }, '*'));
      if (m.type === 'attention/head') setTimeout(() => window.postMessage({ type: 'attention/head', requestId: m.requestId, layer: m.layer, head: m.head, n: m.keep.length, data: heads[Math.max(0, m.head) % heads.length] }, '*'));
      return window.__posted.length;
    };
    window.__markAfter = (name, t0) => new Promise((resolve) => {
      const look = () => { const e = performance.getEntriesByName(name).find((x) => x.startTime >= t0); if (e) resolve(e.startTime - t0); else requestAnimationFrame(look); };
      look();
    });
  }, { th: { size: thumbs.size, count: thumbs.count, data: Array.from(thumbs.data), scale: thumbs.scale }, hs: heads.map((h) => Array.from(h)) });

  const first = [];
  for (let i = 0; i < RUNS; i++) {
    first.push(await p.page.evaluate((m) => { const t0 = performance.now(); window.postMessage(m, '*'); return window.__markAfter('bertlab-attention-painted', t0); }, meta));
  }
  row(`page: first paint, ${T} tokens, ${L}×${H} (meta → heatmap + visible thumbnails)`, first);
  const visible = await p.page.evaluate(() => [...document.querySelectorAll('.grid-row canvas')].filter((c) => { const r = c.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }).length);

  const sw = [];
  for (let i = 0; i < RUNS * 2; i++) {
    sw.push(await p.page.evaluate((h) => {
      const c = document.querySelector('.grid-row canvas[data-layer="0"]'), r = c.getBoundingClientRect();
      const t0 = performance.now();
      c.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: r.left + h * 44 + 20, clientY: r.top + 20 }));
      return window.__markAfter('bertlab-attention-heat', t0);
    }, (i % 3) + 1));
  }
  row('page: switch head (click a thumbnail → heatmap drawn)', sw);

  const hover = await p.page.evaluate(async (n) => {
    const o = document.querySelector('.heat-box canvas.overlay'), r = o.getBoundingClientRect(), sync = [], frame = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      o.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, clientX: r.left + 60 + (i * 37) % (r.width - 80), clientY: r.top + 60 + (i * 53) % (r.height - 80) }));
      sync.push(performance.now() - t0);
      await new Promise((res) => requestAnimationFrame(() => res()));
      frame.push(performance.now() - t0);
    }
    const tok = [];
    for (let i = 0; i < n; i++) {
      const e = document.querySelector(`.tokens .tok[data-i="${(i * 31) % 512}"]`), t0 = performance.now();
      e.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
      tok.push(performance.now() - t0);
    }
    return { sync, frame, tok };
  }, RUNS * 5);
  row('page: hover a cell, handler (tooltip + row/column highlight)', hover.sync);
  row('page: hover a cell, until the next frame', hover.frame);
  row('page: hover a token, handler', hover.tok);
  if (process.env.BENCH_SCREENSHOT) await p.page.screenshot({ path: process.env.BENCH_SCREENSHOT });
  if (p.errors.length) console.log('page errors:', p.errors);
  console.log(`\nattention panel, ${T} tokens, ${L} layers × ${H} heads; ${RUNS} runs; ${visible} of ${L} thumbnail rows visible at first paint; Chromium ${p.page.context().browser()?.version() ?? ''}`);
} finally {
  await p.close();
}
const w = Math.max(...rows.map((r) => r.what.length));
console.log(`${'what'.padEnd(w)}  median ms    p95 ms   n`);
for (const r of rows) console.log(`${r.what.padEnd(w)}  ${r.median.toFixed(2).padStart(9)}  ${r.p95.toFixed(2).padStart(8)}  ${String(r.n).padStart(2)}`);

// Page check of the attention panel in plain Chromium (scripts/e2e/panel-page.mjs), dark and light:
// host messages are built in the page (typed arrays), the drawn pixels are read back from the
// canvas, and what the page posts is checked. Screenshots: .e2e/artifacts/page-attention-<theme>.png.
//   node test/pages/attention.page.mjs     (after npm run build and scripts/e2e/setup.sh)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/e2e/run.mjs';
import { THEMES, openPanelPage } from '../../scripts/e2e/panel-page.mjs';
import { checker } from './check.mjs';

const { check, finish } = checker();
const ART = join(REPO_ROOT, '.e2e', 'artifacts');
mkdirSync(ART, { recursive: true });

// "[CLS] the cat sat on the mat [SEP] it was tired [SEP]": segment A and B, three specials.
const WORDS = ['[CLS]', 'the', 'cat', 'sat', 'on', 'the', 'mat', '[SEP]', 'it', 'was', 'tired', '.', '[SEP]'];
const SEG = [null, 0, 0, 0, 0, 0, 0, null, 1, 1, 1, 1, null];
const TOKENS = WORDS.map((text, i) => ({ text, start: i, end: i + 1, segment: SEG[i], special: text.startsWith('[') }));
const SPECIAL = [0, 7, 12];
const L = 3, H = 4, CKPT = '/ws/runs/mlm/checkpoint-500';
const hexRgb = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/**
 * Answers the page's latest attention/thumbs and attention/head requests as the host would, with
 * matrices made in the page: 'diag' (identity: all mass on the token itself) or 'real' (a local
 * window plus mass on the separators, varying by layer and head, for the screenshots).
 */
async function answer(p, mode) {
  await p.page.evaluate(({ mode, T }) => {
    const full = (layer, head) => {
      const a = new Float64Array(T * T);
      for (let i = 0; i < T; i++) {
        let s = 0;
        for (let j = 0; j < T; j++) {
          const v = mode === 'diag' ? (i === j ? 1 : 0)
            : Math.exp(-Math.abs(i - j + (head % 3) - 1) * (0.6 + 0.5 * (head % 4))) + (j === 0 || j === 7 || j === T - 1 ? 0.5 * (layer % 3) : 0) + 0.03 * ((i * 7 + j * 13 + head * 5 + layer * 3) % 10);
          a[i * T + j] = v; s += v;
        }
        for (let j = 0; j < T; j++) a[i * T + j] /= s;
      }
      return a;
    };
    const sub = (a, keep) => { const n = keep.length, out = new Float32Array(n * n); keep.forEach((q, i) => keep.forEach((k, j) => { out[i * n + j] = a[q * T + k]; })); return out; };
    const posted = window.__posted;
    const last = (type) => [...posted].reverse().find((m) => m.type === type);
    const th = last('attention/thumbs'), hd = last('attention/head');
    if (th) {
      const n = th.keep.length, s = Math.min(th.size, n), per = th.mean ? 1 : 4, count = 3 * per;
      const data = new Uint8Array(count * s * s), scale = [];
      for (let t = 0; t < count; t++) {
        const layer = Math.floor(t / per);
        let m = new Float32Array(n * n);
        const heads = th.mean ? [0, 1, 2, 3] : [t % per];
        for (const h of heads) sub(full(layer, h), th.keep).forEach((v, i) => { m[i] += v / heads.length; });
        // n ≤ size here, so a thumbnail is the matrix itself, scaled to its maximum.
        const max = Math.max(...m);
        m.forEach((v, i) => { data[t * s * s + i] = Math.round((v / max) * 255); });
        scale.push(max);
      }
      window.postMessage({ type: 'attention/thumbs', requestId: th.requestId, size: s, count, data, scale }, '*');
    }
    if (hd) {
      const heads = hd.head < 0 ? [0, 1, 2, 3] : [hd.head], n = hd.keep.length, data = new Float32Array(n * n);
      for (const h of heads) sub(full(hd.layer, h), hd.keep).forEach((v, i) => { data[i] += v / heads.length; });
      window.postMessage({ type: 'attention/head', requestId: hd.requestId, layer: hd.layer, head: hd.head, n, data }, '*');
    }
  }, { mode, T: TOKENS.length });
  await nextFrames(p);
}
const nextFrames = (p) => p.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
/** The heatmap's geometry (data-* set by the page) and the RGB at the centre of cell (row, col). */
async function cellRgb(p, row, col) {
  return p.page.evaluate(([row, col]) => {
    const c = document.querySelector('.heat-box canvas');
    const { left, top, side, n } = Object.fromEntries(Object.entries(c.dataset).map(([k, v]) => [k, Number(v)]));
    const dpr = c.width / c.clientWidth, cell = side / n;
    const px = c.getContext('2d').getImageData(Math.floor((left + (col + 0.5) * cell) * dpr), Math.floor((top + (row + 0.5) * cell) * dpr), 1, 1).data;
    return [px[0], px[1], px[2]];
  }, [row, col]);
}
async function cellPoint(p, row, col) {
  return p.page.evaluate(([row, col]) => {
    const c = document.querySelector('.heat-box canvas'), r = c.getBoundingClientRect();
    const { left, top, side, n } = Object.fromEntries(Object.entries(c.dataset).map(([k, v]) => [k, Number(v)]));
    return { x: r.left + left + (col + 0.5) * side / n, y: r.top + top + (row + 0.5) * side / n };
  }, [row, col]);
}
const posted = (p, type) => p.posted().then((ms) => ms.filter((m) => m.type === type));

for (const theme of ['dark', 'light']) {
  const p = await openPanelPage('attention', { theme, width: 1320, height: 900 });
  const bg = hexRgb(THEMES[theme].vars['editor-background']);
  try {
    await check(`${theme}: posts ready, then shows the empty state explaining what to do`, async () => {
      assert.equal((await posted(p, 'ready')).length, 1);
      await p.send({ type: 'checkpoints', items: [{ label: 'checkpoint-500', description: 'runs/mlm', path: CKPT }], selected: [CKPT] });
      assert.match(await p.page.textContent('.empty'), /press Run/);
    });

    await check(`${theme}: "Choose a folder…" asks the host to pick one and keeps the selection`, async () => {
      await p.page.click('vscode-single-select.ckpt');
      await p.page.getByRole('option', { name: 'Choose a folder…' }).click();
      assert.equal((await posted(p, 'attention/pickCheckpoint')).length, 1);
      assert.equal(await p.page.$eval('vscode-single-select.ckpt', (e) => e.value), CKPT);
    });

    await check(`${theme}: Run posts attention/run with the checkpoint, text and second segment`, async () => {
      await p.page.fill('vscode-textfield.text >> input', 'the cat sat on the mat');
      await p.page.fill('vscode-textfield.pair >> input', 'it was tired.');
      await p.page.click('vscode-button');
      const runs = await posted(p, 'attention/run');
      assert.equal(runs.length, 1);
      assert.deepEqual({ ...runs[0], requestId: 0 }, { type: 'attention/run', requestId: 0, checkpoint: CKPT, text: 'the cat sat on the mat', pair: 'it was tired.' });
      await p.send({ type: 'attention/meta', requestId: runs[0].requestId, checkpoint: CKPT, tokens: TOKENS, layers: L, heads: H, warnings: [], ms: 42 });
    });

    await check(`${theme}: meta asks for thumbnails of every head and head 0 of layer 0 over all tokens`, async () => {
      const [th] = await posted(p, 'attention/thumbs'), [hd] = await posted(p, 'attention/head');
      assert.deepEqual(th.keep, TOKENS.map((_, i) => i));
      assert.equal(th.mean, false);
      assert.deepEqual([hd.layer, hd.head, hd.keep.length], [0, 0, TOKENS.length]);
    });

    await check(`${theme}: an identity matrix draws a bright diagonal on the background colour`, async () => {
      await answer(p, 'diag');
      for (const i of [0, 4, 12]) {
        const on = await cellRgb(p, i, i), off = await cellRgb(p, i, (i + 5) % TOKENS.length);
        assert.ok(dist(off, bg) <= 3, `zero cell (${i}, ${(i + 5) % 13}) = ${off}, background ${bg}`);
        assert.ok(dist(on, bg) > 200, `diagonal cell ${i} = ${on} is not far from the background ${bg}`);
      }
    });

    await check(`${theme}: "Scale 0–1" colours by absolute probability: a 0.5 diagonal dims, and back`, async () => {
      const req = (await p.posted()).filter((m) => m.type === 'attention/head').pop();
      await p.page.evaluate(({ n, requestId, layer, head }) => {
        const d = new Float32Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i * n + j] = i === j ? 0.5 : 0.5 / (n - 1);
        window.postMessage({ type: 'attention/head', requestId, layer, head, n, data: d }, '*');
      }, { n: req.keep.length, requestId: req.requestId, layer: req.layer, head: req.head });
      await nextFrames(p);
      const relative = await cellRgb(p, 2, 2);
      const box = p.page.locator('vscode-checkbox[label="Scale 0–1"]');
      await box.click();
      await nextFrames(p);
      const absolute = await cellRgb(p, 2, 2);
      assert.ok(dist(absolute, bg) < dist(relative, bg) - 30, `0.5 at scale 0–1 ${absolute} should be nearer the background ${bg} than at the head's maximum ${relative}`);
      await box.click();
      await nextFrames(p);
      assert.ok(dist(await cellRgb(p, 2, 2), relative) <= 3, 'unticked: back to the head\'s maximum');
      await answer(p, 'diag');
    });

    await check(`${theme}: hovering a token highlights it and its row and column`, async () => {
      await p.page.hover('.tokens .tok[data-i="3"]');
      await nextFrames(p);
      assert.ok(await p.page.$eval('.tokens .tok[data-i="3"]', (e) => e.classList.contains('hover')));
      const alpha = await p.page.evaluate(() => {
        const base = document.querySelector('.heat-box canvas'), o = document.querySelector('.heat-box canvas.overlay');
        const { left, top, side, n } = Object.fromEntries(Object.entries(base.dataset).map(([k, v]) => [k, Number(v)]));
        const dpr = o.width / o.clientWidth, at = (r, c) => o.getContext('2d').getImageData(Math.floor((left + (c + 0.5) * side / n) * dpr), Math.floor((top + (r + 0.5) * side / n) * dpr), 1, 1).data[3];
        return { row: at(3, 9), col: at(10, 3), other: at(8, 9) };
      });
      assert.ok(alpha.row > 0 && alpha.col > 0, `row/column not highlighted: ${JSON.stringify(alpha)}`);
      assert.equal(alpha.other, 0, 'a cell outside the row and column is highlighted');
    });

    await check(`${theme}: hovering a token's axis label highlights that token`, async () => {
      const pt = await cellPoint(p, 4, 0);
      await p.page.mouse.move(pt.x - 40, pt.y);
      assert.match(await p.page.textContent('.tooltip'), /^on\ntoken #4 · segment A/);
      assert.ok(await p.page.$eval('.tokens .tok[data-i="4"]', (e) => e.classList.contains('hover')));
      await p.page.mouse.move(5, 5);
    });

    await check(`${theme}: hovering a cell shows "query → key: p"`, async () => {
      const pt = await cellPoint(p, 2, 2);
      await p.page.mouse.move(pt.x, pt.y);
      assert.match(await p.page.textContent('.tooltip'), /^cat → cat: 1\nquery #2 · key #2/);
      assert.ok(await p.page.$eval('.tokens .tok[data-i="2"]', (e) => e.classList.contains('hover')));
      await p.page.mouse.move(5, 5);
    });

    await check(`${theme}: clicking a thumbnail posts attention/head for its layer and head, and keeps them in the state`, async () => {
      const box = await p.page.$eval('.grid-row canvas[data-layer="2"]', (c) => { const r = c.getBoundingClientRect(); return { x: r.left, y: r.top }; });
      await p.page.mouse.click(box.x + 3 * 44 + 20, box.y + 20);
      const heads = await posted(p, 'attention/head');
      assert.deepEqual([heads.at(-1).layer, heads.at(-1).head], [2, 3]);
      const st = await p.page.evaluate(() => __state);
      assert.deepEqual([st.layer, st.head, st.text, st.checkpoint], [2, 3, 'the cat sat on the mat', CKPT]);
    });

    await check(`${theme}: "hide [CLS]/[SEP]/[PAD]" sends the kept positions without the special tokens`, async () => {
      await p.page.click('vscode-checkbox >> nth=0');
      const th = (await posted(p, 'attention/thumbs')).at(-1), hd = (await posted(p, 'attention/head')).at(-1);
      const want = TOKENS.map((_, i) => i).filter((i) => !SPECIAL.includes(i));
      assert.deepEqual(th.keep, want);
      assert.deepEqual(hd.keep, want);
      await answer(p, 'diag');
      const n = await p.page.$eval('.heat-box canvas', (c) => Number(c.dataset.n));
      assert.equal(n, want.length);
      assert.ok(await p.page.$eval('.tokens .tok[data-i="7"]', (e) => e.classList.contains('hid')));
    });

    await check(`${theme}: "average heads" asks for one mean thumbnail per layer and head -1`, async () => {
      await p.page.click('vscode-checkbox >> nth=1');
      const th = (await posted(p, 'attention/thumbs')).at(-1), hd = (await posted(p, 'attention/head')).at(-1);
      assert.equal(th.mean, true);
      assert.equal(hd.head, -1);
      await answer(p, 'real');
      assert.equal(await p.page.locator('.grid-row').count(), L);
      await p.page.click('vscode-checkbox >> nth=1');
      await p.page.click('vscode-checkbox >> nth=0');
      await answer(p, 'diag');
    });

    await check(`${theme}: a malformed message is dropped and logged, the drawing stays`, async () => {
      const before = await cellRgb(p, 1, 1);
      await p.send({ type: 'attention/head', requestId: 999, layer: 0, head: 0, n: 1, data: [0.5] });
      await nextFrames(p);
      const logs = (await posted(p, 'log')).filter((m) => /dropped a message/.test(m.message));
      assert.equal(logs.length, 1);
      assert.match(logs[0].message, /data: expected a Float32Array/);
      assert.deepEqual(await cellRgb(p, 1, 1), before);
    });

    await check(`${theme}: an error for the run is shown`, async () => {
      // The click's run request is posted asynchronously: wait for it, or the error would answer an older run and be dropped.
      const before = (await posted(p, 'attention/run')).length;
      await p.page.click('vscode-button');
      await p.page.waitForFunction((n) => window.__posted.filter((m) => m.type === 'attention/run').length > n, before, { timeout: 30_000 });
      const run = (await posted(p, 'attention/run')).at(-1);
      await p.send({ type: 'error', requestId: run.requestId, message: 'this workspace is not trusted' });
      await p.page.waitForFunction(() => /not trusted/.test(document.querySelector('.messages')?.textContent ?? ''), null, { timeout: 30_000 });
      await p.send({ type: 'attention/meta', requestId: run.requestId, checkpoint: CKPT, tokens: TOKENS, layers: L, heads: H, warnings: [], ms: 42 });
    });

    await check(`${theme}: screenshot`, async () => {
      await answer(p, 'real');
      const pt = await cellPoint(p, 3, 5);
      await p.page.mouse.move(pt.x, pt.y);
      await nextFrames(p);
      await p.page.screenshot({ path: join(ART, `page-attention-${theme}.png`) });
    });

    if (theme === 'dark') await check('dark: a theme change redraws the heatmap in the new colours', async () => {
      await answer(p, 'diag');
      await p.page.evaluate((vars) => {
        for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(`--vscode-${k}`, v);
        document.body.classList.replace('vscode-dark', 'vscode-light');
      }, THEMES.light.vars);
      await nextFrames(p);
      assert.ok(dist(await cellRgb(p, 1, 5), [255, 255, 255]) <= 3, `zero cell ${await cellRgb(p, 1, 5)} is not the light background`);
      assert.ok(dist(await cellRgb(p, 1, 1), [255, 255, 255]) > 200, 'the diagonal is not dark on the light background');
    });

    await check(`${theme}: no page error and no CSP violation`, async () => {
      const bad = (await posted(p, "log")).filter((m) => m.level === "error").map((m) => m.message);
      assert.deepEqual(bad, [], bad.join(' / '));
      assert.deepEqual(p.errors, [], p.errors.join(' / '));
    });
  } finally {
    await p.close();
  }
}
{
  const p = await openPanelPage('attention', { theme: 'dark' });
  const OTHER = '/ws/picked/checkpoint-9';
  const items = [{ label: 'checkpoint-500', description: 'runs/mlm', path: CKPT }, { label: 'checkpoint-9', description: OTHER, path: OTHER }];
  try {
    await check('a command\'s input is loaded into the fields and run once the list offers its checkpoint', async () => {
      await p.send({ type: 'attention/load', checkpoint: OTHER, text: 'hello there', pair: 'general kenobi' });
      // The page has handled the load (its fields show it) before the check that it did not run.
      await p.page.waitForFunction(() => document.querySelector('vscode-textfield.text')?.value === 'hello there', null, { timeout: 30_000 });
      assert.equal((await posted(p, 'attention/run')).length, 0, 'ran before the checkpoint was offered');
      await p.send({ type: 'checkpoints', items, selected: [OTHER] });
      const runs = await posted(p, 'attention/run');
      assert.equal(runs.length, 1);
      assert.deepEqual([runs[0].checkpoint, runs[0].text, runs[0].pair], [OTHER, 'hello there', 'general kenobi']);
      assert.equal(await p.page.$eval('vscode-textfield.text', (e) => e.value), 'hello there');
    });

    await check('after a reload the page restores its state (text, pair, checkpoint, options, layer, head) and runs it again', async () => {
      const saved = await p.page.evaluate(() => ({ ...__state, layer: 1, head: 2, hideSpecial: true }));
      // VS Code's getState survives the reload; the harness's stub does not, so this one is given the saved state.
      await p.page.context().addInitScript((st) => {
        let s = st;
        Object.defineProperty(window, 'acquireVsCodeApi', { configurable: true, set() {}, get: () => () => ({ postMessage: (m) => window.__posted.push(m), getState: () => s, setState: (v) => { s = v; } }) });
      }, saved);
      await p.page.reload();
      assert.equal((await posted(p, 'ready')).length, 1);
      await p.send({ type: 'checkpoints', items, selected: [] });
      const runs = await posted(p, 'attention/run');
      assert.deepEqual(runs.map((r) => [r.checkpoint, r.text, r.pair]), [[OTHER, 'hello there', 'general kenobi']]);
      assert.equal(await p.page.$eval('vscode-checkbox >> nth=0', (e) => e.checked), true);
      await p.send({ type: 'attention/meta', requestId: runs[0].requestId, checkpoint: OTHER, tokens: TOKENS, layers: L, heads: H, warnings: ['the input was truncated'], ms: 5 });
      const hd = (await posted(p, 'attention/head')).at(-1);
      assert.deepEqual([hd.layer, hd.head, hd.keep], [1, 2, TOKENS.map((_, i) => i).filter((i) => !SPECIAL.includes(i))]);
      assert.match(await p.page.textContent('.messages'), /truncated/);
    });
  } finally {
    await p.close();
  }
}
finish();

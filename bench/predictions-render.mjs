// How long the predictions page takes to draw a result (message received → next frame), for a
// text with N masks, top-10, two checkpoints side by side. Prints numbers; asserts nothing.
// Needs `node esbuild.mjs` and the e2e setup (Chromium): node bench/predictions-render.mjs
import { openPanelPage } from '../scripts/e2e/panel-page.mjs';

const A = '/runs/a', B = '/runs/b', K = 10, REPEAT = 5;
const pg = await openPanelPage('predictions', { theme: 'dark', width: 1200, height: 800 });
const cdp = await pg.page.context().newCDPSession(pg.page);
await cdp.send('Performance.enable');
const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
try {
  await pg.send({ type: 'checkpoints', items: [{ label: 'a', description: '', path: A }, { label: 'b', description: '', path: B }], selected: [A, B] });
  for (const n of [5, 50, 200]) {
    const words = Array.from({ length: 2 * n }, (_, i) => (i % 2 ? '[MASK]' : `word${i}`));
    const text = words.join(' ');
    await pg.send({ type: 'predictions/text', text });
    let run;
    for (let i = 0; i < 200 && !(run = (await pg.posted()).filter((m) => m.type === 'predictions/run' && m.text === text).pop()); i++) await new Promise((r) => setTimeout(r, 10));
    let pos = 0;
    const tokens = [{ text: '[CLS]', start: 0, end: 0, special: true }], masks = [];
    for (const w of words) {
      tokens.push({ text: w, start: pos, end: pos + w.length, special: false });
      if (w === '[MASK]') masks.push({ start: pos, end: pos + w.length, predictions: Array.from({ length: K }, (_, j) => ({ token: `tok${j}`, score: 0.5 / (j + 1) })) });
      pos += w.length + 1;
    }
    tokens.push({ text: '[SEP]', start: 0, end: 0, special: true });
    const msg = { type: 'predictions/result', requestId: run.requestId, columns: [A, B].map((checkpoint) => ({ checkpoint, tokens, masks, warnings: [], ms: 10 })) };
    const times = [];
    const m0 = await metrics();
    for (let r = 0; r < REPEAT; r++) {
      times.push(await pg.page.evaluate(async (m) => {
        const t0 = performance.now();
        window.postMessage(m, '*');
        await new Promise((res) => requestAnimationFrame(() => setTimeout(res, 0)));
        return performance.now() - t0;
      }, msg));
    }
    const m1 = await metrics();
    times.sort((a, b) => a - b);
    const per = (k) => ((m1[k] - m0[k]) * 1000 / REPEAT).toFixed(1);
    console.log(`${String(n).padStart(4)} masks × top-${K} × 2 columns (${tokens.length} tokens): median ${times[REPEAT >> 1].toFixed(1)} ms to the next frame (min ${times[0].toFixed(1)}); per draw: script ${per('ScriptDuration')} ms, style ${per('RecalcStyleDuration')} ms, layout ${per('LayoutDuration')} ms`);
  }
} finally {
  await pg.close();
}

// Benchmark of the Training Curves page in Chromium (prints numbers; asserts nothing about time):
//   1. render: a run of 100,000 logged steps (+ an evaluation every 1,000) delivered as one
//      curves/data message, timed inside the page from the message's arrival (validation
//      included) to the frame after the charts are drawn (performance.measure 'curves:data');
//   2. streaming: 20 curves/append messages a second, 10 rows each, for 10 s onto that run:
//      frame intervals (requestAnimationFrame) p50/p95/max, the longest main-thread task
//      (PerformanceObserver 'longtask'), and each append's arrival-to-frame time.
// Needs the e2e setup (bash scripts/e2e/setup.sh: Chromium, playwright-core) and the bundles:
//   node esbuild.mjs && node bench/curves-render.mjs [--points 100000] [--seconds 10]
// (npm run bench:webviews runs it.)
import { openPanelPage } from '../scripts/e2e/panel-page.mjs';

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const POINTS = arg('points', 100_000), SECONDS = arg('seconds', 10), RATE = 20, ROWS_PER_APPEND = 10;

const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN; };
const ms = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : '–');

const p = await openPanelPage('curves', { theme: 'dark', width: 1400, height: 1000 });
try {
  // Build the run inside the page (a 100k-row message is too big to pass through evaluate's argument cheaply).
  const render = await p.page.evaluate(async (n) => {
    const row = (s) => ({ step: s, epoch: s / 10_000, time: s * 0.05, values: { loss: 2 * Math.exp(-s / 20_000) + 0.3 + 0.1 * Math.sin(s * 12.9898) ** 2, learning_rate: 5e-4 * (1 - s / n), grad_norm: 1 + 0.3 * Math.cos(s / 50), tokens_per_second: 9000 + 500 * Math.sin(s / 777) } });
    const rows = [];
    for (let s = 1; s <= n; s++) {
      rows.push(row(s));
      if (s % 1000 === 0) rows.push({ step: s, epoch: s / 10_000, time: s * 0.05 + 1, values: { eval_loss: 1.5 * Math.exp(-s / 30_000) + 0.4, eval_accuracy: 0.5 + 0.4 * (s / n) } });
    }
    const checkpoints = [];
    for (let s = 10_000; s <= n; s += 10_000) checkpoints.push({ step: s, path: `/runs/big/checkpoint-${s}`, best: s === n / 2 });
    window.__bench = { row, n };
    window.postMessage({ type: 'curves/runs', runs: [{ id: '/runs/big', name: 'big', source: 'bertlab', status: 'training', live: true, shown: true }] }, '*');
    const waitMeasure = (name, count) => new Promise((resolve) => {
      const poll = () => { const e = performance.getEntriesByName(name); if (e.length >= count) resolve(e[count - 1].duration); else setTimeout(poll, 5); };
      poll();
    });
    const out = [];
    for (let i = 1; i <= 3; i++) {
      // The first delivery builds the charts; later ones replace the run's data in place.
      window.postMessage({ type: 'curves/data', run: { id: '/runs/big', name: 'big', source: 'bertlab', live: true, rows, checkpoints, warnings: [] } }, '*');
      out.push(await waitMeasure('curves:data', i));
    }
    return { rows: rows.length, times: out, charts: document.querySelectorAll('.chart canvas').length };
  }, POINTS);

  const stream = await p.page.evaluate(async ({ seconds, rate, per }) => {
    const { row, n } = window.__bench;
    const frames = [], longTasks = [];
    const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) longTasks.push(e.duration); });
    obs.observe({ type: 'longtask', buffered: false });
    let running = true;
    const frame = (t) => { frames.push(t); if (running) requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    const before = performance.getEntriesByName('curves:append').length;
    let step = n, sent = 0;
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        const rows = [];
        for (let i = 0; i < per; i++) rows.push(row(++step));
        window.postMessage({ type: 'curves/append', id: '/runs/big', rows, checkpoints: [], live: true }, '*');
        if (++sent >= seconds * rate) { clearInterval(timer); resolve(); }
      }, 1000 / rate);
    });
    await new Promise((r) => setTimeout(r, 300));
    running = false;
    obs.disconnect();
    const intervals = frames.slice(1).map((t, i) => t - frames[i]);
    const appends = performance.getEntriesByName('curves:append').slice(before).map((e) => e.duration);
    return { sent, intervals, longTasks, appends, points: step };
  }, { seconds: SECONDS, rate: RATE, per: ROWS_PER_APPEND });

  console.log(`Training Curves page, Chromium ${p.page.context().browser()?.version() ?? ''}, ${render.charts} charts`);
  console.log('');
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| render ${render.rows.toLocaleString('en')} rows (1 run, smoothing 0.6): first | ${ms(render.times[0])} |`);
  console.log(`| same run delivered again (data replaced) | ${render.times.slice(1).map(ms).join(', ')} |`);
  console.log(`| streaming: appends sent (${RATE}/s × ${ROWS_PER_APPEND} rows, ${SECONDS} s) | ${stream.sent} (run now ${stream.points.toLocaleString('en')} steps) |`);
  console.log(`| frame interval p50 / p95 / max | ${ms(q(stream.intervals, 0.5))} / ${ms(q(stream.intervals, 0.95))} / ${ms(Math.max(...stream.intervals))} |`);
  console.log(`| frames (${SECONDS} s) | ${stream.intervals.length + 1} |`);
  console.log(`| append arrival → next frame p50 / p95 / max | ${ms(q(stream.appends, 0.5))} / ${ms(q(stream.appends, 0.95))} / ${ms(Math.max(...stream.appends))} |`);
  console.log(`| long tasks (> 50 ms): count, longest | ${stream.longTasks.length}, ${stream.longTasks.length ? ms(Math.max(...stream.longTasks)) : 'none'} |`);
  if (p.errors.filter((e) => !e.includes('404')).length) console.log(`page errors: ${p.errors.join(' | ')}`);
} finally {
  await p.close();
}

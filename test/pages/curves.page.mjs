// Page check of the Training Curves panel in Chromium (dark and light): two runs drawn (one with
// evaluations and checkpoints), legend, run toggle, log scale and x-axis switches, CSV export
// against hand-written rows, a click on a checkpoint mark, a malformed message dropped and logged,
// no page error or CSP violation. Screenshots: .e2e/artifacts/page-curves-{dark,light}.png.
// Run: node esbuild.mjs && node test/pages/curves.page.mjs
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openPanelPage } from '../../scripts/e2e/panel-page.mjs';
import { REPO_ROOT } from '../../scripts/e2e/run.mjs';
import { checker } from './check.mjs';

const ART = join(REPO_ROOT, '.e2e', 'artifacts');
mkdirSync(ART, { recursive: true });

// Run A (BERT Lab): steps 10..200, eval every 50 steps, checkpoints at 100 (best) and 200.
const rowsA = [];
for (let s = 10; s <= 200; s += 10) {
  rowsA.push({ step: s, epoch: s / 100, time: s / 2, values: { loss: 2 * Math.exp(-s / 60) + 0.3 + 0.05 * Math.sin(s), learning_rate: 1e-3 * (1 - s / 200), grad_norm: 1 + 0.5 * Math.cos(s / 7), tokens_per_second: 1000 + s } });
  if (s % 50 === 0) rowsA.push({ step: s, epoch: s / 100, time: s / 2 + 1, values: { eval_loss: 1.5 * Math.exp(-s / 80) + 0.4, eval_accuracy: 0.5 + s / 500 } });
}
const runA = { id: '/ws/runs/run-a', name: 'run-a', source: 'bertlab', live: false, rows: rowsA, checkpoints: [{ step: 100, path: '/ws/runs/run-a/checkpoint-100', best: true }, { step: 200, path: '/ws/runs/run-a/checkpoint-200', best: false }], warnings: [] };
// Run B (HF Trainer): no times; a few hand-written rows the CSV is checked against.
const rowsB = [
  { step: 20, epoch: 0.25, time: null, values: { loss: 2.5, learning_rate: 0.001 } },
  { step: 40, epoch: 0.5, time: null, values: { loss: 1.75, learning_rate: 0.0008 } },
  { step: 60, epoch: 0.75, time: null, values: { loss: null, learning_rate: 0.0006 } },
  { step: 80, epoch: 1, time: null, values: { loss: 1.25, learning_rate: 0.0004 } },
];
const runB = { id: '/elsewhere/hf-run', name: 'hf-run', source: 'hf', live: false, rows: rowsB, checkpoints: [], warnings: [] };
const refs = [
  { id: runA.id, name: 'run-a', source: 'bertlab', status: 'completed', live: false, shown: false },
  { id: runB.id, name: 'hf-run', source: 'hf', status: 'completed', live: false, shown: false },
];

/** Per chart: its id, legend texts, and how many canvas pixels differ from the background. */
const inspect = (p) => p.page.evaluate(() => {
  const bg = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
  return [...document.querySelectorAll('.chart')].map((c) => {
    const cv = c.querySelector('canvas');
    const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    let ink = 0, hash = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 40) ink++;
      hash = (hash * 31 + d[i] + d[i + 1] * 7 + d[i + 2] * 13) | 0;
    }
    return { id: c.dataset.chart, legend: [...c.querySelectorAll('.legend-item')].map((e) => e.textContent), ink, hash };
  });
});
const state = (p) => p.page.evaluate(() => window.acquireVsCodeApi().getState());
const lastPosted = async (p, type) => (await p.posted()).filter((m) => m.type === type).at(-1);
// Messages are posted asynchronously after a send or a click: poll (bounded) for one that matches.
async function waitPosted(p, type, ok = () => true, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const m = (await p.posted()).filter((x) => x.type === type && ok(x)).at(-1);
    if (m || Date.now() > end) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
}
/** Waits for the page's pending redraw (live updates are throttled) and two frames. */
const settle = async (p) => {
  await p.page.waitForFunction(() => !document.getElementById('app').hasAttribute('data-redrawing'));
  await p.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
};

const { check, finish } = checker();
for (const theme of ['dark', 'light']) {
  const p = await openPanelPage('curves', { theme, width: 1280, height: 900 });
  try {
    await check(`${theme}: the page says ready and explains the empty state`, async () => {
      await p.page.waitForSelector('.empty');
      assert.equal((await p.posted())[0]?.type, 'ready');
      await p.send({ type: 'curves/runs', runs: [] });
      await p.page.waitForFunction(() => document.querySelector('.empty')?.textContent.includes('No runs yet'));
    });
    await check(`${theme}: two runs render (ink on every chart, both runs in the legend)`, async () => {
      await p.send({ type: 'curves/runs', runs: refs });
      assert.ok((await p.page.textContent('.empty')).includes('Tick one or more runs'));
      // Data for a run that is not selected is not drawn; the host's "shown" runs are selected and asked for.
      await p.send({ type: 'curves/data', run: runA });
      assert.ok((await p.page.textContent('.empty')).includes('Tick one or more runs'));
      await p.send({ type: 'curves/runs', runs: refs.map((r) => ({ ...r, shown: true })) });
      assert.deepEqual(await lastPosted(p, 'curves/select'), { type: 'curves/select', ids: [runA.id, runB.id] });
      assert.ok((await p.page.textContent('.empty')).includes('Loading the selected runs'));
      await p.send({ type: 'curves/data', run: runA });
      await p.send({ type: 'curves/data', run: runB });
      await settle(p);
      const charts = await inspect(p);
      assert.deepEqual(charts.map((c) => c.id), ['loss', 'eval_accuracy', 'learning_rate', 'grad_norm', 'tokens_per_second']);
      for (const c of charts) assert.ok(c.ink > 800, `${c.id}: ${c.ink} drawn pixels`);
      assert.deepEqual(charts[0].legend, ['run-a · train loss', 'run-a · eval loss', 'hf-run · train loss']);
      assert.deepEqual((await state(p)).selected, [runA.id, runB.id]);
      await p.page.screenshot({ path: join(ART, `page-curves-${theme}.png`) });
    });
    await check(`${theme}: hovering shows a tooltip with the step and values`, async () => {
      const box = await p.page.locator('.chart[data-chart=loss] .u-over').boundingBox();
      await p.page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
      await p.page.waitForSelector('.chart[data-chart=loss] .tooltip', { state: 'visible' });
      const text = await p.page.textContent('.chart[data-chart=loss] .tooltip');
      assert.match(text, /^Step \d+/);
      assert.match(text, /run-a · train loss/);
      await p.page.mouse.move(5, 5);
    });
    if (theme === 'light') continue;

    await check('clicking a checkpoint mark offers predictions and attention; each posts curves/openCheckpoint', async () => {
      // x runs over the data's range, 10..200: step 100 sits at (100 − 10) / 190 of the plot's width.
      const box = await p.page.locator('.chart[data-chart=loss] .u-over').boundingBox();
      const x = box.x + ((100 - 10) / 190) * box.width, y = box.y + box.height / 2;
      await p.page.mouse.click(x, y);
      await p.page.waitForSelector('.menu.visible');
      assert.match(await p.page.textContent('.menu-title'), /★ checkpoint-100 · run-a/);
      await p.page.click('.menu-item[data-view=predictions]');
      assert.deepEqual(await lastPosted(p, 'curves/openCheckpoint'), { type: 'curves/openCheckpoint', id: runA.id, step: 100, view: 'predictions' });
      await p.page.keyboard.down('Shift');
      await p.page.mouse.click(x, y);
      await p.page.keyboard.up('Shift');
      assert.deepEqual(await lastPosted(p, 'curves/openCheckpoint'), { type: 'curves/openCheckpoint', id: runA.id, step: 100, view: 'attention' });
      // Away from any mark: nothing opens.
      const n = (await p.posted()).length;
      await p.page.mouse.click(box.x + ((150 - 10) / 190) * box.width, y);
      assert.equal((await p.posted()).length, n);
      assert.equal(await p.page.isVisible('.menu.visible'), false);
    });
    await check('export CSV posts saveFile with every row of both runs', async () => {
      await p.page.click('text=Export CSV');
      const m = await lastPosted(p, 'saveFile');
      assert.equal(m.kind, 'csv');
      assert.match(m.suggestedName, /^curves-run-a_hf-run\.csv$/);
      const lines = m.data.split('\r\n');
      assert.equal(lines[0], 'run,step,epoch,time,eval_accuracy,eval_loss,grad_norm,learning_rate,loss,tokens_per_second');
      assert.equal(lines.length, 1 + rowsA.length + rowsB.length + 1);
      assert.deepEqual(lines.slice(-5), ['hf-run,20,0.25,,,,,0.001,2.5,', 'hf-run,40,0.5,,,,,0.0008,1.75,', 'hf-run,60,0.75,,,,,0.0006,,', 'hf-run,80,1,,,,,0.0004,1.25,', '']);
      // run-a's eval row at step 50: epoch 0.5, time 26, accuracy 0.6.
      assert.ok(lines.includes(`run-a,50,0.5,26,0.6,${1.5 * Math.exp(-50 / 80) + 0.4},,,,`), 'the eval row at step 50');
    });
    await check('export PNG posts a PNG data URL', async () => {
      await p.page.click('text=Export PNG');
      const m = await lastPosted(p, 'saveFile');
      assert.equal(m.kind, 'png');
      assert.ok(m.data.startsWith('data:image/png;base64,') && m.data.length > 5000, `${m.data.length} characters`);
    });
    await check('log scale and x axis switch the drawing; HF runs (no times) drop out of a wall-time axis', async () => {
      const before = await inspect(p);
      await p.page.click('.log-box');
      await settle(p);
      assert.equal((await state(p)).log, true);
      const logged = await inspect(p);
      assert.notEqual(logged[0].hash, before[0].hash);
      assert.ok(logged[0].ink > 800);
      await p.page.click('.log-box');
      await p.page.evaluate(() => { const s = document.querySelector('.x-select'); s.value = 'time'; s.dispatchEvent(new Event('change')); });
      await settle(p);
      assert.equal((await state(p)).x, 'time');
      const timed = await inspect(p);
      assert.deepEqual(timed[0].legend, ['run-a · train loss', 'run-a · eval loss']);
      assert.ok(timed[0].ink > 800);
      await p.page.evaluate(() => { const s = document.querySelector('.x-select'); s.value = 'step'; s.dispatchEvent(new Event('change')); });
    });
    await check('unticking a run hides it and tells the host', async () => {
      await p.page.click(`vscode-checkbox[data-id="${runB.id}"]`);
      await settle(p);
      assert.deepEqual((await lastPosted(p, 'curves/select')).ids, [runA.id]);
      const charts = await inspect(p);
      assert.ok(charts.every((c) => c.legend.every((l) => !l.startsWith('hf-run'))));
      assert.deepEqual(charts[0].legend, ['run-a · train loss', 'run-a · eval loss']);
    });
    await check('a legend entry hides its line and is remembered', async () => {
      const before = await inspect(p);
      await p.page.click('.chart[data-chart=loss] .legend-item[data-key=eval_loss]');
      await settle(p);
      assert.deepEqual((await state(p)).hiddenSeries, [`eval_loss\n${runA.id}`]);
      assert.ok((await inspect(p))[0].ink < before[0].ink);
    });
    await check('drag-zoom is shared by the charts and kept while a live run appends; double-click resets', async () => {
      const full = await inspect(p);
      const box = await p.page.locator('.chart[data-chart=loss] .u-over').boundingBox();
      const y = box.y + box.height / 2;
      await p.page.mouse.move(box.x + box.width * 0.3, y);
      await p.page.mouse.down();
      await p.page.mouse.move(box.x + box.width * 0.6, y, { steps: 5 });
      await p.page.mouse.up();
      await settle(p);
      const zoomed = await inspect(p);
      for (let i = 0; i < full.length; i++) assert.notEqual(zoomed[i].hash, full[i].hash, `${full[i].id} follows the zoom`);
      // A new point far right of the zoomed range: the view does not move.
      await p.send({ type: 'curves/append', id: runA.id, rows: [{ step: 205, epoch: 2.05, time: 102.5, values: { grad_norm: 1 } }], checkpoints: [], live: true });
      await settle(p);
      assert.equal((await inspect(p)).find((c) => c.id === 'grad_norm').hash, zoomed.find((c) => c.id === 'grad_norm').hash);
      await p.page.mouse.dblclick(box.x + box.width * 0.5, y);
      await settle(p);
      assert.notEqual((await inspect(p))[0].hash, zoomed[0].hash);
    });
    await check('a theme change redraws in the new colours without errors', async () => {
      const before = await inspect(p);
      await p.page.evaluate(() => { document.body.classList.replace('vscode-dark', 'vscode-light'); document.documentElement.style.setProperty('--vscode-charts-blue', '#ff0000'); });
      await settle(p);
      const after = await inspect(p);
      assert.notEqual(after[0].hash, before[0].hash);
      assert.ok(after[0].ink > 800);
      assert.ok(await p.page.evaluate(() => { const c = document.querySelector('.chart canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) if (d[i] === 255 && d[i + 1] === 0 && d[i + 2] === 0) return true; return false; }), 'run-a is drawn in the new charts-blue');
      await p.page.evaluate(() => { document.body.classList.replace('vscode-light', 'vscode-dark'); document.documentElement.style.removeProperty('--vscode-charts-blue'); });
    });
    await check('a live append extends the run', async () => {
      const before = (await lastPosted(p, 'saveFile')).data;
      await p.send({ type: 'curves/append', id: runA.id, rows: [{ step: 210, epoch: 2.1, time: 105, values: { loss: 0.2 } }], checkpoints: [{ step: 210, path: '/ws/runs/run-a/checkpoint-210', best: false }], live: true });
      await p.page.click('text=Export CSV');
      const csv = (await waitPosted(p, 'saveFile', (m) => m.data !== before))?.data;
      assert.notEqual(csv, before);
      assert.ok(csv.endsWith('run-a,205,2.05,102.5,,,1,,,\r\nrun-a,210,2.1,105,,,,,0.2,\r\n'));
    });
    await check('a malformed message is dropped and logged', async () => {
      await p.send({ type: 'curves/data', run: 5 });
      const log = await waitPosted(p, 'log', (m) => /dropped a message/.test(m.message));
      assert.ok(log, 'a log message was posted');
      assert.equal(log.level, 'warn');
      assert.match(log.message, /dropped a message from the host: message\.run: expected an object/);
      assert.equal((await inspect(p)).length, 5, 'the charts are still there');
    });
  } finally {
    await check(`${theme}: no page error, no CSP violation`, async () => {
      const logs = (await p.posted()).filter((m) => m.type === 'log' && m.level === 'error');
      assert.deepEqual(logs.map((m) => m.message), [], JSON.stringify(logs.map((m) => m.message)));
      assert.deepEqual(p.errors, []);
    });
    await p.close();
  }
}
finish();

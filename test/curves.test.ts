/** Training curves: reading run logs and HF trainer states into rows, following a live run, and the page's pure logic. */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CurveTail, isCurveRunFolder, loadCurveRun, openCurveRun } from '../src/engine/workspace/curves.js';
import { alignSeries, chartSpecs, checkpointX, curvesCsv, decimate, emaExtend, emaSmooth, fmtValue, forLogScale, hitCheckpoint, seriesOf, type PlacedMark } from '../src/webviews/lib/curves-lib.js';
import type { CurveRowMsg } from '../src/shared/messages/curves.js';
import { toView } from '../src/shared/messages/index.js';
import { validate } from '../src/shared/validate.js';

const FIX = join(__dirname, '..', '..', 'test', 'fixtures');
let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'bertlab-curves-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

const line = (o: object) => `${JSON.stringify(o)}\n`;
const T0 = 1_700_000_000_000;

describe('a BERT Lab run log as curves', () => {
  it('turns step, eval and checkpoint records into rows and marks; NaN is null; a torn line is a warning', () => {
    const run = join(dir, 'run-a');
    mkdirSync(join(run, 'checkpoint-20'), { recursive: true });
    // Saved somewhere else and moved here: the mark points at the folder here.
    writeFileSync(join(run, 'checkpoint-20', 'trainer_state.json'), JSON.stringify({ global_step: 20, log_history: [], best_model_checkpoint: '/old/place/run-a/checkpoint-20' }));
    writeFileSync(join(run, 'run_log.jsonl'), [
      line({ type: 'start', time: T0, run_name: 'a', output_dir: '/old/place/run-a', max_steps: 30, num_train_epochs: 1 }),
      line({ type: 'step', step: 10, epoch: 0.5, loss: 2.5, learning_rate: 1e-4, grad_norm: 1.5, tokens_per_second: 1000, time: T0 + 2000 }),
      line({ type: 'step', step: 20, epoch: 1, loss: null, learning_rate: 5e-5, grad_norm: 3, tokens_per_second: 900, time: T0 + 4500 }),
      line({ type: 'eval', step: 20, epoch: 1, metrics: { eval_loss: 2, eval_accuracy: 0.5 }, time: T0 + 5000 }),
      line({ type: 'checkpoint', step: 20, path: '/old/place/run-a/checkpoint-20', metrics: { eval_loss: 2 }, time: T0 + 6000 }),
      '{"type":"step","st',
    ].join(''));
    const r = loadCurveRun(run);
    assert.equal(r.id, run);
    assert.equal(r.name, 'run-a');
    assert.equal(r.source, 'bertlab');
    assert.deepEqual(r.rows, [
      { step: 10, epoch: 0.5, time: 2, values: { loss: 2.5, learning_rate: 1e-4, grad_norm: 1.5, tokens_per_second: 1000 } },
      { step: 20, epoch: 1, time: 4.5, values: { loss: null, learning_rate: 5e-5, grad_norm: 3, tokens_per_second: 900 } },
      { step: 20, epoch: 1, time: 5, values: { eval_loss: 2, eval_accuracy: 0.5 } },
    ]);
    assert.deepEqual(r.checkpoints, [{ step: 20, path: join(run, 'checkpoint-20'), best: true }]);
    // The torn last line has no newline yet: the tail keeps it for the next poll, so no warning now.
    assert.deepEqual(r.warnings, []);
    assert.ok(validate(toView, { type: 'curves/data', run: r }).ok, 'the run is a valid curves/data message');
  });

  it('follows a live run: only what was appended since the last poll, a finished half line completes', () => {
    const run = join(dir, 'run-live');
    mkdirSync(run);
    const f = join(run, 'run_log.jsonl');
    const step = (s: number, loss: number) => line({ type: 'step', step: s, epoch: s / 100, loss, learning_rate: 1e-3, grad_norm: 1, tokens_per_second: 10, time: T0 + s * 1000 });
    writeFileSync(f, line({ type: 'start', time: T0, run_name: 'l', output_dir: run, max_steps: 100, num_train_epochs: 1 }) + step(1, 3));
    const { run: first, tail } = openCurveRun(run, { live: true });
    assert.equal(first.live, true);
    assert.deepEqual(first.rows.map((r) => r.step), [1]);
    assert.ok(tail instanceof CurveTail);
    assert.deepEqual(tail.poll(), { rows: [], checkpoints: [], warnings: [] });
    const s2 = step(2, 2);
    appendFileSync(f, s2.slice(0, 15));
    assert.deepEqual(tail.poll().rows, []);
    mkdirSync(join(run, 'checkpoint-2'));
    appendFileSync(f, s2.slice(15) + line({ type: 'checkpoint', step: 2, path: join(run, 'checkpoint-2'), metrics: {} }) + 'not json\n');
    const p = tail.poll();
    assert.deepEqual(p.rows, [{ step: 2, epoch: 0.02, time: 2, values: { loss: 2, learning_rate: 1e-3, grad_norm: 1, tokens_per_second: 10 } }]);
    assert.deepEqual(p.checkpoints, [{ step: 2, path: join(run, 'checkpoint-2'), best: false }]);
    assert.equal(p.warnings.length, 1);
    assert.match(p.warnings[0]!, /run_log\.jsonl:5: not a complete JSON record/);
    assert.equal(tail.finished, false);
    // The run ends naming its best checkpoint: the mark is sent again, now with its ★.
    appendFileSync(f, line({ type: 'done', step: 2, time: T0 + 3000, best_model_checkpoint: join(run, 'checkpoint-2') }));
    assert.deepEqual(tail.poll().checkpoints, [{ step: 2, path: join(run, 'checkpoint-2'), best: true }]);
    assert.equal(tail.finished, true);
  });
});

describe('an HF Trainer output (trainer_state.json) as curves', () => {
  it('reads log_history (no times), checkpoints from checkpoint-N folders and the best one', () => {
    const run = join(dir, 'bert-mrpc');
    for (const s of [115, 230, 345]) mkdirSync(join(run, `checkpoint-${s}`), { recursive: true });
    copyFileSync(join(FIX, 'trainer-state', 'hf-4.52-mrpc.json'), join(run, 'trainer_state.json'));
    assert.ok(isCurveRunFolder(run));
    const r = loadCurveRun(run, { id: 'x' });
    assert.equal(r.source, 'hf');
    assert.equal(r.id, 'x');
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.rows.map((x) => x.step), [50, 100, 115, 150, 200, 230, 250, 300, 345]);
    assert.ok(r.rows.every((x) => x.time === null));
    for (const row of r.rows.filter((x) => 'loss' in x.values)) {
      // The fixture's rule: the logged lr is that of the next update, 2e-5·(345 − step)/345.
      assert.ok(Math.abs(row.values['learning_rate']! - (2e-5 * (345 - row.step)) / 345) < 1e-18, `lr at ${row.step}`);
      assert.ok(typeof row.values['grad_norm'] === 'number');
      assert.ok(Math.abs(row.epoch! - row.step / 115) < 1e-12);
    }
    const evals = r.rows.filter((x) => 'eval_loss' in x.values);
    // (TP, FN, FP, TN) per epoch from the fixture's README: accuracy (TP+TN)/408, F1 2TP/(2TP+FP+FN).
    const counts = [[260, 19, 47, 82], [262, 17, 33, 96], [265, 14, 38, 91]] as const;
    evals.forEach((e, i) => {
      const [tp, fn, fp, tn] = counts[i]!;
      assert.deepEqual(Object.keys(e.values).sort(), ['eval_accuracy', 'eval_f1', 'eval_loss'], 'speed figures are left out');
      assert.ok(Math.abs(e.values['eval_accuracy']! - (tp + tn) / 408) < 1e-12);
      assert.ok(Math.abs(e.values['eval_f1']! - (2 * tp) / (2 * tp + fp + fn)) < 1e-12);
    });
    assert.deepEqual(r.checkpoints.map((c) => [c.step, c.best]), [[115, false], [230, true], [345, false]]);
  });

  it('reads an older layout from a checkpoint folder; Python NaN is null; a broken state is a warning', () => {
    const run = join(dir, 'mlm');
    mkdirSync(join(run, 'checkpoint-500'), { recursive: true });
    copyFileSync(join(FIX, 'trainer-state', 'hf-4.26-mlm.json'), join(run, 'checkpoint-500', 'trainer_state.json'));
    const r = loadCurveRun(run);
    assert.ok(r.rows.length > 0 && r.rows.every((x) => x.step <= 1000));
    const nan = join(dir, 'nan');
    mkdirSync(nan);
    writeFileSync(join(nan, 'trainer_state.json'), '{"global_step": 2, "log_history": [{"loss": NaN, "learning_rate": 1e-3, "epoch": 0.5, "step": 1}, {"loss": Infinity, "learning_rate": 1e-3, "epoch": 1.0, "step": 2}]}');
    assert.deepEqual(loadCurveRun(nan).rows.map((x) => x.values['loss']), [null, null]);
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'trainer_state.json'), '{"global_step": 2, "log_h');
    const b = loadCurveRun(bad);
    assert.deepEqual(b.rows, []);
    assert.equal(b.warnings.length, 1);
    assert.match(b.warnings[0]!, /trainer_state\.json: not valid JSON/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    assert.equal(isCurveRunFolder(empty), false);
    assert.match(loadCurveRun(empty).warnings[0]!, /neither a run_log\.jsonl nor a trainer_state\.json/);
  });
});

const row = (step: number, epoch: number | null, time: number | null, values: Record<string, number | null>): CurveRowMsg => ({ step, epoch, time, values });

describe('curves page logic', () => {
  it('smooths like TensorBoard: debiased EMA, gaps stay gaps', () => {
    // w = 0.5: m1 = 0.5 → 0.5/0.5 = 1; m2 = 0.25 + 1 = 1.25 → 1.25/0.75 = 5/3; m3 = 0.625 + 2 = 2.625 → /0.875 = 3.
    const s = emaSmooth([1, 2, null, 4], 0.5);
    assert.equal(s[0], 1);
    assert.ok(Math.abs(s[1]! - 5 / 3) < 1e-15);
    assert.equal(s[2], null);
    assert.ok(Math.abs(s[3]! - 3) < 1e-15);
    assert.deepEqual(emaSmooth([3, 1, 2], 0), [3, 1, 2]);
    // A constant stays constant at any weight (the debiasing removes the pull toward 0).
    for (const v of emaSmooth([7, 7, 7, 7], 0.99)) assert.ok(Math.abs(v! - 7) < 1e-12);
    // Extending a live run's smoothing point by point gives the same values as smoothing it whole.
    const acc = emaExtend([1, 2], 0.5, { out: [], last: 0, n: 0 });
    assert.deepEqual(emaExtend([1, 2, null, 4], 0.5, acc).out, s);
  });

  it('aligns runs on one x axis (union of x, null where a run has no point)', () => {
    const a = alignSeries([{ x: [0, 2, 4], y: [1, 2, 3] }, { x: [1, 2, 5], y: [10, null, 30] }]);
    assert.deepEqual(Array.from(a.x), [0, 1, 2, 4, 5]);
    assert.deepEqual(a.ys, [[1, null, 2, 3, null], [null, 10, null, null, 30]]);
    assert.deepEqual(alignSeries([]).ys, []);
    const shared = [1, 3];
    const b = alignSeries([{ x: shared, y: [1, 2] }, { x: shared, y: [3, 4] }, { x: [2, 3, 7], y: [5, 6, 7] }]);
    assert.deepEqual(Array.from(b.x), [1, 2, 3, 7]);
    // A raw line and its smoothed line share their x: used as they are.
    const c = alignSeries([{ x: shared, y: [1, 2] }, { x: shared, y: [5, 6] }]);
    assert.equal(c.x, shared);
    assert.deepEqual(c.ys, [[1, 2], [5, 6]]);
    assert.deepEqual(b.ys, [[1, null, 2, null], [3, null, 4, null], [null, 5, 6, 7]]);
  });

  it('decimates by pixel column (M4): first, last, min and max per column; neighbours outside a zoom kept', () => {
    const x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const y = [5, 1, 9, 3, 2, 2, 2, 2, 0, 7, 7, 1];
    // Two columns of width 5.5: x 0–5 keeps 0 (first), 1 (min 1), 2 (max 9), 5 (last); x 6–11 keeps 6, 8 (min 0), 9 (max 7, the first of two), 11.
    const d = decimate(x, [y], 0, 11, 2);
    assert.deepEqual(d.x, [0, 1, 2, 5, 6, 8, 9, 11]);
    assert.deepEqual(d.ys, [[5, 1, 9, 2, 2, 0, 7, 1]]);
    // Zoomed to [3, 8], one column: 3 (first, max) and 8 (last, min), and the neighbours 2 and 9.
    assert.deepEqual(decimate(x, [y], 3, 8, 1).x, [2, 3, 8, 9]);
    // A second series with gaps adds its own points; few points are left alone.
    const z = [null, null, null, null, 4, null, null, null, null, null, null, 3];
    assert.deepEqual(decimate(x, [y, z], 0, 11, 2).x, [0, 1, 2, 4, 5, 6, 8, 9, 11]);
    assert.equal(decimate(x, [y], 0, 11, 3).x, x);
  });

  it('takes one metric as points in x order; a repeated x keeps the last; rows without the x are left out', () => {
    const rows = [row(10, 0.5, 3, { loss: 2 }), row(20, 1, null, { loss: 1, eval_loss: 1.5 }), row(15, 0.75, 2, { loss: 4 }), row(20, 1, 5, { loss: 0.5 })];
    assert.deepEqual(seriesOf(rows, 'loss', 'step'), { x: [10, 15, 20], y: [2, 4, 0.5] });
    assert.deepEqual(seriesOf(rows, 'eval_loss', 'epoch'), { x: [1], y: [1.5] });
    assert.deepEqual(seriesOf(rows, 'loss', 'time'), { x: [2, 3, 5], y: [4, 2, 0.5] });
    assert.deepEqual(forLogScale([1, 0, -2, null, 1e-9]), [1, null, null, null, 1e-9]);
  });

  it('lays out the charts: loss with eval loss, each eval metric, then lr, grad norm, tokens/s, others', () => {
    const specs = chartSpecs(['grad_norm', 'eval_f1', 'loss', 'eval_loss', 'learning_rate', 'eval_accuracy', 'foo', 'tokens_per_second']);
    assert.deepEqual(specs.map((s) => [s.id, s.keys]), [['loss', ['loss', 'eval_loss']], ['eval_accuracy', ['eval_accuracy']], ['eval_f1', ['eval_f1']], ['learning_rate', ['learning_rate']], ['grad_norm', ['grad_norm']], ['tokens_per_second', ['tokens_per_second']], ['foo', ['foo']]]);
    assert.equal(specs[1]!.title, 'Eval accuracy');
  });

  it('writes CSV: one line per row, every value column, gaps empty, names quoted', () => {
    const csv = curvesCsv([
      { name: 'run "a", v2', rows: [row(10, 0.5, 2, { loss: 2.5, learning_rate: 0.0001 }), row(20, 1, null, { eval_loss: 2 })] },
      { name: 'b', rows: [row(5, null, null, { loss: null })] },
    ]);
    assert.equal(csv, 'run,step,epoch,time,eval_loss,learning_rate,loss\r\n"run ""a"", v2",10,0.5,2,,0.0001,2.5\r\n"run ""a"", v2",20,1,,2,,\r\nb,5,,,,,\r\n');
  });

  it('places checkpoints on the axis and finds the one clicked', () => {
    const rows = [row(10, 0.5, 4, {}), row(20, 1, null, {}), row(30, 1.5, 9, {})];
    assert.equal(checkpointX(rows, 25, 'step'), 25);
    assert.equal(checkpointX(rows, 25, 'epoch'), 1);
    assert.equal(checkpointX(rows, 25, 'time'), 4, 'the last row with a time at or before the step');
    assert.equal(checkpointX(rows, 5, 'epoch'), null);
    assert.equal(checkpointX(rows, 99, 'epoch'), 1.5);
    const marks: PlacedMark[] = [{ runId: 'a', step: 10, x: 10, path: 'p10', best: false }, { runId: 'b', step: 20, x: 20, path: 'p20', best: true }];
    const toPx = (x: number) => x * 10;
    assert.equal(hitCheckpoint(marks, 105, toPx)?.step, 10);
    assert.equal(hitCheckpoint(marks, 196, toPx)?.step, 20);
    assert.equal(hitCheckpoint(marks, 150, toPx), null);
    assert.equal(hitCheckpoint(marks, 107, toPx, 6), null);
  });

  it('formats values for tooltips', () => {
    assert.deepEqual([fmtValue(null), fmtValue(0), fmtValue(2.34567), fmtValue(0.0000123), fmtValue(123456), fmtValue(-0.5)], ['–', '0', '2.346', '1.23e-5', '1.23e+5', '-0.5']);
  });
});

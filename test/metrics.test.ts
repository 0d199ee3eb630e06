/**
 * Evaluation metrics against hand-computed values and a brute-force recomputation (sklearn's
 * definitions, written out independently here), and learning-rate schedules against transformers'
 * formulas evaluated by hand at the warm-up boundary, mid-way and the end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClassificationMetrics, METRIC_NAMES, MlmMetrics, MultiLabelMetrics, RegressionMetrics, argmax, metricKey, prefixMetrics } from '../src/engine/train/metrics.js';
import { learningRate, lrLambda, scheduleOf, totalStepsOf, warmupStepsOf } from '../src/engine/train/schedule.js';
import { rng } from './helpers.js';

const close = (a: number, b: number, tol = 1e-12, what = '') => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** One-hot logits whose argmax is `c`. */
const onehot = (c: number, L: number) => Array.from({ length: L }, (_, j) => (j === c ? 2 : -1));

describe('single-label classification', () => {
  // y: 0 0 0 0 1 1 1 2 2 2, p: 0 0 1 2 1 1 0 2 2 1 → confusion [true][pred] below.
  const y = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
  const p = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1];

  it('matches a hand-computed confusion matrix and macro averages', () => {
    const m = new ClassificationMetrics({ 0: 'neg', 1: 'neu', 2: 'pos' });
    y.forEach((label, i) => m.add(p[i]!, label));
    const d = m.details();
    assert.deepEqual(d.confusion_matrix, [[2, 1, 1], [1, 2, 0], [0, 1, 2]]);
    // class 0: P 2/3 R 2/4 F1 4/7; class 1: P 2/4 R 2/3 F1 4/7; class 2: P 2/3 R 2/3 F1 2/3.
    const want = [[2 / 3, 1 / 2, 4 / 7, 4], [1 / 2, 2 / 3, 4 / 7, 3], [2 / 3, 2 / 3, 2 / 3, 3]];
    d.per_class.forEach((c, k) => {
      const [P, R, F, S] = want[k]!;
      close(c.precision, P!, 1e-15, `precision ${k}`);
      close(c.recall, R!, 1e-15, `recall ${k}`);
      close(c.f1, F!, 1e-15, `f1 ${k}`);
      assert.equal(c.support, S);
    });
    assert.deepEqual(d.per_class.map((c) => c.label), ['neg', 'neu', 'pos']);
    const r = m.result();
    close(r.accuracy, 0.6, 1e-15, 'accuracy');
    close(r.precision, 11 / 18, 1e-15, 'macro precision');
    close(r.recall, 11 / 18, 1e-15, 'macro recall');
    close(r.f1, 38 / 63, 1e-15, 'macro F1 (mean of per-class F1, not F1 of the means)');
    assert.equal(r.loss, undefined);
    assert.deepEqual(Object.keys(r).sort(), ['accuracy', 'f1', 'precision', 'recall']);
  });

  it('averages over every id2label class by default; "present" is sklearn\'s default label set', () => {
    const all = new ClassificationMetrics(['a', 'b', 'c', 'never']);
    const present = new ClassificationMetrics(['a', 'b', 'c', 'never'], { classes: 'present' });
    y.forEach((label, i) => { all.add(onehot(p[i]!, 4), label); present.add(p[i]!, label); });
    close(all.result().f1, 38 / 84, 1e-15, 'absent class counts as F1 0');
    close(present.result().f1, 38 / 63, 1e-15, 'absent class left out');
    assert.deepEqual(all.details().never_predicted, ['never']);
    assert.deepEqual(present.details().averaged_over, ['a', 'b', 'c']);
  });

  it('gives a never-predicted class precision 0 (sklearn zero_division) and says so', () => {
    const m = new ClassificationMetrics(3);
    [[0, 0], [1, 1], [1, 2], [0, 2]].forEach(([pred, label]) => m.add(pred!, label!));
    const d = m.details();
    assert.deepEqual(d.never_predicted, ['LABEL_2']);
    assert.equal(d.per_class[2]!.precision, 0);
    assert.equal(d.per_class[2]!.f1, 0);
    // class 0: P 1/2 R 1 F1 2/3; class 1: P 1/2 R 1 F1 2/3; class 2: 0 → macro F1 4/9.
    close(m.result().f1, 4 / 9, 1e-15);
  });

  it('equals a brute-force recomputation on random logits, fed in uneven batches', () => {
    const r = rng(7);
    for (const L of [2, 5, 9]) {
      const N = 300;
      const logits = Array.from({ length: N * L }, () => Math.round(r.normal() * 3) / 2); // ties happen
      const labels = Array.from({ length: N }, () => r.int(0, L - 1));
      const m = new ClassificationMetrics(L);
      for (let s = 0; s < N;) {
        const b = Math.min(N - s, r.int(1, 17));
        m.addBatch(logits.slice(s * L, (s + b) * L), labels.slice(s, s + b));
        s += b;
      }
      // Independent: argmax by indexOf(max) (the first maximum), counts by filtering.
      const preds = labels.map((_, i) => { const row = logits.slice(i * L, (i + 1) * L); return row.indexOf(Math.max(...row)); });
      const idx = [...labels.keys()];
      let P = 0, R = 0, F = 0;
      for (let c = 0; c < L; c++) {
        const tp = idx.filter((i) => preds[i] === c && labels[i] === c).length;
        const predicted = idx.filter((i) => preds[i] === c).length;
        const actual = idx.filter((i) => labels[i] === c).length;
        const pc = predicted ? tp / predicted : 0;
        const rc = actual ? tp / actual : 0;
        P += pc; R += rc; F += pc + rc ? (2 * pc * rc) / (pc + rc) : 0;
        for (let t = 0; t < L; t++) assert.equal(m.details().confusion_matrix[t]![c], idx.filter((i) => labels[i] === t && preds[i] === c).length);
      }
      const res = m.result();
      close(res.accuracy, idx.filter((i) => preds[i] === labels[i]).length / N, 1e-15, 'accuracy');
      close(res.precision, P / L, 1e-12, 'precision');
      close(res.recall, R / L, 1e-12, 'recall');
      close(res.f1, F / L, 1e-12, 'f1');
    }
  });

  it('argmax takes the first maximum, as numpy', () => {
    assert.equal(argmax([1, 3, 3, 2]), 1);
    assert.equal(argmax([-1, NaN, 5]), 1);
  });

  it('weights the loss of each batch by its size, as HF\'s evaluation loop', () => {
    const m = new ClassificationMetrics(2);
    m.add(0, 0);
    m.addLoss(0.5, 8);
    m.addLoss(2.0, 2);
    close(m.result().loss!, (0.5 * 8 + 2 * 2) / 10);
  });

  it('refuses labels outside the classes and results without examples', () => {
    const m = new ClassificationMetrics(2);
    assert.throws(() => m.add(0, 2), /label 2 is not a class id 0…1/);
    assert.throws(() => m.add([1, 2, 3], 0), /3 values for 2 classes/);
    assert.throws(() => m.result(), /no examples/);
  });
});

describe('multi-label classification', () => {
  it('matches hand-computed micro/macro F1 and subset accuracy at probability 0.5', () => {
    const m = new MultiLabelMetrics(3);
    // sigmoid(0) = 0.5 counts as predicted (≥), as HF's example (probs >= threshold).
    m.add([2, -1, 0], [1, 0, 1]); // pred 1 0 1: exact
    m.add([-3, 4, -0.1], [1, 1, 0]); // pred 0 1 0: label 0 missed
    m.add([1, 1, 1], [0, 1, 1]); // pred 1 1 1: label 0 false positive
    // label 0: tp 1 fp 1 fn 1 → F1 1/2; label 1: tp 2 → 1; label 2: tp 2 → 1.
    const r = m.result();
    close(r.accuracy, 1 / 3);
    close(r.f1_macro, (0.5 + 1 + 1) / 3);
    close(r.f1_micro, (2 * 5) / (2 * 5 + 1 + 1)); // tp 5, fp 1, fn 1
  });

  it('reads probabilities as given, and batches like single rows', () => {
    const a = new MultiLabelMetrics(2, 'probabilities');
    a.addBatch([0.5, 0.49, 0.9, 0.1], [1, 0, 0, 0]);
    assert.equal(a.result().accuracy, 0.5);
    assert.throws(() => a.add([0.1, 0.2], [1, 2]), /labels must be 0 or 1/);
  });
});

describe('regression', () => {
  it('matches hand-computed MSE, MAE and Pearson r', () => {
    const m = new RegressionMetrics();
    m.addBatch([1, 2, 3, 4], [1, 3, 2, 5]);
    const r = m.result();
    close(r.mse, 0.75);
    close(r.mae, 0.75);
    close(r.pearson, 5.5 / Math.sqrt(5 * 8.75)); // Σdxdy 5.5, Σdx² 5, Σdy² 8.75
  });

  it('stays accurate far from zero (two-pass reference), and is NaN for constant input', () => {
    const r = rng(3);
    const x = Array.from({ length: 500 }, () => 1e8 + r.normal());
    const y = x.map((v) => v + 0.5 * r.normal());
    const m = new RegressionMetrics();
    x.forEach((v, i) => m.add([v], y[i]!));
    const mx = x.reduce((a, b) => a + b) / x.length;
    const my = y.reduce((a, b) => a + b) / y.length;
    let sxy = 0, sxx = 0, syy = 0;
    x.forEach((v, i) => { sxy += (v - mx) * (y[i]! - my); sxx += (v - mx) ** 2; syy += (y[i]! - my) ** 2; });
    close(m.result().pearson, sxy / Math.sqrt(sxx * syy), 1e-9);
    const c = new RegressionMetrics();
    c.addBatch([1, 1, 1], [1, 2, 3]);
    assert.ok(Number.isNaN(c.result().pearson));
  });
});

describe('masked LM', () => {
  it('reports loss, perplexity = exp(loss) and accuracy over masked tokens only', () => {
    const m = new MlmMetrics();
    m.addLoss(2.0, 4);
    m.addLoss(1.0, 2);
    m.addTokens([5, 6, 7, 8, 9], [5, -100, 1, 8, -100]);
    const r = m.result();
    close(r.loss, 10 / 6);
    close(r.perplexity, Math.exp(10 / 6));
    close(r.accuracy!, 2 / 3);
    const big = new MlmMetrics();
    big.addLoss(1000, 1);
    assert.equal(big.result().perplexity, Infinity); // run_mlm.py: OverflowError → inf
  });
});

describe('metric names', () => {
  it('prefixes HF-style, with the task name in multi-task runs', () => {
    assert.equal(metricKey('accuracy'), 'eval_accuracy');
    assert.equal(metricKey('f1', 'sst2'), 'eval_sst2_f1');
    assert.deepEqual(prefixMetrics({ loss: 1, accuracy: 0.5, f1: undefined }), { eval_loss: 1, eval_accuracy: 0.5 });
    for (const names of Object.values(METRIC_NAMES)) assert.ok(names.includes('loss'));
  });
});

describe('learning-rate schedules (transformers get_scheduler, LambdaLR steps)', () => {
  const lr = 1e-3;
  it('linear: warm-up from 0, peak at the boundary, 0 at the end', () => {
    const o = { lr, schedule: 'linear' as const, warmupSteps: 10, totalSteps: 100 };
    const want: [number, number][] = [[0, 0], [1, 1e-4], [5, 5e-4], [9, 9e-4], [10, 1e-3], [11, 1e-3 * 89 / 90], [55, 5e-4], [99, 1e-3 / 90], [100, 0], [120, 0]];
    for (const [s, v] of want) close(learningRate(s, o), v, 1e-15, `step ${s}`);
    close(learningRate(0, { ...o, warmupSteps: 0 }), lr, 1e-15, 'no warm-up: full lr at step 0');
  });
  it('cosine with half a cycle', () => {
    const o = { lr, schedule: 'cosine' as const, warmupSteps: 10, totalSteps: 110 };
    close(learningRate(5, o), 5e-4, 1e-15, 'warm-up');
    close(learningRate(10, o), 1e-3, 1e-15, 'boundary');
    close(learningRate(35, o), 1e-3 * 0.5 * (1 + Math.SQRT1_2), 1e-15, 'progress 1/4: (1 + cos π/4)/2');
    close(learningRate(60, o), 5e-4, 1e-15, 'half way');
    assert.equal(learningRate(110, o), 0);
  });
  it('constant and constant_with_warmup', () => {
    for (const s of [0, 3, 1000]) assert.equal(learningRate(s, { lr, schedule: 'constant', warmupSteps: 10, totalSteps: 20 }), lr);
    const o = { lr, schedule: 'constant_with_warmup' as const, warmupSteps: 4, totalSteps: 20 };
    assert.deepEqual([0, 1, 2, 3, 4, 20].map((s) => learningRate(s, o)), [0, 2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3]);
    assert.throws(() => lrLambda(-1, o), /step -1/);
  });
  it('warm-up steps: warmup_steps wins when > 0, else ceil(ratio·total) in floating point', () => {
    assert.equal(warmupStepsOf({ warmup_steps: 7, warmup_ratio: 0.5 }, 100), 7);
    assert.equal(warmupStepsOf({ warmup_steps: 0, warmup_ratio: 0.25 }, 10), 3); // ceil(2.5)
    assert.equal(warmupStepsOf({ warmup_ratio: 0.07 }, 100), 8); // 100·0.07 = 7.000000000000001, in Python too
    assert.equal(warmupStepsOf({}, 30), 0);
  });
  it('total steps: max_steps, or ceil(epochs · ceil(batches / accumulation))', () => {
    assert.equal(totalStepsOf({ max_steps: 50, num_train_epochs: 3 }, 115), 50);
    assert.equal(totalStepsOf({ max_steps: -1, num_train_epochs: 3, gradient_accumulation_steps: 1 }, 115), 345);
    assert.equal(totalStepsOf({ num_train_epochs: 3, gradient_accumulation_steps: 3 }, 10), 12);
    assert.equal(totalStepsOf({ num_train_epochs: 2.5 }, 10), 25);
    assert.equal(totalStepsOf({ num_train_epochs: 1, gradient_accumulation_steps: 8 }, 3), 1);
    assert.deepEqual(scheduleOf({ learning_rate: 2e-5, lr_scheduler_type: 'cosine', warmup_ratio: 0.1 }, 345), { lr: 2e-5, schedule: 'cosine', warmupSteps: 35, totalSteps: 345 });
  });
});

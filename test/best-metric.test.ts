/**
 * Best-model tracking and early stopping (best.ts) on hand-computed sequences: lower and greater
 * is better, the threshold, patience, ties, and a restore from a checkpoint's saved state giving
 * the same decisions as an uninterrupted run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BestMetric, BestMetricOptions, bestMetricOptions } from '../src/engine/train/best.js';

/** Feeds values at steps 1, 2, …; returns, per evaluation, "+" (improved) or "-", and "!" where it says stop. */
function run(opts: BestMetricOptions, values: number[], from?: BestMetric): { marks: string; best: BestMetric } {
  const best = from ?? new BestMetric(opts);
  const marks = values.map((v, i) => { const r = best.update(v, i + 1); return (r.improved ? '+' : '-') + (r.shouldStop ? '!' : ''); }).join(' ');
  return { marks, best };
}

describe('best metric', () => {
  it('lower is better: a falling loss improves, a rise or a tie does not', () => {
    const { marks, best } = run({ metric: 'eval_loss', greaterIsBetter: false }, [3, 2, 2.5, 2, 1]);
    assert.equal(marks, '+ + - - +');
    assert.deepEqual(best.state, { best: 1, bestStep: 5, badEvals: 0 });
  });
  it('greater is better: accuracy', () => {
    const { marks, best } = run({ metric: 'eval_accuracy', greaterIsBetter: true }, [0.5, 0.7, 0.7, 0.6, 0.8, 0.75]);
    assert.equal(marks, '+ + - - + -');
    assert.deepEqual(best.state, { best: 0.8, bestStep: 5, badEvals: 1 });
  });
  it('the threshold: an improvement must exceed it, and the best moves only then', () => {
    // best 1.0; 0.95 beats it by 0.05 (not > 0.1); 0.85 by 0.15: new best 0.85; 0.8 by 0.05: no.
    const { marks, best } = run({ metric: 'eval_loss', greaterIsBetter: false, threshold: 0.1 }, [1.0, 0.95, 0.85, 0.8]);
    assert.equal(marks, '+ - + -');
    assert.deepEqual(best.state, { best: 0.85, bestStep: 3, badEvals: 1 });
    // 0.6 − 0.5 = 0.1 is not more than 0.1 (in floating point 0.6 > 0.5 + 0.1 is false too); 0.61 is; 0.7 − 0.61 is not.
    const g = run({ metric: 'eval_f1', greaterIsBetter: true, threshold: 0.1 }, [0.5, 0.6, 0.61, 0.7]);
    assert.equal(g.marks, '+ - + -');
  });
  it('patience: stops after that many evaluations in a row without improvement, an improvement resets the count', () => {
    const { marks } = run({ metric: 'eval_loss', greaterIsBetter: false, patience: 2 }, [5, 6, 4, 4, 7]);
    assert.equal(marks, '+ - + - -!');
    const never = run({ metric: 'eval_loss', greaterIsBetter: false }, [1, 2, 3, 4, 5, 6]);
    assert.equal(never.marks, '+ - - - - -', 'no patience: never stops');
  });
  it('a restored state decides as the uninterrupted run does (and stops at once when saved at an early stop)', () => {
    const opts = { metric: 'eval_loss', greaterIsBetter: false, patience: 3, threshold: 0.01 };
    const values = [2, 1.5, 1.6, 1.495, 1.2, 1.3, 1.25, 1.21];
    const straight = run(opts, values).marks.split(' ');
    assert.equal(straight.join(' '), '+ + - - + - - -!');
    const first = run(opts, values.slice(0, 4));
    // What a checkpoint keeps: best_metric and best_global_step (trainer_state.json), badEvals (rng_state.json).
    const saved = JSON.parse(JSON.stringify(first.best.state));
    assert.deepEqual(saved, { best: 1.5, bestStep: 2, badEvals: 2 });
    const resumed = new BestMetric(opts, saved);
    const rest = values.slice(4).map((v, i) => { const r = resumed.update(v, i + 5); return (r.improved ? '+' : '-') + (r.shouldStop ? '!' : ''); });
    assert.deepEqual([...first.marks.split(' '), ...rest], straight);
    const stopped = new BestMetric({ metric: 'eval_loss', greaterIsBetter: false, patience: 2 }, { best: 1, bestStep: 3, badEvals: 2 });
    assert.equal(stopped.shouldStop, true);
    assert.deepEqual(new BestMetric(opts, {}).state, { best: null, bestStep: null, badEvals: 0 }, 'a state with nothing saved yet');
  });
  it('the metric must be among the evaluation\'s metrics; the error names them', () => {
    const b = new BestMetric({ metric: 'eval_f1', greaterIsBetter: true });
    assert.equal(b.valueIn({ eval_loss: 1, eval_f1: 0.5 }), 0.5);
    assert.throws(() => b.valueIn({ eval_loss: 1, eval_accuracy: 0.5 }), /metric_for_best_model "eval_f1" is not among the evaluation's metrics: eval_loss, eval_accuracy/);
  });
  it('defaults: eval_loss when the run evaluates; greater_is_better from the name unless set', () => {
    assert.equal(bestMetricOptions({}, false), null);
    assert.deepEqual(bestMetricOptions({}, true), { metric: 'eval_loss', greaterIsBetter: false });
    assert.deepEqual(bestMetricOptions({ metric_for_best_model: 'eval_accuracy' }, true), { metric: 'eval_accuracy', greaterIsBetter: true });
    // HF's rule: only a name ending in "loss" is lower-is-better (the config check warns for a perplexity; see train-config tests).
    assert.deepEqual(bestMetricOptions({ metric_for_best_model: 'eval_mlm_perplexity' }, true), { metric: 'eval_mlm_perplexity', greaterIsBetter: true });
    assert.deepEqual(bestMetricOptions({ metric_for_best_model: 'eval_mlm_loss' }, true), { metric: 'eval_mlm_loss', greaterIsBetter: false });
    assert.deepEqual(bestMetricOptions({ metric_for_best_model: 'eval_loss', greater_is_better: true, early_stopping_patience: 2, early_stopping_threshold: 0.5 }, true),
      { metric: 'eval_loss', greaterIsBetter: true, threshold: 0.5, patience: 2 });
  });
});

/** The train-step compiler: AdamW against a float64 reference, K-in-a-Loop vs K runs, accumulation. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { crossEntropy, dropout } from '../src/engine/autodiff/index.js';
import { BuildError } from '../src/engine/ir/graph.js';
import { Linear, ParamSet } from '../src/engine/nn/module.js';
import { TrainStepRunner, initialState } from '../src/engine/optim/runner.js';
import { compileTrainStep } from '../src/engine/optim/train-step.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { HostTensor, tensor } from '../src/engine/runtime/tensor.js';
import { maxAbsDiff, numel, rng } from './helpers.js';

const cpu = (model: Uint8Array) => EngineSession.create(model, { device: 'cpu', threads: 1 });

describe('AdamW step', () => {
  it('equals an independent float64 AdamW with clipping, decay mask and bias correction', async () => {
    // loss = Σ a·Ga + Σ b·Gb, so the gradients are exactly the batch inputs Ga and Gb.
    const shapes = { a: [3, 4], b: [4] };
    const compiled = compileTrainStep({
      params: [{ name: 'a', shape: shapes.a, decay: true }, { name: 'b', shape: shapes.b, decay: false }],
      batch: [{ name: 'ga', dtype: 'float32', shape: shapes.a }, { name: 'gb', dtype: 'float32', shape: shapes.b }],
      loss: ({ params, batch }) => F.add(F.sumAll(F.mul(params['a']!, batch['ga']!)), F.sumAll(F.mul(params['b']!, batch['gb']!))),
      adamw: { beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1 },
      maxGradNorm: 1.5,
    });
    const r = rng(11);
    const rand = (n: number, f = () => r.normal()) => Float32Array.from({ length: n }, f);
    const K = 3;
    const lrs = [0.05, 0.02, 0.01];
    const grads = { a: rand(K * 12, () => r.normal() * 0.6), b: rand(K * 4, () => r.normal() * 0.6) };
    const runner = new TrainStepRunner(compiled, await cpu(compiled.model), {
      params: { a: rand(12), b: rand(4) }, expAvg: { a: rand(12, () => r.normal() * 0.1), b: rand(4, () => r.normal() * 0.1) },
      expAvgSq: { a: rand(12, () => r.next() * 0.1), b: rand(4, () => r.next() * 0.1) }, step: 5,
    });
    // Reference in float64, starting from the same float32 values.
    const ref = {
      p: { a: Array.from(runner.state.params['a']!), b: Array.from(runner.state.params['b']!) },
      m: { a: Array.from(runner.state.expAvg['a']!), b: Array.from(runner.state.expAvg['b']!) },
      v: { a: Array.from(runner.state.expAvgSq['a']!), b: Array.from(runner.state.expAvgSq['b']!) },
    };
    const norms: number[] = [];
    for (let k = 0; k < K; k++) {
      const t = 5 + k + 1, lr = lrs[k]!;
      const gk = { a: Array.from(grads.a.subarray(k * 12, k * 12 + 12)), b: Array.from(grads.b.subarray(k * 4, k * 4 + 4)) };
      const norm = Math.sqrt([...gk.a, ...gk.b].reduce((s, x) => s + x * x, 0));
      norms.push(norm);
      const coef = Math.min(1, 1.5 / (norm + 1e-6));
      for (const name of ['a', 'b'] as const) {
        for (let i = 0; i < gk[name].length; i++) {
          const g = gk[name][i]! * coef;
          let p = ref.p[name][i]!;
          if (name === 'a') p *= 1 - lr * 0.1;
          const m = 0.8 * ref.m[name][i]! + 0.2 * g;
          const v = 0.95 * ref.v[name][i]! + 0.05 * g * g;
          const denom = Math.sqrt(v) / Math.sqrt(1 - 0.95 ** t) + 1e-6;
          ref.p[name][i] = p - (lr / (1 - 0.8 ** t)) * m / denom;
          ref.m[name][i] = m;
          ref.v[name][i] = v;
        }
      }
    }
    const out = await runner.steps(lrs, { ga: tensor('float32', [K, 1, 3, 4], grads.a), gb: tensor('float32', [K, 1, 4], grads.b) });
    assert.ok(norms.some((n) => n > 1.5), 'clipping is exercised');
    assert.ok(maxAbsDiff(out.gradNorm, norms) < 1e-5, `grad norms ${out.gradNorm} vs ${norms}`);
    assert.deepEqual(Array.from(out.lr), lrs.map((x) => Math.fround(x)));
    assert.equal(runner.state.step, 5 + K);
    for (const name of ['a', 'b'] as const) {
      assert.ok(maxAbsDiff(runner.state.params[name]!, ref.p[name]) < 1e-6, `param ${name}: ${maxAbsDiff(runner.state.params[name]!, ref.p[name])}`);
      assert.ok(maxAbsDiff(runner.state.expAvg[name]!, ref.m[name]) < 1e-6, `exp_avg ${name}`);
      assert.ok(maxAbsDiff(runner.state.expAvgSq[name]!, ref.v[name]) < 1e-6, `exp_avg_sq ${name}`);
    }
  });
});

/** A two-layer classifier with dropout on random data: exercises every part of the step. */
function mlpSetup(accumulation: number, microBatch: number) {
  const ps = new ParamSet();
  const l1 = new Linear(ps, 'dense', 6, 16), l2 = new Linear(ps, 'classifier', 16, 3);
  const compiled = compileTrainStep({
    params: ps.specs,
    batch: [{ name: 'x', dtype: 'float32', shape: [microBatch, 6] }, { name: 'y', dtype: 'int64', shape: [microBatch] }],
    loss: ({ params, batch, seed }) => crossEntropy(l2.forward(params, dropout(F.tanh(l1.forward(params, batch['x']!)), 0.2, seed)), batch['y']!),
    adamw: { weightDecay: 0.01 },
    maxGradNorm: 1.0,
    accumulation,
  });
  return { ps, compiled };
}
function randomBatches(K: number, M: number, B: number, seed: number): Record<string, HostTensor> {
  const r = rng(seed);
  return {
    x: tensor('float32', [K, M, B, 6], Array.from({ length: K * M * B * 6 }, () => r.normal())),
    y: tensor('int64', [K, M, B], Array.from({ length: K * M * B }, () => r.int(0, 2))),
  };
}
function sliceStep(t: HostTensor, k: number): HostTensor {
  const per = numel(t.dims.slice(1));
  return { dtype: t.dtype, dims: [1, ...t.dims.slice(1)], data: t.data.slice(k * per, (k + 1) * per) as HostTensor['data'] };
}

describe('K steps in one Loop', () => {
  it('equal K single-step runs (dropout included)', async () => {
    const { ps, compiled } = mlpSetup(1, 5);
    const init = ps.initialize(rng(5).next);
    const session = await cpu(compiled.model);
    const K = 4, lrs = [1e-2, 8e-3, 6e-3, 4e-3];
    const batches = randomBatches(K, 1, 5, 9);
    const looped = new TrainStepRunner(compiled, session, initialState(compiled, init));
    const a = await looped.steps(lrs, batches, 77);
    const single = new TrainStepRunner(compiled, session, initialState(compiled, init));
    const losses: number[] = [];
    for (let k = 0; k < K; k++) {
      const o = await single.steps([lrs[k]!], { x: sliceStep(batches['x']!, k), y: sliceStep(batches['y']!, k) }, 77);
      losses.push(o.loss[0]!);
    }
    assert.equal(looped.state.step, K);
    assert.equal(single.state.step, K);
    assert.ok(maxAbsDiff(a.loss, losses) <= 1e-6, `losses ${a.loss} vs ${losses}`);
    for (const p of ps.specs) {
      assert.ok(maxAbsDiff(looped.state.params[p.name]!, single.state.params[p.name]!) <= 1e-6, p.name);
      assert.ok(maxAbsDiff(looped.state.expAvgSq[p.name]!, single.state.expAvgSq[p.name]!) <= 1e-6, p.name);
    }
    assert.notDeepEqual(looped.state.params['dense.weight'], init['dense.weight'], 'the parameters moved');
  });
});

describe('gradient accumulation', () => {
  it('M micro-batches of B equal one batch of M·B (no dropout: a mean loss)', async () => {
    const build = (M: number, B: number) => {
      const ps = new ParamSet();
      const l1 = new Linear(ps, 'dense', 6, 8), l2 = new Linear(ps, 'out', 8, 3);
      return { ps, compiled: compileTrainStep({
        params: ps.specs,
        batch: [{ name: 'x', dtype: 'float32', shape: [B, 6] }, { name: 'y', dtype: 'int64', shape: [B] }],
        loss: ({ params, batch }) => crossEntropy(l2.forward(params, F.tanh(l1.forward(params, batch['x']!))), batch['y']!),
        maxGradNorm: 0.5, accumulation: M,
      }) };
    };
    const acc = build(3, 4), full = build(1, 12);
    const init = acc.ps.initialize(rng(2).next);
    const b = randomBatches(2, 3, 4, 4);
    const merged = { x: { ...b['x']!, dims: [2, 1, 12, 6] }, y: { ...b['y']!, dims: [2, 1, 12] } };
    const ra = new TrainStepRunner(acc.compiled, await cpu(acc.compiled.model), initialState(acc.compiled, init));
    const rf = new TrainStepRunner(full.compiled, await cpu(full.compiled.model), initialState(full.compiled, init));
    const oa = await ra.steps([0.01, 0.01], b), of = await rf.steps([0.01, 0.01], merged);
    assert.ok(maxAbsDiff(oa.loss, of.loss) < 1e-6, `loss ${oa.loss} vs ${of.loss}`);
    assert.ok(maxAbsDiff(oa.gradNorm, of.gradNorm) < 1e-6);
    for (const p of acc.ps.specs) assert.ok(maxAbsDiff(ra.state.params[p.name]!, rf.state.params[p.name]!) < 1e-6, p.name);
  });
});

describe('train-step build errors', () => {
  it('rejects a non-scalar loss, naming it', () => {
    assert.throws(() => compileTrainStep({
      params: [{ name: 'w', shape: [2], decay: false }], batch: [],
      loss: ({ params }) => F.mul(params['w']!, 2),
    }), (e: Error) => e instanceof BuildError && /loss must be a float32 scalar/.test(e.message) && /\[2\]/.test(e.message));
  });
  it('rejects accumulation 0', () => {
    assert.throws(() => compileTrainStep({ params: [{ name: 'w', shape: [2], decay: false }], batch: [], loss: ({ params }) => F.sumAll(params['w']!), accumulation: 0 }), /accumulation must be a positive integer, got 0/);
  });
});

describe('frozen parameters', () => {
  it('are read by the loss but never updated; the others train as before', async () => {
    const ps = new ParamSet();
    const l1 = new Linear(ps, 'dense', 6, 8), l2 = new Linear(ps, 'out', 8, 3);
    const frozenNames = new Set(['dense.weight', 'dense.bias']);
    const loss = ({ params, batch }: { params: Record<string, import('../src/engine/ir/graph.js').Value>; batch: Record<string, import('../src/engine/ir/graph.js').Value> }) =>
      crossEntropy(l2.forward(params, F.tanh(l1.forward(params, batch['x']!))), batch['y']!);
    const batchSpec = [{ name: 'x', dtype: 'float32' as const, shape: [4, 6] }, { name: 'y', dtype: 'int64' as const, shape: [4] }];
    const part = compileTrainStep({ params: ps.specs.filter((p) => !frozenNames.has(p.name)), frozen: ps.specs.filter((p) => frozenNames.has(p.name)), batch: batchSpec, loss });
    const init = ps.initialize(rng(8).next);
    const runner = new TrainStepRunner(part, await cpu(part.model), initialState(part, init));
    const b = randomBatches(3, 1, 4, 5);
    await runner.steps([0.05, 0.05, 0.05], b);
    assert.deepEqual(runner.state.frozen!['dense.weight'], init['dense.weight']);
    assert.equal(runner.state.params['dense.weight'], undefined);
    assert.notDeepEqual(runner.state.params['out.weight'], init['out.weight']);
    // Same trajectory as a full model whose dense layer gets a zero learning rate? Not with AdamW's
    // shared lr; instead: the trained head equals training the head alone on fixed features.
    const headOnly = compileTrainStep({ params: ps.specs.filter((p) => !frozenNames.has(p.name)), batch: [{ name: 'h', dtype: 'float32', shape: [4, 8] }, { name: 'y', dtype: 'int64', shape: [4] }],
      loss: ({ params, batch }) => crossEntropy(l2.forward(params, batch['h']!), batch['y']!) });
    const g = new (await import('../src/engine/ir/graph.js')).Graph();
    const xin = g.input('x', 'float32', [3, 1, 4, 6]);
    g.output(F.tanh(l1.forward({ 'dense.weight': g.input('dense.weight', 'float32', [8, 6]), 'dense.bias': g.input('dense.bias', 'float32', [8]) }, xin)), 'h');
    const feats = (await (await import('./helpers.js')).runGraph(g, { x: b['x']!, 'dense.weight': tensor('float32', [8, 6], init['dense.weight']!), 'dense.bias': tensor('float32', [8], init['dense.bias']!) }))['h']!;
    const r2 = new TrainStepRunner(headOnly, await cpu(headOnly.model), initialState(headOnly, init));
    await r2.steps([0.05, 0.05, 0.05], { h: feats, y: b['y']! });
    assert.ok(maxAbsDiff(r2.state.params['out.weight']!, runner.state.params['out.weight']!) < 1e-6);
  });
});

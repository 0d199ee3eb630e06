/**
 * npm run bench:engine — ms/step of a ~10M-parameter model with K optimizer steps in one ONNX
 * Loop run vs one run per step, the achieved GFLOP/s, and a plain MatMul's GFLOP/s measured in
 * the same run for comparison. Prints numbers; asserts nothing.
 */
import * as F from '../src/engine/autodiff/index.js';
import { crossEntropy } from '../src/engine/autodiff/index.js';
import { Graph } from '../src/engine/ir/graph.js';
import { serializeModel } from '../src/engine/ir/proto.js';
import { Linear, ParamSet } from '../src/engine/nn/module.js';
import { TrainStepRunner, initialState } from '../src/engine/optim/runner.js';
import { compileTrainStep } from '../src/engine/optim/train-step.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { tensor } from '../src/engine/runtime/tensor.js';

const TOKENS = 512, IN = 512, HIDDEN = 1664, LAYERS = 4, CLASSES = 512;
const K = Number(process.env['BENCH_K'] ?? 8), ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

function lcg(seed: number) { let s = seed >>> 0; return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; }; }

async function matmulGflops(m: number, k: number, n: number): Promise<number> {
  const g = new Graph();
  g.output(F.matmul(g.input('a', 'float32', [m, k]), g.input('b', 'float32', [k, n])), 'c');
  const s = await EngineSession.create(serializeModel(g), { device: 'cpu' });
  const r = lcg(3);
  const feeds = { a: tensor('float32', [m, k], Float32Array.from({ length: m * k }, r)), b: tensor('float32', [k, n], Float32Array.from({ length: k * n }, r)) };
  await s.run(feeds);
  let best = Infinity;
  for (let i = 0; i < 10; i++) { const t0 = performance.now(); await s.run(feeds); best = Math.min(best, performance.now() - t0); }
  await s.release();
  return (2 * m * k * n) / (best * 1e6);
}

async function main() {
  const ps = new ParamSet();
  const layers = [new Linear(ps, 'layer.0', IN, HIDDEN)];
  for (let i = 1; i < LAYERS; i++) layers.push(new Linear(ps, `layer.${i}`, HIDDEN, HIDDEN));
  const head = new Linear(ps, 'head', HIDDEN, CLASSES);
  const compiled = compileTrainStep({
    params: ps.specs,
    batch: [{ name: 'x', dtype: 'float32', shape: [TOKENS, IN] }, { name: 'y', dtype: 'int64', shape: [TOKENS] }],
    loss: ({ params, batch }) => {
      let h = batch['x']!;
      for (const l of layers) h = F.relu(l.forward(params, h));
      return crossEntropy(head.forward(params, h), batch['y']!);
    },
    adamw: { weightDecay: 0.01 }, maxGradNorm: 1,
  });
  // FLOPs per step: forward 2·T·Σ(in·out); backward 2·T·Σ(in·out) for weights and the same for
  // activations except the first layer's input, which needs no gradient.
  const sizes = [[IN, HIDDEN], ...Array.from({ length: LAYERS - 1 }, () => [HIDDEN, HIDDEN]), [HIDDEN, CLASSES]] as [number, number][];
  const macs = sizes.reduce((a, [i, o]) => a + i * o, 0);
  const flopsPerStep = 2 * TOKENS * (2 * macs + (macs - IN * HIDDEN));

  const session = await EngineSession.create(compiled.model, { device: 'cpu', purpose: 'train' });
  const init = ps.initialize(lcg(1));
  const r = lcg(2);
  const stack = (k: number) => ({
    x: tensor('float32', [k, 1, TOKENS, IN], Float32Array.from({ length: k * TOKENS * IN }, () => r() * 2 - 1)),
    y: tensor('int64', [k, 1, TOKENS], Array.from({ length: k * TOKENS }, () => Math.floor(r() * CLASSES))),
  });
  const loopBatch = stack(K), singleBatches = Array.from({ length: K }, () => stack(1));
  const runner = new TrainStepRunner(compiled, session, initialState(compiled, init));
  await runner.steps([1e-4], singleBatches[0]!); // warm-up

  const perStep: number[] = [], inLoop: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let t0 = performance.now();
    for (let k = 0; k < K; k++) await runner.steps([1e-4], singleBatches[k]!);
    perStep.push((performance.now() - t0) / K);
    t0 = performance.now();
    await runner.steps(new Array(K).fill(1e-4), loopBatch);
    inLoop.push((performance.now() - t0) / K);
  }
  const best = (a: number[]) => Math.min(...a);
  const plain = await matmulGflops(TOKENS, HIDDEN, HIDDEN);
  const big = await matmulGflops(1024, 1024, 1024);
  console.log(`model: ${LAYERS + 1}-layer MLP, ${(ps.count() / 1e6).toFixed(2)}M parameters, ${TOKENS} tokens/step, cross-entropy over ${CLASSES} classes, AdamW + clipping`);
  console.log(`onnxruntime-node CPU EP (${session.choice.reason}); ${(flopsPerStep / 1e9).toFixed(1)} GFLOP per step (matmuls)`);
  console.log(`one run per step : ${best(perStep).toFixed(1)} ms/step  (${(flopsPerStep / best(perStep) / 1e6).toFixed(1)} GFLOP/s)  rounds: ${perStep.map((x) => x.toFixed(1)).join(', ')}`);
  console.log(`K=${K} steps / Loop : ${best(inLoop).toFixed(1)} ms/step  (${(flopsPerStep / best(inLoop) / 1e6).toFixed(1)} GFLOP/s)  rounds: ${inLoop.map((x) => x.toFixed(1)).join(', ')}`);
  console.log(`Loop speed-up    : ${(best(perStep) / best(inLoop)).toFixed(2)}×`);
  console.log(`plain MatMul ${TOKENS}×${HIDDEN}×${HIDDEN}: ${plain.toFixed(1)} GFLOP/s; 1024³: ${big.toFixed(1)} GFLOP/s`);
  console.log(`train step efficiency: ${(100 * flopsPerStep / best(inLoop) / 1e6 / plain).toFixed(0)}% of the plain MatMul rate`);
}
void main();

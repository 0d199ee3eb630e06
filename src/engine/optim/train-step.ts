/**
 * The train-step compiler: from a loss and its parameters, ONE ONNX model that runs K optimizer
 * steps inside a Loop (K = the length of the `lr` input, chosen per run). Each step draws its
 * batch from inputs stacked [K, M, …] (M micro-batches whose gradients are averaged), computes
 * the loss and its gradients, clips them by global norm and applies AdamW. Parameters, moments
 * and the step counter are loop-carried, so they stay inside onnxruntime for all K steps.
 */
import { DType } from '../ir/dtype.js';
import { BuildError, Graph, Value } from '../ir/graph.js';
import { loop } from '../ir/loop.js';
import { Dim } from '../ir/shape.js';
import { DEFAULT_OPSET, serializeModel } from '../ir/proto.js';
import { grad } from '../autodiff/index.js';
import { add, div, equal, gather, mul, scalar, shapeOf, squeeze, sub, where, zerosLike } from '../autodiff/index.js';
import type { ParamSpec } from '../nn/module.js';
import { ADAMW_DEFAULTS, AdamWConfig, AdamWState, adamwUpdate, clipByGlobalNorm } from './adamw.js';

export interface BatchSpec { name: string; dtype: DType; shape: Dim[] }

export interface LossContext {
  params: Record<string, Value>;
  batch: Record<string, Value>;
  /** int64 scalar unique to this step and micro-batch: seeds dropout masks. */
  seed: Value;
}

export interface TrainStepSpec {
  params: ParamSpec[];
  /** Parameters the loss reads but the optimizer leaves alone (frozen layers): plain inputs, no moments. */
  frozen?: ParamSpec[];
  /** One micro-batch's inputs; the model takes them stacked as [K, M, ...shape]. */
  batch: BatchSpec[];
  loss: (ctx: LossContext) => Value;
  adamw?: Partial<AdamWConfig>;
  /** Global-norm clipping threshold; 0 or absent: no clipping (the norm is still reported). */
  maxGradNorm?: number;
  /** M, micro-batches per optimizer step (gradient accumulation). */
  accumulation?: number;
  /**
   * "skip": a step whose loss or gradient norm is NaN or ±Inf leaves parameters and moments as
   * they were (the update is selected away in-graph, so the other steps of the Loop go on); its
   * loss and norm are still reported, which is how the trainer learns of it. Absent: no guard.
   */
  nonFinite?: 'skip';
}

/** Input and output names of a compiled train-step model. */
export const trainStepIO = {
  param: (n: string) => n,
  expAvg: (n: string) => `exp_avg.${n}`,
  expAvgSq: (n: string) => `exp_avg_sq.${n}`,
  batch: (n: string) => `batch.${n}`,
  newParam: (n: string) => `new.${n}`,
  newExpAvg: (n: string) => `new.exp_avg.${n}`,
  newExpAvgSq: (n: string) => `new.exp_avg_sq.${n}`,
  step: 'step', newStep: 'new.step', lr: 'lr', seed: 'seed', loss: 'loss', gradNorm: 'grad_norm', lrUsed: 'lr_used',
} as const;

export interface CompiledTrainStep { model: Uint8Array; spec: TrainStepSpec; accumulation: number }

export function compileTrainStep(spec: TrainStepSpec): CompiledTrainStep {
  const io = trainStepIO;
  const cfg = { ...ADAMW_DEFAULTS, ...spec.adamw };
  const M = spec.accumulation ?? 1;
  if (!Number.isInteger(M) || M < 1) throw new BuildError(`compileTrainStep: accumulation must be a positive integer, got ${M}`);
  if (spec.params.length === 0) throw new BuildError('compileTrainStep: no parameters to train');
  const g = new Graph('train_step');
  const params = spec.params.map((p) => g.input(io.param(p.name), 'float32', p.shape));
  const m0 = spec.params.map((p) => g.input(io.expAvg(p.name), 'float32', p.shape));
  const v0 = spec.params.map((p) => g.input(io.expAvgSq(p.name), 'float32', p.shape));
  const step0 = g.input(io.step, 'int64', []);
  const lr = g.input(io.lr, 'float32', ['K']);
  const seed = g.input(io.seed, 'int64', []);
  const frozen = (spec.frozen ?? []).map((p) => g.input(io.param(p.name), 'float32', p.shape));
  const stacked = spec.batch.map((b) => g.input(io.batch(b.name), b.dtype, ['K', M, ...b.shape]));
  const K = gather(shapeOf(lr), scalar(lr, 0, 'int64'), 0);
  const n = params.length;

  const res = loop(K, [step0, ...params, ...m0, ...v0], (iter, carried) => {
    const [step, ...rest] = carried as [Value, ...Value[]];
    const [ps, ms, vs] = [rest.slice(0, n), rest.slice(n, 2 * n), rest.slice(2 * n)];
    const t = add(step, 1);
    const lrK = gather(lr, iter, 0);
    const batchK = stacked.map((b) => gather(b, iter, 0)); // [M, ...]
    const stepSeed = add(mul(seed, 1000003), t);
    const lossOf = (micro: Value[], microSeed: Value) => {
      const loss = spec.loss({
        params: Object.fromEntries([...spec.params.map((p, i) => [p.name, ps[i]!] as const), ...(spec.frozen ?? []).map((p, i) => [p.name, frozen[i]!] as const)]),
        batch: Object.fromEntries(spec.batch.map((b, i) => [b.name, micro[i]!])),
        seed: microSeed,
      });
      if (loss.rank !== 0 || loss.dtype !== 'float32') throw new BuildError(`compileTrainStep: the loss must be a float32 scalar, got ${loss}`);
      return loss;
    };
    let loss: Value, grads: Value[];
    if (M === 1) {
      loss = lossOf(batchK.map((b) => squeeze(b, [0])), stepSeed);
      grads = grad(loss, ps);
    } else {
      // Gradient accumulation: an inner Loop over the M micro-batches sums loss/M and grad/M.
      const acc = loop(scalar(step, M, 'int64'), [zerosLike(lrK), ...ps.map(zerosLike)], (j, [lossAcc, ...gAcc]) => {
        const l = lossOf(batchK.map((b) => gather(b, j, 0)), add(mul(stepSeed, 1009), j));
        const gs = grad(l, ps);
        return { carried: [add(lossAcc!, div(l, M)), ...gAcc.map((a, i) => add(a, div(gs[i]!, M)))] };
      }, { name: g.fresh('accumulate') });
      [loss, ...grads] = acc.carried as [Value, ...Value[]];
    }
    const clipped = clipByGlobalNorm(grads, spec.maxGradNorm);
    const states: AdamWState[] = ps.map((p, i) => ({ param: p, expAvg: ms[i]!, expAvgSq: vs[i]! }));
    let next = adamwUpdate(states, clipped.grads, spec.params.map((p) => p.decay), lrK, t, cfg);
    if (spec.nonFinite === 'skip') {
      // x − x is 0 for every finite x and NaN for NaN and ±Inf; one test covers loss and norm
      // (the norm is non-finite when any gradient element is). The step counter still advances,
      // as HF's global_step does over a skipped optimizer step.
      const sum = add(loss, clipped.norm);
      const ok = equal(sub(sum, sum), 0);
      next = next.map((s, i) => ({ param: where(ok, s.param, ps[i]!), expAvg: where(ok, s.expAvg, ms[i]!), expAvgSq: where(ok, s.expAvgSq, vs[i]!) }));
    }
    return {
      carried: [t, ...next.map((s) => s.param), ...next.map((s) => s.expAvg), ...next.map((s) => s.expAvgSq)],
      scans: [loss, clipped.norm, lrK],
    };
  }, { name: 'optimizer_step', tripDim: 'K' });

  const [stepOut, ...state] = res.carried as [Value, ...Value[]];
  g.output(stepOut, io.newStep);
  spec.params.forEach((p, i) => g.output(state[i]!, io.newParam(p.name)));
  spec.params.forEach((p, i) => g.output(state[n + i]!, io.newExpAvg(p.name)));
  spec.params.forEach((p, i) => g.output(state[2 * n + i]!, io.newExpAvgSq(p.name)));
  g.output(res.scans[0]!, io.loss);
  g.output(res.scans[1]!, io.gradNorm);
  g.output(res.scans[2]!, io.lrUsed);
  return { model: serializeModel(g, { opset: DEFAULT_OPSET, docString: 'BERT Lab train step: K AdamW steps in one Loop' }), spec, accumulation: M };
}

/**
 * Holds the training state (parameters, AdamW moments, step) on the host and feeds it through a
 * compiled train-step model, K steps per run. Works with a session in this thread or in a worker.
 */
import { Feeds, HostTensor, tensor } from '../runtime/tensor.js';
import type { ModelRunner } from '../runtime/runner.js';
import { CompiledTrainStep, trainStepIO as io } from './train-step.js';


export interface TrainState {
  params: Record<string, Float32Array>;
  /** Values of frozen parameters (fed, never updated). */
  frozen?: Record<string, Float32Array>;
  expAvg: Record<string, Float32Array>;
  expAvgSq: Record<string, Float32Array>;
  /** Optimizer steps taken so far. */
  step: number;
}

export interface StepsResult { loss: Float32Array; gradNorm: Float32Array; lr: Float32Array }

export function initialState(compiled: CompiledTrainStep, params: Record<string, Float32Array>): TrainState {
  const state: TrainState = { params: {}, expAvg: {}, expAvgSq: {}, step: 0 };
  if (compiled.spec.frozen?.length) state.frozen = Object.fromEntries(compiled.spec.frozen.map((p) => [p.name, params[p.name]!]));
  for (const p of compiled.spec.params) {
    const v = params[p.name];
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (!v || v.length !== n) throw new Error(`initial value for parameter "${p.name}" must hold ${n} floats, got ${v?.length ?? 'none'}`);
    state.params[p.name] = Float32Array.from(v);
    state.expAvg[p.name] = new Float32Array(n);
    state.expAvgSq[p.name] = new Float32Array(n);
  }
  return state;
}

export class TrainStepRunner {
  constructor(readonly compiled: CompiledTrainStep, readonly runner: ModelRunner, public state: TrainState) {}

  /**
   * Runs K = lrs.length optimizer steps. `batch` holds each batch input stacked [K, M, ...];
   * `seed` seeds dropout (with the step number, so a resumed run draws the same masks).
   */
  async steps(lrs: readonly number[], batch: Record<string, HostTensor>, seed = 0): Promise<StepsResult> {
    const K = lrs.length;
    const feeds: Feeds = {
      [io.step]: tensor('int64', [], [this.state.step]),
      [io.lr]: tensor('float32', [K], lrs),
      [io.seed]: tensor('int64', [], [seed]),
    };
    for (const p of this.compiled.spec.params) {
      feeds[io.param(p.name)] = tensor('float32', p.shape, this.state.params[p.name]!);
      feeds[io.expAvg(p.name)] = tensor('float32', p.shape, this.state.expAvg[p.name]!);
      feeds[io.expAvgSq(p.name)] = tensor('float32', p.shape, this.state.expAvgSq[p.name]!);
    }
    for (const p of this.compiled.spec.frozen ?? []) {
      const v = this.state.frozen?.[p.name];
      if (!v) throw new Error(`frozen parameter "${p.name}" has no value in the training state`);
      feeds[io.param(p.name)] = tensor('float32', p.shape, v);
    }
    for (const b of this.compiled.spec.batch) {
      const t = batch[b.name];
      if (!t) throw new Error(`batch input "${b.name}" is missing`);
      if (t.dims[0] !== K || t.dims[1] !== this.compiled.accumulation) {
        throw new Error(`batch input "${b.name}" must be stacked [K=${K}, M=${this.compiled.accumulation}, ...], got [${t.dims}]`);
      }
      feeds[io.batch(b.name)] = t;
    }
    const out = await this.runner.run(feeds);
    const next: TrainState = { params: {}, expAvg: {}, expAvgSq: {}, step: Number((out[io.newStep]!.data as BigInt64Array)[0]), ...(this.state.frozen ? { frozen: this.state.frozen } : {}) };
    for (const p of this.compiled.spec.params) {
      next.params[p.name] = out[io.newParam(p.name)]!.data as Float32Array;
      next.expAvg[p.name] = out[io.newExpAvg(p.name)]!.data as Float32Array;
      next.expAvgSq[p.name] = out[io.newExpAvgSq(p.name)]!.data as Float32Array;
    }
    this.state = next;
    return { loss: out[io.loss]!.data as Float32Array, gradNorm: out[io.gradNorm]!.data as Float32Array, lr: out[io.lrUsed]!.data as Float32Array };
  }
}

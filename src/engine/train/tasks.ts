/**
 * The tasks a run trains, at run time: their data (tokenized, in memory), samplers and
 * collators, the batch inputs of the train-step model, each task's loss on the shared encoder,
 * and evaluation. One optimizer step takes one batch of every task (multi-task: weighted sum).
 */
import * as F from '../autodiff/ops.js';
import { crossEntropy } from '../autodiff/derived.js';
import { topK } from '../autodiff/ops.js';
import { Graph, Value } from '../ir/graph.js';
import { DType } from '../ir/dtype.js';
import { serializeModel } from '../ir/proto.js';
import { BatchSampler, SamplerState } from '../data/batching.js';
import { ClassificationCollator, EncodedExample } from '../data/collate-cls.js';
import { MlmCollator, MlmCollatorState, MlmSequence, tokenizeForMlm } from '../data/collate-mlm.js';
import { LabelMapping } from '../data/labels.js';
import { Rng } from '../data/rng.js';
import { Example, MlmBatch } from '../data/types.js';
import { ParamValues } from '../nn/module.js';
import { BertModel, ForwardCtx } from '../models/bert/modeling.js';
import { ClassificationHead, MaskedLMHead, gatherPositions } from '../models/bert/heads.js';
import { BatchSpec } from '../optim/train-step.js';
import { ModelRunner } from '../optim/runner.js';
import { HostTensor, tensor } from '../runtime/tensor.js';
import { WordPieceTokenizer } from '../tokenizer/index.js';
import { ClassificationMetrics, MlmMetrics, MultiLabelMetrics, RegressionMetrics } from './metrics.js';

/** What a task needs of the model: the shared encoder and its head. */
export interface TaskModel { bert: BertModel; mlm?: MaskedLMHead | null; head?: ClassificationHead }

/** The part of a sampler run not trained yet: its padded length and remaining batches. */
export interface PendingRun { T: number; batches: number[][] }
export interface TaskState {
  sampler?: SamplerState;
  pending: PendingRun | null;
  collator?: MlmCollatorState;
  /** Streaming tasks: where the stream is, and the sequences of the pending run themselves. */
  stream?: { epoch: number; consumed: number; sequences: MlmSequence[] };
}

interface Common {
  name: string;
  weight: number;
  batchSize: number;
  /** Micro-batches per optimizer step. */
  M: number;
  sampler: BatchSampler;
  pending: PendingRun | null;
  trainSize: number;
}

export abstract class TaskRuntime implements Common {
  name!: string; weight!: number; batchSize!: number; M!: number; sampler!: BatchSampler; pending: PendingRun | null = null; trainSize!: number;
  abstract readonly kind: 'mlm' | 'classification';
  abstract batchSpecs(T: number): BatchSpec[];
  abstract loss(model: TaskModel, p: ParamValues, batch: Record<string, Value>, seed: Value): Value;
  /** Stacked [n, M, …] inputs for the train step, from n·M batches of example indices. */
  abstract tensors(batches: number[][], T: number, n: number): Record<string, HostTensor>;
  abstract evaluate(model: TaskModel, params: Record<string, Float32Array>, paramSpecs: { name: string; shape: number[] }[], runnerFor: (m: Uint8Array) => Promise<ModelRunner>): Promise<Record<string, number>>;
  abstract state(): TaskState;
  abstract restore(s: TaskState): void;
  /** Makes the next run available (streaming tasks read ahead here). */
  async prepare(): Promise<void> {}
  /** Steps left in the pending run, pulling the next sampler run when it is used up. */
  front(): PendingRun {
    if (!this.pending || this.pending.batches.length < this.M) {
      const r = this.sampler.next();
      this.pending = { T: r.T, batches: r.batches };
    }
    return this.pending;
  }
  /** Takes n steps' worth (n·M batches) from the pending run. */
  take(n: number): { T: number; batches: number[][] } {
    const f = this.front();
    const batches = f.batches.slice(0, n * this.M);
    this.pending = { T: f.T, batches: f.batches.slice(n * this.M) };
    return { T: f.T, batches };
  }
  get epochProgress(): number { return this.sampler.state.epoch + this.sampler.state.cursor / Math.max(1, this.sampler.runsThisEpoch); }
  protected key(s: string): string { return `${this.name}.${s}`; }
}

const stack = (dtype: DType, dims: number[], rows: number[][]): HostTensor => tensor(dtype, dims, rows.flat());

/** Masked-LM batch inputs of task `name` for one micro-batch: B sequences of T tokens, N prediction slots. */
export function mlmBatchSpecs(name: string, B: number, N: number, T: number): BatchSpec[] {
  return [
    { name: `${name}.input_ids`, dtype: 'int64', shape: [B, T] }, { name: `${name}.attention_mask`, dtype: 'int64', shape: [B, T] },
    { name: `${name}.positions`, dtype: 'int64', shape: [N] }, { name: `${name}.labels`, dtype: 'int64', shape: [N] },
  ];
}
/** Masked-LM loss: only the listed positions reach the vocabulary projection. */
export function mlmLoss(name: string, model: TaskModel, p: ParamValues, b: Record<string, Value>, seed: Value): Value {
  const o = model.bert.forward(p, { inputIds: b[`${name}.input_ids`]!, attentionMask: b[`${name}.attention_mask`]! }, new ForwardCtx(seed));
  return crossEntropy(model.mlm!.forward(p, gatherPositions(o.hidden, b[`${name}.positions`]!)), b[`${name}.labels`]!);
}
/** Collated batches stacked [n, M, …] for the train step. */
export function mlmTensors(name: string, got: MlmBatch[], n: number, M: number): Record<string, HostTensor> {
  const { B, T, N } = got[0]!;
  return {
    [`${name}.input_ids`]: stack('int64', [n, M, B, T], got.map((g) => g.ids)),
    [`${name}.attention_mask`]: stack('int64', [n, M, B, T], got.map((g) => g.mask)),
    [`${name}.positions`]: stack('int64', [n, M, N], got.map((g) => g.positions)),
    [`${name}.labels`]: stack('int64', [n, M, N], got.map((g) => g.labels)),
  };
}

/** Masked-LM: sequences (chunks or lines) of token ids; eval batches masked once with a fixed seed. */
export class MlmTask extends TaskRuntime {
  readonly kind = 'mlm' as const;
  private readonly train: MlmSequence[];
  private readonly evalSeqs: MlmSequence[];
  private readonly collator: MlmCollator;
  constructor(common: Omit<Common, 'sampler' | 'pending' | 'trainSize'> & { buckets: number[]; seed: number; stepsPerRun: number },
    tokenizer: WordPieceTokenizer, texts: { train: string[]; eval: string[] }, opts: { maxSeqLength: number; lineByLine: boolean; mlmProbability: number; wholeWord: boolean }) {
    super();
    Object.assign(this, { name: common.name, weight: common.weight, batchSize: common.batchSize, M: common.M });
    this.train = tokenizeForMlm(tokenizer, texts.train, opts);
    this.evalSeqs = tokenizeForMlm(tokenizer, texts.eval, opts);
    if (this.train.length === 0) throw new Error(`task "${this.name}": the training data has no text`);
    this.trainSize = this.train.length;
    this.samplerOptions = { batchSize: this.batchSize, buckets: common.buckets, seed: Rng.derive(common.seed, `sampler:${this.name}`).next() * 2 ** 32 >>> 0, stepsPerRun: common.stepsPerRun * this.M };
    this.sampler = new BatchSampler(this.train.map((s) => s.ids.length), this.samplerOptions);
    this.collator = MlmCollator.fromTokenizer(tokenizer, { mlmProbability: opts.mlmProbability, wholeWord: opts.wholeWord, seed: Rng.derive(common.seed, `mask:${this.name}`).next() * 2 ** 32 >>> 0 });
    this.evalCollator = MlmCollator.fromTokenizer(tokenizer, { mlmProbability: opts.mlmProbability, wholeWord: opts.wholeWord, seed: 12345 });
    this.buckets = common.buckets;
  }
  private readonly evalCollator: MlmCollator;
  private readonly buckets: number[];
  private readonly samplerOptions: ConstructorParameters<typeof BatchSampler>[1];

  batchSpecs(T: number): BatchSpec[] { return mlmBatchSpecs(this.name, this.batchSize, this.collator.slots(this.batchSize, T), T); }
  loss(model: TaskModel, p: ParamValues, b: Record<string, Value>, seed: Value): Value { return mlmLoss(this.name, model, p, b, seed); }
  tensors(batches: number[][], T: number, n: number): Record<string, HostTensor> {
    return mlmTensors(this.name, batches.map((idx) => this.collator.collate(idx.map((i) => this.train[i]!), T)), n, this.M);
  }
  evaluate(model: TaskModel, params: Record<string, Float32Array>, specs: { name: string; shape: number[] }[], runnerFor: (m: Uint8Array) => Promise<ModelRunner>): Promise<Record<string, number>> {
    return evaluateMlm(model, params, specs, runnerFor, this.evalSeqs, this.evalCollator, this.batchSize, this.buckets);
  }
  state(): TaskState { return { sampler: this.sampler.state, pending: this.pending, collator: this.collator.state }; }
  restore(s: TaskState): void {
    if (!s.sampler) throw new Error(`task "${this.name}": the checkpoint has no sampler state`);
    this.sampler = new BatchSampler(this.train.map((q) => q.ids.length), this.samplerOptions, s.sampler);
    this.pending = s.pending;
    if (s.collator) this.collator.restore(s.collator);
  }

}

/** Masked-LM evaluation: eval sequences masked with a fixed seed, so evaluations compare. */
export async function evaluateMlm(model: TaskModel, params: Record<string, Float32Array>, specs: { name: string; shape: number[] }[], runnerFor: (m: Uint8Array) => Promise<ModelRunner>,
  evalSeqs: MlmSequence[], evalCollator: MlmCollator, B: number, buckets: number[]): Promise<Record<string, number>> {
  const metrics = new MlmMetrics();
  evalCollator.restore({ rngState: 12345, targets: 0, dropped: 0 });
  const T = buckets[buckets.length - 1]!;
  if (evalSeqs.length === 0) return {};
  const sessions = new Map<number, ModelRunner>();
  for (let i = 0; i < evalSeqs.length; i += B) {
    const chunk = evalSeqs.slice(i, i + B);
    while (chunk.length < B) chunk.push({ ids: [] as number[] } as MlmSequence);
    const len = Math.max(...chunk.map((s) => s.ids.length));
    const t = buckets.find((x) => x >= len) ?? T;
    const batch = evalCollator.collate(chunk, t);
    let s = sessions.get(t);
    if (!s) {
      const g = new Graph('mlm_eval');
      const p = Object.fromEntries(specs.map((q) => [q.name, g.input(q.name, 'float32', q.shape)]));
      const ids = g.input('input_ids', 'int64', [B, t]), mask = g.input('attention_mask', 'int64', [B, t]);
      const pos = g.input('positions', 'int64', [batch.N]), labels = g.input('labels', 'int64', [batch.N]);
      const o = model.bert.forward(p, { inputIds: ids, attentionMask: mask }, new ForwardCtx(null));
      const logits = model.mlm!.forward(p, gatherPositions(o.hidden, pos));
      g.output(crossEntropy(logits, labels), 'loss');
      g.output(topK(logits, 1, -1).indices, 'pred');
      s = await runnerFor(serializeModel(g));
      sessions.set(t, s);
    }
    const feeds: Record<string, HostTensor> = Object.fromEntries(specs.map((q) => [q.name, tensor('float32', q.shape, params[q.name]!)]));
    const out = await s.run({ ...feeds, input_ids: tensor('int64', [B, t], batch.ids), attention_mask: tensor('int64', [B, t], batch.mask), positions: tensor('int64', [batch.N], batch.positions), labels: tensor('int64', [batch.N], batch.labels) });
    const real = Math.min(B, evalSeqs.length - i);
    metrics.addLoss((out['loss']!.data as Float32Array)[0]!, real);
    metrics.addTokens(Array.from(out['pred']!.data as BigInt64Array, Number), batch.labels);
  }
  for (const s of sessions.values()) await (s as ModelRunner & { release?: () => Promise<void> }).release?.();
  const r = metrics.result();
  return { loss: r.loss, perplexity: r.perplexity, ...(r.accuracy !== undefined ? { accuracy: r.accuracy } : {}) };
}

/** Sequence classification (single-label, multi-label or regression). */
export class ClassificationTask extends TaskRuntime {
  readonly kind = 'classification' as const;
  private readonly train: EncodedExample[];
  private readonly evalSet: EncodedExample[];
  private readonly collator: ClassificationCollator;
  private readonly samplerOptions: ConstructorParameters<typeof BatchSampler>[1];
  constructor(common: Omit<Common, 'sampler' | 'pending' | 'trainSize'> & { buckets: number[]; seed: number; stepsPerRun: number },
    tokenizer: WordPieceTokenizer, data: { train: Example[]; eval: Example[] }, readonly labels: LabelMapping, maxSeqLength: number) {
    super();
    Object.assign(this, { name: common.name, weight: common.weight, batchSize: common.batchSize, M: common.M });
    this.collator = new ClassificationCollator(tokenizer, { maxSeqLength, labels });
    this.train = this.collator.encodeAll(data.train);
    this.evalSet = this.collator.encodeAll(data.eval);
    if (this.train.length === 0) throw new Error(`task "${this.name}": the training data has no examples`);
    this.trainSize = this.train.length;
    this.samplerOptions = { batchSize: this.batchSize, buckets: common.buckets, seed: Rng.derive(common.seed, `sampler:${this.name}`).next() * 2 ** 32 >>> 0, stepsPerRun: common.stepsPerRun * this.M };
    this.sampler = new BatchSampler(this.train.map((e) => e.ids.length), this.samplerOptions);
    this.buckets = common.buckets;
  }
  private readonly buckets: number[];
  /** The last evaluation's per-class scores and confusion matrix. */
  lastDetails: unknown = null;
  get numLabels(): number { return Object.keys(this.labels.id2label).length; }
  private labelSpec(lead: number[]): { dtype: DType; shape: number[] } {
    const B = this.batchSize;
    if (this.labels.problemType === 'single_label_classification') return { dtype: 'int64', shape: [...lead, B] };
    if (this.labels.problemType === 'multi_label_classification') return { dtype: 'float32', shape: [...lead, B, this.numLabels] };
    return { dtype: 'float32', shape: [...lead, B] };
  }
  batchSpecs(T: number): BatchSpec[] {
    const B = this.batchSize, l = this.labelSpec([]);
    return [
      { name: this.key('input_ids'), dtype: 'int64', shape: [B, T] }, { name: this.key('attention_mask'), dtype: 'int64', shape: [B, T] },
      { name: this.key('token_type_ids'), dtype: 'int64', shape: [B, T] }, { name: this.key('labels'), dtype: l.dtype, shape: l.shape },
    ];
  }
  private forward(model: TaskModel, p: ParamValues, ids: Value, mask: Value, types: Value, ctx: ForwardCtx): Value {
    const o = model.bert.forward(p, { inputIds: ids, attentionMask: mask, tokenTypeIds: types }, ctx);
    return model.head!.forward(p, o.pooled!, ctx);
  }
  loss(model: TaskModel, p: ParamValues, b: Record<string, Value>, seed: Value): Value {
    const logits = this.forward(model, p, b[this.key('input_ids')]!, b[this.key('attention_mask')]!, b[this.key('token_type_ids')]!, new ForwardCtx(seed));
    return model.head!.loss(logits, b[this.key('labels')]!);
  }
  tensors(batches: number[][], T: number, n: number): Record<string, HostTensor> {
    const got = batches.map((idx) => this.collator.collate(idx.map((i) => this.train[i]!), T));
    const B = this.batchSize, M = this.M, l = this.labelSpec([n, M]);
    return {
      [this.key('input_ids')]: stack('int64', [n, M, B, T], got.map((g) => g.ids)),
      [this.key('attention_mask')]: stack('int64', [n, M, B, T], got.map((g) => g.mask)),
      [this.key('token_type_ids')]: stack('int64', [n, M, B, T], got.map((g) => g.types)),
      [this.key('labels')]: stack(l.dtype, l.shape, got.map((g) => g.labels)),
    };
  }
  async evaluate(model: TaskModel, params: Record<string, Float32Array>, specs: { name: string; shape: number[] }[], runnerFor: (m: Uint8Array) => Promise<ModelRunner>): Promise<Record<string, number>> {
    if (this.evalSet.length === 0) return {};
    const B = this.batchSize, L = this.numLabels, kind = this.labels.problemType;
    const single = kind === 'single_label_classification' ? new ClassificationMetrics(this.labels.id2label) : null;
    const multi = kind === 'multi_label_classification' ? new MultiLabelMetrics(L, 'logits') : null;
    const reg = kind === 'regression' ? new RegressionMetrics() : null;
    const sessions = new Map<number, ModelRunner>();
    let lossSum = 0, lossN = 0;
    for (let i = 0; i < this.evalSet.length; i += B) {
      const items = this.evalSet.slice(i, i + B);
      const real = items.length;
      while (items.length < B) items.push(items[0]!);
      const T = this.buckets.find((x) => x >= Math.max(...items.map((e) => e.ids.length))) ?? this.buckets[this.buckets.length - 1]!;
      const batch = this.collator.collate(items, T);
      let s = sessions.get(T);
      if (!s) {
        const g = new Graph('cls_eval');
        const p = Object.fromEntries(specs.map((q) => [q.name, g.input(q.name, 'float32', q.shape)]));
        const ids = g.input('input_ids', 'int64', [B, T]), mask = g.input('attention_mask', 'int64', [B, T]), types = g.input('token_type_ids', 'int64', [B, T]);
        g.output(this.forward(model, p, ids, mask, types, new ForwardCtx(null)), 'logits');
        s = await runnerFor(serializeModel(g));
        sessions.set(T, s);
      }
      const feeds: Record<string, HostTensor> = Object.fromEntries(specs.map((q) => [q.name, tensor('float32', q.shape, params[q.name]!)]));
      const logits = (await s.run({ ...feeds, input_ids: tensor('int64', [B, T], batch.ids), attention_mask: tensor('int64', [B, T], batch.mask), token_type_ids: tensor('int64', [B, T], batch.types) }))['logits']!.data as Float32Array;
      for (let b = 0; b < real; b++) {
        const row = Array.from(logits.subarray(b * L, (b + 1) * L));
        const y = items[b]!.label;
        if (single) {
          const m = Math.max(...row), lse = m + Math.log(row.reduce((a, z) => a + Math.exp(z - m), 0));
          lossSum += lse - row[y[0]!]!; lossN++;
          single.add(row, y[0]!);
        } else if (multi) {
          lossSum += row.reduce((a, z, j) => a + Math.max(z, 0) - z * y[j]! + Math.log1p(Math.exp(-Math.abs(z))), 0) / L; lossN++;
          multi.add(row, y);
        } else {
          lossSum += (row[0]! - y[0]!) ** 2; lossN++;
          reg!.add(row[0]!, y[0]!);
        }
      }
    }
    for (const s of sessions.values()) await (s as ModelRunner & { release?: () => Promise<void> }).release?.();
    this.lastDetails = single ? single.details() : multi ? multi.details() : null;
    const res = (single ?? multi ?? reg)!.result() as unknown as Record<string, number>;
    const out: Record<string, number> = { loss: lossSum / Math.max(1, lossN) };
    for (const [k, v] of Object.entries(res)) if (typeof v === 'number') out[k] = v;
    return out;
  }
  state(): TaskState { return { sampler: this.sampler.state, pending: this.pending }; }
  restore(s: TaskState): void {
    if (!s.sampler) throw new Error(`task "${this.name}": the checkpoint has no sampler state`);
    this.sampler = new BatchSampler(this.train.map((e) => e.ids.length), this.samplerOptions, s.sampler);
    this.pending = s.pending;
  }
}


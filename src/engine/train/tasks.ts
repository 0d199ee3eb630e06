/**
 * The tasks a run trains, at run time: their data (tokenized, in memory), samplers and
 * collators, the batch inputs of the train-step model, each task's loss on the shared encoder,
 * and evaluation. One optimizer step takes one batch of every task (multi-task: weighted sum).
 */
import * as F from '../autodiff/index.js';
import { crossEntropy, topK } from '../autodiff/index.js';
import { Graph, Value } from '../ir/graph.js';
import { DType } from '../ir/dtype.js';
import { serializeModel } from '../ir/proto.js';
import { BatchSampler, SamplerState } from '../data/batching.js';
import { ClassificationCollator, EncodedExample } from '../data/collate-cls.js';
import { MlmCollator, MlmCollatorState, MlmSequence, specialIdsOf, tokenizeForMlm } from '../data/collate-mlm.js';
import { LabelMapping } from '../data/labels.js';
import { Rng } from '../data/rng.js';
import { Example } from '../data/types.js';
import { ParamValues } from '../nn/module.js';
import { ForwardCtx } from '../models/bert/modeling.js';
import { Encoder, LmHead, SequenceHead, gatherPositions } from '../models/model.js';
import { BatchSpec } from '../optim/train-step.js';
import { ModelRunner } from '../runtime/runner.js';
import { HostTensor, tensor } from '../runtime/tensor.js';
import { WordPieceTokenizer } from '../tokenizer/index.js';
import { ClassificationMetrics, MlmMetrics, MultiLabelMetrics, RegressionMetrics } from './metrics.js';

/** What a task needs of the model: the shared encoder and its head. */
export interface TaskModel { encoder: Encoder; mlm?: LmHead | null; head?: SequenceHead }

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
  /** This task's evaluation sessions, kept from one evaluation to the next. */
  protected readonly sessions = new EvalSessions();
  /** Frees the evaluation sessions (at the end of a run). */
  release(): Promise<void> { return this.sessions.release(); }
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
type Specs = { name: string; shape: number[] }[];
type RunnerFor = (m: Uint8Array) => Promise<ModelRunner>;

/**
 * Evaluation sessions, one per (graph kind, padded length), built on first use and kept for the
 * rest of the run: every evaluation after the first reuses them. `release` frees them all.
 */
export class EvalSessions {
  private readonly runners = new Map<string, Promise<ModelRunner>>();
  get(key: string, runnerFor: RunnerFor, build: () => Graph): Promise<ModelRunner> {
    let r = this.runners.get(key);
    if (!r) {
      r = runnerFor(serializeModel(build()));
      this.runners.set(key, r);
      r.catch(() => this.runners.delete(key));
    }
    return r;
  }
  async release(): Promise<void> {
    const all = [...this.runners.values()];
    this.runners.clear();
    for (const r of all) await (await r.catch(() => null))?.release();
  }
}

export const paramFeeds = (specs: Specs, params: Record<string, Float32Array>): Record<string, HostTensor> =>
  Object.fromEntries(specs.map((q) => [q.name, tensor('float32', q.shape, params[q.name]!)]));
export const paramInputs = (g: Graph, specs: Specs): ParamValues => Object.fromEntries(specs.map((q) => [q.name, g.input(q.name, 'float32', q.shape)]));

/**
 * Masked-LM: sequences (chunks or lines) of token ids, collated with dynamic masking; eval
 * sequences masked once with a fixed seed, so evaluations compare. Subclasses say where the
 * training sequences come from (in memory, or a stream).
 */
export abstract class MlmTaskBase extends TaskRuntime {
  readonly kind = 'mlm' as const;
  protected evalSeqs: MlmSequence[] = [];
  protected readonly collator: MlmCollator;
  protected readonly evalCollator: MlmCollator;
  protected readonly buckets: number[];
  constructor(common: Omit<Common, 'sampler' | 'pending' | 'trainSize'> & { buckets: number[]; seed: number }, tokenizer: WordPieceTokenizer, opts: { mlmProbability: number; wholeWord: boolean }) {
    super();
    Object.assign(this, { name: common.name, weight: common.weight, batchSize: common.batchSize, M: common.M });
    this.buckets = common.buckets;
    this.collator = mlmCollator(tokenizer, { ...opts, seed: Rng.derive(common.seed, `mask:${this.name}`).next() * 2 ** 32 >>> 0 });
    this.evalCollator = mlmCollator(tokenizer, { ...opts, seed: MLM_EVAL_SEED });
  }
  /** The training sequence at index `i` of the current batches. */
  protected abstract sequence(i: number): MlmSequence;

  batchSpecs(T: number): BatchSpec[] {
    const B = this.batchSize, N = this.collator.slots(B, T), k = (s: string) => this.key(s);
    return [
      { name: k('input_ids'), dtype: 'int64', shape: [B, T] }, { name: k('attention_mask'), dtype: 'int64', shape: [B, T] },
      { name: k('positions'), dtype: 'int64', shape: [N] }, { name: k('labels'), dtype: 'int64', shape: [N] },
    ];
  }
  /** Only the listed positions reach the vocabulary projection. */
  loss(model: TaskModel, p: ParamValues, b: Record<string, Value>, seed: Value): Value {
    const o = model.encoder.forward(p, { inputIds: b[this.key('input_ids')]!, attentionMask: b[this.key('attention_mask')]! }, new ForwardCtx(seed));
    return crossEntropy(model.mlm!.forward(p, gatherPositions(o.hidden, b[this.key('positions')]!)), b[this.key('labels')]!);
  }
  tensors(batches: number[][], T: number, n: number): Record<string, HostTensor> {
    const got = batches.map((idx) => this.collator.collate(idx.map((i) => this.sequence(i)), T));
    const { B, N } = got[0]!, M = this.M, k = (s: string) => this.key(s);
    return {
      [k('input_ids')]: stack('int64', [n, M, B, T], got.map((g) => g.ids)),
      [k('attention_mask')]: stack('int64', [n, M, B, T], got.map((g) => g.mask)),
      [k('positions')]: stack('int64', [n, M, N], got.map((g) => g.positions)),
      [k('labels')]: stack('int64', [n, M, N], got.map((g) => g.labels)),
    };
  }
  evaluate(model: TaskModel, params: Record<string, Float32Array>, specs: Specs, runnerFor: RunnerFor): Promise<Record<string, number>> {
    return evaluateMlm({ model, params, specs, runnerFor, sessions: this.sessions }, this.evalSeqs, this.evalCollator, this.batchSize, this.buckets);
  }
}

/**
 * The MLM collator of a tokenizer: BERT's [MASK] and [PAD], or RoBERTa's <mask> and <pad> when
 * the vocabulary has those instead.
 */
export function mlmCollator(tokenizer: WordPieceTokenizer, opts: { mlmProbability?: number; wholeWord?: boolean; seed: number }): MlmCollator {
  const mask = tokenizer.tokenToId('[MASK]') === undefined ? tokenizer.tokenToId('<mask>') : undefined;
  if (mask === undefined) return MlmCollator.fromTokenizer(tokenizer, opts);
  const padId = tokenizer.spec.padding?.padId ?? tokenizer.tokenToId('<pad>');
  if (padId === undefined) throw new Error('the tokenizer has <mask> but no <pad> token, which masked-LM training needs; add it as a special token.');
  return new MlmCollator({ ...opts, maskId: mask, padId, vocabSize: tokenizer.vocabSize, specialIds: specialIdsOf(tokenizer) });
}

/** The masking seed of evaluation batches: the same masks at every evaluation of every run. */
export const MLM_EVAL_SEED = 12345;

/** Masked-LM on sequences held in memory. */
export class MlmTask extends MlmTaskBase {
  private readonly train: MlmSequence[];
  private readonly samplerOptions: ConstructorParameters<typeof BatchSampler>[1];
  constructor(common: Omit<Common, 'sampler' | 'pending' | 'trainSize'> & { buckets: number[]; seed: number; stepsPerRun: number },
    tokenizer: WordPieceTokenizer, texts: { train: string[]; eval: string[] }, opts: { maxSeqLength: number; lineByLine: boolean; mlmProbability: number; wholeWord: boolean }) {
    super(common, tokenizer, opts);
    this.train = tokenizeForMlm(tokenizer, texts.train, opts);
    this.evalSeqs = tokenizeForMlm(tokenizer, texts.eval, opts);
    if (this.train.length === 0) throw new Error(`task "${this.name}": the training data has no text`);
    this.trainSize = this.train.length;
    this.samplerOptions = { batchSize: this.batchSize, buckets: common.buckets, seed: Rng.derive(common.seed, `sampler:${this.name}`).next() * 2 ** 32 >>> 0, stepsPerRun: common.stepsPerRun * this.M };
    this.sampler = new BatchSampler(this.train.map((s) => s.ids.length), this.samplerOptions);
  }
  protected sequence(i: number): MlmSequence { return this.train[i]!; }
  state(): TaskState { return { sampler: this.sampler.state, pending: this.pending, collator: this.collator.state }; }
  restore(s: TaskState): void {
    if (!s.sampler) throw new Error(`task "${this.name}": the checkpoint has no sampler state`);
    this.sampler = new BatchSampler(this.train.map((q) => q.ids.length), this.samplerOptions, s.sampler);
    this.pending = s.pending;
    if (s.collator) this.collator.restore(s.collator);
  }
}

/** What an evaluation runs on: the model, its weights, where sessions run, and the sessions kept between evaluations. */
export interface EvalContext { model: TaskModel; params: Record<string, Float32Array>; specs: Specs; runnerFor: RunnerFor; sessions: EvalSessions }

/**
 * Masked-LM evaluation: eval sequences masked with a fixed seed, so evaluations compare. The loss
 * (mean over a batch's masked tokens) and the top-1 predictions come from the graph.
 */
export async function evaluateMlm(cx: EvalContext, evalSeqs: MlmSequence[], evalCollator: MlmCollator, B: number, buckets: number[]): Promise<Record<string, number>> {
  const metrics = new MlmMetrics();
  evalCollator.restore({ rngState: MLM_EVAL_SEED, targets: 0, dropped: 0 });
  const T = buckets[buckets.length - 1]!;
  if (evalSeqs.length === 0) return {};
  const feeds = paramFeeds(cx.specs, cx.params);
  for (let i = 0; i < evalSeqs.length; i += B) {
    const chunk = evalSeqs.slice(i, i + B);
    while (chunk.length < B) chunk.push({ ids: [] as number[] } as MlmSequence);
    const len = Math.max(...chunk.map((s) => s.ids.length));
    const t = buckets.find((x) => x >= len) ?? T;
    const batch = evalCollator.collate(chunk, t);
    const s = await cx.sessions.get(`mlm:${t}:${batch.N}`, cx.runnerFor, () => {
      const g = new Graph('mlm_eval');
      const p = paramInputs(g, cx.specs);
      const ids = g.input('input_ids', 'int64', [B, t]), mask = g.input('attention_mask', 'int64', [B, t]);
      const pos = g.input('positions', 'int64', [batch.N]), labels = g.input('labels', 'int64', [batch.N]);
      const o = cx.model.encoder.forward(p, { inputIds: ids, attentionMask: mask }, new ForwardCtx(null));
      const logits = cx.model.mlm!.forward(p, gatherPositions(o.hidden, pos));
      g.output(crossEntropy(logits, labels), 'loss');
      g.output(topK(logits, 1, -1).indices, 'pred');
      return g;
    });
    const out = await s.run({ ...feeds, input_ids: tensor('int64', [B, t], batch.ids), attention_mask: tensor('int64', [B, t], batch.mask), positions: tensor('int64', [batch.N], batch.positions), labels: tensor('int64', [batch.N], batch.labels) });
    const real = Math.min(B, evalSeqs.length - i);
    metrics.addLoss((out['loss']!.data as Float32Array)[0]!, real);
    metrics.addTokens(Array.from(out['pred']!.data as BigInt64Array, Number), batch.labels);
  }
  const r = metrics.result();
  return { loss: r.loss, perplexity: r.perplexity, ...(r.accuracy !== undefined ? { accuracy: r.accuracy } : {}) };
}

/**
 * Classification evaluation of encoded examples: logits and the mean loss of the batch's real rows
 * come from the graph (a short last batch is padded with rows of weight 0); metrics as the
 * Trainer's compute_metrics (accuracy, macro F1, …), with per-class details for single-label.
 */
export async function evaluateClassification(cx: EvalContext, set: readonly EncodedExample[], collator: ClassificationCollator, labels: LabelMapping, B: number, buckets: number[]): Promise<{ metrics: Record<string, number>; details: unknown }> {
  if (set.length === 0) return { metrics: {}, details: null };
  const L = Object.keys(labels.id2label).length, kind = labels.problemType;
  const single = kind === 'single_label_classification' ? new ClassificationMetrics(labels.id2label) : null;
  const multi = kind === 'multi_label_classification' ? new MultiLabelMetrics(L, 'logits') : null;
  const reg = kind === 'regression' ? new RegressionMetrics() : null;
  const acc = (single ?? multi ?? reg)!;
  const labelShape = single ? { dtype: 'int64' as const, shape: [B] } : multi ? { dtype: 'float32' as const, shape: [B, L] } : { dtype: 'float32' as const, shape: [B] };
  const feeds = paramFeeds(cx.specs, cx.params);
  for (let i = 0; i < set.length; i += B) {
    const items = set.slice(i, i + B);
    const real = items.length;
    while (items.length < B) items.push(items[0]!);
    const T = buckets.find((x) => x >= Math.max(...items.map((e) => e.ids.length))) ?? buckets[buckets.length - 1]!;
    const batch = collator.collate(items, T);
    const s = await cx.sessions.get(`cls:${T}`, cx.runnerFor, () => {
      const g = new Graph('cls_eval');
      const p = paramInputs(g, cx.specs);
      const ids = g.input('input_ids', 'int64', [B, T]), mask = g.input('attention_mask', 'int64', [B, T]), types = g.input('token_type_ids', 'int64', [B, T]);
      const y = g.input('labels', labelShape.dtype, labelShape.shape), w = g.input('row_weight', 'float32', [B]);
      const o = cx.model.encoder.forward(p, { inputIds: ids, attentionMask: mask, tokenTypeIds: types }, new ForwardCtx(null));
      const logits = cx.model.head!.classify(p, o, new ForwardCtx(null));
      g.output(logits, 'logits');
      g.output(F.div(F.sumAll(F.mul(cx.model.head!.rowLosses(logits, y), w)), F.sumAll(w)), 'loss');
      return g;
    });
    const weight = Array.from({ length: B }, (_, b) => (b < real ? 1 : 0));
    const out = await s.run({ ...feeds, input_ids: tensor('int64', [B, T], batch.ids), attention_mask: tensor('int64', [B, T], batch.mask), token_type_ids: tensor('int64', [B, T], batch.types),
      labels: tensor(labelShape.dtype, labelShape.shape, batch.labels), row_weight: tensor('float32', [B], weight) });
    const logits = out['logits']!.data as Float32Array;
    acc.addLoss((out['loss']!.data as Float32Array)[0]!, real);
    for (let b = 0; b < real; b++) {
      const row = logits.subarray(b * L, (b + 1) * L), y = items[b]!.label;
      if (single) single.add(row, y[0]!);
      else if (multi) multi.add(row, y);
      else reg!.add(row[0]!, y[0]!);
    }
  }
  const res = acc.result() as unknown as Record<string, number>;
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(res)) if (typeof v === 'number') metrics[k] = v;
  return { metrics, details: single ? single.details() : multi ? multi.details() : null };
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
    const o = model.encoder.forward(p, { inputIds: ids, attentionMask: mask, tokenTypeIds: types }, ctx);
    return model.head!.classify(p, o, ctx);
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
  async evaluate(model: TaskModel, params: Record<string, Float32Array>, specs: Specs, runnerFor: RunnerFor): Promise<Record<string, number>> {
    const r = await evaluateClassification({ model, params, specs, runnerFor, sessions: this.sessions }, this.evalSet, this.collator, this.labels, this.batchSize, this.buckets);
    this.lastDetails = r.details;
    return r.metrics;
  }
  state(): TaskState { return { sampler: this.sampler.state, pending: this.pending }; }
  restore(s: TaskState): void {
    if (!s.sampler) throw new Error(`task "${this.name}": the checkpoint has no sampler state`);
    this.sampler = new BatchSampler(this.train.map((e) => e.ids.length), this.samplerOptions, s.sampler);
    this.pending = s.pending;
  }
}


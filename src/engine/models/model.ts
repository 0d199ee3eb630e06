/**
 * The one model interface of every family (BERT, RoBERTa, DistilBERT, …): an encoder that maps
 * token ids to hidden states (and attentions), a masked-LM head, a sequence-classification head,
 * and three model shapes built from them — MaskedLM, SequenceClassification and multi-task. The
 * trainer, inference, export and the attention view use only this file's types; what differs
 * between families (names, embeddings, heads, config fields) lives in each family's Family
 * object, found by model_type in registry.ts.
 */
import * as F from '../autodiff/index.js';
import { crossEntropy } from '../autodiff/index.js';
import { BuildError, Value } from '../ir/graph.js';
import { ParamSet, ParamValues, param } from '../nn/module.js';
import { BertConfig } from './bert/config.js';
import { BertInputs, ForwardCtx } from './bert/modeling.js';

/** A family's config in memory: HF's BERT field names (families with other names also keep theirs). */
export type ModelConfig = BertConfig;
export type ProblemType = NonNullable<BertConfig['problem_type']>;

export interface EncoderOutput {
  hidden: Value;                 // [B, T, H] last hidden state
  /** BERT's pooler output (tanh over [CLS]); null where the family has no pooler. */
  pooled: Value | null;
  attentions: Value[];           // L × [B, heads, T, T] when ctx.keepAttentions
  hiddenStates: Value[];         // L+1 × [B, T, H] when ctx.keepHiddenStates
}
export interface Encoder { forward(p: ParamValues, x: BertInputs, ctx: ForwardCtx): EncoderOutput }
/** Vocabulary logits [..., V] from hidden states [..., H]. */
export interface LmHead { forward(p: ParamValues, hidden: Value): Value }

/** A classification head: its family says what it reads; the losses are HF's for every family. */
export abstract class SequenceHead {
  constructor(readonly labels: number, readonly problemType: ProblemType) {}
  /** Logits [B, labels] from the encoder's output. */
  abstract classify(p: ParamValues, o: EncoderOutput, ctx: ForwardCtx): Value;
  /**
   * single_label: cross-entropy with int64 labels [B]; multi_label: BCE-with-logits with float
   * labels [B, L]; regression: mean squared error with float labels [B] (or [B, L]).
   */
  loss(logits: Value, labels: Value): Value {
    switch (this.problemType) {
      case 'single_label_classification': return crossEntropy(logits, labels);
      case 'multi_label_classification': {
        if (labels.dtype !== logits.dtype || labels.rank !== 2) throw new BuildError(`multi-label classification needs ${logits.dtype} labels [batch, ${this.labels}], got ${labels}`);
        return F.reduceMean(bceWithLogits(logits, labels), [0, 1]);
      }
      case 'regression': {
        if (labels.dtype !== logits.dtype) throw new BuildError(`regression needs ${logits.dtype} labels, got ${labels}`);
        const y = this.labels === 1 && labels.rank === 1 ? F.unsqueeze(labels, [1]) : labels;
        const d = F.sub(logits, y);
        return F.reduceMean(F.mul(d, d), d.shape.map((_, i) => i));
      }
      default: { const never: never = this.problemType; throw new BuildError(`unknown problem_type ${never}`); }
    }
  }
  /**
   * Each example's loss [B], whose mean is `loss`: evaluation weighs rows by example (padding rows
   * of a last, short batch get weight 0), as HF's evaluation loop does.
   */
  rowLosses(logits: Value, labels: Value): Value {
    switch (this.problemType) {
      case 'single_label_classification':
        return F.neg(F.squeeze(F.gatherElements(F.logSoftmax(logits, -1), F.unsqueeze(labels, [-1]), -1), [-1]));
      case 'multi_label_classification':
        return F.reduceMean(bceWithLogits(logits, labels), [1]);
      case 'regression': {
        const d = F.sub(logits, labels.rank === 1 ? F.unsqueeze(labels, [1]) : labels);
        return F.reduceMean(F.mul(d, d), [1]);
      }
      default: { const never: never = this.problemType; throw new BuildError(`unknown problem_type ${never}`); }
    }
  }
}

/** Elementwise BCE-with-logits, max(x, 0) − x·y + log(1 + e^(−|x|)): the numerically stable form (torch's BCEWithLogitsLoss). */
export const bceWithLogits = (logits: Value, labels: Value): Value =>
  F.add(F.sub(F.relu(logits), F.mul(logits, labels)), F.log(F.add(F.exp(F.neg(F.abs(logits))), 1)));

/** The number of attention maps of `model`'s forward, one per applied layer. */
export const attentionMaps = (family: Family, cfg: ModelConfig): number => family.attentionMaps?.(cfg) ?? cfg.num_hidden_layers;

/** Number of labels of a classification config (HF: len(id2label), default 2). */
export const numLabels = (cfg: ModelConfig): number => (cfg.id2label ? Object.keys(cfg.id2label).length : 2);
/** HF's inference of problem_type when config.json leaves it unset: regression for one label. */
export const problemTypeOf = (cfg: ModelConfig): ProblemType => cfg.problem_type ?? (numLabels(cfg) === 1 ? 'regression' : 'single_label_classification');

/** The tied output layer of every masked-LM head: t [..., E] · word_embeddingsᵀ + bias → [..., V]. */
export const tiedDecoder = (p: ParamValues, t: Value, wordEmbeddings: string, bias: string): Value =>
  F.add(F.matmul(t, F.transpose(param(p, wordEmbeddings), [1, 0])), param(p, bias));

/** Hidden states of the listed flat positions: [B, T, H] → [N, H] (only these reach the vocabulary). */
export const gatherPositions = (hidden: Value, positions: Value): Value =>
  F.gather(F.reshape(hidden, [-1, hidden.shape[hidden.rank - 1] as number]), positions, 0);

/** How a checkpoint's tied output embedding is stored: `decoder` (usually absent) equals `word`. */
export interface TiedDecoder { decoder: string; word: string; bias: string }

/** What one family (one or more model_type values) provides. */
export interface Family {
  /** config.json's model_type values this family reads; the first is what it writes. */
  readonly modelTypes: readonly string[];
  /** Class names (architectures): masked LM, sequence classification, multi-task; `mlmAliases` load as the masked LM. */
  readonly names: { mlm: string; cls: string; multi: string; mlmAliases?: readonly string[] };
  /** Validated config with HF's defaults for this family; `source` names the file in errors. */
  parseConfig(raw: Record<string, unknown>, source: string): ModelConfig;
  /** What config.json holds for `cfg` (HF's field names for this family). */
  configJSON(cfg: ModelConfig, architecture: string): Record<string, unknown>;
  /** The mask token when the tokenizer files do not name one. */
  readonly maskToken: string;
  /** Whether the model reads token_type_ids (graphs of the others have no such input). */
  readonly hasTokenTypes: boolean;
  /** The longest input the position embeddings allow. */
  maxLength(cfg: ModelConfig): number;
  /** The encoder's parameter prefix ("bert."): its tensors must be in a file; heads outside it may be new. */
  readonly prefix: string;
  encoder(ps: ParamSet, cfg: ModelConfig, opts: { pooler: boolean }): Encoder;
  lmHead(ps: ParamSet, cfg: ModelConfig, encoder: Encoder): LmHead;
  clsHead(ps: ParamSet, cfg: ModelConfig, labels: number, problemType: ProblemType): SequenceHead;
  /** File keys that may hold our parameter `name`, in order of preference. */
  candidates(name: string): string[];
  /** Our parameters that a file may lack without being a different model (BERT's pooler). */
  optional(name: string): boolean;
  readonly tied: TiedDecoder | null;
  /** File keys that are not parameters here and need no note. */
  readonly ignored: readonly RegExp[];
  /** Parameter prefixes of the embeddings and of the first `layers` layers, and of what `cfg` never trains (freezing). */
  freezePrefixes(embeddings: boolean, layers: number, cfg?: ModelConfig): string[];
  /** How many attention maps (and hidden states after the embeddings) a forward gives; default num_hidden_layers (ALBERT: × inner_group_num). */
  attentionMaps?(cfg: ModelConfig): number;
  /** Architectures a folder of this family may name that load only to be fine-tuned: why each is refused elsewhere, and what to do. */
  readonly fineTuneOnly?: Readonly<Record<string, string>>;
  /** Family-specific classes where they exist (BERT's); default: the generic ones below. */
  create?(kind: 'mlm' | 'cls', cfg: ModelConfig): HeadModel;
}

export interface TaskSpec { name: string; kind: 'mlm' }
export interface ClassificationTaskSpec { name: string; kind: 'classification'; labels: number; problemType?: ProblemType }

abstract class ModelBase {
  readonly ps = new ParamSet();
  abstract readonly kind: 'mlm' | 'cls' | 'multi';
  readonly architecture: string;
  constructor(readonly family: Family, readonly cfg: ModelConfig, architecture?: string) { this.architecture = architecture ?? ''; }
}

export class MaskedLMModel extends ModelBase {
  readonly kind = 'mlm' as const;
  readonly encoder: Encoder;
  readonly head: LmHead;
  constructor(family: Family, cfg: ModelConfig) {
    super(family, cfg, family.names.mlm);
    this.encoder = family.encoder(this.ps, cfg, { pooler: false });
    this.head = family.lmHead(this.ps, cfg, this.encoder);
  }
  /** Logits [B, T, V], or [N, V] at `positions` (flat indices b·T + t). */
  logits(p: ParamValues, x: BertInputs, ctx: ForwardCtx, positions?: Value): { logits: Value; attentions: Value[]; hiddenStates: Value[] } {
    const o = this.encoder.forward(p, x, ctx);
    return { logits: this.head.forward(p, positions ? gatherPositions(o.hidden, positions) : o.hidden), attentions: o.attentions, hiddenStates: o.hiddenStates };
  }
  /** Masked-LM loss over the masked positions only (labels −100 are ignored, e.g. padding of N). */
  loss(p: ParamValues, x: BertInputs, positions: Value, labels: Value, ctx: ForwardCtx): Value {
    return crossEntropy(this.logits(p, x, ctx, positions).logits, labels);
  }
}

export class SequenceClassificationModel extends ModelBase {
  readonly kind = 'cls' as const;
  readonly encoder: Encoder;
  readonly head: SequenceHead;
  constructor(family: Family, cfg: ModelConfig) {
    super(family, cfg, family.names.cls);
    this.encoder = family.encoder(this.ps, cfg, { pooler: true });
    this.head = family.clsHead(this.ps, cfg, numLabels(cfg), problemTypeOf(cfg));
  }
  logits(p: ParamValues, x: BertInputs, ctx: ForwardCtx): { logits: Value; pooled: Value | null; attentions: Value[]; hiddenStates: Value[] } {
    const o = this.encoder.forward(p, x, ctx);
    return { logits: this.head.classify(p, o, ctx), pooled: o.pooled, attentions: o.attentions, hiddenStates: o.hiddenStates };
  }
  loss(p: ParamValues, x: BertInputs, labels: Value, ctx: ForwardCtx): Value {
    return this.head.loss(this.logits(p, x, ctx).logits, labels);
  }
}

/**
 * One encoder, several heads. The MLM head keeps HF's names; classification task `t` gets
 * `heads.t.<the family's classifier names>`, so each task can be exported as an ordinary HF model.
 */
export class MultiTaskModel extends ModelBase {
  readonly kind = 'multi' as const;
  readonly encoder: Encoder;
  readonly mlm: LmHead | null = null;
  readonly classifiers = new Map<string, SequenceHead>();
  constructor(family: Family, cfg: ModelConfig, tasks: (TaskSpec | ClassificationTaskSpec)[]) {
    super(family, cfg, family.names.multi);
    const names = new Set<string>();
    for (const t of tasks) {
      if (!/^[A-Za-z0-9_-]+$/.test(t.name)) throw new BuildError(`task name "${t.name}" may use letters, digits, "_" and "-" only`);
      if (names.has(t.name)) throw new BuildError(`task "${t.name}" is defined twice`);
      names.add(t.name);
    }
    if (tasks.filter((t) => t.kind === 'mlm').length > 1) throw new BuildError('only one masked-LM task is supported');
    this.encoder = family.encoder(this.ps, cfg, { pooler: tasks.some((t) => t.kind === 'classification') });
    for (const t of tasks) {
      if (t.kind === 'mlm') this.mlm = family.lmHead(this.ps, cfg, this.encoder);
      else this.classifiers.set(t.name, this.ps.scope('heads', () => this.ps.scope(t.name, () => family.clsHead(this.ps, cfg, t.labels, t.problemType ?? (t.labels === 1 ? 'regression' : 'single_label_classification')))));
    }
  }
}

export type HeadModel = MaskedLMModel | SequenceClassificationModel;
export type AnyModel = HeadModel | MultiTaskModel;

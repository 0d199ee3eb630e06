/**
 * Task heads on BertModel with Hugging Face's names and behaviour: BertForMaskedLM (cls.predictions,
 * decoder tied to the word embeddings), BertForSequenceClassification (pooler + classifier; single-,
 * multi-label and regression losses), and a multi-task model (one encoder, several named heads).
 */
import * as F from '../../autodiff/index.js';
import { crossEntropy } from '../../autodiff/index.js';
import { BuildError, Value } from '../../ir/graph.js';
import { LayerNorm, Linear, ParamSet, ParamValues, param } from '../../nn/module.js';
import { BertConfig, numLabels } from './config.js';
import { BertInputs, BertModel, ForwardCtx, activation, normalInit } from './modeling.js';

/** `cls.predictions`: transform (dense, activation, LayerNorm), then the tied decoder and its bias. */
export class MaskedLMHead {
  readonly dense: Linear;
  readonly norm: LayerNorm;
  readonly bias: string;
  constructor(ps: ParamSet, readonly cfg: BertConfig, readonly wordEmbeddings: string) {
    [this.dense, this.norm, this.bias] = ps.scope('cls', () => ps.scope('predictions', () => [
      ...ps.scope('transform', () => [new Linear(ps, 'dense', cfg.hidden_size, cfg.hidden_size, { init: normalInit(cfg) }), new LayerNorm(ps, 'LayerNorm', cfg.hidden_size, cfg.layer_norm_eps)] as const),
      ps.add('bias', [cfg.vocab_size], { kind: 'zeros' }, false),
    ] as [Linear, LayerNorm, string]));
  }
  /** Vocabulary logits [..., V] for hidden states [..., H]. */
  forward(p: ParamValues, h: Value): Value {
    const inner = this.dense.forward(p, h);
    const t = this.norm.forward(p, activation(this.cfg, inner));
    return F.add(F.matmul(t, F.transpose(param(p, this.wordEmbeddings), [1, 0])), param(p, this.bias));
  }
}

/** Hidden states of the listed flat positions: [B, T, H] → [N, H] (only these reach the vocabulary). */
export const gatherPositions = (hidden: Value, positions: Value): Value =>
  F.gather(F.reshape(hidden, [-1, hidden.shape[hidden.rank - 1] as number]), positions, 0);

export class BertForMaskedLM {
  readonly ps = new ParamSet();
  readonly bert: BertModel;
  readonly head: MaskedLMHead;
  constructor(readonly cfg: BertConfig) {
    this.bert = this.ps.scope('bert', () => new BertModel(this.ps, cfg, { pooler: false }));
    this.head = new MaskedLMHead(this.ps, cfg, this.bert.embeddings.word.weight);
  }
  /** Logits [B, T, V], or [N, V] at `positions` (flat indices b·T + t). */
  logits(p: ParamValues, x: BertInputs, ctx: ForwardCtx, positions?: Value): { logits: Value; attentions: Value[] } {
    const o = this.bert.forward(p, x, ctx);
    return { logits: this.head.forward(p, positions ? gatherPositions(o.hidden, positions) : o.hidden), attentions: o.attentions };
  }
  /** Masked-LM loss over the masked positions only (labels −100 are ignored, e.g. padding of N). */
  loss(p: ParamValues, x: BertInputs, positions: Value, labels: Value, ctx: ForwardCtx): Value {
    return crossEntropy(this.logits(p, x, ctx, positions).logits, labels);
  }
}

export type ProblemType = NonNullable<BertConfig['problem_type']>;
/** HF's inference of problem_type when config.json leaves it unset: regression for one label. */
export const problemTypeOf = (cfg: BertConfig): ProblemType => cfg.problem_type ?? (numLabels(cfg) === 1 ? 'regression' : 'single_label_classification');

/** Dropout then `classifier` on the pooled [CLS] state. */
export class ClassificationHead {
  readonly classifier: Linear;
  constructor(ps: ParamSet, readonly cfg: BertConfig, readonly labels: number, readonly problemType: ProblemType) {
    this.classifier = new Linear(ps, 'classifier', cfg.hidden_size, labels, { init: normalInit(cfg) });
  }
  forward(p: ParamValues, pooled: Value, ctx: ForwardCtx): Value {
    return this.classifier.forward(p, ctx.drop(pooled, this.cfg.classifier_dropout ?? this.cfg.hidden_dropout_prob)); // [B, L]
  }
  /**
   * single_label: cross-entropy with int64 labels [B]; multi_label: BCE-with-logits with float
   * labels [B, L]; regression: mean squared error with float labels [B] (or [B, L]).
   */
  loss(logits: Value, labels: Value): Value {
    switch (this.problemType) {
      case 'single_label_classification': return crossEntropy(logits, labels);
      case 'multi_label_classification': {
        if (labels.dtype !== logits.dtype || labels.rank !== 2) throw new BuildError(`multi-label classification needs ${logits.dtype} labels [batch, ${this.labels}], got ${labels}`);
        // max(x, 0) − x·y + log(1 + e^(−|x|)): the numerically stable form (torch's BCEWithLogitsLoss).
        const l = F.add(F.sub(F.relu(logits), F.mul(logits, labels)), F.log(F.add(F.exp(F.neg(F.abs(logits))), 1)));
        return F.reduceMean(l, [0, 1]);
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
        return F.reduceMean(F.add(F.sub(F.relu(logits), F.mul(logits, labels)), F.log(F.add(F.exp(F.neg(F.abs(logits))), 1))), [1]);
      case 'regression': {
        const d = F.sub(logits, labels.rank === 1 ? F.unsqueeze(labels, [1]) : labels);
        return F.reduceMean(F.mul(d, d), [1]);
      }
      default: { const never: never = this.problemType; throw new BuildError(`unknown problem_type ${never}`); }
    }
  }
}

export class BertForSequenceClassification {
  readonly ps = new ParamSet();
  readonly bert: BertModel;
  readonly head: ClassificationHead;
  constructor(readonly cfg: BertConfig) {
    this.bert = this.ps.scope('bert', () => new BertModel(this.ps, cfg, { pooler: true }));
    this.head = new ClassificationHead(this.ps, cfg, numLabels(cfg), problemTypeOf(cfg));
  }
  logits(p: ParamValues, x: BertInputs, ctx: ForwardCtx): { logits: Value; pooled: Value; attentions: Value[] } {
    const o = this.bert.forward(p, x, ctx);
    return { logits: this.head.forward(p, o.pooled!, ctx), pooled: o.pooled!, attentions: o.attentions };
  }
  loss(p: ParamValues, x: BertInputs, labels: Value, ctx: ForwardCtx): Value {
    return this.head.loss(this.logits(p, x, ctx).logits, labels);
  }
}

export interface TaskSpec { name: string; kind: 'mlm' }
export interface ClassificationTaskSpec { name: string; kind: 'classification'; labels: number; problemType?: ProblemType }

/**
 * One encoder, several heads. The MLM head keeps HF's `cls.predictions.*` names; classification
 * task `t` gets `heads.t.classifier.*`, so each task can be exported as an ordinary HF model.
 */
export class BertMultiTask {
  readonly ps = new ParamSet();
  readonly bert: BertModel;
  readonly mlm: MaskedLMHead | null = null;
  readonly classifiers = new Map<string, ClassificationHead>();
  constructor(readonly cfg: BertConfig, tasks: (TaskSpec | ClassificationTaskSpec)[]) {
    const names = new Set<string>();
    for (const t of tasks) {
      if (!/^[A-Za-z0-9_-]+$/.test(t.name)) throw new BuildError(`task name "${t.name}" may use letters, digits, "_" and "-" only`);
      if (names.has(t.name)) throw new BuildError(`task "${t.name}" is defined twice`);
      names.add(t.name);
    }
    if (tasks.filter((t) => t.kind === 'mlm').length > 1) throw new BuildError('only one masked-LM task is supported');
    const needPooler = tasks.some((t) => t.kind === 'classification');
    this.bert = this.ps.scope('bert', () => new BertModel(this.ps, cfg, { pooler: needPooler }));
    for (const t of tasks) {
      if (t.kind === 'mlm') this.mlm = new MaskedLMHead(this.ps, cfg, this.bert.embeddings.word.weight);
      else this.classifiers.set(t.name, this.ps.scope('heads', () => this.ps.scope(t.name, () => new ClassificationHead(this.ps, cfg, t.labels, t.problemType ?? (t.labels === 1 ? 'regression' : 'single_label_classification')))));
    }
  }
}

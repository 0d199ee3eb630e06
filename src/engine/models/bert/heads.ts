/**
 * Task heads on BertModel with Hugging Face's names and behaviour: BertForMaskedLM (cls.predictions,
 * decoder tied to the word embeddings), BertForSequenceClassification (pooler + classifier; single-,
 * multi-label and regression losses), and a multi-task model (one encoder, several named heads).
 */
import * as F from '../../autodiff/index.js';
import { BuildError, Value } from '../../ir/graph.js';
import { LayerNorm, Linear, ParamSet, ParamValues } from '../../nn/module.js';
import { BertConfig } from './config.js';
import { BertInputs, BertModel, ForwardCtx, activation, normalInit } from './modeling.js';
import { ClassificationTaskSpec, EncoderOutput, LmHead, MaskedLMModel, MultiTaskModel, ProblemType, SequenceClassificationModel, SequenceHead, TaskSpec, tiedDecoder } from '../model.js';
import { BERT_FAMILY } from './family.js';

/** `cls.predictions`: transform (dense, activation, LayerNorm), then the tied decoder and its bias. */
export class MaskedLMHead implements LmHead {
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
    return tiedDecoder(p, t, this.wordEmbeddings, this.bias);
  }
}

export { gatherPositions } from '../model.js';

/** HF's BertForMaskedLM: `bert.*` (no pooler) and `cls.predictions.*`. */
export class BertForMaskedLM extends MaskedLMModel {
  declare readonly encoder: BertModel;
  declare readonly head: MaskedLMHead;
  constructor(cfg: BertConfig) { super(BERT_FAMILY, cfg); }
  get bert(): BertModel { return this.encoder; }
}

export type { ProblemType } from '../model.js';
export { problemTypeOf } from '../model.js';

/** Dropout then `classifier` on the pooled [CLS] state. */
export class ClassificationHead extends SequenceHead {
  readonly classifier: Linear;
  constructor(ps: ParamSet, readonly cfg: BertConfig, labels: number, problemType: ProblemType) {
    super(labels, problemType);
    this.classifier = new Linear(ps, 'classifier', cfg.hidden_size, labels, { init: normalInit(cfg) });
  }
  forward(p: ParamValues, pooled: Value, ctx: ForwardCtx): Value {
    return this.classifier.forward(p, ctx.drop(pooled, this.cfg.classifier_dropout ?? this.cfg.hidden_dropout_prob)); // [B, L]
  }
  classify(p: ParamValues, o: EncoderOutput, ctx: ForwardCtx): Value {
    if (!o.pooled) throw new BuildError('BERT sequence classification needs the pooler; the encoder was built without it');
    return this.forward(p, o.pooled, ctx);
  }
}

/** HF's BertForSequenceClassification: `bert.*` with the pooler, dropout and `classifier`. */
export class BertForSequenceClassification extends SequenceClassificationModel {
  declare readonly encoder: BertModel;
  declare readonly head: ClassificationHead;
  constructor(cfg: BertConfig) { super(BERT_FAMILY, cfg); }
  get bert(): BertModel { return this.encoder; }
  /** With the pooler output, which BERT always has. */
  override logits(p: ParamValues, x: BertInputs, ctx: ForwardCtx): { logits: Value; pooled: Value; attentions: Value[]; hiddenStates: Value[] } {
    const o = super.logits(p, x, ctx);
    return { ...o, pooled: o.pooled! };
  }
}

export type { TaskSpec, ClassificationTaskSpec } from '../model.js';

/**
 * One encoder, several heads. The MLM head keeps HF's `cls.predictions.*` names; classification
 * task `t` gets `heads.t.classifier.*`, so each task can be exported as an ordinary HF model.
 */
export class BertMultiTask extends MultiTaskModel {
  declare readonly encoder: BertModel;
  declare readonly mlm: MaskedLMHead | null;
  declare readonly classifiers: Map<string, ClassificationHead>;
  constructor(cfg: BertConfig, tasks: (TaskSpec | ClassificationTaskSpec)[]) { super(BERT_FAMILY, cfg, tasks); }
  get bert(): BertModel { return this.encoder; }
}

/**
 * ELECTRA (Clark et al. 2020), following transformers' modeling_electra.py: BERT's embeddings at
 * width embedding_size, `electra.embeddings_project` up to hidden_size when the two differ, BERT's
 * encoder layers, no pooler. Heads: the generator's masked LM (`generator_predictions`: dense to
 * embedding_size, exact GELU, LayerNorm; `generator_lm_head` tied to the word embeddings), the
 * classifier (dense, exact GELU, out_proj on the first token), and the discriminator
 * (ElectraForPreTraining: one replaced-or-original logit per token).
 */
import * as F from '../../autodiff/index.js';
import { BuildError, Value } from '../../ir/graph.js';
import { LayerNorm, Linear, ParamSet, ParamValues } from '../../nn/module.js';
import { BertConfig } from '../bert/config.js';
import { BertEmbeddings, BertInputs, BertLayer, ForwardCtx, activate, attentionBias, normalInit, runLayers } from '../bert/modeling.js';
import { Encoder, EncoderOutput, LmHead, bceWithLogits, tiedDecoder } from '../model.js';

/** ElectraConfig: BERT's fields plus the width of the embeddings (128 in ELECTRA's defaults). */
export interface ElectraConfig extends BertConfig { embedding_size: number }
export const embeddingSize = (cfg: BertConfig): number => (cfg as ElectraConfig).embedding_size;

/** `electra.*`: embeddings [B, T, E], their projection to [B, T, H] (when E ≠ H), BERT's layers. */
export class ElectraModel implements Encoder {
  readonly embeddings: BertEmbeddings;
  readonly project: Linear | null;
  readonly layers: BertLayer[];
  /** `shared`: embeddings of another ElectraModel, used instead of its own (pretraining's generator reads the discriminator's). */
  constructor(ps: ParamSet, readonly cfg: BertConfig, shared?: BertEmbeddings) {
    const E = embeddingSize(cfg), H = cfg.hidden_size;
    // ElectraEmbeddings is BertEmbeddings at width embedding_size (word + token type + position, LayerNorm, dropout).
    this.embeddings = shared ?? new BertEmbeddings(ps, { ...cfg, hidden_size: E });
    this.project = E !== H ? new Linear(ps, 'embeddings_project', E, H, { init: normalInit(cfg) }) : null;
    this.layers = ps.scope('encoder', () => ps.scope('layer', () =>
      Array.from({ length: cfg.num_hidden_layers }, (_, i) => ps.scope(i, () => new BertLayer(ps, cfg)))));
  }
  forward(p: ParamValues, x: BertInputs, ctx: ForwardCtx): EncoderOutput {
    const e = this.embeddings.forward(p, x, ctx);                                               // [B, T, E]
    const h = this.project ? this.project.forward(p, e) : e;                                     // [B, T, H]
    const maskBias = attentionBias(x, h);
    return { ...runLayers(h, this.layers.map((l) => ({ forward: (y: Value) => l.forward(p, y, maskBias, ctx) })), ctx), pooled: null };
  }
}

/** The generator's head: `generator_predictions` (dense H→E, GELU, LayerNorm), then `generator_lm_head` (E→V, tied, own bias). */
export class ElectraGeneratorHead implements LmHead {
  readonly dense: Linear;
  readonly norm: LayerNorm;
  readonly bias: string;
  constructor(ps: ParamSet, cfg: BertConfig, readonly wordEmbeddings: string) {
    const E = embeddingSize(cfg);
    [this.norm, this.dense] = ps.scope('generator_predictions', () => [
      new LayerNorm(ps, 'LayerNorm', E, cfg.layer_norm_eps),
      new Linear(ps, 'dense', cfg.hidden_size, E, { init: normalInit(cfg) }),
    ] as const);
    this.bias = ps.scope('generator_lm_head', () => ps.add('bias', [cfg.vocab_size], { kind: 'zeros' }, false));
  }
  forward(p: ParamValues, h: Value): Value {
    // get_activation("gelu"): the exact GELU, whatever hidden_act says.
    const t = this.norm.forward(p, activate('gelu', this.dense.forward(p, h)));                // [..., E]
    return tiedDecoder(p, t, this.wordEmbeddings, this.bias); // [..., V]
  }
}

/** `discriminator_predictions`: dense H→H, hidden_act, dense_prediction H→1: one logit per token. */
export class ElectraDiscriminatorHead {
  readonly dense: Linear;
  readonly prediction: Linear;
  constructor(ps: ParamSet, readonly cfg: BertConfig) {
    [this.dense, this.prediction] = ps.scope('discriminator_predictions', () => [
      new Linear(ps, 'dense', cfg.hidden_size, cfg.hidden_size, { init: normalInit(cfg) }),
      new Linear(ps, 'dense_prediction', cfg.hidden_size, 1, { init: normalInit(cfg) }),
    ] as const);
  }
  forward(p: ParamValues, h: Value): Value {
    const x = activate(this.cfg.hidden_act, this.dense.forward(p, h));                        // [B, T, H]
    return F.squeeze(this.prediction.forward(p, x), [-1]);                                    // [B, T]
  }
}

/**
 * HF's ElectraForPreTraining, the discriminator (google/electra-*-discriminator): whether each
 * token was replaced by the generator. It is the checkpoint people fine-tune; here it runs for
 * inference and its loss, outside the trainer's task models.
 */
export class ElectraForPreTraining {
  readonly ps = new ParamSet();
  readonly architecture = 'ElectraForPreTraining';
  readonly encoder: ElectraModel;
  readonly head: ElectraDiscriminatorHead;
  constructor(readonly cfg: BertConfig) {
    this.encoder = this.ps.scope('electra', () => new ElectraModel(this.ps, cfg));
    this.head = new ElectraDiscriminatorHead(this.ps, cfg);
  }
  /** Logits [B, T]: > 0 where the token looks replaced. */
  logits(p: ParamValues, x: BertInputs, ctx: ForwardCtx): { logits: Value; attentions: Value[]; hiddenStates: Value[] } {
    const o = this.encoder.forward(p, x, ctx);
    return { logits: this.head.forward(p, o.hidden), attentions: o.attentions, hiddenStates: o.hiddenStates };
  }
  /**
   * BCE-with-logits against labels [B, T] (1 = replaced), averaged over the tokens the attention
   * mask keeps (all tokens without one), as ElectraForPreTraining's loss.
   */
  loss(p: ParamValues, x: BertInputs, labels: Value, ctx: ForwardCtx): Value {
    return discriminatorLoss(this.logits(p, x, ctx).logits, labels, x.attentionMask);
  }
}

/** ElectraForPreTraining's loss: BCE-with-logits of logits [B, T] against labels [B, T] (1 = replaced), averaged over the tokens `attentionMask` keeps. */
export function discriminatorLoss(logits: Value, labels: Value, attentionMask?: Value): Value {
  if (labels.rank !== 2) throw new BuildError(`the discriminator needs labels [batch, tokens] of 0 and 1, got ${labels}`);
  const l = bceWithLogits(logits, F.cast(labels, logits.dtype));                               // [B, T]
  if (!attentionMask) return F.reduceMean(l, [0, 1]);
  const keep = F.cast(attentionMask, logits.dtype);
  return F.div(F.reduceSum(F.mul(l, keep), [0, 1]), F.reduceSum(keep, [0, 1]));
}

/**
 * ALBERT (Lan et al. 2020), following transformers' modeling_albert.py: BERT's embeddings at width
 * embedding_size, `albert.encoder.embedding_hidden_mapping_in` up to hidden_size (always there, even
 * when the two are equal), and cross-layer parameter sharing: num_hidden_groups groups of
 * inner_group_num layers, layer l running group int(l / (num_hidden_layers / num_hidden_groups)).
 * One parameter name serves several applied layers, so the backward pass sums their gradients.
 * Heads: the masked LM (`predictions`: dense H→E, hidden_act, LayerNorm, decoder tied to the word
 * embeddings, bias) and the classifier (`albert.pooler` dense + tanh on [CLS], dropout, `classifier`).
 */
import * as F from '../../autodiff/index.js';
import { Value } from '../../ir/graph.js';
import { LayerNorm, Linear, ParamSet, ParamValues } from '../../nn/module.js';
import { BertConfig } from '../bert/config.js';
import { BertEmbeddings, BertInputs, ForwardCtx, activate, attentionBias, multiHeadAttention, normalInit, runLayers } from '../bert/modeling.js';
import { Encoder, EncoderOutput, LmHead, tiedDecoder } from '../model.js';

/** AlbertConfig: BERT's fields plus the embeddings' width, the sharing layout and the classifier's dropout. */
export interface AlbertConfig extends BertConfig {
  embedding_size: number;
  /** Groups of layers with their own parameters; the num_hidden_layers layers are spread over them in order. */
  num_hidden_groups: number;
  /** Layers (own parameters) inside each group, applied one after the other each time the group runs. */
  inner_group_num: number;
  /** Dropout before `classifier` (AlbertForSequenceClassification reads this, not classifier_dropout). */
  classifier_dropout_prob: number;
}
const albert = (cfg: BertConfig): AlbertConfig => cfg as AlbertConfig;

/** The group that layer `l` runs: HF's int(l / (num_hidden_layers / num_hidden_groups)), in the same float arithmetic. */
export const groupOfLayer = (cfg: BertConfig, l: number): number =>
  Math.trunc(l / (cfg.num_hidden_layers / albert(cfg).num_hidden_groups));

/** `albert_layers.i`: post-LN attention (its own `attention.dense` and `attention.LayerNorm`), then ffn → act → ffn_output and full_layer_layer_norm. */
export class AlbertLayer {
  readonly norm: LayerNorm;
  readonly query: Linear; readonly key: Linear; readonly value: Linear;
  readonly dense: Linear; readonly attnNorm: LayerNorm;
  readonly ffn: Linear; readonly ffnOutput: Linear;
  constructor(ps: ParamSet, readonly cfg: BertConfig) {
    const H = cfg.hidden_size, I = cfg.intermediate_size, init = normalInit(cfg), eps = cfg.layer_norm_eps;
    this.norm = new LayerNorm(ps, 'full_layer_layer_norm', H, eps);
    [this.query, this.key, this.value, this.dense, this.attnNorm] = ps.scope('attention', () => [
      new Linear(ps, 'query', H, H, { init }), new Linear(ps, 'key', H, H, { init }), new Linear(ps, 'value', H, H, { init }),
      new Linear(ps, 'dense', H, H, { init }), new LayerNorm(ps, 'LayerNorm', H, eps),
    ] as const);
    this.ffn = new Linear(ps, 'ffn', H, I, { init });
    this.ffnOutput = new Linear(ps, 'ffn_output', I, H, { init });
  }

  forward(p: ParamValues, h: Value, maskBias: Value | null, ctx: ForwardCtx): { h: Value; probs: Value } {
    const { context, probs } = multiHeadAttention(p, h, { q: this.query, k: this.key, v: this.value }, this.cfg.num_attention_heads, maskBias, this.cfg.attention_probs_dropout_prob, ctx);
    const attn = this.attnNorm.forward(p, F.add(h, ctx.drop(this.dense.forward(p, context), this.cfg.hidden_dropout_prob))); // [B, T, H]
    // AlbertLayer.ff_chunk has no dropout (its self.dropout is never called).
    const ffn = this.ffnOutput.forward(p, activate(this.cfg.hidden_act, this.ffn.forward(p, attn)));                       // [B, T, H]
    return { h: this.norm.forward(p, F.add(ffn, attn)), probs };
  }
}

/** `albert.*`: embeddings [B, T, E], embedding_hidden_mapping_in to [B, T, H], the shared layer groups, the optional pooler. */
export class AlbertModel implements Encoder {
  readonly embeddings: BertEmbeddings;
  readonly mappingIn: Linear;
  /** groups[g][i]: `encoder.albert_layer_groups.g.albert_layers.i`. */
  readonly groups: AlbertLayer[][];
  readonly pooler: Linear | null;
  constructor(ps: ParamSet, readonly cfg: BertConfig, opts: { pooler: boolean }) {
    const c = albert(cfg), init = normalInit(cfg);
    // AlbertEmbeddings is BertEmbeddings at width embedding_size (word + token type + position, LayerNorm, dropout).
    this.embeddings = new BertEmbeddings(ps, { ...cfg, hidden_size: c.embedding_size });
    [this.mappingIn, this.groups] = ps.scope('encoder', () => [
      new Linear(ps, 'embedding_hidden_mapping_in', c.embedding_size, cfg.hidden_size, { init }),
      ps.scope('albert_layer_groups', () => Array.from({ length: c.num_hidden_groups }, (_, g) => ps.scope(g, () => ps.scope('albert_layers', () =>
        Array.from({ length: c.inner_group_num }, (_, i) => ps.scope(i, () => new AlbertLayer(ps, cfg))))))),
    ] as const);
    // AlbertModel's pooler is a bare Linear: `albert.pooler.weight`, not BERT's `pooler.dense.weight`.
    this.pooler = opts.pooler ? new Linear(ps, 'pooler', cfg.hidden_size, cfg.hidden_size, { init }) : null;
  }

  /** The layers in the order they run: each of the num_hidden_layers layers runs its group's inner layers. */
  applied(): AlbertLayer[] {
    return Array.from({ length: this.cfg.num_hidden_layers }, (_, l) => this.groups[groupOfLayer(this.cfg, l)]!).flat();
  }

  /** Attentions and hidden states: one per applied layer, as HF records them (hidden state 0 is the mapped embeddings). */
  forward(p: ParamValues, x: BertInputs, ctx: ForwardCtx): EncoderOutput {
    const e = this.embeddings.forward(p, x, ctx);                                               // [B, T, E]
    const h = this.mappingIn.forward(p, e);                                                     // [B, T, H]
    const maskBias = attentionBias(x, h);
    const o = runLayers(h, this.applied().map((l) => ({ forward: (y: Value) => l.forward(p, y, maskBias, ctx) })), ctx);
    let pooled: Value | null = null;
    if (this.pooler) pooled = F.tanh(this.pooler.forward(p, F.squeeze(F.slice(o.hidden, [0], [1], [1]), [1]))); // [B, H]
    return { ...o, pooled };
  }
}

/** `predictions` (AlbertMLMHead): dense H→E, hidden_act, LayerNorm, then the decoder tied to the word embeddings and `predictions.bias`. */
export class AlbertMLMHead implements LmHead {
  readonly norm: LayerNorm;
  readonly bias: string;
  readonly dense: Linear;
  constructor(ps: ParamSet, readonly cfg: BertConfig, readonly wordEmbeddings: string) {
    const E = albert(cfg).embedding_size;
    [this.norm, this.bias, this.dense] = ps.scope('predictions', () => [
      new LayerNorm(ps, 'LayerNorm', E, cfg.layer_norm_eps),
      ps.add('bias', [cfg.vocab_size], { kind: 'zeros' }, false),
      new Linear(ps, 'dense', cfg.hidden_size, E, { init: normalInit(cfg) }),
    ] as const);
  }
  forward(p: ParamValues, h: Value): Value {
    const t = this.norm.forward(p, activate(this.cfg.hidden_act, this.dense.forward(p, h)));   // [..., E]
    return tiedDecoder(p, t, this.wordEmbeddings, this.bias); // [..., V]
  }
}

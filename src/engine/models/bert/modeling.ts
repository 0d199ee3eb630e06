/**
 * BERT (Devlin et al. 2019) on the graph builder, following transformers' modeling_bert.py:
 * post-LN encoder layers, absolute position embeddings, exact (erf) GELU. Parameter names are
 * the Hugging Face state-dict keys, built from module scopes (`bert.encoder.layer.3.attention.self.query.weight`).
 * Dropout is active when a seed is given (training) and absent otherwise (inference).
 */
import * as F from '../../autodiff/index.js';
import { dropout, geluAnyFloat } from '../../autodiff/index.js';
import { BuildError, Value } from '../../ir/graph.js';
import { Embedding, LayerNorm, Linear, ParamSet, ParamValues } from '../../nn/module.js';
import { BertConfig } from './config.js';
import type { Encoder, EncoderOutput } from '../model.js';

/** HF's extended attention mask adds the dtype's minimum to masked scores (not −∞: no NaN rows). */
const MASK_BIAS = -3.4028234663852886e38;

export interface BertInputs {
  inputIds: Value;            // [B, T] int64
  attentionMask?: Value;      // [B, T] int64, 1 = real token, 0 = padding
  tokenTypeIds?: Value;       // [B, T] int64
}

/** Per-forward state: dropout seeds (training only) and whether to return attention maps. */
export class ForwardCtx {
  private site = 0;
  constructor(readonly seed: Value | null, readonly keepAttentions = false, readonly keepHiddenStates = false) {}
  drop(x: Value, rate: number): Value {
    if (!this.seed || rate === 0) return x;
    this.site++;
    return dropout(x, rate, F.add(this.seed, this.site * 7919));
  }
}

/** An HF activation name ("gelu" exact, "gelu_new" / "gelu_pytorch_tanh" tanh form, "relu"). */
export function activate(name: string, x: Value): Value {
  switch (name) {
    case 'gelu': return geluAnyFloat(x);
    case 'gelu_new': case 'gelu_pytorch_tanh': return F.geluTanh(x);
    case 'relu': return F.relu(x);
    default: throw new BuildError(`activation "${name}" is not implemented (gelu, gelu_new, gelu_pytorch_tanh, relu are)`);
  }
}
/** config.hidden_act */
export const activation = (cfg: BertConfig, x: Value): Value => activate(cfg.hidden_act, x);

/**
 * Multi-head scaled dot-product attention of every family: projections q, k, v of `h` [B, T, H]
 * split into `heads`, softmax(q·kᵀ/√d + maskBias), dropout on the probabilities, and the merged
 * context [B, T, H] (before the output projection) with the probabilities [B, heads, T, T].
 */
export function multiHeadAttention(p: ParamValues, h: Value, proj: { q: Linear; k: Linear; v: Linear }, heads: number, maskBias: Value | null, dropRate: number, ctx: ForwardCtx): { context: Value; probs: Value } {
  const hd = (proj.q.outFeatures) / heads;
  const split = (l: Linear) => F.transpose(F.reshape(l.forward(p, h), [0, 0, heads, hd]), [0, 2, 1, 3]); // [B, nh, T, hd]
  const q = split(proj.q), k = split(proj.k), v = split(proj.v);
  let scores = F.div(F.matmul(q, F.transpose(k, [0, 1, 3, 2])), Math.sqrt(hd));           // [B, nh, T, T]
  if (maskBias) scores = F.add(scores, maskBias);
  const probs = F.softmax(scores, -1);
  const context = F.reshape(F.transpose(F.matmul(ctx.drop(probs, dropRate), v), [0, 2, 1, 3]), [0, 0, -1]); // [B, T, H]
  return { context, probs };
}

/** Runs `layers` over `h`, collecting attentions and hidden states (with the input first) as ctx asks. */
export function runLayers(h: Value, layers: readonly { forward(h: Value): { h: Value; probs: Value } }[], ctx: ForwardCtx): { hidden: Value; attentions: Value[]; hiddenStates: Value[] } {
  const attentions: Value[] = [], hiddenStates: Value[] = ctx.keepHiddenStates ? [h] : [];
  for (const layer of layers) {
    const o = layer.forward(h);
    h = o.h;
    if (ctx.keepAttentions) attentions.push(o.probs);
    if (ctx.keepHiddenStates) hiddenStates.push(h);
  }
  return { hidden: h, attentions, hiddenStates };
}

export const normalInit = (cfg: BertConfig) => ({ kind: 'normal' as const, std: cfg.initializer_range });

/**
 * Word + position + token-type embeddings, LayerNorm, dropout (BertEmbeddings; also RoBERTa's,
 * ELECTRA's and ALBERT's at their widths). Positions are 0…T−1, or `positionIds(ids)` where a
 * family counts them otherwise (RoBERTa: from padding_idx + 1, its position row padding_idx zero at init).
 */
export class BertEmbeddings {
  readonly word: Embedding;
  readonly position: Embedding;
  readonly tokenType: Embedding;
  readonly norm: LayerNorm;
  constructor(ps: ParamSet, readonly cfg: BertConfig, private readonly positionIds?: (ids: Value, dtype: Value['dtype']) => Value) {
    const init = normalInit(cfg);
    [this.word, this.position, this.tokenType, this.norm] = ps.scope('embeddings', () => [
      new Embedding(ps, 'word_embeddings', cfg.vocab_size, cfg.hidden_size, { ...init, zeroRow: cfg.pad_token_id }),
      new Embedding(ps, 'position_embeddings', cfg.max_position_embeddings, cfg.hidden_size, positionIds ? { ...init, zeroRow: cfg.pad_token_id } : init),
      new Embedding(ps, 'token_type_embeddings', cfg.type_vocab_size, cfg.hidden_size, init),
      new LayerNorm(ps, 'LayerNorm', cfg.hidden_size, cfg.layer_norm_eps),
    ] as const);
  }
  forward(p: ParamValues, x: BertInputs, ctx: ForwardCtx): Value {
    const ids = x.inputIds;
    const words = this.word.forward(p, ids);                                             // [B, T, H]
    let positions: Value;
    if (this.positionIds) positions = this.positionIds(ids, words.dtype);               // [B, T]
    else {
      const T = F.gather(F.shapeOf(ids), F.scalar(ids, 1, 'int64'), 0);
      positions = F.range(F.scalar(T, 0), T, F.scalar(T, 1));                          // [T]
    }
    const types = x.tokenTypeIds ?? F.constantOfShape(F.shapeOf(ids), 'int64', 0);     // [B, T]
    const sum = F.add(F.add(words, this.position.forward(p, positions)), this.tokenType.forward(p, types)); // [B, T, H]
    return ctx.drop(this.norm.forward(p, sum), this.cfg.hidden_dropout_prob);
  }
}

export class BertLayer {
  readonly query: Linear; readonly key: Linear; readonly value: Linear;
  readonly attnOut: Linear; readonly attnNorm: LayerNorm;
  readonly intermediate: Linear; readonly out: Linear; readonly outNorm: LayerNorm;
  constructor(ps: ParamSet, readonly cfg: BertConfig) {
    const H = cfg.hidden_size, I = cfg.intermediate_size, init = normalInit(cfg), eps = cfg.layer_norm_eps;
    [this.query, this.key, this.value, this.attnOut, this.attnNorm] = ps.scope('attention', () => [
      ...ps.scope('self', () => [new Linear(ps, 'query', H, H, { init }), new Linear(ps, 'key', H, H, { init }), new Linear(ps, 'value', H, H, { init })]),
      ...ps.scope('output', () => [new Linear(ps, 'dense', H, H, { init }), new LayerNorm(ps, 'LayerNorm', H, eps)] as const),
    ] as [Linear, Linear, Linear, Linear, LayerNorm]);
    this.intermediate = ps.scope('intermediate', () => new Linear(ps, 'dense', H, I, { init }));
    [this.out, this.outNorm] = ps.scope('output', () => [new Linear(ps, 'dense', I, H, { init }), new LayerNorm(ps, 'LayerNorm', H, eps)] as const);
  }

  forward(p: ParamValues, h: Value, maskBias: Value | null, ctx: ForwardCtx): { h: Value; probs: Value } {
    const { context, probs } = multiHeadAttention(p, h, { q: this.query, k: this.key, v: this.value }, this.cfg.num_attention_heads, maskBias, this.cfg.attention_probs_dropout_prob, ctx);
    const attn = this.attnNorm.forward(p, F.add(ctx.drop(this.attnOut.forward(p, context), this.cfg.hidden_dropout_prob), h));
    const inner = this.intermediate.forward(p, attn);                                           // [B, T, I]
    const act = activation(this.cfg, inner);
    const out = this.outNorm.forward(p, F.add(ctx.drop(this.out.forward(p, act), this.cfg.hidden_dropout_prob), attn));
    return { h: out, probs };
  }
}

/** [B, 1, 1, T] additive mask bias from the attention mask (none without one). */
export const attentionBias = (x: BertInputs, h: Value): Value | null => (x.attentionMask
  ? F.unsqueeze(F.mul(F.sub(1, F.cast(x.attentionMask, h.dtype)), MASK_BIAS), [1, 2])
  : null);

export type BertOutput = EncoderOutput;

/** `bert.*`: embeddings, encoder and (optionally) the pooler. */
export class BertModel implements Encoder {
  readonly embeddings: BertEmbeddings;
  readonly layers: BertLayer[];
  readonly pooler: Linear | null;
  constructor(ps: ParamSet, readonly cfg: BertConfig, opts: { pooler: boolean }) {
    this.embeddings = new BertEmbeddings(ps, cfg);
    this.layers = ps.scope('encoder', () => ps.scope('layer', () =>
      Array.from({ length: cfg.num_hidden_layers }, (_, i) => ps.scope(i, () => new BertLayer(ps, cfg)))));
    this.pooler = opts.pooler ? ps.scope('pooler', () => new Linear(ps, 'dense', cfg.hidden_size, cfg.hidden_size, { init: normalInit(cfg) })) : null;
  }

  forward(p: ParamValues, x: BertInputs, ctx: ForwardCtx): BertOutput {
    const e = this.embeddings.forward(p, x, ctx);                                               // [B, T, H]
    const maskBias = attentionBias(x, e);
    const { hidden: h, attentions, hiddenStates } = runLayers(e, this.layers.map((l) => ({ forward: (y: Value) => l.forward(p, y, maskBias, ctx) })), ctx);
    let pooled: Value | null = null;
    if (this.pooler) {
      const cls = F.squeeze(F.slice(h, [0], [1], [1]), [1]);                                    // [B, H]
      pooled = F.tanh(this.pooler.forward(p, cls));
    }
    return { hidden: h, pooled, attentions, hiddenStates };
  }
}

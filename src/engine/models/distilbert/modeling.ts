/**
 * DistilBERT (Sanh et al. 2019), following transformers' modeling_distilbert.py: word + position
 * embeddings (no token types; sinusoidal and fixed when sinusoidal_pos_embds), post-LN blocks of
 * `attention.{q,k,v,out}_lin`, `sa_layer_norm`, `ffn.lin1/lin2`, `output_layer_norm` (no dropout
 * after out_lin, as HF), no pooler. Heads: `vocab_transform` → activation → `vocab_layer_norm` →
 * `vocab_projector` (tied to the word embeddings), and `pre_classifier` → ReLU → dropout →
 * `classifier` on the first token's state.
 */
import * as F from '../../autodiff/index.js';
import { Value } from '../../ir/graph.js';
import { Embedding, LayerNorm, Linear, ParamSet, ParamValues } from '../../nn/module.js';
import { BertInputs, ForwardCtx, activate, attentionBias, multiHeadAttention, normalInit, runLayers } from '../bert/modeling.js';
import { Encoder, EncoderOutput, LmHead, ProblemType, SequenceHead, tiedDecoder } from '../model.js';
import { DISTILBERT_LAYER_NORM_EPS as EPS, DistilBertConfig } from './config.js';

/**
 * HF's create_sinusoidal_embeddings: row `pos`, column j is sin (j even) or cos (j odd) of
 * pos / 10000^(2⌊j/2⌋/dim), computed in float64 and stored as float32.
 */
export function sinusoidalEmbeddings(nPos: number, dim: number): Float32Array {
  const out = new Float32Array(nPos * dim);
  for (let pos = 0; pos < nPos; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      out[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return out;
}

class DistilBertEmbeddings {
  readonly word: Embedding;
  readonly position: Embedding;
  readonly norm: LayerNorm;
  constructor(ps: ParamSet, readonly cfg: DistilBertConfig) {
    const init = normalInit(cfg);
    const positions = cfg.sinusoidal_pos_embds ? { kind: 'values' as const, values: sinusoidalEmbeddings(cfg.max_position_embeddings, cfg.dim) } : init;
    [this.word, this.position, this.norm] = ps.scope('embeddings', () => [
      new Embedding(ps, 'word_embeddings', cfg.vocab_size, cfg.dim, { ...init, zeroRow: cfg.pad_token_id }),
      new Embedding(ps, 'position_embeddings', cfg.max_position_embeddings, cfg.dim, positions),
      new LayerNorm(ps, 'LayerNorm', cfg.dim, EPS),
    ] as const);
  }
  forward(p: ParamValues, x: BertInputs, ctx: ForwardCtx): Value {
    const ids = x.inputIds;
    const T = F.gather(F.shapeOf(ids), F.scalar(ids, 1, 'int64'), 0);
    const positions = F.range(F.scalar(T, 0), T, F.scalar(T, 1));                        // [T]
    const sum = F.add(this.word.forward(p, ids), this.position.forward(p, positions));     // [B, T, dim]
    return ctx.drop(this.norm.forward(p, sum), this.cfg.dropout);
  }
}

/** `transformer.layer.i`: TransformerBlock. */
class TransformerBlock {
  readonly q: Linear; readonly k: Linear; readonly v: Linear; readonly out: Linear;
  readonly saNorm: LayerNorm;
  readonly lin1: Linear; readonly lin2: Linear;
  readonly outNorm: LayerNorm;
  constructor(ps: ParamSet, readonly cfg: DistilBertConfig) {
    const D = cfg.dim, init = normalInit(cfg);
    [this.q, this.k, this.v, this.out] = ps.scope('attention', () =>
      (['q_lin', 'k_lin', 'v_lin', 'out_lin'] as const).map((n) => new Linear(ps, n, D, D, { init })) as [Linear, Linear, Linear, Linear]);
    this.saNorm = new LayerNorm(ps, 'sa_layer_norm', D, EPS);
    [this.lin1, this.lin2] = ps.scope('ffn', () => [new Linear(ps, 'lin1', D, cfg.hidden_dim, { init }), new Linear(ps, 'lin2', cfg.hidden_dim, D, { init })] as const);
    this.outNorm = new LayerNorm(ps, 'output_layer_norm', D, EPS);
  }
  forward(p: ParamValues, h: Value, maskBias: Value | null, ctx: ForwardCtx): { h: Value; probs: Value } {
    const { context, probs } = multiHeadAttention(p, h, { q: this.q, k: this.k, v: this.v }, this.cfg.n_heads, maskBias, this.cfg.attention_dropout, ctx);
    const sa = this.saNorm.forward(p, F.add(this.out.forward(p, context), h));                   // [B, T, dim]
    const ffn = this.lin2.forward(p, activate(this.cfg.activation, this.lin1.forward(p, sa)));   // [B, T, dim]
    return { h: this.outNorm.forward(p, F.add(ctx.drop(ffn, this.cfg.dropout), sa)), probs };
  }
}

/** `distilbert.*`: embeddings and `transformer.layer.*` (DistilBERT has no pooler). */
export class DistilBertModel implements Encoder {
  readonly embeddings: DistilBertEmbeddings;
  readonly layers: TransformerBlock[];
  constructor(ps: ParamSet, readonly cfg: DistilBertConfig) {
    this.embeddings = new DistilBertEmbeddings(ps, cfg);
    this.layers = ps.scope('transformer', () => ps.scope('layer', () =>
      Array.from({ length: cfg.n_layers }, (_, i) => ps.scope(i, () => new TransformerBlock(ps, cfg)))));
  }
  forward(p: ParamValues, x: BertInputs, ctx: ForwardCtx): EncoderOutput {
    const e = this.embeddings.forward(p, x, ctx);                                               // [B, T, dim]
    const maskBias = attentionBias(x, e);
    return { ...runLayers(e, this.layers.map((l) => ({ forward: (y: Value) => l.forward(p, y, maskBias, ctx) })), ctx), pooled: null };
  }
}

/** DistilBertForMaskedLM's head: vocab_transform, config.activation, vocab_layer_norm, vocab_projector (tied weight, own bias). */
export class DistilBertLMHead implements LmHead {
  readonly transform: Linear;
  readonly norm: LayerNorm;
  readonly bias: string;
  constructor(ps: ParamSet, readonly cfg: DistilBertConfig, readonly wordEmbeddings: string) {
    this.transform = new Linear(ps, 'vocab_transform', cfg.dim, cfg.dim, { init: normalInit(cfg) });
    this.norm = new LayerNorm(ps, 'vocab_layer_norm', cfg.dim, EPS);
    this.bias = ps.scope('vocab_projector', () => ps.add('bias', [cfg.vocab_size], { kind: 'zeros' }, false));
  }
  forward(p: ParamValues, h: Value): Value {
    const t = this.norm.forward(p, activate(this.cfg.activation, this.transform.forward(p, h)));              // [..., dim]
    return tiedDecoder(p, t, this.wordEmbeddings, this.bias); // [..., V]
  }
}

/** DistilBertForSequenceClassification's head: the first token's state → pre_classifier → ReLU → dropout → classifier. */
export class DistilBertClassificationHead extends SequenceHead {
  readonly preClassifier: Linear;
  readonly classifier: Linear;
  constructor(ps: ParamSet, readonly cfg: DistilBertConfig, labels: number, problemType: ProblemType) {
    super(labels, problemType);
    this.preClassifier = new Linear(ps, 'pre_classifier', cfg.dim, cfg.dim, { init: normalInit(cfg) });
    this.classifier = new Linear(ps, 'classifier', cfg.dim, labels, { init: normalInit(cfg) });
  }
  classify(p: ParamValues, o: EncoderOutput, ctx: ForwardCtx): Value {
    const first = F.squeeze(F.slice(o.hidden, [0], [1], [1]), [1]);                          // [B, dim]
    const x = F.relu(this.preClassifier.forward(p, first));
    return this.classifier.forward(p, ctx.drop(x, this.cfg.seq_classif_dropout));            // [B, L]
  }
}

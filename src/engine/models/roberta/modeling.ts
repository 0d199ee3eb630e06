/**
 * RoBERTa (Liu et al. 2019) and XLM-RoBERTa (Conneau et al. 2020), following transformers'
 * modeling_roberta.py: BERT's encoder layers under `roberta.*`, positions counted from
 * padding_idx + 1 over the non-pad tokens only (create_position_ids_from_input_ids), no pooler in
 * the heads, `lm_head` (dense, exact GELU, layer_norm, decoder tied to the word embeddings, bias)
 * and a `classifier` of dense + tanh + out_proj on the <s> state.
 */
import * as F from '../../autodiff/index.js';
import { Value } from '../../ir/graph.js';
import { LayerNorm, Linear, ParamSet, ParamValues } from '../../nn/module.js';
import { BertConfig } from '../bert/config.js';
import { BertEmbeddings, BertInputs, BertLayer, ForwardCtx, attentionBias, normalInit, runLayers } from '../bert/modeling.js';
import { Encoder, EncoderOutput, LmHead, ProblemType, SequenceHead, tiedDecoder } from '../model.js';

/**
 * Position ids of HF's create_position_ids_from_input_ids: padding_idx + the running count of
 * non-pad tokens, and padding_idx itself on pad tokens. The running count is a product with an
 * upper-triangular matrix of ones (exact in float32 for any real length).
 */
export function robertaPositions(ids: Value, padId: number, dtype: Value['dtype']): Value {
  const keep = F.cast(F.not(F.equal(ids, F.scalar(ids, padId))), dtype);            // [B, T]
  const T = F.gather(F.shapeOf(ids), F.scalar(ids, 1, 'int64'), 0);
  const r = F.range(F.scalar(T, 0), T, F.scalar(T, 1));                                // [T]
  const upper = F.cast(F.not(F.greater(F.unsqueeze(r, [1]), F.unsqueeze(r, [0]))), dtype); // [T, T]: i ≤ j
  const count = F.mul(F.matmul(keep, upper), keep);                                     // [B, T]
  return F.add(F.cast(count, 'int64'), F.scalar(ids, padId));
}

/** `roberta.*`: embeddings and BERT's encoder layers (the heads here never use a pooler). */
export class RobertaModel implements Encoder {
  readonly embeddings: BertEmbeddings;
  readonly layers: BertLayer[];
  constructor(ps: ParamSet, readonly cfg: BertConfig) {
    // RoBERTa's token types are never fed: the tokenizers give 0 and the graph has no such input.
    this.embeddings = new BertEmbeddings(ps, cfg, (ids, dtype) => robertaPositions(ids, cfg.pad_token_id, dtype));
    this.layers = ps.scope('encoder', () => ps.scope('layer', () =>
      Array.from({ length: cfg.num_hidden_layers }, (_, i) => ps.scope(i, () => new BertLayer(ps, cfg)))));
  }
  forward(p: ParamValues, x: BertInputs, ctx: ForwardCtx): EncoderOutput {
    const e = this.embeddings.forward(p, x, ctx);                                               // [B, T, H]
    const maskBias = attentionBias(x, e);
    return { ...runLayers(e, this.layers.map((l) => ({ forward: (y: Value) => l.forward(p, y, maskBias, ctx) })), ctx), pooled: null };
  }
}

/** `lm_head`: dense, GELU (always the exact one, whatever hidden_act says), layer_norm, tied decoder + bias. */
export class RobertaLMHead implements LmHead {
  readonly dense: Linear;
  readonly norm: LayerNorm;
  readonly bias: string;
  constructor(ps: ParamSet, cfg: BertConfig, readonly wordEmbeddings: string) {
    [this.bias, this.dense, this.norm] = ps.scope('lm_head', () => [
      ps.add('bias', [cfg.vocab_size], { kind: 'zeros' }, false),
      new Linear(ps, 'dense', cfg.hidden_size, cfg.hidden_size, { init: normalInit(cfg) }),
      new LayerNorm(ps, 'layer_norm', cfg.hidden_size, cfg.layer_norm_eps),
    ] as const);
  }
  forward(p: ParamValues, h: Value): Value {
    const t = this.norm.forward(p, F.geluAnyFloat(this.dense.forward(p, h)));                 // [..., H]
    return tiedDecoder(p, t, this.wordEmbeddings, this.bias); // [..., V]
  }
}

/**
 * `classifier`: the <s> state → dropout → dense → tanh → dropout → out_proj (RobertaClassificationHead;
 * ELECTRA's is the same with the exact GELU in place of tanh: `act`).
 */
export class RobertaClassificationHead extends SequenceHead {
  readonly dense: Linear;
  readonly outProj: Linear;
  constructor(ps: ParamSet, readonly cfg: BertConfig, labels: number, problemType: ProblemType, private readonly act: (x: Value) => Value = F.tanh) {
    super(labels, problemType);
    [this.dense, this.outProj] = ps.scope('classifier', () => [
      new Linear(ps, 'dense', cfg.hidden_size, cfg.hidden_size, { init: normalInit(cfg) }),
      new Linear(ps, 'out_proj', cfg.hidden_size, labels, { init: normalInit(cfg) }),
    ] as const);
  }
  classify(p: ParamValues, o: EncoderOutput, ctx: ForwardCtx): Value {
    const rate = this.cfg.classifier_dropout ?? this.cfg.hidden_dropout_prob;
    const first = F.squeeze(F.slice(o.hidden, [0], [1], [1]), [1]);                         // [B, H]
    const x = this.act(this.dense.forward(p, ctx.drop(first, rate)));
    return this.outProj.forward(p, ctx.drop(x, rate));                                      // [B, L]
  }
}

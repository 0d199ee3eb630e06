/**
 * Inference graphs for a BERT model with its weights as initializers: full logits (the exported
 * ONNX model), fill-mask (only the masked positions reach the vocabulary projection; softmax and
 * top-k inside the graph, so k values per mask leave onnxruntime instead of the vocabulary), class
 * scores, and attention probabilities.
 */
import * as F from '../autodiff/index.js';
import { BuildError, Graph, Value } from '../ir/graph.js';
import { ParamSet, ParamValues } from '../nn/module.js';
import { BertInputs, ForwardCtx } from '../models/bert/modeling.js';
import { Family, HeadModel } from '../models/model.js';

export type Weights = Record<string, Float32Array>;
export type BertHeadModel = HeadModel;

/** Input names as transformers.js and Hugging Face's ONNX exports use them. */
export const INPUT_NAMES = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
/** The inputs of a family's graphs: token_type_ids only where the family has token types (as HF's ONNX exports). */
export const inputNames = (family: Family): readonly string[] => (family.hasTokenTypes ? INPUT_NAMES : INPUT_NAMES.slice(0, 2));

export function bindWeights(g: Graph, ps: ParamSet, weights: Weights): ParamValues {
  const p: ParamValues = {};
  for (const s of ps.specs) {
    const w = weights[s.name];
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (!w) throw new BuildError(`weight "${s.name}" is missing`);
    if (w.length !== n) throw new BuildError(`weight "${s.name}" holds ${w.length} values; shape [${s.shape}] needs ${n}`);
    p[s.name] = g.initializer(s.name, { dtype: 'float32', dims: s.shape, bytes: new Uint8Array(w.buffer, w.byteOffset, w.byteLength).slice() });
  }
  return p;
}

function tokenInputs(g: Graph, family: Family): BertInputs {
  const [ids, mask, types] = inputNames(family).map((n) => g.input(n, 'int64', ['batch_size', 'sequence_length'])) as [Value, Value, Value | undefined];
  return { inputIds: ids, attentionMask: mask, ...(types ? { tokenTypeIds: types } : {}) };
}

export interface InferenceGraphOptions {
  /** 'logits': [batch, seq, V] or [batch, labels] (the export); 'fill-mask': top-k at listed positions. */
  output: 'logits' | 'fill-mask';
  topK?: number;
  /** Also output attention probabilities per layer, `attentions.{l}` [batch, heads, seq, seq]. */
  attentions?: boolean;
}

export function inferenceGraph(model: BertHeadModel, weights: Weights, opts: InferenceGraphOptions): Graph {
  const g = new Graph(opts.output === 'fill-mask' ? 'bert_fill_mask' : 'bert');
  const p = bindWeights(g, model.ps, weights);
  const x = tokenInputs(g, model.family);
  const ctx = new ForwardCtx(null, !!opts.attentions);
  let attentions: Value[];
  if (model.kind === 'mlm') {
    if (opts.output === 'fill-mask') {
      const positions = g.input('mask_positions', 'int64', ['masks']);                 // flat b·T + t
      const o = model.logits(p, x, ctx, positions);                                     // [masks, V]
      const k = Math.min(opts.topK ?? 5, model.cfg.vocab_size);
      const top = F.topK(F.softmax(o.logits, -1), k, -1);
      g.output(top.values, 'scores');
      g.output(top.indices, 'token_ids');
      attentions = o.attentions;
    } else {
      const o = model.logits(p, x, ctx);
      g.output(o.logits, 'logits');
      attentions = o.attentions;
    }
  } else {
    if (opts.output === 'fill-mask') throw new BuildError(`fill-mask needs a masked-LM model (${model.family.names.mlm})`);
    const o = model.logits(p, x, ctx);
    g.output(o.logits, 'logits');
    attentions = o.attentions;
  }
  attentions.forEach((a, i) => g.output(a, `attentions.${i}`));
  return g;
}

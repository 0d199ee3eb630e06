/**
 * DistilBertConfig (transformers' configuration_distilbert.py): DistilBERT's own field names and
 * defaults (dim, n_layers, n_heads, hidden_dim, activation, dropout, …), validated with errors that
 * name the file, the field and the value. In memory the config also carries the BERT names the
 * shared code reads (hidden_size = dim, …); config.json gets DistilBERT's names only, as
 * transformers writes them.
 */
import { BERT_DEFAULTS, BertConfig, ConfigError, HIDDEN_ACTS, HiddenAct, parseBertLikeConfig } from '../bert/config.js';

export interface DistilBertFields {
  dim: number;
  n_layers: number;
  n_heads: number;
  /** The feed-forward width (BERT's intermediate_size). */
  hidden_dim: number;
  activation: HiddenAct;
  /** Dropout after the embeddings and the feed-forward block (BERT's hidden_dropout_prob). */
  dropout: number;
  attention_dropout: number;
  /** Fixed sin/cos position embeddings (Vaswani et al. 2017), never trained. */
  sinusoidal_pos_embds: boolean;
  seq_classif_dropout: number;
  /** Read by DistilBertForQuestionAnswering only; kept and written back. */
  qa_dropout: number;
  tie_word_embeddings: boolean;
}
export type DistilBertConfig = BertConfig & DistilBertFields;

/** DistilBertConfig's defaults (distilbert-base). */
export const DISTILBERT_DEFAULTS = {
  vocab_size: 30522, max_position_embeddings: 512, sinusoidal_pos_embds: false, n_layers: 6, n_heads: 12, dim: 768, hidden_dim: 4 * 768,
  dropout: 0.1, attention_dropout: 0.1, activation: 'gelu' as HiddenAct, initializer_range: 0.02, qa_dropout: 0.1, seq_classif_dropout: 0.2,
  pad_token_id: 0, tie_word_embeddings: true,
};

/** DistilBERT's LayerNorms are built with eps 1e-12 whatever the config says (modeling_distilbert.py). */
export const DISTILBERT_LAYER_NORM_EPS = 1e-12;

/** BERT's name of each DistilBERT field; the first three are HF's attribute_map, which a config may use instead. */
const BERT_NAMES = {
  dim: 'hidden_size', n_layers: 'num_hidden_layers', n_heads: 'num_attention_heads',
  hidden_dim: 'intermediate_size', activation: 'hidden_act', dropout: 'hidden_dropout_prob', attention_dropout: 'attention_probs_dropout_prob',
} as const;
const ALIASED = ['dim', 'n_layers', 'n_heads'] as const;
/** Fields that are BERT's only: here they follow from DistilBERT's and are written nowhere. */
const BERT_ONLY = [...Object.values(BERT_NAMES), 'layer_norm_eps', 'type_vocab_size', 'position_embedding_type', 'classifier_dropout'] as const;

/**
 * A validated DistilBertConfig from parsed config.json (`source` names the file in errors).
 * BERT's hidden_size, num_hidden_layers and num_attention_heads are read where DistilBERT's own
 * field is absent (HF's attribute_map); a BERT-named field that disagrees with DistilBERT's is an
 * error naming both, rather than one of them silently losing.
 */
export function parseDistilBertConfig(json: Record<string, unknown>, source: string): DistilBertConfig {
  const bad = (field: string, value: unknown, want: string): never => {
    throw new ConfigError(`${source}: field "${field}" is ${JSON.stringify(value)}; ${want}`);
  };
  if (json['model_type'] !== undefined && json['model_type'] !== 'distilbert') bad('model_type', json['model_type'], 'this reader takes "distilbert" models only');
  const raw: Record<string, unknown> = { ...json };
  for (const f of ALIASED) if (raw[f] === undefined && raw[BERT_NAMES[f]] !== undefined) raw[f] = raw[BERT_NAMES[f]];
  const d = { ...DISTILBERT_DEFAULTS, ...raw } as Record<string, unknown> & DistilBertFields;

  for (const f of ['dim', 'n_layers', 'n_heads', 'hidden_dim'] as const) {
    const v = d[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(f, v, 'it must be a positive integer');
  }
  if (d.dim % d.n_heads !== 0) bad('n_heads', d.n_heads, `it must divide dim (${d.dim})`);
  for (const f of ['dropout', 'attention_dropout', 'seq_classif_dropout', 'qa_dropout'] as const) {
    const v = d[f];
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) bad(f, v, 'it must be a number in [0, 1)');
  }
  if (!HIDDEN_ACTS.includes(d.activation)) bad('activation', d.activation, 'supported: "gelu" (exact, erf form), "gelu_new" and "gelu_pytorch_tanh" (tanh form), "relu"');
  if (typeof d.sinusoidal_pos_embds !== 'boolean') bad('sinusoidal_pos_embds', d.sinusoidal_pos_embds, 'it must be true or false');
  // transformers ≤ 3 called it tie_weights_; the masked-LM head here always shares the word embeddings.
  for (const f of ['tie_word_embeddings', 'tie_weights_']) {
    if (d[f] !== undefined && d[f] !== true) bad(f, d[f], 'BERT Lab ties vocab_projector.weight to the word embeddings; an untied DistilBERT is not supported');
  }

  const view = {
    hidden_size: d.dim, num_hidden_layers: d.n_layers, num_attention_heads: d.n_heads, intermediate_size: d.hidden_dim, hidden_act: d.activation,
    hidden_dropout_prob: d.dropout, attention_probs_dropout_prob: d.attention_dropout, layer_norm_eps: DISTILBERT_LAYER_NORM_EPS,
  };
  for (const [f, b] of Object.entries(BERT_NAMES)) {
    const v = json[b];
    if (v !== undefined && v !== d[f]) bad(b, v, `DistilBERT's config calls it "${f}", which is ${JSON.stringify(d[f])}; keep one of the two`);
  }
  if (json['layer_norm_eps'] !== undefined && json['layer_norm_eps'] !== DISTILBERT_LAYER_NORM_EPS) {
    bad('layer_norm_eps', json['layer_norm_eps'], `DistilBERT's LayerNorms use ${DISTILBERT_LAYER_NORM_EPS} (fixed in transformers' modeling_distilbert.py); leave it out`);
  }
  const rest = Object.fromEntries(Object.entries(d).filter(([k]) => !(BERT_ONLY as readonly string[]).includes(k)));
  // BERT's checks of the shared fields (vocab_size, max_position_embeddings, pad_token_id, labels, …).
  const cfg = parseBertLikeConfig({ ...rest, ...view }, source, { ...BERT_DEFAULTS, model_type: 'distilbert' });
  return cfg as DistilBertConfig;
}

/** config.json's fields for `cfg`: DistilBERT's names (none of BERT's), as DistilBertConfig.to_dict writes them. */
export function distilBertConfigJSON(cfg: BertConfig, architecture: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) if (!(BERT_ONLY as readonly string[]).includes(k)) out[k] = v;
  return { ...out, architectures: [architecture], model_type: 'distilbert' };
}

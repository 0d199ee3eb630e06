/**
 * BertConfig with Hugging Face's field names and defaults (transformers' BertConfig), validated
 * with errors that name the file, the field and the value.
 */
export const HIDDEN_ACTS = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'] as const;
export type HiddenAct = typeof HIDDEN_ACTS[number];

export interface BertConfig {
  /** "bert"; other families of the same shape (RoBERTa, …) reuse this type with their own. */
  model_type: string;
  architectures?: string[];
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  /** The exact erf GELU ("gelu"), the tanh approximation ("gelu_new" = "gelu_pytorch_tanh"), "relu"; others are refused. */
  hidden_act: HiddenAct;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  pad_token_id: number;
  position_embedding_type: 'absolute';
  /** Classification heads. */
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  problem_type?: 'single_label_classification' | 'multi_label_classification' | 'regression';
  classifier_dropout?: number | null;
  [extra: string]: unknown;
}

export const BERT_DEFAULTS: BertConfig = {
  model_type: 'bert',
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const INT_FIELDS = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size'] as const;

/** A validated config from parsed JSON (`source` names the file in errors), defaults filled in. */
export function parseBertConfig(json: unknown, source = 'config.json'): BertConfig {
  return parseBertLikeConfig(json, source, BERT_DEFAULTS);
}

/**
 * A config with BERT's field names validated, `defaults` (a family's: RoBERTa's pad_token_id 1, …)
 * filled in; model_type must be defaults.model_type.
 */
export function parseBertLikeConfig(json: unknown, source: string, defaults: BertConfig): BertConfig {
  const bad = (field: string, value: unknown, want: string): never => {
    throw new ConfigError(`${source}: field "${field}" is ${JSON.stringify(value)}; ${want}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`${source}: expected a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  const raw = json as Record<string, unknown>;
  if (raw['model_type'] !== undefined && raw['model_type'] !== defaults.model_type) bad('model_type', raw['model_type'], `this reader takes "${defaults.model_type}" models only`);
  const cfg = { ...defaults, ...raw, model_type: defaults.model_type } as BertConfig;
  for (const f of INT_FIELDS) {
    const v = cfg[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(f, v, 'it must be a positive integer');
  }
  if (cfg.hidden_size % cfg.num_attention_heads !== 0) {
    bad('num_attention_heads', cfg.num_attention_heads, `it must divide hidden_size (${cfg.hidden_size})`);
  }
  for (const f of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const) {
    const v = cfg[f];
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) bad(f, v, 'it must be a number in [0, 1)');
  }
  if (cfg.classifier_dropout !== undefined && cfg.classifier_dropout !== null && !(typeof cfg.classifier_dropout === 'number' && cfg.classifier_dropout >= 0 && cfg.classifier_dropout < 1)) {
    bad('classifier_dropout', cfg.classifier_dropout, 'it must be null or a number in [0, 1)');
  }
  for (const f of ['initializer_range', 'layer_norm_eps'] as const) {
    const v = cfg[f];
    if (typeof v !== 'number' || !(v > 0)) bad(f, v, 'it must be a positive number');
  }
  if (!HIDDEN_ACTS.includes(cfg.hidden_act)) bad('hidden_act', cfg.hidden_act, 'supported: "gelu" (exact, erf form), "gelu_new" and "gelu_pytorch_tanh" (tanh form), "relu"');
  if (cfg.position_embedding_type !== 'absolute') bad('position_embedding_type', cfg.position_embedding_type, 'only "absolute" is supported');
  if (typeof cfg.pad_token_id !== 'number' || !Number.isInteger(cfg.pad_token_id) || cfg.pad_token_id < 0 || cfg.pad_token_id >= cfg.vocab_size) {
    bad('pad_token_id', cfg.pad_token_id, `it must be an integer id below vocab_size (${cfg.vocab_size})`);
  }
  if (cfg.problem_type !== undefined && cfg.problem_type !== null && !['single_label_classification', 'multi_label_classification', 'regression'].includes(cfg.problem_type)) {
    bad('problem_type', cfg.problem_type, 'use "single_label_classification", "multi_label_classification" or "regression"');
  }
  if (cfg.id2label !== undefined) {
    if (typeof cfg.id2label !== 'object' || cfg.id2label === null) bad('id2label', cfg.id2label, 'it must map "0", "1", … to label names');
    const ids = Object.keys(cfg.id2label).map(Number).sort((a, b) => a - b);
    if (ids.some((id, i) => id !== i)) bad('id2label', cfg.id2label, 'its keys must be 0, 1, …, n−1');
    for (const [id, name] of Object.entries(cfg.id2label)) {
      if (typeof name !== 'string') bad(`id2label.${id}`, name, 'label names must be strings');
      if (cfg.label2id && cfg.label2id[name] !== Number(id)) bad(`label2id.${name}`, cfg.label2id[name], `it must be ${id}, as in id2label`);
    }
  }
  return cfg;
}

/** Number of labels of a classification config (HF: len(id2label), default 2). */
export const numLabels = (cfg: BertConfig): number => (cfg.id2label ? Object.keys(cfg.id2label).length : 2);

/** A small config for tests and demos. */
export function bertConfig(overrides: Partial<BertConfig>): BertConfig {
  return parseBertConfig({ ...BERT_DEFAULTS, ...overrides }, 'BertConfig');
}

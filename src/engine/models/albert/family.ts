/**
 * ALBERT in the family registry: HF's AlbertConfig fields and defaults (albert-xxlarge's shape:
 * embedding_size 128, hidden 4096, 64 heads, intermediate 16384, gelu_new, no dropout but the
 * classifier's 0.1; pad 0, bos 2, eos 3), `albert.*` keys with shared layer groups, `predictions`
 * with its decoder tied to the word embeddings, [MASK], token types. AlbertForPreTraining loads as
 * the masked LM; its sentence-order head (`sop_classifier`) is left out with a note.
 */
import { BERT_DEFAULTS, ConfigError, parseBertLikeConfig } from '../bert/config.js';
import { bertLikeCandidates } from '../bert/family.js';
import { ClassificationHead } from '../bert/heads.js';
import type { Family, ModelConfig } from '../model.js';
import { AlbertConfig, AlbertMLMHead, AlbertModel, groupOfLayer } from './modeling.js';

export const ALBERT_DEFAULTS: AlbertConfig = {
  ...BERT_DEFAULTS, model_type: 'albert',
  vocab_size: 30000, embedding_size: 128, hidden_size: 4096, num_hidden_layers: 12, num_hidden_groups: 1, num_attention_heads: 64,
  intermediate_size: 16384, inner_group_num: 1, hidden_act: 'gelu_new', hidden_dropout_prob: 0, attention_probs_dropout_prob: 0,
  max_position_embeddings: 512, type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12, classifier_dropout_prob: 0.1,
  pad_token_id: 0, bos_token_id: 2, eos_token_id: 3,
};

/** A validated AlbertConfig: BERT's checks, embedding_size, the sharing layout and classifier_dropout_prob. */
export function parseAlbertConfig(raw: Record<string, unknown>, source: string): AlbertConfig {
  const cfg = parseBertLikeConfig(raw, source, ALBERT_DEFAULTS) as AlbertConfig;
  const bad = (field: string, want: string): never => { throw new ConfigError(`${source}: field "${field}" is ${JSON.stringify(cfg[field])}; ${want}`); };
  const int = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  if (!int(cfg.embedding_size) || cfg.embedding_size < 1) bad('embedding_size', 'it must be a positive integer');
  if (!int(cfg.num_hidden_groups) || cfg.num_hidden_groups < 1 || cfg.num_hidden_groups > cfg.num_hidden_layers) {
    bad('num_hidden_groups', `it must be an integer from 1 to num_hidden_layers (${cfg.num_hidden_layers}): each group is run by at least one layer`);
  }
  if (!int(cfg.inner_group_num) || cfg.inner_group_num < 1) bad('inner_group_num', 'it must be a positive integer');
  const d = cfg.classifier_dropout_prob;
  if (typeof d !== 'number' || !(d >= 0 && d < 1)) bad('classifier_dropout_prob', 'it must be a number in [0, 1)');
  return cfg;
}

/**
 * What freeze_layers k freezes: the layer groups whose every layer is among the first k. Layers
 * share parameters, so freezing one layer's would freeze every layer of its group: with ALBERT's
 * usual single group, any k below num_hidden_layers freezes no layer parameters at all, and k =
 * num_hidden_layers freezes them all. A cfg-less call assumes ALBERT's defaults (one group).
 */
export function albertFrozenGroups(layers: number, cfg: ModelConfig = ALBERT_DEFAULTS): number[] {
  const c = cfg as AlbertConfig;
  return Array.from({ length: c.num_hidden_groups }, (_, g) => g).filter((g) =>
    Array.from({ length: c.num_hidden_layers }, (_, l) => l).every((l) => groupOfLayer(c, l) !== g || l < layers));
}

export const ALBERT_FAMILY: Family = {
  modelTypes: ['albert'],
  names: { mlm: 'AlbertForMaskedLM', cls: 'AlbertForSequenceClassification', multi: 'AlbertMultiTask', mlmAliases: ['AlbertForPreTraining'] },
  parseConfig: parseAlbertConfig,
  configJSON: (cfg, architecture) => ({ ...cfg, architectures: [architecture], model_type: 'albert' }),
  maskToken: '[MASK]',
  hasTokenTypes: true,
  maxLength: (cfg) => cfg.max_position_embeddings,
  prefix: 'albert.',
  encoder: (ps, cfg, opts) => ps.scope('albert', () => new AlbertModel(ps, cfg, opts)),
  lmHead: (ps, cfg, enc) => new AlbertMLMHead(ps, cfg, (enc as AlbertModel).embeddings.word.weight),
  // BERT's head (dropout, `classifier` on the pooled output) with ALBERT's dropout field.
  clsHead: (ps, cfg, labels, problemType) => new ClassificationHead(ps, { ...cfg, classifier_dropout: (cfg as AlbertConfig).classifier_dropout_prob }, labels, problemType),
  candidates: bertLikeCandidates('albert.'),
  // AlbertForMaskedLM has no pooler: a classifier made from it gets a new one, as in transformers.
  optional: (name) => name.startsWith('albert.pooler.'),
  tied: { decoder: 'predictions.decoder.weight', word: 'albert.embeddings.word_embeddings.weight', bias: 'predictions.bias' },
  // predictions.decoder.bias is predictions.bias. AlbertForPreTraining's sop_classifier (and, in a masked LM, its
  // pooler) are not ignored: the loader lists them as "not used by this model".
  ignored: [/^predictions\.decoder\.(weight|bias)$/, /(^|\.)embeddings\.(position_ids|token_type_ids)$/],
  // Every applied layer gives an attention map: num_hidden_layers × inner_group_num of them.
  attentionMaps: (cfg) => cfg.num_hidden_layers * ((cfg as AlbertConfig).inner_group_num ?? 1),
  freezePrefixes: (embeddings, layers, cfg) => [
    ...(embeddings ? ['albert.embeddings.', 'albert.encoder.embedding_hidden_mapping_in.'] : []),
    ...albertFrozenGroups(layers, cfg).map((g) => `albert.encoder.albert_layer_groups.${g}.`),
  ],
};

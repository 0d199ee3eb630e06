/**
 * ELECTRA in the family registry: HF's ElectraConfig fields and defaults (embedding_size 128,
 * hidden_size 256, 4 heads: ELECTRA-small's shape; the summary_* fields kept as they are), `electra.*`
 * keys, the generator's `generator_lm_head` tied to the word embeddings, [MASK], token types. The
 * discriminator (ElectraForPreTraining) is what people fine-tune: its encoder loads into either
 * head; on its own it runs only as modeling.ts's ElectraForPreTraining.
 */
import { BERT_DEFAULTS, ConfigError, parseBertLikeConfig } from '../bert/config.js';
import { bertLikeCandidates } from '../bert/family.js';
import type { Family } from '../model.js';
import { ElectraConfig, ElectraGeneratorHead, ElectraModel } from './modeling.js';
import { RobertaClassificationHead } from '../roberta/modeling.js';
import { activate } from '../bert/modeling.js';

export const ELECTRA_DEFAULTS: ElectraConfig = {
  ...BERT_DEFAULTS, model_type: 'electra',
  embedding_size: 128, hidden_size: 256, num_hidden_layers: 12, num_attention_heads: 4, intermediate_size: 1024,
  // Read by HF's ElectraSequenceSummary (multiple choice) only; written back unchanged.
  summary_type: 'first', summary_use_proj: true, summary_activation: 'gelu', summary_last_dropout: 0.1,
};

/** A validated ElectraConfig: BERT's checks and embedding_size. */
export function parseElectraConfig(raw: Record<string, unknown>, source: string): ElectraConfig {
  const cfg = parseBertLikeConfig(raw, source, ELECTRA_DEFAULTS) as ElectraConfig;
  const e = cfg.embedding_size;
  if (typeof e !== 'number' || !Number.isInteger(e) || e < 1) throw new ConfigError(`${source}: field "embedding_size" is ${JSON.stringify(e)}; it must be a positive integer`);
  return cfg;
}

export const ELECTRA_FAMILY: Family = {
  modelTypes: ['electra'],
  names: { mlm: 'ElectraForMaskedLM', cls: 'ElectraForSequenceClassification', multi: 'ElectraMultiTask' },
  parseConfig: parseElectraConfig,
  configJSON: (cfg, architecture) => ({ ...cfg, architectures: [architecture], model_type: 'electra' }),
  maskToken: '[MASK]',
  hasTokenTypes: true,
  maxLength: (cfg) => cfg.max_position_embeddings,
  prefix: 'electra.',
  encoder: (ps, cfg) => ps.scope('electra', () => new ElectraModel(ps, cfg)),
  lmHead: (ps, cfg, enc) => new ElectraGeneratorHead(ps, cfg, (enc as ElectraModel).embeddings.word.weight),
  // ElectraClassificationHead: RoBERTa's with get_activation("gelu") (the exact GELU, whatever hidden_act says) in place of tanh.
  clsHead: (ps, cfg, labels, problemType) => new RobertaClassificationHead(ps, cfg, labels, problemType, (x) => activate('gelu', x)),
  candidates: bertLikeCandidates('electra.'),
  optional: () => false,
  tied: { decoder: 'generator_lm_head.weight', word: 'electra.embeddings.word_embeddings.weight', bias: 'generator_lm_head.bias' },
  // The other head of a checkpoint (discriminator_predictions, generator_predictions) is left out with a note.
  ignored: [/^generator_lm_head\.weight$/, /(^|\.)embeddings\.(position_ids|token_type_ids)$/],
  freezePrefixes: (embeddings, layers) => [...(embeddings ? ['electra.embeddings.', 'electra.embeddings_project.'] : []), ...Array.from({ length: layers }, (_, i) => `electra.encoder.layer.${i}.`)],
  fineTuneOnly: {
    ElectraForPreTraining: 'ElectraForPreTraining is the ELECTRA discriminator (replaced-token detection), which prediction and evaluation do not run: '
      + 'fine-tune it first (task "classification" with "model_name_or_path" set to this folder: its encoder is kept, the classifier is new) and use the folder that run writes',
  },
};

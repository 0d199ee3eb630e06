/**
 * DistilBERT in the family registry: DistilBertConfig's own fields and defaults (config.ts),
 * `distilbert.*` keys, `vocab_projector` tied to the word embeddings, [MASK], no token types, no
 * pooler. Sinusoidal position embeddings are stored in the file like any weight, and never trained.
 */
import { bertLikeCandidates } from '../bert/family.js';
import type { Family } from '../model.js';
import { DistilBertConfig, distilBertConfigJSON, parseDistilBertConfig } from './config.js';
import { DistilBertClassificationHead, DistilBertLMHead, DistilBertModel } from './modeling.js';

export const DISTILBERT_FAMILY: Family = {
  modelTypes: ['distilbert'],
  names: { mlm: 'DistilBertForMaskedLM', cls: 'DistilBertForSequenceClassification', multi: 'DistilBertMultiTask' },
  parseConfig: parseDistilBertConfig,
  configJSON: distilBertConfigJSON,
  maskToken: '[MASK]',
  hasTokenTypes: false,
  maxLength: (cfg) => cfg.max_position_embeddings,
  prefix: 'distilbert.',
  encoder: (ps, cfg) => ps.scope('distilbert', () => new DistilBertModel(ps, cfg as DistilBertConfig)),
  lmHead: (ps, cfg, enc) => new DistilBertLMHead(ps, cfg as DistilBertConfig, (enc as DistilBertModel).embeddings.word.weight),
  clsHead: (ps, cfg, labels, problemType) => new DistilBertClassificationHead(ps, cfg as DistilBertConfig, labels, problemType),
  candidates: bertLikeCandidates('distilbert.'),
  optional: () => false,
  tied: { decoder: 'vocab_projector.weight', word: 'distilbert.embeddings.word_embeddings.weight', bias: 'vocab_projector.bias' },
  ignored: [/^vocab_projector\.weight$/, /(^|\.)embeddings\.position_ids$/],
  // Sinusoidal position embeddings are fixed (create_sinusoidal_embeddings set requires_grad=False up to transformers 4;
  // 5.x copies the table into a trainable weight, which the DistilBERT recipe never meant): always frozen here.
  freezePrefixes: (embeddings, layers, cfg) => [
    ...(embeddings ? ['distilbert.embeddings.'] : (cfg as DistilBertConfig | undefined)?.sinusoidal_pos_embds ? ['distilbert.embeddings.position_embeddings.'] : []),
    ...Array.from({ length: layers }, (_, i) => `distilbert.transformer.layer.${i}.`),
  ],
};

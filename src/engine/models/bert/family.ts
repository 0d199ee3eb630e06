/**
 * BERT in the family registry: HF's BertConfig fields and defaults, `bert.*` keys (old files:
 * LayerNorm gamma/beta, no `bert.` prefix), the pooler (optional in a file: BertForMaskedLM has
 * none), `cls.predictions.decoder` tied to the word embeddings, [MASK], token types.
 */
import { BERT_DEFAULTS, BertConfig, parseBertLikeConfig } from './config.js';
import { BertModel } from './modeling.js';
import { BertForMaskedLM, BertForSequenceClassification, ClassificationHead, MaskedLMHead } from './heads.js';
import type { Family } from '../model.js';

/** HF names a file may use for our parameter `name`: old LayerNorm gamma/beta, and without the encoder prefix. */
export function bertLikeCandidates(prefix: string): (name: string) => string[] {
  return (name) => {
    const out = [name];
    const legacy = name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    if (legacy !== name) out.push(legacy);
    for (const n of [...out]) if (n.startsWith(prefix)) out.push(n.slice(prefix.length));
    return out;
  };
}

export const BERT_FAMILY: Family = {
  modelTypes: ['bert'],
  names: { mlm: 'BertForMaskedLM', cls: 'BertForSequenceClassification', multi: 'BertMultiTask', mlmAliases: ['BertForPreTraining'] },
  parseConfig: (raw, source) => parseBertLikeConfig(raw, source, BERT_DEFAULTS),
  configJSON: (cfg, architecture) => ({ ...cfg, architectures: [architecture], model_type: 'bert' }),
  maskToken: '[MASK]',
  hasTokenTypes: true,
  maxLength: (cfg) => cfg.max_position_embeddings,
  prefix: 'bert.',
  encoder: (ps, cfg, opts) => ps.scope('bert', () => new BertModel(ps, cfg as BertConfig, opts)),
  lmHead: (ps, cfg, enc) => new MaskedLMHead(ps, cfg, (enc as BertModel).embeddings.word.weight),
  clsHead: (ps, cfg, labels, problemType) => new ClassificationHead(ps, cfg, labels, problemType),
  candidates: bertLikeCandidates('bert.'),
  optional: (name) => name.startsWith('bert.pooler.'),
  tied: { decoder: 'cls.predictions.decoder.weight', word: 'bert.embeddings.word_embeddings.weight', bias: 'cls.predictions.bias' },
  ignored: [/^cls\.predictions\.decoder\.(weight|bias)$/, /(^|\.)embeddings\.position_ids$/],
  freezePrefixes: (embeddings, layers) => [...(embeddings ? ['bert.embeddings.'] : []), ...Array.from({ length: layers }, (_, i) => `bert.encoder.layer.${i}.`)],
  create: (kind, cfg) => (kind === 'mlm' ? new BertForMaskedLM(cfg) : new BertForSequenceClassification(cfg)),
};

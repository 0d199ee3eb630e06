/**
 * RoBERTa and XLM-RoBERTa in the family registry: one architecture, two model_type values. HF's
 * RobertaConfig / XLMRobertaConfig defaults (pad_token_id 1, bos 0, eos 2), `roberta.*` keys,
 * `lm_head.decoder` tied to the word embeddings, <mask>, no token types, and inputs up to
 * max_position_embeddings − padding_idx − 1 tokens (positions start after padding_idx).
 */
import { BERT_DEFAULTS, BertConfig, parseBertLikeConfig } from '../bert/config.js';
import { bertLikeCandidates } from '../bert/family.js';
import type { Family } from '../model.js';
import { RobertaClassificationHead, RobertaLMHead, RobertaModel } from './modeling.js';

function robertaFamily(modelType: string, prefix: 'Roberta' | 'XLMRoberta', vocabSize: number): Family {
  const defaults: BertConfig = { ...BERT_DEFAULTS, model_type: modelType, vocab_size: vocabSize, pad_token_id: 1, bos_token_id: 0, eos_token_id: 2 };
  return {
    modelTypes: [modelType],
    names: { mlm: `${prefix}ForMaskedLM`, cls: `${prefix}ForSequenceClassification`, multi: `${prefix}MultiTask` },
    parseConfig: (raw, source) => parseBertLikeConfig(raw, source, defaults),
    configJSON: (cfg, architecture) => ({ ...cfg, architectures: [architecture], model_type: modelType }),
    maskToken: '<mask>',
    hasTokenTypes: false,
    maxLength: (cfg) => cfg.max_position_embeddings - cfg.pad_token_id - 1,
    prefix: 'roberta.',
    encoder: (ps, cfg) => ps.scope('roberta', () => new RobertaModel(ps, cfg)),
    lmHead: (ps, cfg, enc) => new RobertaLMHead(ps, cfg, (enc as RobertaModel).embeddings.word.weight),
    clsHead: (ps, cfg, labels, problemType) => new RobertaClassificationHead(ps, cfg, labels, problemType),
    candidates: bertLikeCandidates('roberta.'),
    optional: () => false,
    tied: { decoder: 'lm_head.decoder.weight', word: 'roberta.embeddings.word_embeddings.weight', bias: 'lm_head.bias' },
    // lm_head.decoder.bias is lm_head.bias; a pooler (RobertaModel saved alone) is not used by these heads.
    ignored: [/^lm_head\.decoder\.(weight|bias)$/, /(^|\.)embeddings\.position_ids$/, /^(roberta\.)?pooler\./],
    freezePrefixes: (embeddings, layers) => [...(embeddings ? ['roberta.embeddings.'] : []), ...Array.from({ length: layers }, (_, i) => `roberta.encoder.layer.${i}.`)],
  };
}

export const ROBERTA_FAMILY = robertaFamily('roberta', 'Roberta', 50265);
export const XLM_ROBERTA_FAMILY = robertaFamily('xlm-roberta', 'XLMRoberta', 30522);

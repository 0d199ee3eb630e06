/** The model class a config.json asks for (its `architectures`), as transformers' Auto classes choose. */
import { BertConfig } from './config.js';
import { BertForMaskedLM, BertForSequenceClassification } from './heads.js';
import { ConfigError } from './config.js';

export type BertHeadModel = BertForMaskedLM | BertForSequenceClassification;

export function modelForConfig(cfg: BertConfig, want?: 'BertForMaskedLM' | 'BertForSequenceClassification'): BertHeadModel {
  const arch = want ?? cfg.architectures?.[0] ?? 'BertForMaskedLM';
  switch (arch) {
    case 'BertForMaskedLM':
    case 'BertForPreTraining':
      return new BertForMaskedLM(cfg);
    case 'BertForSequenceClassification':
      return new BertForSequenceClassification(cfg);
    default:
      throw new ConfigError(`config.json: field "architectures" is ${JSON.stringify(cfg.architectures)}; BERT Lab supports BertForMaskedLM and BertForSequenceClassification`);
  }
}

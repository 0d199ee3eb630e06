/** The model class a config.json asks for (its `architectures`), as transformers' Auto classes choose: any registered family. */
import { BertConfig } from './config.js';
import { HeadModel } from '../model.js';
import { modelForConfig as forConfig } from '../registry.js';

export type BertHeadModel = HeadModel;

const KIND: Record<string, 'mlm' | 'cls'> = { BertForMaskedLM: 'mlm', BertForSequenceClassification: 'cls' };

export function modelForConfig(cfg: BertConfig, want?: 'BertForMaskedLM' | 'BertForSequenceClassification' | 'mlm' | 'cls'): HeadModel {
  return forConfig(cfg, want ? KIND[want] ?? (want as 'mlm' | 'cls') : undefined);
}

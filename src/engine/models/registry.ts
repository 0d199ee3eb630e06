/**
 * The model families BERT Lab reads and writes, by config.json's model_type. Everything outside
 * src/engine/models reaches a family through here and the interface in model.ts; an unknown
 * model_type is an error that lists the supported ones.
 */
import { ConfigError } from './bert/config.js';
import { BERT_FAMILY } from './bert/family.js';
import { ROBERTA_FAMILY, XLM_ROBERTA_FAMILY } from './roberta/family.js';
import { DISTILBERT_FAMILY } from './distilbert/family.js';
import { ELECTRA_FAMILY } from './electra/family.js';
import { ALBERT_FAMILY } from './albert/family.js';
import { AnyModel, Family, HeadModel, MaskedLMModel, ModelConfig, SequenceClassificationModel } from './model.js';

/** Every family, one per line: a new family adds its import above and its line here. */
export const FAMILIES: readonly Family[] = [
  BERT_FAMILY,
  ROBERTA_FAMILY,
  XLM_ROBERTA_FAMILY,
  DISTILBERT_FAMILY,
  ELECTRA_FAMILY,
  ALBERT_FAMILY,
];
export const SUPPORTED_MODEL_TYPES: readonly string[] = FAMILIES.flatMap((f) => f.modelTypes);

/** The family of `modelType` (absent: "bert", as BERT Lab's own early files). */
export function familyOf(modelType: unknown, source = 'config.json'): Family {
  const t = modelType ?? 'bert';
  const f = FAMILIES.find((x) => x.modelTypes.includes(t as string));
  if (!f) throw new ConfigError(`${source}: field "model_type" is ${JSON.stringify(modelType)}; BERT Lab supports ${SUPPORTED_MODEL_TYPES.map((s) => `"${s}"`).join(', ')}`);
  return f;
}

/** A validated config of any supported family, with that family's defaults filled in. */
export function parseModelConfig(json: unknown, source = 'config.json'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`${source}: expected a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  const raw = json as Record<string, unknown>;
  return familyOf(raw['model_type'], source).parseConfig(raw, source);
}

export const familyOfConfig = (cfg: ModelConfig): Family => familyOf(cfg.model_type);

/** The model class a config.json asks for (its `architectures`), as transformers' Auto classes choose. */
export function modelForConfig(cfg: ModelConfig, want?: 'mlm' | 'cls'): HeadModel {
  const family = familyOfConfig(cfg);
  const arch = cfg.architectures?.[0];
  let kind: 'mlm' | 'cls';
  if (want) kind = want;
  else if (arch === undefined || arch === family.names.mlm || family.names.mlmAliases?.includes(arch)) kind = 'mlm';
  else if (arch === family.names.cls) kind = 'cls';
  else {
    const why = family.fineTuneOnly?.[arch];
    throw new ConfigError(`config.json: field "architectures" is ${JSON.stringify(cfg.architectures)}; BERT Lab supports ${family.names.mlm} and ${family.names.cls} for model_type "${cfg.model_type}"${why ? `; ${why}` : ''}`);
  }
  return family.create ? family.create(kind, cfg) : kind === 'mlm' ? new MaskedLMModel(family, cfg) : new SequenceClassificationModel(family, cfg);
}

/** The mask token of a model whose tokenizer files name none. */
export const defaultMaskToken = (m: AnyModel): string => m.family.maskToken;

/**
 * A valid training configuration completed for the trainer: the field table's defaults
 * (TrainingArguments' and BERT Lab's), the defaults HF derives from other fields
 * (TrainingArguments.__post_init__, EarlyStoppingCallback), and paths resolved against the
 * configuration file's folder (model_name_or_path and tokenizer_name stay Hub ids unless such a
 * path exists). Applied once, after checking: the checker and the rules never see
 * a default as if the user had written it.
 */
import { existsSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { looksLikeHubId } from '../hub/resolve.js';
import type { ParsedTrainingConfig, TaskConfig, TrainingConfig } from './config-types.js';
import { type Field, TRAINING_FIELDS, accepts } from './config-fields.js';
import { DEFAULT_SPLIT_PERCENTAGE, bestMetricKey } from './config-rules.js';

/** A value completed by its field: defaults filled into objects, relative paths resolved. */
function complete(v: unknown, f: Field, baseDir: string): unknown {
  switch (f.type) {
    case 'string': {
      if (!f.path || typeof v !== 'string' || isAbsolute(v)) return v;
      const p = resolve(baseDir, v);
      // transformers' rule: an existing path wins; else a Hub-id-shaped name stays the id (a name
      // that is neither resolves, so the error names the missing folder).
      return f.hubId && !existsSync(p) && looksLikeHubId(v) ? v : p;
    }
    case 'array':
      return Array.isArray(v) ? v.map((item) => complete(item, f.items, baseDir)) : v;
    case 'map':
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, item]) => [k, complete(item, f.values, baseDir)]));
    case 'anyOf': {
      const alt = f.anyOf.find((a) => accepts(a, v));
      return alt ? complete(v, alt, baseDir) : v;
    }
    case 'object':
      return completeObject(v as Record<string, unknown>, f.properties, baseDir);
    default:
      return v;
  }
}

/** The fields as written (in their order), then the defaults of those left out (in the table's order). */
function completeObject(v: Record<string, unknown>, fields: Readonly<Record<string, Field>>, baseDir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, item] of Object.entries(v)) out[k] = Object.hasOwn(fields, k) ? complete(item, fields[k]!, baseDir) : item;
  for (const [k, f] of Object.entries(fields)) if (!Object.hasOwn(v, k) && f.default !== undefined) out[k] = f.default;
  return out;
}

/** validation_split_percentage's default, where no validation_file is given. */
function splitDefault(t: Pick<TaskConfig, 'validation_file' | 'validation_split_percentage'>): void {
  if (t.validation_file === undefined) t.validation_split_percentage ??= DEFAULT_SPLIT_PERCENTAGE;
}

/**
 * A valid configuration (one checkTrainingConfig reports no errors for) with every default
 * filled in and relative paths resolved against `baseDir`. Returns a new object; `cfg` is left
 * as it is. What the user wrote always wins over a default.
 */
export function applyTrainingDefaults(cfg: TrainingConfig, baseDir: string): ParsedTrainingConfig {
  const c = completeObject(cfg as unknown as Record<string, unknown>, TRAINING_FIELDS, baseDir) as unknown as ParsedTrainingConfig;
  // The table's model_config defaults are bert-base's; another family's parseConfig fills its own (DistilBERT: n_layers 6, …).
  if (cfg.model_config && (cfg.model_config.model_type ?? 'bert') !== 'bert') c.model_config = { ...cfg.model_config };
  // A time budget without a step or epoch limit: only the budget ends the run (as Lightning's max_time with no max_epochs).
  if (cfg.max_time !== undefined && cfg.num_train_epochs === undefined && (cfg.max_steps ?? -1) <= 0) delete c.num_train_epochs;
  if (c.tasks) c.tasks.forEach(splitDefault);
  else if (c.train_file !== undefined) splitDefault(c);
  // TrainingArguments.__post_init__: eval_steps defaults to logging_steps.
  if (c.eval_strategy === 'steps' && c.eval_steps === undefined) c.eval_steps = c.logging_steps;
  if (c.early_stopping_patience !== undefined) c.early_stopping_threshold ??= 0;
  // The best model is picked by eval_loss unless told otherwise; HF adds the eval_ prefix.
  if (c.metric_for_best_model === undefined && (c.load_best_model_at_end || c.early_stopping_patience !== undefined)) c.metric_for_best_model = 'eval_loss';
  if (c.metric_for_best_model !== undefined) {
    c.metric_for_best_model = bestMetricKey(c.metric_for_best_model);
    c.greater_is_better ??= !c.metric_for_best_model.endsWith('loss');
  }
  if (c.length_buckets === undefined) {
    const b: number[] = [];
    for (let n = 32; n < c.max_seq_length; n += 32) b.push(n);
    c.length_buckets = [...b, c.max_seq_length];
  }
  c.run_name ??= basename(c.output_dir ?? '');
  return c;
}

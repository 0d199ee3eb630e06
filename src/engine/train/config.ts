/**
 * The training configuration file: JSON or YAML text → a validated TrainingConfig with Hugging
 * Face TrainingArguments' defaults. The public entry; the work is done in four steps, each its
 * own module:
 *   config-source.ts    the text → a value, with the line and column of every key;
 *   config-check.ts     the value against the field table (config-fields.ts, which also makes the
 *                       JSON Schema: scripts/gen-config-schema.ts → schemas/);
 *   config-rules.ts     the rules across fields;
 *   config-defaults.ts  the defaults, filled into a configuration found valid.
 * Every problem is collected as a diagnostic with its line and column (1-based; VS Code ranges
 * are 0-based) and the field, value and what to do; parseTrainingConfig throws them as one
 * TrainingConfigError.
 */
import { dirname, resolve } from 'node:path';
import type { ParsedTrainingConfig, TrainingConfig } from './config-types.js';
import { type ConfigDiagnostic, readJson, readYaml } from './config-source.js';
import { SCHEMA_KEY, TRAINING_FIELDS, kindOf } from './config-fields.js';
import { Checker, TrainingConfigError, fmt } from './config-check.js';
import { checkRules } from './config-rules.js';
import { applyTrainingDefaults } from './config-defaults.js';
import { withRecipe } from './recipes.js';

export type { ConfigDiagnostic, ParsedTrainingConfig };
export { type Field, type Spec, BERT_FIELDS, DATASET_FIELDS, IGNORED_HF_FIELDS, SCHEMA_KEY, TASK_FIELDS, TOKENIZER_FIELDS, TRAINING_FIELDS } from './config-fields.js';
export { TrainingConfigError, editDistance, suggest } from './config-check.js';
export { availableMetrics, tasksOf } from './config-rules.js';
export { applyTrainingDefaults } from './config-defaults.js';

/**
 * Checks a configuration without throwing: the config (when there are no errors) and every
 * diagnostic, errors and warnings, in file order. YAML for .yaml/.yml files, JSON otherwise.
 * The checks see only what the file says; the defaults are filled in after them.
 */
export function checkTrainingConfig(text: string, file: string): { config?: ParsedTrainingConfig; diagnostics: ConfigDiagnostic[] } {
  text = text.replace(/^\uFEFF/, ' ');
  const yaml = /\.ya?ml$/i.test(file) || (!/\.json$/i.test(file) && !/^\s*[{[]/.test(text));
  const src = yaml ? readYaml(text) : readJson(text);
  const sort = (ds: ConfigDiagnostic[]) => ds.sort((a, b) => a.line - b.line || a.column - b.column);
  if (src.diagnostics.some((d) => d.severity === 'error')) return { diagnostics: sort(src.diagnostics) };
  const ck = new Checker(src.positions);
  ck.diagnostics.push(...src.diagnostics);
  const raw = src.value;
  if (kindOf(raw) !== 'object') {
    ck.error('', raw === null || raw === undefined ? 'the file is empty; a training configuration is an object with fields such as output_dir, task and train_file' : `the file holds ${kindOf(raw) === 'array' ? 'a list' : `a ${kindOf(raw)}`}; a training configuration is an object with fields such as output_dir`);
    return { diagnostics: sort(ck.diagnostics) };
  }
  // A named recipe's values go under what the file writes (recipes.ts); the checker then sees one configuration.
  const rawObj = withRecipe(raw as Record<string, unknown>);
  if (rawObj[SCHEMA_KEY] !== undefined && typeof rawObj[SCHEMA_KEY] !== 'string') ck.error(SCHEMA_KEY, `${SCHEMA_KEY} is ${fmt(rawObj[SCHEMA_KEY])}; it must be a string (the schema's path or URL)`);
  const checked = ck.object(rawObj, TRAINING_FIELDS, '', [SCHEMA_KEY]) as unknown as TrainingConfig;
  checkRules(checked, rawObj, ck);
  const diagnostics = sort(ck.diagnostics);
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  return { config: applyTrainingDefaults(checked, dirname(resolve(file))), diagnostics };
}

/**
 * The validated configuration with defaults filled in and paths resolved against the file's
 * folder. Throws one TrainingConfigError listing every error; warnings go to `onWarning`.
 */
export function parseTrainingConfig(text: string, file: string, opts: { onWarning?: (d: ConfigDiagnostic) => void } = {}): ParsedTrainingConfig {
  const { config, diagnostics } = checkTrainingConfig(text, file);
  if (!config) throw new TrainingConfigError(file, diagnostics);
  for (const d of diagnostics) opts.onWarning?.(d);
  return config;
}

/**
 * What a training configuration trains, and the rules across its fields: one way to say what to
 * train (task + train_file, or tasks) and which model, and TrainingArguments.__post_init__'s rules
 * for evaluation, checkpoints and the best model. The rules read the checked config (the user's
 * right values) and the raw one (what was written at all); where a rule needs a field the user
 * left out, it reads the table's default, without writing it into the config.
 */
import { RECIPES } from './recipes.js';
import { ConfigError } from '../models/bert/config.js';
import { parseModelConfig } from '../models/registry.js';
import type { TaskConfig, TrainingConfig } from './config-types.js';
import { PROBLEM_TYPES, TRAINING_FIELDS } from './config-fields.js';
import { type Checker, fmt, suggest } from './config-check.js';
import { join } from './config-source.js';
import { METRIC_NAMES, type MetricTask, metricKey } from './metrics.js';
import { validateRevision } from '../hub/ids.js';
import type { ElectraConfig } from '../models/electra/modeling.js';
import { generatorConfig } from '../models/electra/pretraining.js';
import { DURATION_FORMS, parseDuration } from './duration.js';

/** The task list of a configuration: `tasks`, or the single task (named by its kind). */
export function tasksOf(cfg: TrainingConfig): TaskConfig[] {
  if (cfg.tasks) return cfg.tasks;
  if (!cfg.task || cfg.train_file === undefined) return [];
  const t: TaskConfig = { name: cfg.task, kind: cfg.task, train_file: cfg.train_file };
  if (cfg.validation_file !== undefined) t.validation_file = cfg.validation_file;
  if (cfg.validation_split_percentage !== undefined) t.validation_split_percentage = cfg.validation_split_percentage;
  if (cfg.problem_type !== undefined) t.problem_type = cfg.problem_type;
  return [t];
}

const metricTasks = (t: Pick<TaskConfig, 'kind' | 'problem_type'>): MetricTask[] => (t.kind === 'mlm' || t.kind === 'electra' ? [t.kind] : t.problem_type ? [t.problem_type] : [...PROBLEM_TYPES]);

/** The eval_* metrics a configuration's evaluation reports (what metric_for_best_model may name). */
export function availableMetrics(cfg: TrainingConfig): string[] {
  const names = (t: Pick<TaskConfig, 'kind' | 'problem_type'>) => [...new Set(metricTasks(t).flatMap((m) => METRIC_NAMES[m]))];
  if (cfg.tasks) return ['eval_loss', ...cfg.tasks.filter(Boolean).flatMap((t) => names(t).map((n) => metricKey(n, t.name)))];
  return cfg.task ? names({ kind: cfg.task, problem_type: cfg.problem_type }).map((n) => metricKey(n)) : ['eval_loss'];
}

/** metric_for_best_model as the trainer names it: with the eval_ prefix HF adds. */
export const bestMetricKey = (name: string): string => (name.startsWith('eval_') ? name : `eval_${name}`);

/** The default validation split (a percentage of train_file) when no validation_file is given. */
export const DEFAULT_SPLIT_PERCENTAGE = 10;

const LOWER_IS_BETTER = /(loss|perplexity|mse|mae)$/;

/**
 * Checks the rules across fields. `c` is the checked configuration (the fields the user wrote
 * right, without defaults); `raw` is what the user wrote. A field written but wrong already has
 * its error: the rules read it as unknown (undefined) and report nothing further about it.
 */
export function checkRules(c: TrainingConfig, raw: Record<string, unknown>, ck: Checker): void {
  const has = (k: string) => Object.hasOwn(raw, k);
  /** A field's value: as written when right, the table's default when left out, undefined when wrong. */
  const setting = <K extends keyof TrainingConfig>(k: K): TrainingConfig[K] | undefined => (Object.hasOwn(c, k) ? c[k] : has(k) ? undefined : TRAINING_FIELDS[k].default as TrainingConfig[K]);

  // A recipe is made for one task.
  const recipe = c.recipe !== undefined ? RECIPES[c.recipe] : undefined;
  if (recipe && (c.task !== recipe.task || c.tasks !== undefined)) ck.error('recipe', `recipe "${c.recipe}" is made for task "${recipe.task}" alone; this configuration trains ${c.tasks !== undefined ? 'several tasks' : `task ${fmt(c.task)}`}: remove "recipe" or set "task": "${recipe.task}"`);

  // What to train: `tasks`, or `task` with `train_file`.
  const single = ['task', 'train_file', 'validation_file', 'validation_split_percentage', 'problem_type'].filter(has);
  if (has('tasks')) {
    for (const k of single) ck.error(k, `${k} is set next to tasks; with tasks, each entry has its own ${k === 'task' ? 'kind' : k} (tasks[i].${k === 'task' ? 'kind' : k}) — move it there`);
    const seen = new Map<string, number>();
    (c.tasks ?? []).forEach((t, i) => {
      if (!t) return;
      if (t.name !== undefined && seen.has(t.name)) ck.error(`tasks[${i}].name`, `tasks[${i}].name is ${fmt(t.name)}, already the name of tasks[${seen.get(t.name)}]; task names must differ (they name heads and metrics)`);
      seen.set(t.name, i);
      if (t.kind === 'mlm' && t.problem_type !== undefined) ck.error(`tasks[${i}].problem_type`, `tasks[${i}].problem_type is ${fmt(t.problem_type)}, but the task's kind is "mlm"; remove it`);
      checkSplit(t, `tasks[${i}]`, ck);
    });
  } else if (!has('task') || !has('train_file')) {
    if (has('task')) ck.error('task', `train_file is missing: task ${fmt(raw['task'])} needs its training data — set train_file to a file or folder`);
    else if (has('train_file')) ck.error('train_file', 'task is missing: say what train_file trains — task: "mlm" or "classification" (or use tasks for several)');
    else ck.error('', 'nothing to train: set task ("mlm" or "classification") and train_file, or a tasks list');
  } else {
    if (c.task === 'mlm' && c.problem_type !== undefined) ck.error('problem_type', `problem_type is ${fmt(c.problem_type)}, but task is "mlm"; remove it`);
    checkSplit(c, '', ck);
  }

  checkElectra(c, has, ck);

  // Which model: a checkpoint to fine-tune, or a new one with a vocabulary.
  if (has('model_name_or_path')) {
    if (has('model_config')) ck.error('model_config', 'model_config is set next to model_name_or_path; model_config builds a new model, model_name_or_path loads one — keep one of them');
    if (has('train_tokenizer')) ck.error('train_tokenizer', 'train_tokenizer is set next to model_name_or_path; a trained model keeps its vocabulary — remove train_tokenizer');
  } else if (!has('model_config')) {
    ck.error('', 'no model: set model_name_or_path (a checkpoint folder or Hugging Face Hub id, to fine-tune) or model_config (BertConfig fields, to train from scratch; {} gives bert-base)');
  } else if (!has('tokenizer_name') && !has('train_tokenizer')) {
    ck.error('model_config', 'a model from scratch needs a vocabulary: set tokenizer_name (a tokenizer folder, tokenizer.json or Hub id) or train_tokenizer ({"vocab_size": 30522})');
  }
  if (has('tokenizer_name') && has('train_tokenizer')) ck.error('train_tokenizer', 'train_tokenizer is set next to tokenizer_name; use the given tokenizer or train one, not both');
  if (c.model_revision !== undefined) {
    try {
      validateRevision(c.model_revision);
    } catch (e) {
      ck.error('model_revision', `model_revision is ${fmt(c.model_revision)}: ${(e as Error).message.replace(/^revision "[^"]*" is not usable: /, '')}`);
    }
    if (!has('model_name_or_path') && !has('tokenizer_name')) ck.warn('model_revision', 'model_revision is ignored: it picks the revision of a Hugging Face Hub id in model_name_or_path or tokenizer_name, and neither is set');
  }
  const mc = c.model_config;
  const maxSeqLength = setting('max_seq_length');
  if (mc && !ck.hasErrorsUnder('model_config')) {
    if (mc.vocab_size !== undefined) ck.warn('model_config.vocab_size', `model_config.vocab_size (${mc.vocab_size}) is ignored: the vocabulary size comes from the tokenizer`);
    let parsed: { num_hidden_layers: number } | undefined;
    try {
      // parseBertConfig fills in the same bert-base defaults as the table's model_config fields; another family its own.
      parsed = parseModelConfig({ ...mc, vocab_size: mc.vocab_size ?? 30522 }, 'model_config');
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const m = /^model_config: field "([^"]+)" is (.*)$/s.exec(e.message);
      const field = m ? `model_config.${m[1]}` : 'model_config';
      ck.error(field, m ? `${field} is ${m[2]}` : e.message);
    }
    const mpe = mc.max_position_embeddings ?? 512;
    if (maxSeqLength !== undefined && maxSeqLength > mpe) ck.error('max_seq_length', `max_seq_length is ${maxSeqLength}, more than model_config.max_position_embeddings (${mpe}); lower it or raise max_position_embeddings`);
    const layers = parsed?.num_hidden_layers ?? mc.num_hidden_layers ?? 12;
    const freeze = setting('freeze_layers');
    if (freeze !== undefined && freeze > layers) ck.error('freeze_layers', `freeze_layers is ${freeze}, but the model has ${layers} layers`);
  }

  // Evaluation, checkpoints and the best model (TrainingArguments.__post_init__'s rules).
  const evalStrategy = setting('eval_strategy');
  const saveStrategy = setting('save_strategy');
  // eval_steps defaults to logging_steps (applyTrainingDefaults fills it in the same way).
  const evalSteps = has('eval_steps') ? c.eval_steps : evalStrategy === 'steps' ? setting('logging_steps') : undefined;
  if (evalStrategy === 'no' && has('eval_steps')) ck.warn('eval_steps', 'eval_steps is set but eval_strategy is "no", so no evaluation runs; set eval_strategy: "steps"');
  if (c.early_stopping_patience !== undefined) {
    if (evalStrategy === 'no') ck.error('early_stopping_patience', 'early_stopping_patience needs evaluations: set eval_strategy to "steps" or "epoch"');
  } else if (has('early_stopping_threshold')) ck.warn('early_stopping_threshold', 'early_stopping_threshold is ignored without early_stopping_patience');
  if (setting('load_best_model_at_end')) {
    const saveSteps = setting('save_steps');
    if (evalStrategy === 'no') ck.error('load_best_model_at_end', 'load_best_model_at_end needs evaluations: set eval_strategy to "steps" or "epoch" (and save_strategy to match)');
    else if (evalStrategy === undefined || saveStrategy === undefined) { /* a wrong strategy is reported already */ }
    else if (saveStrategy !== evalStrategy) ck.error('save_strategy', `save_strategy is ${fmt(saveStrategy)} but eval_strategy is ${fmt(evalStrategy)}; load_best_model_at_end needs them equal, so every evaluated model is saved`);
    else if (evalStrategy === 'steps' && evalSteps !== undefined && saveSteps !== undefined && saveSteps % evalSteps !== 0) ck.error('save_steps', `save_steps is ${saveSteps}, not a multiple of eval_steps (${evalSteps}); load_best_model_at_end saves only evaluated steps — make save_steps a multiple`);
  }
  if (c.metric_for_best_model !== undefined) {
    const given = c.metric_for_best_model;
    const key = bestMetricKey(given);
    const known = availableMetrics(c);
    if (!known.includes(key)) {
      const near = suggest(key, known);
      ck.error('metric_for_best_model', `metric_for_best_model is ${fmt(given)}, which this configuration does not report; ${near ? `did you mean "${near}"? ` : ''}it reports ${known.map((k) => `"${k}"`).join(', ')}`);
    }
    // HF's default for greater_is_better: false only for names ending in "loss".
    if (c.greater_is_better === undefined && !key.endsWith('loss') && LOWER_IS_BETTER.test(key)) ck.warn('metric_for_best_model', `greater_is_better defaults to true for "${key}" (HF's rule: false only for names ending in "loss"), but lower is better here; set greater_is_better: false`);
  }
  // The checker has matched the duration's form (or a number > 0); "0m" has the form but no time.
  if (c.max_time !== undefined && !(parseDuration(c.max_time)! > 0)) ck.error('max_time', `max_time is ${fmt(c.max_time)}, no time at all; it must be ${DURATION_FORMS}, longer than zero, or a positive number of seconds`);
  const warmupSteps = setting('warmup_steps');
  const warmupRatio = setting('warmup_ratio');
  if (warmupSteps !== undefined && warmupRatio !== undefined && warmupSteps > 0 && warmupRatio > 0) ck.warn('warmup_ratio', `warmup_ratio is ignored: warmup_steps (${warmupSteps}) is set and wins, as in HF`);

  // Padding buckets.
  if (c.length_buckets !== undefined && !ck.hasErrorsUnder('length_buckets')) {
    const b = c.length_buckets;
    const k = b.findIndex((n, i) => i > 0 && n <= b[i - 1]!);
    if (k >= 0) ck.error(`length_buckets[${k}]`, `length_buckets[${k}] is ${b[k]}, not above the bucket before it (${b[k - 1]}); list the buckets in increasing order`);
    else if (maxSeqLength !== undefined && b[b.length - 1] !== maxSeqLength) ck.error('length_buckets', `length_buckets ends at ${b[b.length - 1]}; the last bucket must be max_seq_length (${maxSeqLength}) so that every sequence fits`);
  }
}

/** task "electra": its own fields only with it, an ELECTRA model_config, and a generator that fits the discriminator. */
function checkElectra(c: TrainingConfig, has: (k: string) => boolean, ck: Checker): void {
  const own = (['generator_size', 'generator_config', 'rtd_weight'] as const).filter(has);
  if (c.task !== 'electra') {
    if (!ck.hasErrorsUnder('task')) for (const k of own) ck.error(k, `${k} is set, but ${c.task === undefined ? 'no task is' : `task is ${fmt(c.task)}`}; it belongs to ELECTRA pretraining — set task: "electra", or remove ${k}`);
    return;
  }
  if (has('problem_type')) ck.error('problem_type', 'problem_type is set, but task is "electra" (pretraining, no labels); remove it');
  if (c.streaming) ck.error('streaming', 'streaming is not implemented for task "electra": its training text is read whole; remove streaming (or pretrain with task "mlm")');
  if (has('generator_size') && has('generator_config')) ck.error('generator_config', 'generator_config is set next to generator_size; give the generator\'s size as a fraction (generator_size) or its config (generator_config), not both');
  const mc = c.model_config;
  if (!mc || ck.hasErrorsUnder('model_config')) return;
  if (mc.model_type !== 'electra') {
    ck.error('model_config.model_type', `model_config.model_type is ${mc.model_type === undefined ? 'not set (BERT)' : fmt(mc.model_type)}, but task "electra" trains an ELECTRA generator and discriminator; set model_config.model_type: "electra"`);
    return;
  }
  if (ck.hasErrorsUnder('generator_size') || ck.hasErrorsUnder('generator_config')) return;
  try {
    const disc = parseModelConfig({ ...mc, vocab_size: mc.vocab_size ?? 30522 }, 'model_config') as ElectraConfig;
    generatorConfig(disc, { ...(c.generator_size !== undefined ? { generator_size: c.generator_size } : {}), ...(c.generator_config !== undefined && !has('generator_size') ? { generator_config: c.generator_config } : {}) });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const m = /^generator_config: field "([^"]+)" is (.*)$/s.exec(e.message);
    if (m) ck.error(`generator_config.${m[1]}`, `generator_config.${m[1]} is ${m[2]}`);
    else ck.error(e.message.startsWith('generator_config') ? 'generator_config' : has('generator_size') ? 'generator_size' : 'model_config', e.message);
  }
}

/** The validation split of one task (or of the single task, at path ""). */
function checkSplit(t: Pick<TaskConfig, 'validation_file' | 'validation_split_percentage'>, path: string, ck: Checker): void {
  const p = (k: string) => join(path, k);
  const pct = t.validation_split_percentage;
  if (t.validation_file !== undefined) {
    if (pct !== undefined) ck.warn(p('validation_split_percentage'), `${p('validation_split_percentage')} is ignored: ${p('validation_file')} is given`);
  } else if (pct !== undefined && pct < 1) ck.warn(p('validation_split_percentage'), `${p('validation_split_percentage')} is ${pct}: a percentage, so ${pct}% of train_file is held out; for a fraction write it ×100 (e.g. 10 for 0.1)`);
}

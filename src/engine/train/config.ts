/**
 * The training configuration file: JSON or YAML text → a validated TrainingConfig with Hugging
 * Face TrainingArguments' defaults. One table of field definitions (TRAINING_FIELDS) drives the
 * validation here and the JSON Schema (scripts/gen-config-schema.ts → schemas/). Every problem is
 * collected as a diagnostic with its line and column (1-based; VS Code ranges are 0-based) and
 * the field, value and what to do; parseTrainingConfig throws them as one TrainingConfigError.
 */
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { DatasetSpec } from '../data/types.js';
import { type BertConfig, ConfigError, parseBertConfig } from '../models/bert/config.js';
import type { TaskConfig, TrainingConfig } from './config-types.js';
import { METRIC_NAMES, type MetricTask, metricKey } from './metrics.js';
import { type ConfigDiagnostic, type Pos, type Positions, join, readJson, readYaml } from './config-source.js';

export type { ConfigDiagnostic };

// ---- the field table ---------------------------------------------------------------------------

/** A JSON-Schema-like description of one value, enough for validation, defaults and the schema. */
export type Spec =
  | { type: 'string'; enum?: readonly string[]; pattern?: string; patternText?: string; path?: boolean }
  | { type: 'number' | 'integer'; minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number }
  | { type: 'boolean' }
  | { type: 'null' }
  | { type: 'object'; properties: Readonly<Record<string, Field>> }
  | { type: 'map'; values: Field; keyPattern?: string }
  | { type: 'array'; items: Field; minItems?: number }
  | { type: 'anyOf'; anyOf: readonly Field[] };
export type Field = Spec & { description?: string; default?: unknown; required?: boolean };

type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };
type FieldsOf<T> = { readonly [K in keyof T]-?: Field };

const int = (description: string, minimum: number, extra: Partial<Field> = {}): Field => ({ type: 'integer', minimum, description, ...extra } as Field);
const num = (description: string, bounds: { minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number }, def?: number): Field => ({ type: 'number', ...bounds, description, ...(def === undefined ? {} : { default: def }) });
const bool = (description: string, def?: boolean): Field => ({ type: 'boolean', description, ...(def === undefined ? {} : { default: def }) });
const str = (description: string, extra: Partial<Field> = {}): Field => ({ type: 'string', description, ...extra } as Field);
const pathStr = (description: string, extra: Partial<Field> = {}): Field => str(`${description} Relative paths are resolved against this file's folder.`, { path: true, ...extra } as Partial<Field>);
const oneOfStr = (description: string, values: readonly string[], def?: string, required = false): Field => ({ type: 'string', enum: values, description, ...(def === undefined ? {} : { default: def }), ...(required ? { required } : {}) });

const PROBLEM_TYPES = ['single_label_classification', 'multi_label_classification', 'regression'] as const;
const STRATEGIES = ['no', 'steps', 'epoch'] as const;

export const DATASET_FIELDS: FieldsOf<DatasetSpec> = {
  path: pathStr('A file, or a folder of such files (read in sorted order).', { required: true }),
  format: oneOfStr('Default: from the extension — .txt/.text: text, .jsonl/.ndjson: jsonl, .csv: csv, .tsv: tsv.', ['text', 'jsonl', 'csv', 'tsv']),
  documents: oneOfStr('text format: one example per line (default), or documents separated by blank lines.', ['line', 'blank-line']),
  text_field: str('jsonl key / csv or tsv column of the text (default "text").'),
  pair_field: str('jsonl key / csv or tsv column of the second text of a pair (default: none).'),
  label_field: str('jsonl key / csv or tsv column of the label (default "label").'),
};

const dataset = (description: string, extra: Partial<Field> = {}): Field => ({
  type: 'anyOf',
  description,
  anyOf: [
    pathStr('A file or folder; the format comes from the extension.'),
    { type: 'object', properties: DATASET_FIELDS, description: 'A dataset with its format and field names.' },
  ],
  ...extra,
} as Field);

// A percentage, as in run_mlm.py / run_glue.py (5 means 5%).
const VALIDATION_SPLIT = num('Used when validation_file is absent: this percentage of train_file (10 = 10%) becomes the validation set, chosen by `seed`. Default 10.', { exclusiveMinimum: 0, exclusiveMaximum: 100 });
const TASK_NAME_PATTERN = '^[A-Za-z0-9_-]+$';

export const TASK_FIELDS: FieldsOf<TaskConfig> = {
  name: str('Letters, digits, "_" and "-": names the head (heads.<name>.*) and the metrics (eval_<name>_accuracy).', { required: true, pattern: TASK_NAME_PATTERN, patternText: 'letters, digits, "_" and "-"' } as Partial<Field>),
  kind: oneOfStr('What this task trains.', ['mlm', 'classification'], undefined, true),
  train_file: dataset('Training data of this task.', { required: true }),
  validation_file: dataset('Validation data of this task.'),
  validation_split_percentage: VALIDATION_SPLIT,
  problem_type: oneOfStr('Classification: how the labels are read (HF problem_type). Default: inferred from the data.', PROBLEM_TYPES),
  loss_weight: num('This task\'s weight in the summed loss.', { exclusiveMinimum: 0 }, 1),
};

export const TOKENIZER_FIELDS: FieldsOf<NonNullable<TrainingConfig['train_tokenizer']>> = {
  vocab_size: int('Vocabulary size of the WordPiece tokenizer to train (special tokens included).', 1, { required: true }),
  min_frequency: int('Ignore words seen fewer times than this.', 0),
  lowercase: bool('Lower-case and strip accents, as bert-base-uncased.'),
};

export const BERT_FIELDS: FieldsOf<Pick<BertConfig, KnownKeys<BertConfig>>> = {
  model_type: oneOfStr('Only BERT models.', ['bert'], 'bert'),
  architectures: { type: 'array', items: { type: 'string' }, description: 'Informational, as in HF config.json.' },
  vocab_size: int('Comes from the tokenizer; leave it out.', 1),
  hidden_size: int('Width of the encoder (bert-base: 768).', 1, { default: 768 }),
  num_hidden_layers: int('Encoder layers (bert-base: 12).', 1, { default: 12 }),
  num_attention_heads: int('Attention heads; must divide hidden_size (bert-base: 12).', 1, { default: 12 }),
  intermediate_size: int('Feed-forward width (bert-base: 3072).', 1, { default: 3072 }),
  hidden_act: oneOfStr('"gelu" is the exact erf form.', ['gelu', 'relu'], 'gelu'),
  hidden_dropout_prob: num('Dropout after embeddings, attention output and feed-forward.', { minimum: 0, exclusiveMaximum: 1 }, 0.1),
  attention_probs_dropout_prob: num('Dropout on attention probabilities.', { minimum: 0, exclusiveMaximum: 1 }, 0.1),
  max_position_embeddings: int('Longest sequence the model can read; ≥ max_seq_length.', 1, { default: 512 }),
  type_vocab_size: int('Segment (token type) ids.', 1, { default: 2 }),
  initializer_range: num('Std of the normal initialization.', { exclusiveMinimum: 0 }, 0.02),
  layer_norm_eps: num('LayerNorm epsilon.', { exclusiveMinimum: 0 }, 1e-12),
  pad_token_id: int('Id of [PAD].', 0, { default: 0 }),
  position_embedding_type: oneOfStr('Only absolute position embeddings.', ['absolute'], 'absolute'),
  id2label: { type: 'map', keyPattern: '^[0-9]+$', values: { type: 'string' }, description: 'Class names by id: {"0": "negative", "1": "positive"}.' },
  label2id: { type: 'map', values: { type: 'integer', minimum: 0 }, description: 'Ids by class name; must agree with id2label.' },
  problem_type: oneOfStr('How classification labels are read.', PROBLEM_TYPES),
  classifier_dropout: { type: 'anyOf', anyOf: [{ type: 'number', minimum: 0, exclusiveMaximum: 1 }, { type: 'null' }], description: 'Dropout before the classifier; null: hidden_dropout_prob.' },
};

export const TRAINING_FIELDS: FieldsOf<TrainingConfig> = {
  output_dir: pathStr('Where checkpoints (checkpoint-<step>/), trainer_state.json and the run log go.', { required: true }),
  overwrite_output_dir: bool('Train into a non-empty output_dir, replacing what is there.', false),
  run_name: str('A run name for the UI. Default: the output_dir\'s folder name.'),

  model_name_or_path: pathStr('Start from this checkpoint folder (BERT Lab\'s or Hugging Face\'s): transfer learning.'),
  model_config: { type: 'object', properties: BERT_FIELDS, description: 'A new model from scratch: BertConfig fields (HF names, bert-base defaults); vocab_size comes from the tokenizer.' },
  tokenizer_name: pathStr('A tokenizer folder or tokenizer.json. Default: the model\'s, or the one trained by train_tokenizer.'),
  train_tokenizer: { type: 'object', properties: TOKENIZER_FIELDS, description: 'Train a WordPiece vocabulary on the training text first (from-scratch pretraining).' },
  freeze_embeddings: bool('Freeze the embeddings (no updates).', false),
  freeze_layers: int('Freeze the first n encoder layers.', 0, { default: 0 }),

  task: oneOfStr('Single task: what to train, with train_file. For several tasks use `tasks`.', ['mlm', 'classification']),
  train_file: dataset('Single task: the training data.'),
  validation_file: dataset('Single task: the validation data.'),
  validation_split_percentage: VALIDATION_SPLIT,
  problem_type: oneOfStr('Single classification task: how the labels are read (HF problem_type). Default: inferred from the data.', PROBLEM_TYPES),
  tasks: { type: 'array', minItems: 1, items: { type: 'object', properties: TASK_FIELDS }, description: 'Multi-task training: one shared encoder, one head per task.' },
  max_seq_length: int('Tokens per sequence, special tokens included (≤ max_position_embeddings).', 3, { default: 128 }),
  line_by_line: bool('MLM: one example per line. Default false: texts are concatenated and split into chunks of max_seq_length (run_mlm.py\'s group_texts).', false),
  mlm_probability: num('Fraction of tokens masked for MLM (80% [MASK], 10% random, 10% kept).', { exclusiveMinimum: 0, exclusiveMaximum: 1 }, 0.15),
  whole_word_masking: bool('Mask whole words (all their WordPiece pieces) together.', false),
  streaming: bool('MLM: read train_file as a stream, never whole (for text larger than memory); needs max_steps. Default: on for files over 512 MB.'),

  learning_rate: num('Peak learning rate of AdamW.', { exclusiveMinimum: 0 }, 5e-5),
  weight_decay: num('AdamW decoupled weight decay (not on biases and LayerNorm weights).', { minimum: 0 }, 0),
  adam_beta1: num('AdamW β1.', { minimum: 0, exclusiveMaximum: 1 }, 0.9),
  adam_beta2: num('AdamW β2.', { minimum: 0, exclusiveMaximum: 1 }, 0.999),
  adam_epsilon: num('AdamW ε.', { exclusiveMinimum: 0 }, 1e-8),
  max_grad_norm: num('Clip the global gradient norm to this (0: no clipping).', { minimum: 0 }, 1.0),
  num_train_epochs: num('Epochs to train (may be fractional).', { exclusiveMinimum: 0 }, 3),
  max_steps: int('Optimizer steps to train; overrides num_train_epochs when > 0.', -1, { default: -1 }),
  lr_scheduler_type: oneOfStr('Learning-rate schedule after warm-up (transformers\' get_scheduler).', ['linear', 'cosine', 'constant', 'constant_with_warmup'], 'linear'),
  warmup_ratio: num('Warm-up steps as a fraction of all steps (rounded up); used when warmup_steps is 0.', { minimum: 0, maximum: 1 }, 0),
  warmup_steps: int('Warm-up steps; overrides warmup_ratio when > 0.', 0, { default: 0 }),
  per_device_train_batch_size: int('Examples per training batch.', 1, { default: 8 }),
  per_device_eval_batch_size: int('Examples per evaluation batch.', 1, { default: 8 }),
  gradient_accumulation_steps: int('Batches whose gradients are summed before one optimizer step.', 1, { default: 1 }),
  eval_strategy: oneOfStr('When to evaluate: never, every eval_steps, or at each epoch end.', STRATEGIES, 'no'),
  eval_steps: int('Evaluate every this many steps (eval_strategy "steps"). Default: logging_steps.', 1),
  save_strategy: oneOfStr('When to save a checkpoint: never, every save_steps, or at each epoch end.', STRATEGIES, 'steps'),
  save_steps: int('Save a checkpoint every this many steps (save_strategy "steps").', 1, { default: 500 }),
  save_total_limit: int('Keep at most this many checkpoints (the best one is always kept). Default: all.', 1),
  logging_steps: int('Log loss, learning rate and gradient norm every this many steps.', 1, { default: 500 }),
  seed: int('Seed of initialization, shuffling, masking and the validation split.', 0, { default: 42, maximum: 2 ** 32 - 1 }),
  metric_for_best_model: str('Metric that picks the best checkpoint, e.g. "eval_loss", "eval_accuracy", "eval_f1" (multi-task: "eval_<task>_accuracy"). Default "eval_loss" when load_best_model_at_end or early stopping is on.'),
  greater_is_better: bool('Whether a larger metric_for_best_model is better. Default: false when its name ends in "loss", true otherwise (HF\'s rule).'),
  load_best_model_at_end: bool('After training, load the best checkpoint (needs matching eval and save strategies).', false),
  early_stopping_patience: int('Stop after this many evaluations without improvement (HF EarlyStoppingCallback).', 1),
  early_stopping_threshold: num('Improvement smaller than this does not count (default 0).', { minimum: 0 }),
  resume_from_checkpoint: { type: 'anyOf', anyOf: [pathStr('A checkpoint folder to resume from.'), { type: 'boolean' }], description: 'Resume from a checkpoint folder, or true: the last checkpoint in output_dir.' },

  device: oneOfStr('Execution provider: "auto" tries CUDA, then WebGPU, then the CPU.', ['auto', 'cpu', 'cuda', 'webgpu'], 'auto'),
  threads: int('Intra-op threads for ONNX Runtime (0: let it choose). Default: the bertLab.threads setting.', 0),
  steps_per_run: int('Optimizer steps per onnxruntime run: progress granularity vs. overhead.', 1, { default: 8 }),
  length_buckets: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 1 }, description: 'Sequence-length buckets for dynamic padding, increasing, the last = max_seq_length. Default: multiples of 32 up to max_seq_length.' },
  nan_inf_policy: oneOfStr('A step whose loss or gradient norm is NaN or infinite: "stop" the run at that step (the last checkpoint is kept), or "skip" its update (weights and AdamW moments stay as before it) with a warning.', ['stop', 'skip'], 'stop'),
  nan_inf_patience: int('With nan_inf_policy "skip": stop the run when this many steps in a row were skipped.', 1, { default: 10 }),
  skip_memory_check: bool('Start even when the memory estimate (parameters, AdamW state, gradients, activations) exceeds the memory available; the estimate is rough. CLI: --skip-memory-check.', false),
};

/** Also accepted at the top level: the JSON Schema reference editors use for completion. */
export const SCHEMA_KEY = '$schema';

/** The fields parseTrainingConfig always fills in. */
type Defaulted = 'run_name' | 'overwrite_output_dir' | 'freeze_embeddings' | 'freeze_layers' | 'max_seq_length' | 'line_by_line' | 'mlm_probability' | 'whole_word_masking'
  | 'learning_rate' | 'weight_decay' | 'adam_beta1' | 'adam_beta2' | 'adam_epsilon' | 'max_grad_norm' | 'num_train_epochs' | 'max_steps' | 'lr_scheduler_type'
  | 'warmup_ratio' | 'warmup_steps' | 'per_device_train_batch_size' | 'per_device_eval_batch_size' | 'gradient_accumulation_steps' | 'eval_strategy' | 'save_strategy'
  | 'save_steps' | 'logging_steps' | 'seed' | 'load_best_model_at_end' | 'device' | 'steps_per_run' | 'length_buckets' | 'nan_inf_policy' | 'nan_inf_patience'
  | 'skip_memory_check';
export type ParsedTrainingConfig = TrainingConfig & Required<Pick<TrainingConfig, Defaulted>>;

// ---- diagnostics ------------------------------------------------------------------------------

export class TrainingConfigError extends ConfigError {
  override name = 'TrainingConfigError';
  constructor(readonly file: string, readonly diagnostics: ConfigDiagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(`${file}: ${errors.length} ${errors.length === 1 ? 'problem' : 'problems'} in the training configuration:\n${errors.map((d) => `  ${file}:${d.line}:${d.column}: ${d.message}`).join('\n')}`);
  }
}

const fmt = (v: unknown): string => {
  const s = typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}…` : s;
};

// ---- validation against the table --------------------------------------------------------------

/** Optimal-string-alignment distance: edits, with a swap of neighbours counting as one. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest known name, if it is close enough to be a typo, or the one name it begins. */
export function suggest(name: string, known: Iterable<string>): string | undefined {
  const starts = [...known].filter((k) => name.length >= 3 && k.toLowerCase().startsWith(name.toLowerCase()));
  if (starts.length === 1) return starts[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) { best = k; bestD = d; }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Names people bring from HF scripts or habit, and what BERT Lab calls them. */
const ALIASES: Record<string, string> = {
  evaluation_strategy: 'eval_strategy (renamed in transformers 4.41)',
  lr: 'learning_rate', epochs: 'num_train_epochs', num_epochs: 'num_train_epochs',
  batch_size: 'per_device_train_batch_size', train_batch_size: 'per_device_train_batch_size', eval_batch_size: 'per_device_eval_batch_size',
  per_gpu_train_batch_size: 'per_device_train_batch_size', per_gpu_eval_batch_size: 'per_device_eval_batch_size',
  scheduler: 'lr_scheduler_type', model: 'model_name_or_path', model_name: 'model_name_or_path', config_name: 'model_config (the BertConfig fields themselves)',
  dataset_name: 'train_file (BERT Lab reads local files)', max_length: 'max_seq_length', block_size: 'max_seq_length',
};

/** TrainingArguments fields BERT Lab does not implement: accepted with a warning, then dropped. */
export const IGNORED_HF_FIELDS: ReadonlySet<string> = new Set([
  'fp16', 'bf16', 'tf32', 'optim', 'report_to', 'push_to_hub', 'hub_model_id', 'hub_strategy', 'hub_private_repo', 'logging_dir', 'logging_strategy',
  'logging_first_step', 'do_train', 'do_eval', 'do_predict', 'dataloader_num_workers', 'dataloader_pin_memory', 'dataloader_drop_last', 'gradient_checkpointing',
  'torch_compile', 'deepspeed', 'fsdp', 'local_rank', 'ddp_find_unused_parameters', 'label_smoothing_factor', 'lr_scheduler_kwargs', 'disable_tqdm',
  'remove_unused_columns', 'label_names', 'auto_find_batch_size', 'use_cpu', 'no_cuda', 'overwrite_cache', 'preprocessing_num_workers', 'cache_dir',
  'save_safetensors', 'save_only_model', 'full_determinism', 'data_seed', 'eval_accumulation_steps', 'eval_delay', 'eval_on_start', 'pad_to_max_length',
  'max_train_samples', 'max_eval_samples', 'include_tokens_per_second', 'include_num_input_tokens_seen', 'prediction_loss_only',
]);

function describe(s: Spec): string {
  switch (s.type) {
    case 'string':
      if (s.enum) return s.enum.length === 1 ? `"${s.enum[0]}"` : `one of ${s.enum.map((e) => `"${e}"`).join(', ')}`;
      if (s.patternText) return `a name of ${s.patternText}`;
      return s.path ? 'a path (a string)' : 'a string';
    case 'number':
    case 'integer': {
      const what = s.type === 'integer' ? 'an integer' : 'a number';
      const lo = s.exclusiveMinimum ?? s.minimum;
      const hi = s.exclusiveMaximum ?? s.maximum;
      if (hi === undefined) {
        if (lo === undefined) return what;
        if (lo === 0 && s.exclusiveMinimum !== undefined) return `a positive ${s.type}`;
        if (lo === 1 && s.type === 'integer') return 'a positive integer';
        return `${what} ${s.exclusiveMinimum !== undefined ? '>' : '≥'} ${lo}`;
      }
      if (lo === undefined) return `${what} ${s.exclusiveMaximum !== undefined ? '<' : '≤'} ${hi}`;
      return `${what} in ${s.exclusiveMinimum !== undefined ? '(' : '['}${lo}, ${hi}${s.exclusiveMaximum !== undefined ? ')' : ']'}`;
    }
    case 'boolean': return 'true or false';
    case 'null': return 'null';
    case 'object': return `an object with the fields ${Object.keys(s.properties).join(', ')}`;
    case 'map': return 'an object';
    case 'array': return `a list${s.minItems ? ' (not empty)' : ''}, each ${describe(s.items)}`;
    case 'anyOf': return s.anyOf.map((a) => (a.type === 'object' ? 'an object {path, format, …}' : describe(a))).join(' or ');
  }
}

const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const accepts = (s: Spec, v: unknown): boolean => {
  const k = kindOf(v);
  return s.type === 'integer' ? k === 'number' : s.type === 'map' ? k === 'object' : s.type === 'anyOf' ? s.anyOf.some((a) => accepts(a, v)) : k === s.type;
};

class Checker {
  readonly diagnostics: ConfigDiagnostic[] = [];
  constructor(private readonly positions: Positions, private readonly baseDir: string) {}

  /** Where a field is, or else its nearest enclosing object. */
  at(field: string): Pos {
    for (let p = field; ;) {
      const pos = this.positions.get(p);
      if (pos) return pos;
      if (p === '') return { line: 1, column: 1 };
      const parent = p.replace(/(\.[^.[\]]*|\[\d+\])$/, '');
      p = parent === p ? '' : parent;
    }
  }
  error(field: string, message: string): void { this.diagnostics.push({ ...this.at(field), field, message, severity: 'error' }); }
  warn(field: string, message: string): void { this.diagnostics.push({ ...this.at(field), field, message, severity: 'warning' }); }
  hasErrorsUnder(prefix: string): boolean { return this.diagnostics.some((d) => d.severity === 'error' && (d.field === prefix || d.field.startsWith(`${prefix}.`) || d.field.startsWith(`${prefix}[`))); }

  /** The value checked against its field: defaults filled in, paths resolved; undefined when wrong (reported). */
  check(v: unknown, f: Field, path: string): unknown {
    if (!accepts(f, v)) {
      let hint = '';
      if (typeof v === 'string' && (f.type === 'number' || f.type === 'integer') && v.trim() !== '' && Number.isFinite(Number(v))) hint = '; write the number without quotes';
      if ((v === 'true' || v === 'false') && f.type === 'boolean') hint = '; write true or false without quotes';
      this.error(path, `${path} is ${fmt(v)}; it must be ${describe(f)}${hint}${f.default !== undefined ? ` (default ${fmt(f.default)})` : ''}`);
      return undefined;
    }
    switch (f.type) {
      case 'string':
        if ((f.enum && !f.enum.includes(v as string)) || (f.pattern && !new RegExp(f.pattern).test(v as string))) {
          const near = f.enum ? suggest(v as string, f.enum) : undefined;
          this.error(path, `${path} is ${fmt(v)}; it must be ${describe(f)}${near ? ` — did you mean "${near}"?` : ''}`);
          return undefined;
        }
        if (f.path && v === '') { this.error(path, `${path} is empty; give a path`); return undefined; }
        return f.path ? (isAbsolute(v as string) ? v : resolve(this.baseDir, v as string)) : v;
      case 'number':
      case 'integer': {
        const x = v as number;
        const ok = Number.isFinite(x) && (f.type === 'number' || Number.isInteger(x))
          && (f.minimum === undefined || x >= f.minimum) && (f.maximum === undefined || x <= f.maximum)
          && (f.exclusiveMinimum === undefined || x > f.exclusiveMinimum) && (f.exclusiveMaximum === undefined || x < f.exclusiveMaximum);
        if (!ok) { this.error(path, `${path} is ${fmt(x)}; it must be ${describe(f)}${f.default !== undefined ? ` (default ${fmt(f.default)})` : ''}`); return undefined; }
        return x;
      }
      case 'boolean':
      case 'null':
        return v;
      case 'array':
        if (f.minItems && (v as unknown[]).length < f.minItems) { this.error(path, `${path} is empty; give at least ${f.minItems} ${f.minItems === 1 ? 'entry' : 'entries'}`); return undefined; }
        return (v as unknown[]).map((item, k) => this.check(item, f.items, `${path}[${k}]`));
      case 'map': {
        const out: Record<string, unknown> = {};
        for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
          if (f.keyPattern && !new RegExp(f.keyPattern).test(k)) this.error(join(path, k), `${path} has the key ${fmt(k)}; its keys must match ${f.keyPattern}`);
          else out[k] = this.check(item, f.values, join(path, k));
        }
        return out;
      }
      case 'anyOf':
        return this.check(v, f.anyOf.find((a) => accepts(a, v))!, path);
      case 'object':
        return this.object(v as Record<string, unknown>, f.properties, path);
    }
  }

  object(v: Record<string, unknown>, fields: Readonly<Record<string, Field>>, path: string, extraKeys: readonly string[] = []): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const where = path || 'the training configuration';
    for (const [k, item] of Object.entries(v)) {
      const p = join(path, k);
      const f = Object.hasOwn(fields, k) ? fields[k] : undefined;
      if (f) { const c = this.check(item, f, p); if (c !== undefined) out[k] = c; continue; }
      if (extraKeys.includes(k)) continue;
      if (path === '' && IGNORED_HF_FIELDS.has(k)) { this.warn(p, `${k} is a Hugging Face TrainingArguments field that BERT Lab does not implement; it is ignored — remove it`); continue; }
      const alias = path === '' ? ALIASES[k] : undefined;
      const near = alias ?? suggest(k, Object.keys(fields));
      this.error(p, `${p} is not a field of ${where}${near ? `; did you mean ${alias ? alias : `"${near}"`}?` : Object.keys(fields).length <= 8 ? `; its fields are ${Object.keys(fields).join(', ')}` : '; see schemas/training-config.schema.json for the fields'}`);
    }
    for (const [k, f] of Object.entries(fields)) {
      if (out[k] !== undefined || Object.hasOwn(v, k)) continue;
      if (f.required) this.error(join(path, k), `${join(path, k)} is missing in ${where}; it must be ${describe(f)}${f.description ? ` — ${f.description}` : ''}`);
      else if (f.default !== undefined) out[k] = f.default;
    }
    return out;
  }
}

// ---- what a configuration trains, and the rules across fields ----------------------------------

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

const metricTasks = (t: Pick<TaskConfig, 'kind' | 'problem_type'>): MetricTask[] => (t.kind === 'mlm' ? ['mlm'] : t.problem_type ? [t.problem_type] : [...PROBLEM_TYPES]);

/** The eval_* metrics a configuration's evaluation reports (what metric_for_best_model may name). */
export function availableMetrics(cfg: TrainingConfig): string[] {
  const names = (t: Pick<TaskConfig, 'kind' | 'problem_type'>) => [...new Set(metricTasks(t).flatMap((m) => METRIC_NAMES[m]))];
  if (cfg.tasks) return ['eval_loss', ...cfg.tasks.filter(Boolean).flatMap((t) => names(t).map((n) => metricKey(n, t.name)))];
  return cfg.task ? names({ kind: cfg.task, problem_type: cfg.problem_type }).map((n) => metricKey(n)) : ['eval_loss'];
}

const LOWER_IS_BETTER = /(loss|perplexity|mse|mae)$/;

function crossCheck(c: ParsedTrainingConfig, raw: Record<string, unknown>, ck: Checker): void {
  const has = (k: string) => Object.hasOwn(raw, k);
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
      splitDefaults(t as unknown as Record<string, unknown>, `tasks[${i}]`, ck);
    });
  } else if (!has('task') || !has('train_file')) {
    if (has('task')) ck.error('task', `train_file is missing: task ${fmt(raw['task'])} needs its training data — set train_file to a file or folder`);
    else if (has('train_file')) ck.error('train_file', 'task is missing: say what train_file trains — task: "mlm" or "classification" (or use tasks for several)');
    else ck.error('', 'nothing to train: set task ("mlm" or "classification") and train_file, or a tasks list');
  } else {
    if (c.task === 'mlm' && c.problem_type !== undefined) ck.error('problem_type', `problem_type is ${fmt(c.problem_type)}, but task is "mlm"; remove it`);
    splitDefaults(c as unknown as Record<string, unknown>, '', ck);
  }

  // Which model: a checkpoint to fine-tune, or a new one with a vocabulary.
  if (has('model_name_or_path')) {
    if (has('model_config')) ck.error('model_config', 'model_config is set next to model_name_or_path; model_config builds a new model, model_name_or_path loads one — keep one of them');
    if (has('train_tokenizer')) ck.error('train_tokenizer', 'train_tokenizer is set next to model_name_or_path; a trained model keeps its vocabulary — remove train_tokenizer');
  } else if (!has('model_config')) {
    ck.error('', 'no model: set model_name_or_path (a checkpoint folder, to fine-tune) or model_config (BertConfig fields, to train from scratch; {} gives bert-base)');
  } else if (!has('tokenizer_name') && !has('train_tokenizer')) {
    ck.error('model_config', 'a model from scratch needs a vocabulary: set tokenizer_name (a tokenizer folder or tokenizer.json) or train_tokenizer ({"vocab_size": 30522})');
  }
  if (has('tokenizer_name') && has('train_tokenizer')) ck.error('train_tokenizer', 'train_tokenizer is set next to tokenizer_name; use the given tokenizer or train one, not both');
  const mc = c.model_config;
  if (mc && !ck.hasErrorsUnder('model_config')) {
    if (mc.vocab_size !== undefined) ck.warn('model_config.vocab_size', `model_config.vocab_size (${mc.vocab_size}) is ignored: the vocabulary size comes from the tokenizer`);
    try {
      parseBertConfig({ ...mc, vocab_size: mc.vocab_size ?? 30522 }, 'model_config');
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const m = /^model_config: field "([^"]+)" is (.*)$/s.exec(e.message);
      const field = m ? `model_config.${m[1]}` : 'model_config';
      ck.error(field, m ? `${field} is ${m[2]}` : e.message);
    }
    const mpe = mc.max_position_embeddings ?? 512;
    if (c.max_seq_length > mpe) ck.error('max_seq_length', `max_seq_length is ${c.max_seq_length}, more than model_config.max_position_embeddings (${mpe}); lower it or raise max_position_embeddings`);
    const layers = mc.num_hidden_layers ?? 12;
    if (c.freeze_layers > layers) ck.error('freeze_layers', `freeze_layers is ${c.freeze_layers}, but the model has ${layers} layers`);
  }

  // Evaluation, checkpoints and the best model (TrainingArguments.__post_init__'s rules).
  if (c.eval_strategy === 'steps' && c.eval_steps === undefined) c.eval_steps = c.logging_steps;
  if (c.eval_strategy === 'no' && has('eval_steps')) ck.warn('eval_steps', 'eval_steps is set but eval_strategy is "no", so no evaluation runs; set eval_strategy: "steps"');
  if (c.early_stopping_patience !== undefined) {
    if (c.eval_strategy === 'no') ck.error('early_stopping_patience', 'early_stopping_patience needs evaluations: set eval_strategy to "steps" or "epoch"');
    c.early_stopping_threshold ??= 0;
  } else if (has('early_stopping_threshold')) ck.warn('early_stopping_threshold', 'early_stopping_threshold is ignored without early_stopping_patience');
  if (c.load_best_model_at_end) {
    if (c.eval_strategy === 'no') ck.error('load_best_model_at_end', 'load_best_model_at_end needs evaluations: set eval_strategy to "steps" or "epoch" (and save_strategy to match)');
    else if (c.save_strategy !== c.eval_strategy) ck.error('save_strategy', `save_strategy is ${fmt(c.save_strategy)} but eval_strategy is ${fmt(c.eval_strategy)}; load_best_model_at_end needs them equal, so every evaluated model is saved`);
    else if (c.eval_strategy === 'steps' && c.eval_steps !== undefined && c.save_steps % c.eval_steps !== 0) ck.error('save_steps', `save_steps is ${c.save_steps}, not a multiple of eval_steps (${c.eval_steps}); load_best_model_at_end saves only evaluated steps — make save_steps a multiple`);
  }
  if (c.metric_for_best_model === undefined && (c.load_best_model_at_end || c.early_stopping_patience !== undefined)) c.metric_for_best_model = 'eval_loss';
  if (c.metric_for_best_model !== undefined) {
    const given = c.metric_for_best_model;
    const key = given.startsWith('eval_') ? given : `eval_${given}`;
    const known = availableMetrics(c);
    if (has('metric_for_best_model') && !known.includes(key)) {
      const near = suggest(key, known);
      ck.error('metric_for_best_model', `metric_for_best_model is ${fmt(given)}, which this configuration does not report; ${near ? `did you mean "${near}"? ` : ''}it reports ${known.map((k) => `"${k}"`).join(', ')}`);
    }
    c.metric_for_best_model = key;
    if (c.greater_is_better === undefined) {
      c.greater_is_better = !key.endsWith('loss');
      if (c.greater_is_better && LOWER_IS_BETTER.test(key)) ck.warn('metric_for_best_model', `greater_is_better defaults to true for "${key}" (HF's rule: false only for names ending in "loss"), but lower is better here; set greater_is_better: false`);
    }
  }
  if (c.warmup_steps > 0 && c.warmup_ratio > 0) ck.warn('warmup_ratio', `warmup_ratio is ignored: warmup_steps (${c.warmup_steps}) is set and wins, as in HF`);

  // Padding buckets.
  if (c.length_buckets === undefined) {
    const b: number[] = [];
    for (let n = 32; n < c.max_seq_length; n += 32) b.push(n);
    c.length_buckets = [...b, c.max_seq_length];
  } else if (!ck.hasErrorsUnder('length_buckets')) {
    const b = c.length_buckets;
    const k = b.findIndex((n, i) => i > 0 && n <= b[i - 1]!);
    if (k >= 0) ck.error(`length_buckets[${k}]`, `length_buckets[${k}] is ${b[k]}, not above the bucket before it (${b[k - 1]}); list the buckets in increasing order`);
    else if (b[b.length - 1] !== c.max_seq_length) ck.error('length_buckets', `length_buckets ends at ${b[b.length - 1]}; the last bucket must be max_seq_length (${c.max_seq_length}) so that every sequence fits`);
  }
  c.run_name ??= basename(c.output_dir ?? '');
}

function splitDefaults(t: Record<string, unknown>, path: string, ck: Checker): void {
  const p = (k: string) => join(path, k);
  const pct = t['validation_split_percentage'];
  if (t['validation_file'] !== undefined) {
    if (pct !== undefined) ck.warn(p('validation_split_percentage'), `${p('validation_split_percentage')} is ignored: ${p('validation_file')} is given`);
  } else if (pct === undefined) t['validation_split_percentage'] = 10;
  else if (typeof pct === 'number' && pct < 1) ck.warn(p('validation_split_percentage'), `${p('validation_split_percentage')} is ${pct}: a percentage, so ${pct}% of train_file is held out; for a fraction write it ×100 (e.g. 10 for 0.1)`);
}

// ---- entry points ------------------------------------------------------------------------------

/**
 * Checks a configuration without throwing: the config (when there are no errors) and every
 * diagnostic, errors and warnings, in file order. YAML for .yaml/.yml files, JSON otherwise.
 */
export function checkTrainingConfig(text: string, file: string): { config?: ParsedTrainingConfig; diagnostics: ConfigDiagnostic[] } {
  text = text.replace(/^\uFEFF/, ' ');
  const yaml = /\.ya?ml$/i.test(file) || (!/\.json$/i.test(file) && !/^\s*[{[]/.test(text));
  const src = yaml ? readYaml(text) : readJson(text);
  const sort = (ds: ConfigDiagnostic[]) => ds.sort((a, b) => a.line - b.line || a.column - b.column);
  if (src.diagnostics.some((d) => d.severity === 'error')) return { diagnostics: sort(src.diagnostics) };
  const ck = new Checker(src.positions, dirname(resolve(file)));
  ck.diagnostics.push(...src.diagnostics);
  const raw = src.value;
  if (kindOf(raw) !== 'object') {
    ck.error('', raw === null || raw === undefined ? 'the file is empty; a training configuration is an object with fields such as output_dir, task and train_file' : `the file holds ${kindOf(raw) === 'array' ? 'a list' : `a ${kindOf(raw)}`}; a training configuration is an object with fields such as output_dir`);
    return { diagnostics: sort(ck.diagnostics) };
  }
  const rawObj = raw as Record<string, unknown>;
  if (rawObj[SCHEMA_KEY] !== undefined && typeof rawObj[SCHEMA_KEY] !== 'string') ck.error(SCHEMA_KEY, `${SCHEMA_KEY} is ${fmt(rawObj[SCHEMA_KEY])}; it must be a string (the schema's path or URL)`);
  const cfg = ck.object(rawObj, TRAINING_FIELDS, '', [SCHEMA_KEY]) as unknown as ParsedTrainingConfig;
  crossCheck(cfg, rawObj, ck);
  const diagnostics = sort(ck.diagnostics);
  return diagnostics.some((d) => d.severity === 'error') ? { diagnostics } : { config: cfg, diagnostics };
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

/**
 * The training configuration's field table: every field with its type, bounds, description and
 * default (Hugging Face TrainingArguments' where one exists). One table drives the checker
 * (config-check.ts), the defaults (config-defaults.ts) and the JSON Schema
 * (scripts/gen-config-schema.ts → schemas/training-config.schema.json). Data only, and the two
 * helpers that say which alternative of a field a value is.
 */
import { RECIPES } from './recipes.js';
import type { DatasetSpec } from '../data/types.js';
import type { BertConfig } from '../models/bert/config.js';
import { SUPPORTED_MODEL_TYPES } from '../models/registry.js';
import type { TaskConfig, TrainingConfig } from './config-types.js';
import { GENERATOR_FIELDS } from '../models/electra/pretraining.js';
import { DURATION_FORMS, DURATION_PATTERN } from './duration.js';

/** A JSON-Schema-like description of one value, enough for validation, defaults and the schema. */
export type Spec =
  | { type: 'string'; enum?: readonly string[]; pattern?: string; patternText?: string; path?: boolean; hubId?: boolean }
  | { type: 'number' | 'integer'; minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number }
  | { type: 'boolean' }
  | { type: 'null' }
  | { type: 'object'; properties: Readonly<Record<string, Field>> }
  | { type: 'map'; values: Field; keyPattern?: string }
  | { type: 'array'; items: Field; minItems?: number }
  | { type: 'anyOf'; anyOf: readonly Field[] };
/** `expected`: what the field takes, in words, for its error messages (default: said from its type). */
export type Field = Spec & { description?: string; default?: unknown; required?: boolean; expected?: string };

type KnownKeys<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };
type FieldsOf<T> = { readonly [K in keyof T]-?: Field };

const int = (description: string, minimum: number, extra: Partial<Field> = {}): Field => ({ type: 'integer', minimum, description, ...extra } as Field);
const num = (description: string, bounds: { minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number }, def?: number): Field => ({ type: 'number', ...bounds, description, ...(def === undefined ? {} : { default: def }) });
const bool = (description: string, def?: boolean): Field => ({ type: 'boolean', description, ...(def === undefined ? {} : { default: def }) });
const str = (description: string, extra: Partial<Field> = {}): Field => ({ type: 'string', description, ...extra } as Field);
const pathStr = (description: string, extra: Partial<Field> = {}): Field => str(`${description} Relative paths are resolved against this file's folder.`, { path: true, ...extra } as Partial<Field>);
/**
 * A model or tokenizer: a path, or a Hugging Face Hub id — transformers' rule: a relative value
 * that exists relative to this file's folder is that path; else one shaped like a Hub id stays
 * the id (config-defaults.ts).
 */
const modelRef = (description: string): Field => str(`${description} A relative path that exists is resolved against this file's folder; otherwise a Hugging Face Hub id ("bert-base-uncased", "org/name") is looked up in the Hugging Face cache and downloaded into it when missing (at model_revision; not when HF_HUB_OFFLINE=1).`, { path: true, hubId: true } as Partial<Field>);
const oneOfStr = (description: string, values: readonly string[], def?: string, required = false): Field => ({ type: 'string', enum: values, description, ...(def === undefined ? {} : { default: def }), ...(required ? { required } : {}) });

export const PROBLEM_TYPES = ['single_label_classification', 'multi_label_classification', 'regression'] as const;
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
  type: oneOfStr('wordpiece: BERT\'s WordPiece ([CLS] [SEP] [MASK]…); bpe: RoBERTa\'s byte-level BPE (<s> <pad> </s> <unk> <mask>, no unknown characters).', ['wordpiece', 'bpe'], 'wordpiece'),
  vocab_size: int('Vocabulary size of the tokenizer to train (special tokens included; bpe: at least 261).', 1, { required: true }),
  min_frequency: int('wordpiece: ignore words seen fewer times than this; bpe: merge only pairs seen at least this often. Default 2.', 0),
  lowercase: bool('wordpiece: lower-case and strip accents, as bert-base-uncased (default true); bpe: lower-case (default false, RoBERTa is cased).'),
};

/** A field without its default (where the value left out means "as another model's", not the table's default). */
const withoutDefault = ({ default: _unused, ...f }: Field): Field => f as Field;

export const BERT_FIELDS: FieldsOf<Pick<BertConfig, KnownKeys<BertConfig>>> = {
  model_type: oneOfStr('The model family (HF model_type); its config defaults and parameter names follow transformers.', SUPPORTED_MODEL_TYPES, 'bert'),
  architectures: { type: 'array', items: { type: 'string' }, description: 'Informational, as in HF config.json.' },
  vocab_size: int('Comes from the tokenizer; leave it out.', 1),
  hidden_size: int('Width of the encoder (bert-base: 768).', 1, { default: 768 }),
  num_hidden_layers: int('Encoder layers (bert-base: 12).', 1, { default: 12 }),
  num_attention_heads: int('Attention heads; must divide hidden_size (bert-base: 12).', 1, { default: 12 }),
  intermediate_size: int('Feed-forward width (bert-base: 3072).', 1, { default: 3072 }),
  hidden_act: oneOfStr('"gelu" is the exact erf form; "gelu_new" and "gelu_pytorch_tanh" the tanh approximation.', ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'], 'gelu'),
  hidden_dropout_prob: num('Dropout after embeddings, attention output and feed-forward.', { minimum: 0, exclusiveMaximum: 1 }, 0.1),
  attention_probs_dropout_prob: num('Dropout on attention probabilities.', { minimum: 0, exclusiveMaximum: 1 }, 0.1),
  max_position_embeddings: int('Longest sequence the model can read; ≥ max_seq_length.', 1, { default: 512 }),
  type_vocab_size: int('Segment (token type) ids.', 1, { default: 2 }),
  initializer_range: num('Std of the normal initialization.', { exclusiveMinimum: 0 }, 0.02),
  layer_norm_eps: num('LayerNorm epsilon.', { exclusiveMinimum: 0 }, 1e-12),
  pad_token_id: int('Id of the padding token. Default: the tokenizer\'s ([PAD] is 0 in a WordPiece vocabulary BERT Lab trains, <pad> 1 in a byte-level BPE).', 0),
  position_embedding_type: oneOfStr('Only absolute position embeddings.', ['absolute'], 'absolute'),
  id2label: { type: 'map', keyPattern: '^[0-9]+$', values: { type: 'string' }, description: 'Class names by id: {"0": "negative", "1": "positive"}.' },
  label2id: { type: 'map', values: { type: 'integer', minimum: 0 }, description: 'Ids by class name; must agree with id2label.' },
  problem_type: oneOfStr('How classification labels are read.', PROBLEM_TYPES),
  classifier_dropout: { type: 'anyOf', anyOf: [{ type: 'number', minimum: 0, exclusiveMaximum: 1 }, { type: 'null' }], description: 'Dropout before the classifier; null: hidden_dropout_prob.' },
};

/** DistilBertConfig's own names, for model_type "distilbert" (no table defaults: DistilBERT's are filled by its family). */
export const DISTILBERT_FIELDS: Readonly<Record<string, Field>> = {
  dim: int('DistilBERT: width of the encoder (BERT\'s hidden_size; distilbert-base: 768).', 1),
  n_layers: int('DistilBERT: encoder layers (distilbert-base: 6).', 1),
  n_heads: int('DistilBERT: attention heads; must divide dim (distilbert-base: 12).', 1),
  hidden_dim: int('DistilBERT: feed-forward width (distilbert-base: 3072).', 1),
  activation: oneOfStr('DistilBERT: the activation; "gelu" is the exact erf form (default "gelu").', ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu']),
  dropout: num('DistilBERT: dropout after the embeddings and the feed-forward block (default 0.1).', { minimum: 0, exclusiveMaximum: 1 }),
  attention_dropout: num('DistilBERT: dropout on attention probabilities (default 0.1).', { minimum: 0, exclusiveMaximum: 1 }),
  sinusoidal_pos_embds: bool('DistilBERT: fixed sinusoidal position embeddings, never trained (default false).'),
  seq_classif_dropout: num('DistilBERT: dropout before the classifier (default 0.2).', { minimum: 0, exclusiveMaximum: 1 }),
  qa_dropout: num('DistilBERT: dropout of the question-answering head (default 0.1).', { minimum: 0, exclusiveMaximum: 1 }),
  tie_word_embeddings: bool('DistilBERT: vocab_projector shares the word embeddings (must be true).'),
};

/** ElectraConfig's field beyond BERT's, for model_type "electra" (its other defaults are filled by its family). */
export const ELECTRA_FIELDS: Readonly<Record<string, Field>> = {
  embedding_size: int('ELECTRA and ALBERT: width of the embeddings, projected to hidden_size when they differ (electra-small, albert-base: 128).', 1),
};

export const ALBERT_FIELDS: Readonly<Record<string, Field>> = {
  num_hidden_groups: int('ALBERT: groups of layer parameters; the layers share them (albert-base: 1).', 1),
  inner_group_num: int('ALBERT: layers inside each group (albert-base: 1).', 1),
  classifier_dropout_prob: num('ALBERT: dropout before the classifier (default 0.1).', { minimum: 0, exclusiveMaximum: 1 }),
};

export const TRAINING_FIELDS: FieldsOf<TrainingConfig> = {
  recipe: oneOfStr(`A measured set of values for a purpose; what this file writes wins over it. ${Object.entries(RECIPES).map(([k, r]) => `"${k}": ${r.description}.`).join(' ')}`, Object.keys(RECIPES)),
  output_dir: pathStr('Where checkpoints (checkpoint-<step>/), trainer_state.json and the run log go.', { required: true }),
  overwrite_output_dir: bool('Train into a non-empty output_dir, replacing what is there.', false),
  run_name: str('A run name for the UI. Default: the output_dir\'s folder name.'),

  model_name_or_path: modelRef('Start from this checkpoint (a folder, BERT Lab\'s or Hugging Face\'s, or a Hub id): transfer learning.'),
  model_revision: str('The revision of model_name_or_path and tokenizer_name when they are Hugging Face Hub ids: a branch, a tag or a full 40-character commit hash (as transformers\' model_revision).', { default: 'main' }),
  model_config: { type: 'object', properties: { ...BERT_FIELDS, ...DISTILBERT_FIELDS, ...ELECTRA_FIELDS, ...ALBERT_FIELDS }, description: 'A new model from scratch: its config.json fields (HF names): model_type "bert" (bert-base defaults), "roberta", "xlm-roberta", "electra", "albert" (each with its own defaults) or "distilbert" (DistilBertConfig\'s names: dim, n_layers, …); vocab_size comes from the tokenizer.' },
  tokenizer_name: modelRef('A tokenizer folder, a tokenizer.json or a Hub id. Default: the model\'s, or the one trained by train_tokenizer.'),
  train_tokenizer: { type: 'object', properties: TOKENIZER_FIELDS, description: 'Train a vocabulary on the training text first (from-scratch pretraining): WordPiece (BERT) or byte-level BPE (RoBERTa).' },
  freeze_embeddings: bool('Freeze the embeddings (no updates).', false),
  freeze_layers: int('Freeze the first n encoder layers.', 0, { default: 0 }),

  task: oneOfStr('Single task: what to train, with train_file ("electra": ELECTRA pretraining, a generator and a discriminator). For several tasks use `tasks`.', ['mlm', 'classification', 'electra']),
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
  generator_size: num('task "electra": the generator\'s hidden_size, intermediate_size and attention heads as a fraction of the discriminator\'s (model_config). Default 0.25, as ELECTRA-Small.', { exclusiveMinimum: 0, maximum: 1 }),
  generator_config: { type: 'object', properties: Object.fromEntries(GENERATOR_FIELDS.map((k) => [k, withoutDefault(BERT_FIELDS[k])])), description: 'task "electra": the generator\'s own sizes instead of generator_size (the embeddings are the discriminator\'s, shared).' },
  rtd_weight: num('task "electra": λ, the weight of the discriminator\'s replaced-token-detection loss next to the generator\'s MLM loss. Default 50, as the paper.', { exclusiveMinimum: 0 }),

  learning_rate: num('Peak learning rate of AdamW.', { exclusiveMinimum: 0 }, 5e-5),
  weight_decay: num('AdamW decoupled weight decay (not on biases and LayerNorm weights).', { minimum: 0 }, 0),
  adam_beta1: num('AdamW β1.', { minimum: 0, exclusiveMaximum: 1 }, 0.9),
  adam_beta2: num('AdamW β2.', { minimum: 0, exclusiveMaximum: 1 }, 0.999),
  adam_epsilon: num('AdamW ε.', { exclusiveMinimum: 0 }, 1e-8),
  max_grad_norm: num('Clip the global gradient norm to this (0: no clipping).', { minimum: 0 }, 1.0),
  num_train_epochs: num('Epochs to train (may be fractional). Default 3; with max_time and no max_steps, no limit (the budget ends the run).', { exclusiveMinimum: 0 }, 3),
  max_steps: int('Optimizer steps to train; overrides num_train_epochs when > 0.', -1, { default: -1 }),
  max_time: {
    type: 'anyOf',
    anyOf: [str('A duration.', { pattern: DURATION_PATTERN } as Partial<Field>), { type: 'number', exclusiveMinimum: 0, description: 'Seconds.' }],
    expected: `${DURATION_FORMS}, or a positive number of seconds`,
    description: 'A time budget, as PyTorch Lightning\'s max_time: "10m", "1h30m", "90s", "00:10:00" or a number of seconds. Training stops with a checkpoint (and the model saved) once this much time is spent (evaluations included; time before a resume counts), or at max_steps / num_train_epochs if that comes first — without them, only the budget ends the run. The learning-rate schedule is sized to the budget: its total steps are estimated from the measured speed and re-estimated as training goes.',
  },
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

/** TrainingArguments fields BERT Lab does not implement: accepted with a warning, then dropped. */
export const IGNORED_HF_FIELDS: ReadonlySet<string> = new Set([
  'fp16', 'bf16', 'tf32', 'optim', 'report_to', 'push_to_hub', 'hub_model_id', 'hub_strategy', 'hub_private_repo', 'logging_dir', 'logging_strategy',
  'logging_first_step', 'do_train', 'do_eval', 'do_predict', 'dataloader_num_workers', 'dataloader_pin_memory', 'dataloader_drop_last', 'gradient_checkpointing',
  'torch_compile', 'deepspeed', 'fsdp', 'local_rank', 'ddp_find_unused_parameters', 'label_smoothing_factor', 'lr_scheduler_kwargs', 'disable_tqdm',
  'remove_unused_columns', 'label_names', 'auto_find_batch_size', 'use_cpu', 'no_cuda', 'overwrite_cache', 'preprocessing_num_workers', 'cache_dir',
  'save_safetensors', 'save_only_model', 'full_determinism', 'data_seed', 'eval_accumulation_steps', 'eval_delay', 'eval_on_start', 'pad_to_max_length',
  'max_train_samples', 'max_eval_samples', 'include_tokens_per_second', 'include_num_input_tokens_seen', 'prediction_loss_only',
]);

/** The JSON kind of a value: "null", "array", or its typeof. */
export const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Whether a value has the JSON kind a spec takes (bounds, enums and patterns aside). */
export const accepts = (s: Spec, v: unknown): boolean => {
  const k = kindOf(v);
  return s.type === 'integer' ? k === 'number' : s.type === 'map' ? k === 'object' : s.type === 'anyOf' ? s.anyOf.some((a) => accepts(a, v)) : k === s.type;
};

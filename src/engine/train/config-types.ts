/**
 * The training configuration file (JSON or YAML). Field names follow Hugging Face's
 * TrainingArguments wherever one exists, so a config reads the same to HF users; the rest
 * (data, model, tasks) follow transformers' example scripts (run_mlm.py, run_glue.py). Types only.
 */
import type { DatasetSpec, ProblemType } from '../data/types.js';
export type { ProblemType };
import type { BertConfig } from '../models/bert/config.js';

/** "electra": ELECTRA pretraining (a single task only: the generator's MLM and replaced-token detection). */
export type TaskKind = 'mlm' | 'classification' | 'electra';

export interface TaskConfig {
  /** Letters, digits, "_" and "-": names the head (heads.<name>.*) and the metrics (eval_<name>_accuracy). */
  name: string;
  kind: TaskKind;
  train_file: string | DatasetSpec;
  validation_file?: string | DatasetSpec;
  /** Used when validation_file is absent: this percentage of train_file (as run_mlm.py), chosen by `seed`. Default 10. */
  validation_split_percentage?: number;
  /** Classification: how the labels are read. */
  problem_type?: ProblemType;
  /** Multi-task: this task's loss weight (default 1). */
  loss_weight?: number;
}

export interface TrainingConfig {
  /** Where checkpoints (checkpoint-<step>/), trainer_state.json and the run log go. */
  /** A named recipe (recipes.ts) whose values go under this configuration's. */
  recipe?: string;
  output_dir: string;
  overwrite_output_dir?: boolean;
  /** A run name for the UI; default the output_dir's folder name. */
  run_name?: string;

  // ---- model
  /** Start from this checkpoint folder (BERT Lab's or Hugging Face's) or Hugging Face Hub id: transfer learning. */
  model_name_or_path?: string;
  /** The Hub revision of model_name_or_path / tokenizer_name when they are Hub ids: a branch, tag or full commit hash (default "main"). */
  model_revision?: string;
  /** A new model from scratch: BertConfig fields (HF names); vocab_size comes from the tokenizer. */
  model_config?: Partial<BertConfig>;
  /** A tokenizer folder, tokenizer.json or Hub id; default: the model's, or one trained (train_tokenizer). */
  tokenizer_name?: string;
  /** Train a vocabulary on the training text first (from-scratch pretraining): WordPiece (BERT) or byte-level BPE (RoBERTa). */
  train_tokenizer?: { type?: 'wordpiece' | 'bpe'; vocab_size: number; min_frequency?: number; lowercase?: boolean };
  /** Freeze the embeddings / the first n encoder layers (their parameters get no updates). */
  freeze_embeddings?: boolean;
  freeze_layers?: number;

  // ---- data (single task) or tasks (multi-task)
  task?: TaskKind;
  train_file?: string | DatasetSpec;
  validation_file?: string | DatasetSpec;
  validation_split_percentage?: number;
  problem_type?: ProblemType;
  tasks?: TaskConfig[];
  /** Tokens per sequence, special tokens included (≤ max_position_embeddings). */
  max_seq_length?: number;
  /** MLM: long documents are split into chunks of max_seq_length (default true); classification truncates. */
  line_by_line?: boolean;
  mlm_probability?: number;
  whole_word_masking?: boolean;
  /** MLM: stream train_file instead of loading it (text larger than memory); needs max_steps. */
  streaming?: boolean;
  /** task "electra": the generator's width as a fraction of the discriminator's (default 0.25), or its config. */
  generator_size?: number;
  generator_config?: Record<string, unknown>;
  /** task "electra": λ, the discriminator loss's weight (default 50). */
  rtd_weight?: number;

  // ---- TrainingArguments
  learning_rate?: number;
  weight_decay?: number;
  adam_beta1?: number;
  adam_beta2?: number;
  adam_epsilon?: number;
  max_grad_norm?: number;
  /** Default 3; absent from a parsed config with max_time and no max_steps: the budget alone ends the run. */
  num_train_epochs?: number;
  /** Overrides num_train_epochs when > 0. */
  max_steps?: number;
  /** A time budget (PyTorch Lightning's max_time): "10m", "1h30m", "90s", "00:10:00" or seconds. */
  max_time?: string | number;
  lr_scheduler_type?: 'linear' | 'cosine' | 'constant' | 'constant_with_warmup';
  warmup_ratio?: number;
  warmup_steps?: number;
  per_device_train_batch_size?: number;
  per_device_eval_batch_size?: number;
  gradient_accumulation_steps?: number;
  eval_strategy?: 'no' | 'steps' | 'epoch';
  eval_steps?: number;
  save_strategy?: 'no' | 'steps' | 'epoch';
  save_steps?: number;
  save_total_limit?: number;
  logging_steps?: number;
  seed?: number;
  metric_for_best_model?: string;
  greater_is_better?: boolean;
  load_best_model_at_end?: boolean;
  /** EarlyStoppingCallback's arguments: stop after this many evaluations without improvement. */
  early_stopping_patience?: number;
  early_stopping_threshold?: number;
  resume_from_checkpoint?: string | boolean;

  // ---- BERT Lab
  /** Execution provider. */
  device?: 'auto' | 'cpu' | 'cuda' | 'webgpu';
  threads?: number;
  /** Optimizer steps per onnxruntime run (K in the Loop): progress granularity vs. overhead. */
  steps_per_run?: number;
  /** Sequence-length buckets for dynamic padding; default multiples of 32 up to max_seq_length. */
  length_buckets?: number[];
  /** A step whose loss or gradient norm is NaN or infinite: "stop" the run there (default), or "skip" its update. */
  nan_inf_policy?: 'stop' | 'skip';
  /** With nan_inf_policy "skip": stop when this many steps in a row were skipped. */
  nan_inf_patience?: number;
  /** Start even when the memory estimate exceeds the memory available (the estimate is rough). */
  skip_memory_check?: boolean;
}

/** The fields applyTrainingDefaults always fills in. */
type Defaulted = 'run_name' | 'overwrite_output_dir' | 'freeze_embeddings' | 'freeze_layers' | 'max_seq_length' | 'line_by_line' | 'mlm_probability' | 'whole_word_masking'
  | 'learning_rate' | 'weight_decay' | 'adam_beta1' | 'adam_beta2' | 'adam_epsilon' | 'max_grad_norm' | 'max_steps' | 'lr_scheduler_type'
  | 'warmup_ratio' | 'warmup_steps' | 'per_device_train_batch_size' | 'per_device_eval_batch_size' | 'gradient_accumulation_steps' | 'eval_strategy' | 'save_strategy'
  | 'save_steps' | 'logging_steps' | 'seed' | 'load_best_model_at_end' | 'device' | 'steps_per_run' | 'length_buckets' | 'nan_inf_policy' | 'nan_inf_patience'
  | 'skip_memory_check';
/** A valid configuration with its defaults filled in and its paths resolved: what the trainer reads. */
export type ParsedTrainingConfig = TrainingConfig & Required<Pick<TrainingConfig, Defaulted>>;

/**
 * What a resumed run may change. A checkpoint continues bit-identically only with the model, the
 * tokenizer, the training examples and the batch plan it was made with: the sampler's saved state
 * (epoch, cursor, generator state, carried examples) re-makes the epoch's plan of runs from the
 * example lengths, the buckets, B and K·M, and the cursor counts runs of that plan. Fields that
 * change any of these are refused, naming the field, both values and what to do; the rest
 * (learning rate, schedule, steps, evaluation, saving, logging, early stopping, …) may change and
 * are listed in the log. The checkpoint's training_args.json holds the configuration it was made
 * with (older checkpoints may lack it or some fields: what is missing is not compared), and its
 * config.json the model's shape.
 */
import { defaultBuckets } from '../data/batching.js';
import { BertConfig } from '../models/bert/config.js';
import { parseModelConfig } from '../models/registry.js';
import { ParsedTrainingConfig, TRAINING_FIELDS, tasksOf } from './config.js';
import type { TaskConfig, TrainingConfig } from './config-types.js';
import { bestMetricOptions } from './best.js';

export interface ConfigChange { field: string; was: unknown; now: unknown; why?: string }

/** config.json fields that fix the shapes of the weights. */
export const SHAPE_FIELDS = ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'vocab_size', 'max_position_embeddings', 'type_vocab_size', 'embedding_size', 'num_hidden_groups', 'inner_group_num'] as const;

/** Training fields the checkpoint's state depends on, and how. */
const FIXED: Record<string, string> = {
  per_device_train_batch_size: "the sampler's epoch plan is cut into batches of this many examples",
  gradient_accumulation_steps: 'each sampler run holds steps_per_run × this many batches, and an epoch has fewer optimizer steps',
  steps_per_run: "the sampler's epoch plan is cut into runs of this many steps, and its saved cursor counts those runs",
  max_seq_length: 'the training sequences are cut (or truncated) to this length',
  length_buckets: 'the epoch plan groups the examples by bucket',
  seed: 'the validation split, hence which examples the sampler state counts, depends on it',
  line_by_line: 'the masked-LM training sequences depend on it',
  train_tokenizer: "the checkpoint's embeddings belong to its vocabulary (a resumed run loads the checkpoint's tokenizer)",
  tokenizer_name: "the checkpoint's embeddings belong to its vocabulary (a resumed run loads the checkpoint's tokenizer)",
};
/** Fields absent from training_args.json when unset; any other absent field is one an older version did not write: unknown. */
const OPTIONAL = new Set(['train_tokenizer', 'tokenizer_name']);
const TASK_FIXED: Record<string, string> = {
  kind: 'the model has a head of this kind',
  problem_type: 'the head and its loss follow it',
  train_file: 'the sampler state counts the examples of this data',
};
/** Handled apart (or not a change of the run). */
const NOT_LISTED = new Set(['resume_from_checkpoint', 'overwrite_output_dir', 'model_config', 'model_name_or_path', 'model_revision', 'task', 'tasks', 'train_file', 'validation_file',
  'validation_split_percentage', 'problem_type', 'freeze_embeddings', 'freeze_layers', ...Object.keys(FIXED)]);

/** JSON with sorted keys: the same value in any key order compares equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'undefined';
}
const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);
export const showValue = (v: unknown): string => (v === undefined ? '(unset)' : JSON.stringify(v));
const describe = (c: ConfigChange): string => `${c.field} ${showValue(c.was)} → ${showValue(c.now)}`;

const bucketsOf = (c: Pick<TrainingConfig, 'length_buckets' | 'max_seq_length'>): number[] | undefined =>
  c.length_buckets?.length ? c.length_buckets : c.max_seq_length !== undefined ? defaultBuckets(c.max_seq_length) : undefined;
const tokenizerOf = (t: TrainingConfig['train_tokenizer']) => t && { vocab_size: t.vocab_size, min_frequency: t.min_frequency ?? 2, lowercase: t.lowercase ?? t.type !== 'bpe', ...(t.type === 'bpe' ? { type: 'bpe' } : {}) };

export interface ResumeComparison {
  /** Changes the checkpoint cannot continue with. */
  refused: ConfigChange[];
  /** Changes a resumed run takes (or, with a note, ignores). */
  changed: ConfigChange[];
  /** The tracked metric or its direction changed: the checkpoint's best_metric does not compare with the new values. */
  bestMetricChanged: boolean;
}

/**
 * `was`: the checkpoint's training_args.json (null when it has none); `ckpt`: its config.json;
 * `sourceConfig`: config.json of this configuration's model_name_or_path (null when unreadable; a
 * Hub id is read from the Hugging Face cache at model_revision, never downloaded for a resume).
 */
export function compareForResume(was: Partial<ParsedTrainingConfig> | null, now: ParsedTrainingConfig, ckpt: BertConfig, sourceConfig: (path: string) => BertConfig | null): ResumeComparison {
  const refused: ConfigChange[] = [], changed: ConfigChange[] = [];
  // The model: a resumed run builds it from the checkpoint's config.json, so another shape would be silently ignored.
  const src = now.model_name_or_path !== undefined ? sourceConfig(now.model_name_or_path) : null;
  if (src) {
    for (const f of SHAPE_FIELDS) if (src[f] !== ckpt[f]) refused.push({ field: `${f} (of model_name_or_path ${now.model_name_or_path})`, was: ckpt[f], now: src[f], why: 'the checkpoint\'s weights have the shapes of its config.json' });
  } else if (now.model_name_or_path === undefined && now.model_config) {
    const m = parseModelConfig({ ...now.model_config, vocab_size: now.model_config.vocab_size ?? 30522 }, 'model_config');
    // vocab_size comes from the tokenizer (train_tokenizer is compared below).
    for (const f of SHAPE_FIELDS) if (f !== 'vocab_size' && m[f] !== ckpt[f]) refused.push({ field: `model_config.${f}`, was: ckpt[f], now: m[f], why: 'the checkpoint\'s weights have the shapes of its config.json' });
  }
  if (!was) return { refused, changed, bestMetricChanged: false };

  for (const [f, why] of Object.entries(FIXED)) {
    if (!(f in was) && !OPTIONAL.has(f)) continue; // an older checkpoint: unknown, not compared
    const a = f === 'length_buckets' ? bucketsOf(was) : f === 'train_tokenizer' ? tokenizerOf(was.train_tokenizer) : (was as Record<string, unknown>)[f];
    const b = f === 'length_buckets' ? bucketsOf(now) : f === 'train_tokenizer' ? tokenizerOf(now.train_tokenizer) : (now as unknown as Record<string, unknown>)[f];
    // Default buckets follow max_seq_length, which is compared itself.
    if (f === 'length_buckets' && same(a, bucketsOf({ max_seq_length: was.max_seq_length })) && same(b, bucketsOf({ max_seq_length: now.max_seq_length }))) continue;
    if (!same(a, b)) refused.push({ field: f, was: a, now: b, why });
  }
  // Parameters the checkpoint has no AdamW moments for cannot be unfrozen; freezing more is fine.
  if (was.freeze_embeddings === true && !now.freeze_embeddings) refused.push({ field: 'freeze_embeddings', was: true, now: now.freeze_embeddings, why: 'the checkpoint has no optimizer state for the frozen embeddings' });
  else if (was.freeze_embeddings !== undefined && was.freeze_embeddings !== now.freeze_embeddings) changed.push({ field: 'freeze_embeddings', was: was.freeze_embeddings, now: now.freeze_embeddings });
  if ((was.freeze_layers ?? 0) > now.freeze_layers) refused.push({ field: 'freeze_layers', was: was.freeze_layers, now: now.freeze_layers, why: 'the checkpoint has no optimizer state for the layers it froze' });
  else if (was.freeze_layers !== undefined && was.freeze_layers !== now.freeze_layers) changed.push({ field: 'freeze_layers', was: was.freeze_layers, now: now.freeze_layers });

  // Tasks, matched by name: each has a head and a saved sampler state.
  const before = tasksOf(was as TrainingConfig), after = tasksOf(now);
  const names = (ts: TaskConfig[]) => ts.map((t) => t.name);
  const prefix = (t: TaskConfig) => (now.tasks ? `tasks.${t.name}.` : '');
  if (!same(names(before).sort(), names(after).sort())) {
    refused.push({ field: now.tasks ? 'tasks' : 'task', was: names(before), now: names(after), why: 'the checkpoint has a head and a data state per task' });
  } else {
    for (const t of after) {
      const o = before.find((x) => x.name === t.name)!;
      for (const [f, why] of Object.entries(TASK_FIXED)) {
        const a = (o as unknown as Record<string, unknown>)[f], b = (t as unknown as Record<string, unknown>)[f];
        if (!same(a, b)) refused.push({ field: prefix(t) + f, was: a, now: b, why });
      }
      // Without validation_file the training examples are a split of train_file; with it, all of train_file.
      if ((o.validation_file === undefined) !== (t.validation_file === undefined)) {
        refused.push({ field: prefix(t) + 'validation_file', was: o.validation_file, now: t.validation_file, why: 'with it all of train_file is training data, without it a split of train_file, and the sampler state counts those examples' });
      } else if (!same(o.validation_file, t.validation_file)) changed.push({ field: prefix(t) + 'validation_file', was: o.validation_file, now: t.validation_file });
      else if (t.validation_file === undefined && (o.validation_split_percentage ?? 10) !== (t.validation_split_percentage ?? 10)) {
        refused.push({ field: prefix(t) + 'validation_split_percentage', was: o.validation_split_percentage ?? 10, now: t.validation_split_percentage ?? 10, why: 'the split decides which examples of train_file the sampler state counts' });
      }
      if ((o.loss_weight ?? 1) !== (t.loss_weight ?? 1)) changed.push({ field: prefix(t) + 'loss_weight', was: o.loss_weight ?? 1, now: t.loss_weight ?? 1 });
    }
  }

  // What a resumed run does not read: said, so that nobody expects it to take effect.
  if (was.model_name_or_path !== undefined && now.model_name_or_path !== undefined && was.model_name_or_path !== now.model_name_or_path) {
    changed.push({ field: 'model_name_or_path', was: was.model_name_or_path, now: now.model_name_or_path, why: 'not applied: a resumed run starts from the checkpoint\'s weights' });
  }
  if (was.model_revision !== undefined && now.model_revision !== undefined && was.model_revision !== now.model_revision) {
    changed.push({ field: 'model_revision', was: was.model_revision, now: now.model_revision, why: 'not applied: a resumed run starts from the checkpoint\'s weights and tokenizer' });
  }
  for (const k of new Set([...Object.keys(was.model_config ?? {}), ...Object.keys(now.model_config ?? {})])) {
    if ((SHAPE_FIELDS as readonly string[]).includes(k)) continue;
    const a = (was.model_config as Record<string, unknown> | undefined)?.[k], b = (now.model_config as Record<string, unknown> | undefined)?.[k];
    if (!same(a, b)) changed.push({ field: `model_config.${k}`, was: a, now: b, why: 'not applied: a resumed run keeps the checkpoint\'s config.json' });
  }

  for (const k of new Set([...Object.keys(was), ...Object.keys(now)])) {
    if (NOT_LISTED.has(k)) continue;
    const a = (was as Record<string, unknown>)[k], b = (now as unknown as Record<string, unknown>)[k];
    // A field an older version did not write, at its default now, is no change.
    if (!(k in was) && same(b, (TRAINING_FIELDS as Record<string, { default?: unknown } | undefined>)[k]?.default)) continue;
    if (!same(a, b)) changed.push({ field: k, was: a, now: b });
  }
  // The checkpoint's best_metric is a value of the metric it tracked, as better or worse as it ranked them.
  const track = (c: Partial<ParsedTrainingConfig>) => bestMetricOptions(c, c.eval_strategy !== undefined && c.eval_strategy !== 'no');
  const a = track(was), b = track(now);
  const bestMetricChanged = 'eval_strategy' in was && a !== null && b !== null && (a.metric !== b.metric || a.greaterIsBetter !== b.greaterIsBetter);
  return { refused, changed, bestMetricChanged };
}

/** "resume: learning_rate 0.0005 → 0.0001, max_steps 10 → 20" (null when nothing changed). */
export function describeChanges(changes: ConfigChange[]): string | null {
  return changes.length ? `resume: ${changes.map((c) => describe(c) + (c.why ? ` (${c.why})` : '')).join(', ')}` : null;
}

/** The error for refused changes: each field with both values and why, then what to do. */
export function refusal(checkpoint: string, refused: ConfigChange[]): string {
  return `cannot resume from ${checkpoint}: the configuration changed what that checkpoint was trained with — ${refused.map((c) => `${describe(c)}${c.why ? ` (${c.why})` : ''}`).join('; ')}. `
    + 'To continue that run, restore the value' + (refused.length > 1 ? 's' : '') + ' above; to train with the new ones, start a new run: remove "resume_from_checkpoint" and set "overwrite_output_dir": true, or choose a new output_dir.';
}

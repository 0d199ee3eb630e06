/**
 * Hugging Face's trainer_state.json (transformers' TrainerState), read and written so that
 * checkpoints move between BERT Lab and HF's Trainer, and BERT Lab's JSONL run log: record types
 * (shared with the extension and webviews; types only) and a line parser that turns a torn or
 * invalid line into a warning instead of an exception.
 */
import { readFileSync } from 'node:fs';
import { writeFileDurable } from '../checkpoint/durable.js';

// ---- trainer_state.json ------------------------------------------------------------------------

/** A log_history value: HF declares Dict[str, float]; compute_metrics may add other JSON scalars. */
export type LogValue = number | string | boolean | null;
export type LogEntry = Record<string, LogValue>;

/** A training log (Trainer._maybe_log_save_evaluate). learning_rate is the lr of the next update. */
export interface TrainLogEntry { loss: number; learning_rate: number; grad_norm?: number; epoch: number; step: number }
/** An evaluation: eval_loss, eval_<metric>…, eval_runtime, eval_samples_per_second, eval_steps_per_second. */
export type EvalLogEntry = { epoch: number; step: number } & Record<`eval_${string}`, number>;
/** The last entry of a finished run (Trainer.train's speed metrics and mean training loss). */
export interface TrainSummaryEntry {
  train_runtime: number; train_samples_per_second: number; train_steps_per_second: number;
  total_flos: number; train_loss: number; epoch: number; step: number;
}

/** A stateful callback's saved state (ExportableState.state()): constructor args and attributes. */
export interface CallbackState { args: Record<string, unknown>; attributes: Record<string, unknown> }

/** TrainerState's fields, with HF's types and (newTrainerState) defaults. */
export interface TrainerState {
  /** Fractional epoch reached: step / updates per epoch; null before training. */
  epoch: number | null;
  global_step: number;
  max_steps: number;
  logging_steps: number;
  eval_steps: number;
  save_steps: number;
  /** per-device batch size × devices (HF does not multiply in gradient_accumulation_steps). */
  train_batch_size: number | null;
  num_train_epochs: number;
  num_input_tokens_seen: number;
  total_flos: number;
  log_history: LogEntry[];
  best_metric: number | null;
  /** Since transformers 4.52; absent from older files. */
  best_global_step: number | null;
  best_model_checkpoint: string | null;
  is_local_process_zero: boolean;
  is_world_process_zero: boolean;
  is_hyper_param_search: boolean;
  trial_name: string | null;
  trial_params: Record<string, string | number | boolean> | null;
  /** Callback class name → state (a list when a Trainer had several of one class). */
  stateful_callbacks: Record<string, CallbackState | CallbackState[]>;
}

/** HF TrainerState's defaults, overridden by `init`. */
export function newTrainerState(init: Partial<TrainerState> = {}): TrainerState {
  return {
    epoch: null, global_step: 0, max_steps: 0, logging_steps: 500, eval_steps: 500, save_steps: 500,
    train_batch_size: null, num_train_epochs: 0, num_input_tokens_seen: 0, total_flos: 0, log_history: [],
    best_metric: null, best_global_step: null, best_model_checkpoint: null, is_local_process_zero: true,
    is_world_process_zero: true, is_hyper_param_search: false, trial_name: null, trial_params: null,
    stateful_callbacks: {}, ...init,
  };
}

/** Which of HF's three kinds of log entry this is. */
export function logEntryKind(e: LogEntry): 'train' | 'eval' | 'summary' | 'other' {
  if ('train_runtime' in e) return 'summary';
  if (Object.keys(e).some((k) => k.startsWith('eval_'))) return 'eval';
  return 'loss' in e ? 'train' : 'other';
}

export class TrainerStateError extends Error {
  override name = 'TrainerStateError';
}

// Python's json writes NaN, Infinity and -Infinity as bare words (not JSON); read them as numbers.
const NONFINITE = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;
// Stand-ins while JSON.parse / JSON.stringify run: a string no real value starts with.
const SENTINEL = '\u0000pyfloat:';
const SENTINEL_JSON = '\\u0000pyfloat:'; // the same, escaped as it appears in JSON text

/** JSON as Python's json module reads it: bare NaN / Infinity / -Infinity are numbers. */
export function parsePythonJson(text: string): unknown {
  const safe = text.replace(NONFINITE, (m) => (m.startsWith('"') ? m : `"${SENTINEL_JSON}${m}"`));
  return JSON.parse(safe, (_k, v: unknown) => (typeof v === 'string' && v.startsWith(SENTINEL) ? Number(v.slice(SENTINEL.length)) : v));
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v);

type Check = [field: keyof TrainerState, ok: (v: unknown) => boolean, want: string];
const CHECKS: Check[] = [
  ['epoch', (v) => v === null || typeof v === 'number', 'a number or null'],
  ['global_step', (v) => isInt(v) && (v as number) >= 0, 'an integer ≥ 0'],
  ['max_steps', isInt, 'an integer'],
  ['logging_steps', (v) => typeof v === 'number', 'a number'],
  ['eval_steps', (v) => typeof v === 'number', 'a number'],
  ['save_steps', (v) => typeof v === 'number', 'a number'],
  ['train_batch_size', (v) => v === null || (isInt(v) && (v as number) > 0), 'a positive integer or null'],
  ['num_train_epochs', (v) => typeof v === 'number' && v >= 0, 'a number ≥ 0'],
  ['num_input_tokens_seen', (v) => typeof v === 'number', 'a number'],
  ['total_flos', (v) => typeof v === 'number', 'a number'],
  ['log_history', Array.isArray, 'a list of log entries'],
  ['best_metric', (v) => v === null || typeof v === 'number', 'a number or null'],
  ['best_global_step', (v) => v === null || isInt(v), 'an integer or null'],
  ['best_model_checkpoint', (v) => v === null || typeof v === 'string', 'a path or null'],
  ['is_local_process_zero', (v) => typeof v === 'boolean', 'true or false'],
  ['is_world_process_zero', (v) => typeof v === 'boolean', 'true or false'],
  ['is_hyper_param_search', (v) => typeof v === 'boolean', 'true or false'],
  ['trial_name', (v) => v === null || typeof v === 'string', 'a string or null'],
  ['trial_params', (v) => v === null || isObj(v), 'an object or null'],
  ['stateful_callbacks', (v) => isObj(v), 'an object of callback states'],
];

/**
 * A trainer_state.json's text → TrainerState. Fields older transformers did not write get HF's
 * defaults; fields newer ones add are kept (and written back). Every problem is listed in one
 * TrainerStateError naming the file, the field and the value.
 */
export function parseTrainerState(text: string, file: string): TrainerState {
  let json: unknown;
  try { json = parsePythonJson(text); } catch (e) {
    throw new TrainerStateError(`${file}: not valid JSON (${(e as Error).message}); a trainer_state.json is written by HF's Trainer or BERT Lab — restore it from another checkpoint or delete the checkpoint`);
  }
  if (!isObj(json)) throw new TrainerStateError(`${file}: holds ${Array.isArray(json) ? 'a list' : JSON.stringify(json)}, not a TrainerState object`);
  if (!('global_step' in json) || !('log_history' in json)) throw new TrainerStateError(`${file}: global_step and log_history are missing; this is not a trainer_state.json`);
  const problems: string[] = [];
  const bad = (field: string, v: unknown, want: string) => problems.push(`field "${field}" is ${JSON.stringify(v) ?? String(v)}; it must be ${want}`);
  for (const [f, ok, want] of CHECKS) if (f in json && !ok(json[f])) bad(f, json[f], want);
  if (Array.isArray(json['log_history'])) {
    json['log_history'].forEach((e: unknown, i: number) => {
      if (!isObj(e)) return bad(`log_history[${i}]`, e, 'an object of logged values');
      for (const [k, v] of Object.entries(e)) if (!(v === null || ['number', 'string', 'boolean'].includes(typeof v))) bad(`log_history[${i}].${k}`, v, 'a number (or a string, boolean or null)');
      if ('step' in e && !(isInt(e['step']) && (e['step'] as number) >= 0)) bad(`log_history[${i}].step`, e['step'], 'an integer ≥ 0');
      if ('epoch' in e && typeof e['epoch'] !== 'number') bad(`log_history[${i}].epoch`, e['epoch'], 'a number');
    });
  }
  if (isObj(json['stateful_callbacks'])) {
    for (const [name, s] of Object.entries(json['stateful_callbacks'])) {
      for (const one of Array.isArray(s) ? s : [s]) if (!(isObj(one) && isObj(one['args']) && isObj(one['attributes']))) bad(`stateful_callbacks.${name}`, one, 'an object {"args": {…}, "attributes": {…}}');
    }
  }
  if (problems.length) throw new TrainerStateError(`${file}: ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} in this trainer_state.json:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return newTrainerState(json as Partial<TrainerState>);
}

/**
 * TrainerState → text as HF's save_to_json writes it: json.dumps(indent=2, sort_keys=True) + "\n",
 * non-finite numbers as Python's NaN / Infinity. Numbers are spelled by JavaScript (0.00005 where
 * Python writes 5e-05, 1 for 1.0): the same values.
 */
export function serializeTrainerState(state: TrainerState): string {
  const sortKeys = (v: unknown): unknown => (Array.isArray(v) ? v.map(sortKeys) : isObj(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])])) : v);
  const text = JSON.stringify(sortKeys(state), (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `${SENTINEL}${v}` : v), 2);
  // Python's ensure_ascii: non-ASCII characters as \uXXXX escapes.
  return `${text.replace(/"\\u0000pyfloat:(-?Infinity|NaN)"/g, '$1').replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

/**
 * BERT Lab's time budget (max_time), kept in trainer_state.json as a stateful callback (HF's
 * Trainer ignores callback states it has no callback for): the training time spent, so that a
 * resumed run has only the rest of the budget, and the schedule's estimate of the run's steps
 * with its warm-up, so that a resumed run continues the same schedule.
 */
export interface TimeBudgetState {
  /** Seconds of training so far (evaluations and saving included; planning excluded). */
  time_spent: number;
  /** max_time in seconds; null without one. */
  max_time: number | null;
  /** The schedule's total steps estimated from the budget; null before the first estimate. */
  total_steps: number | null;
  /** Warm-up steps, fixed at the first estimate; null before it. */
  warmup_steps: number | null;
  /** The budget ended the run here. */
  stopped: boolean;
}
const TIME_BUDGET = 'TimeBudget';

/** The time budget of a trainer state (the defaults of a fresh run when it has none). */
export function timeBudgetOf(s: TrainerState): TimeBudgetState {
  const cb = s.stateful_callbacks[TIME_BUDGET];
  const a = (cb && !Array.isArray(cb) ? cb.attributes : {}) as Record<string, unknown>;
  const num = (v: unknown, min: number) => (typeof v === 'number' && Number.isFinite(v) && v >= min ? v : null);
  return { time_spent: num(a['time_spent'], 0) ?? 0, max_time: num(cb && !Array.isArray(cb) ? cb.args['max_time'] : null, 0), total_steps: num(a['total_steps'], 0), warmup_steps: num(a['warmup_steps'], 0), stopped: a['stopped'] === true };
}
export function setTimeBudget(s: TrainerState, b: TimeBudgetState): void {
  s.stateful_callbacks[TIME_BUDGET] = { args: { max_time: b.max_time }, attributes: { time_spent: b.time_spent, total_steps: b.total_steps, warmup_steps: b.warmup_steps, stopped: b.stopped } };
}

export const readTrainerState = (path: string): TrainerState => parseTrainerState(readFileSync(path, 'utf8'), path);

/** Writes through a flushed temporary file and a rename, so a crash never leaves half a file. */
export function writeTrainerState(path: string, state: TrainerState): void {
  writeFileDurable(path, serializeTrainerState(state));
}

// ---- the JSONL run log -------------------------------------------------------------------------

/** Times are milliseconds since the Unix epoch (Date.now()). Non-finite numbers travel as null and read back as NaN. */
export interface RunStartRecord {
  type: 'start'; time: number; run_name: string; output_dir: string;
  max_steps: number; num_train_epochs: number; device?: string; config_file?: string; resumed_from?: string | null;
  /** max_time in seconds, when the run has a time budget (max_steps is 0 when only the budget ends it). */
  max_time?: number;
}
/** skipped: the loss or gradient norm was NaN/Inf and nan_inf_policy "skip" discarded this step's update. */
export interface RunStepRecord { type: 'step'; step: number; epoch: number; loss: number; learning_rate: number; grad_norm: number; tokens_per_second: number; time: number; skipped?: boolean }
/** metrics under HF's keys: eval_loss, eval_accuracy, eval_<task>_f1, … */
/** `details`: per task, what does not fit a number (classification: labels, confusion matrix [true][pred], per-class scores). */
export interface RunEvalRecord { type: 'eval'; step: number; epoch: number; metrics: Record<string, number>; time?: number; details?: Record<string, unknown> }
export interface RunCheckpointRecord { type: 'checkpoint'; step: number; path: string; metrics: Record<string, number>; time?: number }
/** metrics: the final summary (train_runtime, train_samples_per_second, train_loss, …). */
export interface RunDoneRecord {
  type: 'done'; step: number; time: number; reason?: 'completed' | 'early_stopping' | 'stopped' | 'max_time';
  metrics?: Record<string, number>; best_model_checkpoint?: string | null;
}
export interface RunErrorRecord { type: 'error'; time: number; message: string; step?: number }
export type RunLogRecord = RunStartRecord | RunStepRecord | RunEvalRecord | RunCheckpointRecord | RunDoneRecord | RunErrorRecord;

export interface RunLogWarning { file: string; line: number; message: string; text: string }
export type RunLogLine = { ok: true; record: RunLogRecord } | { ok: false; warning: RunLogWarning };

/** One record as a line of the run log. */
export const formatRunLogRecord = (r: RunLogRecord): string => `${JSON.stringify(r)}\n`;

type Kind = 'number' | 'metric' | 'string' | 'metrics' | 'nullable-string' | 'boolean';
const RECORD_FIELDS: Record<RunLogRecord['type'], { required: Record<string, Kind>; optional?: Record<string, Kind> }> = {
  start: { required: { time: 'number', run_name: 'string', output_dir: 'string', max_steps: 'number', num_train_epochs: 'number' }, optional: { device: 'string', config_file: 'string', resumed_from: 'nullable-string', max_time: 'number' } },
  step: { required: { step: 'number', epoch: 'number', loss: 'metric', learning_rate: 'number', grad_norm: 'metric', tokens_per_second: 'number', time: 'number' }, optional: { skipped: 'boolean' } },
  eval: { required: { step: 'number', epoch: 'number', metrics: 'metrics' }, optional: { time: 'number' } },
  checkpoint: { required: { step: 'number', path: 'string', metrics: 'metrics' }, optional: { time: 'number' } },
  done: { required: { step: 'number', time: 'number' }, optional: { reason: 'string', metrics: 'metrics', best_model_checkpoint: 'nullable-string' } },
  error: { required: { time: 'number', message: 'string' }, optional: { step: 'number' } },
};

/**
 * One line of a run log → its record, or a warning (never an exception): a torn last line of a
 * run that is still writing or was killed, or a line that is not a record. null for blank lines.
 */
export function parseRunLogLine(line: string, file: string, lineNo: number): RunLogLine | null {
  if (line.trim() === '') return null;
  const warn = (message: string): RunLogLine => ({ ok: false, warning: { file, line: lineNo, message: `${file}:${lineNo}: ${message}`, text: line.length > 200 ? `${line.slice(0, 200)}…` : line } });
  let v: unknown;
  try { v = JSON.parse(line); } catch {
    return warn('not a complete JSON record (cut off by a crash, or still being written); skipped');
  }
  if (!isObj(v)) return warn(`holds ${JSON.stringify(v)}, not a record object; skipped`);
  const type = v['type'];
  if (typeof type !== 'string' || !Object.hasOwn(RECORD_FIELDS, type)) return warn(`unknown record type ${JSON.stringify(type)} (expected ${Object.keys(RECORD_FIELDS).join(', ')}); skipped`);
  const spec = RECORD_FIELDS[type as RunLogRecord['type']];
  const out: Record<string, unknown> = { ...v };
  const fields: [string, Kind, boolean][] = [...Object.entries(spec.required).map(([k, t]) => [k, t, true] as [string, Kind, boolean]), ...Object.entries(spec.optional ?? {}).map(([k, t]) => [k, t, false] as [string, Kind, boolean])];
  for (const [k, kind, required] of fields) {
    const x = v[k];
    if (x === undefined) { if (required) return warn(`a "${type}" record without "${k}"; skipped`); continue; }
    const ok = kind === 'number' ? typeof x === 'number'
      : kind === 'metric' ? typeof x === 'number' || x === null
      : kind === 'string' ? typeof x === 'string'
      : kind === 'nullable-string' ? typeof x === 'string' || x === null
      : kind === 'boolean' ? typeof x === 'boolean'
      : isObj(x) && Object.values(x).every((m) => typeof m === 'number' || m === null);
    if (!ok) return warn(`"${k}" of a "${type}" record is ${JSON.stringify(x)}; expected ${kind === 'metrics' ? 'an object of numbers' : kind === 'metric' ? 'a number or null' : kind === 'boolean' ? 'true or false' : `a ${kind.replace('nullable-string', 'string or null')}`}; skipped`);
    if (kind === 'metric' && x === null) out[k] = NaN;
    if (kind === 'metrics') out[k] = Object.fromEntries(Object.entries(x as Record<string, number | null>).map(([m, n]) => [m, n ?? NaN]));
  }
  return { ok: true, record: out as unknown as RunLogRecord };
}

/** A whole run log: its records in order, and a warning for each line that is not one. */
export function parseRunLog(text: string, file: string): { records: RunLogRecord[]; warnings: RunLogWarning[] } {
  const records: RunLogRecord[] = [];
  const warnings: RunLogWarning[] = [];
  text.split('\n').forEach((line, i) => {
    const r = parseRunLogLine(line.replace(/\r$/, ''), file, i + 1);
    if (r?.ok) records.push(r.record);
    else if (r) warnings.push(r.warning);
  });
  return { records, warnings };
}

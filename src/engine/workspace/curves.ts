/**
 * A run's curves for the Training Curves panel, read from disk: BERT Lab's run_log.jsonl (step,
 * eval and checkpoint records) or, for runs trained elsewhere, Hugging Face's trainer_state.json
 * (log_history). Rows use HF's value names (loss, learning_rate, grad_norm, eval_*). A CurveTail
 * follows a live run log and gives what was appended since the last poll. Problems are warnings,
 * never exceptions. Plain Node; no UI.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CheckpointMarkMsg, CurveRowMsg, CurveRunMsg } from '../../shared/messages/curves.js';
import { type LogEntry, type RunLogRecord, type TrainerState, logEntryKind, readTrainerState } from '../train/state.js';
import { RunLogTail } from './runs.js';

/** NaN and ±Infinity cannot travel in a message (JSON has no such numbers): they become null (a gap). */
const finite = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const finiteValues = (o: Record<string, unknown>): Record<string, number | null> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'number' || v === null).map(([k, v]) => [k, finite(v as number | null)]));

/** HF's speed figures of an evaluation: not curves anyone compares runs by (they would add three charts). */
const EVAL_SPEED = new Set(['eval_runtime', 'eval_samples_per_second', 'eval_steps_per_second']);
const CHECKPOINT = /^checkpoint-(\d+)$/;

/** checkpoint-N folders of a run, by step. */
function checkpointFolders(dir: string): { step: number; path: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => { const m = d.isDirectory() ? CHECKPOINT.exec(d.name) : null; return m ? [{ step: Number(m[1]), path: join(dir, d.name) }] : []; })
    .sort((a, b) => a.step - b.step);
}

/** Whether `best` (HF's best_model_checkpoint, absolute or relative to where the run was) names `path`. */
const isBest = (best: string | null | undefined, path: string): boolean => !!best && basename(best) === basename(path);

/** Follows a run log (from its start): rows and checkpoints appended since the last poll. */
export class CurveTail {
  private readonly tail: RunLogTail;
  /** ms since the epoch of the first start record: times are seconds since then (a resumed run continues the clock). */
  private t0: number | null = null;
  private best: string | null = null;
  private readonly marks = new Map<number, CheckpointMarkMsg>();
  /** Whether the run log has a done or error record (the run is over). */
  finished = false;

  constructor(readonly dir: string) { this.tail = new RunLogTail(join(dir, 'run_log.jsonl')); }

  poll(): { rows: CurveRowMsg[]; checkpoints: CheckpointMarkMsg[]; warnings: string[] } {
    const { records, warnings } = this.tail.poll();
    const rows: CurveRowMsg[] = [];
    const changed = new Set<number>();
    for (const r of records) this.apply(r, rows, changed);
    return { rows, checkpoints: [...changed].sort((a, b) => a - b).map((s) => this.marks.get(s)!), warnings: warnings.map((w) => w.message) };
  }

  private time(ms: number | undefined): number | null {
    return ms === undefined || this.t0 === null ? null : finite((ms - this.t0) / 1000);
  }

  private apply(r: RunLogRecord, rows: CurveRowMsg[], changed: Set<number>): void {
    switch (r.type) {
      case 'start': this.t0 ??= r.time; this.finished = false; break;
      case 'step':
        rows.push({ step: r.step, epoch: finite(r.epoch), time: this.time(r.time), values: finiteValues({ loss: r.loss, learning_rate: r.learning_rate, grad_norm: r.grad_norm, tokens_per_second: r.tokens_per_second }) });
        break;
      case 'eval':
        rows.push({ step: r.step, epoch: finite(r.epoch), time: this.time(r.time), values: finiteValues(r.metrics) });
        break;
      case 'checkpoint': {
        // The folder may have moved with the run: look for it here, by name. A checkpoint's own
        // trainer_state.json says which checkpoint was the best when it was saved.
        const path = join(this.dir, basename(r.path));
        const sf = join(path, 'trainer_state.json');
        if (existsSync(sf)) { try { this.setBest(readTrainerState(sf).best_model_checkpoint, changed); } catch { /* an unreadable state only loses the ★ */ } }
        this.marks.set(r.step, { step: r.step, path, best: isBest(this.best, path) });
        changed.add(r.step);
        break;
      }
      case 'done':
        this.finished = true;
        if (r.best_model_checkpoint !== undefined) this.setBest(r.best_model_checkpoint, changed);
        break;
      case 'error': this.finished = true; break;
      default: { const never: never = r; void never; }
    }
  }

  private setBest(best: string | null, changed: Set<number>): void {
    this.best = best;
    for (const m of this.marks.values()) {
      const b = isBest(best, m.path);
      if (b !== m.best) { m.best = b; changed.add(m.step); }
    }
  }
}

/** The newest readable trainer_state.json of an HF run: the output folder's, or its latest checkpoint's. */
function newestTrainerState(dir: string, warnings: string[]): TrainerState | null {
  let state: TrainerState | null = null;
  for (const f of [join(dir, 'trainer_state.json'), ...checkpointFolders(dir).map((c) => join(c.path, 'trainer_state.json'))]) {
    if (!existsSync(f)) continue;
    try { const s = readTrainerState(f); if (!state || s.global_step >= state.global_step) state = s; } catch (e) { warnings.push((e as Error).message); }
  }
  return state;
}

/** HF log_history → rows: training logs and evaluations (HF keeps no timestamps: time is null). */
export function trainerStateRows(log: LogEntry[]): CurveRowMsg[] {
  const rows: CurveRowMsg[] = [];
  for (const e of log) {
    const kind = logEntryKind(e);
    if ((kind !== 'train' && kind !== 'eval') || typeof e['step'] !== 'number') continue;
    const values = finiteValues(Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'step' && k !== 'epoch' && !EVAL_SPEED.has(k))));
    rows.push({ step: e['step'], epoch: typeof e['epoch'] === 'number' ? finite(e['epoch']) : null, time: null, values });
  }
  return rows;
}

/** A run folder's curves, and for a BERT Lab run the tail to follow it with while it trains. */
export function openCurveRun(dir: string, opts: { id?: string; live?: boolean } = {}): { run: CurveRunMsg; tail: CurveTail | null } {
  const base = { id: opts.id ?? dir, name: basename(dir), live: opts.live ?? false };
  if (existsSync(join(dir, 'run_log.jsonl'))) {
    const tail = new CurveTail(dir);
    const { rows, checkpoints, warnings } = tail.poll();
    // A run log that names no checkpoint (an older run, or records lost) still shows the folders on disk.
    const marks = checkpoints.filter((c) => existsSync(c.path));
    if (!marks.length) for (const c of checkpointFolders(dir)) marks.push({ ...c, best: false });
    return { run: { ...base, source: 'bertlab', rows, checkpoints: marks, warnings }, tail };
  }
  const warnings: string[] = [];
  const state = newestTrainerState(dir, warnings);
  if (!state && !warnings.length) warnings.push(`${dir} has neither a run_log.jsonl nor a trainer_state.json: there are no curves to show`);
  const checkpoints = checkpointFolders(dir).map((c) => ({ ...c, best: isBest(state?.best_model_checkpoint, c.path) }));
  return { run: { ...base, source: 'hf', live: false, rows: state ? trainerStateRows(state.log_history) : [], checkpoints, warnings }, tail: null };
}

/** A run folder's curves (see openCurveRun). */
export const loadCurveRun = (dir: string, opts: { id?: string; live?: boolean } = {}): CurveRunMsg => openCurveRun(dir, opts).run;

/** Whether a folder holds something to draw: a run log, a trainer state, or checkpoint-N folders. */
export function isCurveRunFolder(dir: string): boolean {
  return existsSync(join(dir, 'run_log.jsonl')) || existsSync(join(dir, 'trainer_state.json')) || checkpointFolders(dir).length > 0;
}

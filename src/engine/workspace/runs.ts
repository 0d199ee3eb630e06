/**
 * What the Runs view shows, read from disk: runs (BERT Lab's run_log.jsonl, or a Hugging Face
 * Trainer's trainer_state.json), their checkpoints with step, metrics, size and the best one,
 * and a tail of a growing run log for live updates. Plain Node; no UI.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RunLogRecord, RunLogWarning, TrainerState, parseRunLog, parseRunLogLine, readTrainerState } from '../train/state.js';

export type RunStatus = 'completed' | 'stopped' | 'early_stopping' | 'max_time' | 'failed' | 'incomplete';
export interface CheckpointInfo { path: string; step: number; metrics: Record<string, number>; bytes: number; best: boolean }
export interface RunInfo {
  outputDir: string;
  name: string;
  status: RunStatus;
  step: number;
  maxSteps: number | null;
  loss: number | null;
  device: string | null;
  lastEval: Record<string, number> | null;
  checkpoints: CheckpointInfo[];
  best: string | null;
  /** Problems met while reading (a torn log line, an unreadable state file): shown, not thrown. */
  warnings: string[];
}

const folderBytes = (dir: string): number => readdirSync(dir, { withFileTypes: true })
  .reduce((a, d) => a + (d.isDirectory() ? folderBytes(join(dir, d.name)) : statSync(join(dir, d.name)).size), 0);

/** Folders under `root` (to `depth` levels) that hold a run: a run log, a trainer state or checkpoints. */
export function findRuns(root: string, depth = 3): string[] {
  const out: string[] = [];
  const walk = (dir: string, d: number) => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    const names = new Set(entries.map((e) => e.name));
    if (names.has('run_log.jsonl') || (names.has('trainer_state.json') && !/^checkpoint-\d+$/.test(basename(dir))) || entries.some((e) => e.isDirectory() && /^checkpoint-\d+$/.test(e.name))) {
      out.push(dir);
      return;
    }
    if (d <= 0) return;
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') walk(join(dir, e.name), d - 1);
  };
  walk(root, depth);
  return out.sort();
}

/** Everything the Runs view needs about one run folder. */
export function scanRun(outputDir: string): RunInfo {
  const warnings: string[] = [];
  const info: RunInfo = { outputDir, name: basename(outputDir), status: 'incomplete', step: 0, maxSteps: null, loss: null, device: null, lastEval: null, checkpoints: [], best: null, warnings };
  const logFile = join(outputDir, 'run_log.jsonl');
  const evalAt = new Map<number, Record<string, number>>();
  if (existsSync(logFile)) {
    const log = parseRunLog(readFileSync(logFile, 'utf8'), logFile);
    for (const w of log.warnings) warnings.push(`${w.file}:${w.line}: ${w.message}`);
    for (const r of log.records) applyRecord(info, r, evalAt);
  }
  // Checkpoints: their own trainer_state.json gives metrics and the best checkpoint (HF runs too).
  let state: TrainerState | null = null;
  const dirs = existsSync(outputDir) ? readdirSync(outputDir, { withFileTypes: true }).filter((d) => d.isDirectory() && /^checkpoint-\d+$/.test(d.name)) : [];
  for (const d of dirs) {
    const path = join(outputDir, d.name);
    const step = Number(d.name.slice(11));
    const sf = join(path, 'trainer_state.json');
    if (existsSync(sf)) {
      try {
        const s = readTrainerState(sf);
        if (!state || s.global_step >= state.global_step) state = s;
      } catch (e) { warnings.push((e as Error).message); }
    }
    info.checkpoints.push({ path, step, metrics: {}, bytes: folderBytes(path), best: false });
  }
  const top = join(outputDir, 'trainer_state.json');
  if (existsSync(top)) {
    try { const s = readTrainerState(top); if (!state || s.global_step >= state.global_step) state = s; } catch (e) { warnings.push((e as Error).message); }
  }
  if (state) {
    for (const e of state.log_history) {
      const metrics = Object.fromEntries(Object.entries(e).filter(([k, v]) => k.startsWith('eval_') && typeof v === 'number')) as Record<string, number>;
      if (Object.keys(metrics).length && typeof e['step'] === 'number') evalAt.set(e['step'], { ...evalAt.get(e['step']), ...metrics });
    }
    info.best = state.best_model_checkpoint;
    if (!existsSync(logFile)) {
      info.step = state.global_step;
      info.maxSteps = state.max_steps || null;
      const losses = state.log_history.filter((e) => typeof e['loss'] === 'number');
      info.loss = losses.length ? (losses[losses.length - 1]!['loss'] as number) : null;
      info.status = state.log_history.some((e) => 'train_runtime' in e) ? 'completed' : 'incomplete';
    }
  }
  for (const c of info.checkpoints) {
    c.metrics = evalAt.get(c.step) ?? {};
    c.best = !!info.best && (info.best === c.path || basename(info.best) === basename(c.path));
  }
  info.checkpoints.sort((a, b) => a.step - b.step);
  return info;
}

function applyRecord(info: RunInfo, r: RunLogRecord, evalAt: Map<number, Record<string, number>>): void {
  switch (r.type) {
    case 'start': info.maxSteps = r.max_steps; info.device = r.device ?? null; info.status = 'incomplete'; break;
    case 'step': info.step = r.step; info.loss = r.loss; break;
    case 'eval': info.lastEval = r.metrics; evalAt.set(r.step, r.metrics); break;
    case 'checkpoint': break;
    case 'done': info.status = r.reason ?? 'completed'; info.step = r.step; if (r.best_model_checkpoint !== undefined) info.best = r.best_model_checkpoint; break;
    case 'error': info.status = 'failed'; break;
    default: { const never: never = r; void never; }
  }
}

/**
 * Reads the records appended to a run log since the last poll. A last line without its newline
 * is kept for the next poll (it may still be being written); a complete but invalid line is a
 * warning, never an exception.
 */
export class RunLogTail {
  private offset = 0;
  /** Bytes after the last newline: a line still being written (possibly mid-character). */
  private partial = Buffer.alloc(0);
  private lineNo = 0;
  constructor(readonly file: string) {}
  poll(): { records: RunLogRecord[]; warnings: RunLogWarning[] } {
    const records: RunLogRecord[] = [], warnings: RunLogWarning[] = [];
    if (!existsSync(this.file)) return { records, warnings };
    const size = statSync(this.file).size;
    if (size < this.offset) { this.offset = 0; this.partial = Buffer.alloc(0); this.lineNo = 0; } // rewritten
    if (size === this.offset) return { records, warnings };
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(size - this.offset);
      readSync(fd, buf, 0, buf.length, this.offset);
      this.offset = size;
      const all = Buffer.concat([this.partial, buf]);
      const cut = all.lastIndexOf(10) + 1;
      this.partial = all.subarray(cut);
      const lines = all.subarray(0, cut).toString('utf8').split('\n');
      lines.pop();
      for (const line of lines) {
        this.lineNo++;
        const r = parseRunLogLine(line, this.file, this.lineNo);
        if (!r) continue;
        if (r.ok) records.push(r.record); else warnings.push(r.warning);
      }
    } finally {
      closeSync(fd);
    }
    return { records, warnings };
  }
}

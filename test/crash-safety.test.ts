/**
 * Crash safety of training: the CLI (dist/cli.js) is SIGKILLed at random moments and, through
 * BERT_LAB_FAULT, in the middle of a checkpoint file's write; every kill is followed by a resume.
 * Reference: one uninterrupted run of the same configuration. After each kill, every
 * checkpoint-<n> folder present must be complete and equal, byte for byte, the reference's
 * checkpoint of that step (so a resume never sees a half-written checkpoint and loses nothing
 * beyond the last one); the resume must succeed, start from the newest checkpoint present, and
 * end with weights bit-identical to the reference's. CRASH_SEED picks the kill times (printed),
 * CRASH_TRIALS the number of random-time kills (default 24; 12 more die mid-write). Kill times
 * are fractions of the latest uninterrupted run's duration, and trials go on until that many
 * kills landed before the run ended, so a machine faster or slower than at the reference run
 * still gets them all.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanCheckpointLeftovers } from '../src/engine/models/bert/folder.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { RESUME_FILES, lastCompleteCheckpoint, listCheckpoints } from '../src/engine/train/checkpoint.js';
import { parseRunLog, readTrainerState } from '../src/engine/train/state.js';
import { sotuLines } from './tiny-mlm.js';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const SEED = Number(process.env['CRASH_SEED'] ?? 20261129);
const TRIALS = Number(process.env['CRASH_TRIALS'] ?? 24);
const MID_WRITE_TRIALS = Math.max(10, Math.round(TRIALS / 2));
const MAX_STEPS = 24;

/** mulberry32: a small seeded generator, so a failing trial can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-crash-'));
  writeFileSync(join(dir, 'corpus.txt'), sotuLines(40, 200).filter((_, i) => i % 40 === 0).map((l) => l.text).join('\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A tiny model, a checkpoint every 2 steps, 2 steps per onnxruntime run. */
function writeConfig(out: string): string {
  const file = join(dir, `${out}.json`);
  writeFileSync(file, JSON.stringify({
    task: 'mlm', train_file: 'corpus.txt', train_tokenizer: { vocab_size: 300 }, output_dir: out, seed: 3, device: 'cpu', threads: 1,
    model_config: { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32 },
    max_seq_length: 32, per_device_train_batch_size: 4, max_steps: MAX_STEPS, save_steps: 2, steps_per_run: 2, logging_steps: 2, learning_rate: 3e-3,
  }));
  return file;
}

interface RunResult { code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }
/** How long one CLI run may take before the test gives up on it (a run takes seconds; a hung one would wait for ever). */
const RUN_LIMIT_MS = 300_000;
/**
 * Runs the CLI; `killAfterMs` counts from the spawn, or with `fromTraining` from the line that
 * announces the device (training begins). Rejects, with its stderr, a run still going after RUN_LIMIT_MS.
 */
function runCli(args: string[], opts: { killAfterMs?: number; fromTraining?: boolean; env?: Record<string, string> } = {}): Promise<RunResult & { trainingAt: number }> {
  return new Promise((done, fail) => {
    const t0 = Date.now();
    const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
    if (!opts.env?.['BERT_LAB_FAULT']) delete env['BERT_LAB_FAULT'];
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '', trainingAt = -1, timer: NodeJS.Timeout | null = null, hung = false;
    const limit = setTimeout(() => { hung = true; child.kill('SIGKILL'); }, RUN_LIMIT_MS);
    const arm = () => { if (opts.killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs); };
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (trainingAt < 0 && /\ndevice: /.test(`\n${stderr}`)) { trainingAt = Date.now() - t0; if (opts.fromTraining) arm(); }
    });
    if (!opts.fromTraining) arm();
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      if (timer) clearTimeout(timer);
      if (hung) fail(new Error(`bert-lab ${args.join(' ')} did not exit within ${RUN_LIMIT_MS / 1000} s and was killed; its stderr:\n${stderr}`));
      else done({ code, signal, stderr, ms: Date.now() - t0, trainingAt });
    });
  });
}

const bytes = (...p: string[]) => readFileSync(join(...p));

/** Bytes that differ between two files (a length difference counts in full). */
function differingBytes(a: Buffer, b: Buffer): number {
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}

/**
 * Every checkpoint-<n> present is complete, and its weights, moments and generator state equal the
 * reference's checkpoint-<n>: returns the newest step (or null) and the bytes that differ.
 */
function checkCheckpoints(out: string, ref: string, trial: string): { newest: number | null; lost: number } {
  const all = listCheckpoints(out);
  let lost = 0;
  for (const c of all) {
    for (const f of RESUME_FILES) assert.ok(existsSync(join(c.path, f)), `${trial}: ${c.path}/${f} is missing — a half-written checkpoint`);
    readSafetensors(join(c.path, 'model.safetensors'));
    assert.equal(readTrainerState(join(c.path, 'trainer_state.json')).global_step, c.step, `${trial}: ${c.path} trainer_state`);
    for (const f of ['model.safetensors', 'optimizer.safetensors', 'rng_state.json']) lost += differingBytes(bytes(c.path, f), bytes(ref, `checkpoint-${c.step}`, f));
  }
  assert.equal(lost, 0, `${trial}: checkpoints differ from the uninterrupted run's in ${lost} bytes`);
  return { newest: all.length ? all[all.length - 1]!.step : null, lost };
}

const leftovers = (out: string) => (existsSync(out) ? readdirSync(out).filter((n) => n.startsWith('.')) : []);

describe('crash safety: SIGKILL at random moments and in the middle of checkpoint writes, then resume', () => {
  it(`survives ${TRIALS} random kills and ${MID_WRITE_TRIALS} kills during a checkpoint write; resumes are bit-identical`, { timeout: 600_000 }, async () => {
    const t0 = Date.now();
    const ref = await runCli(['train', writeConfig('reference')]);
    assert.equal(ref.code, 0, ref.stderr);
    const refDir = join(dir, 'reference');
    const refModel = bytes(refDir, 'model.safetensors');
    const writesPerRun = 130; // 12 checkpoints × 10 files + the final model's 10: an upper bound for the mid-write fault's index
    // Two streams, so the mid-write trials' fault indices do not depend on how many random-time trials it took.
    const random = rng(SEED), faults = rng(SEED ^ 0x5bd1e995);
    assert.ok(ref.trainingAt > 0);
    process.stdout.write(`crash-safety: seed ${SEED} (CRASH_SEED), reference run ${ref.ms} ms (training from ${ref.trainingAt} ms)\n`);
    const stats = { trials: 0, killed: 0, finishedBeforeKill: 0, killsInCheckpointWrite: 0, midWriteKills: 0, resumesOk: 0, resumedFromScratch: 0, tornLogLines: 0, bytesLostBeyondLastCheckpoint: 0 };
    // Kill times are fractions of the latest uninterrupted run: the reference's, then any trial's
    // that finished before its kill (later runs may be faster, warm, or slower, loaded).
    let whole = ref.ms, training = ref.ms - ref.trainingAt;
    /** One trial: a kill (at a random time, or mid-write), then checks and a resume. True when the kill landed. */
    const trial = async (i: number, midWrite: boolean): Promise<boolean> => {
      const name = `t${i}`;
      const cfg = writeConfig(name);
      const out = join(dir, name);
      // Random times span the whole run: a quarter from the start (start-up, tokenizer), the rest
      // from the start of training (steps, checkpoints, the final save).
      const fromTraining = i % 4 !== 0;
      const killAfterMs = midWrite ? 0 : Math.round(random() * (fromTraining ? training : whole) * 1.1);
      const nthWrite = midWrite ? 1 + Math.floor(faults() * writesPerRun) : 0;
      const trial = midWrite ? `trial ${i} (BERT_LAB_FAULT=kill:${nthWrite})` : `trial ${i} (SIGKILL ${killAfterMs} ms after ${fromTraining ? 'training began' : 'the start'})`;
      const r = midWrite ? await runCli(['train', cfg], { env: { BERT_LAB_FAULT: `kill:${nthWrite}` } }) : await runCli(['train', cfg], { killAfterMs, fromTraining });
      stats.trials++;
      if (r.code === 0) {
        stats.finishedBeforeKill++;
        assert.ok(bytes(out, 'model.safetensors').equals(refModel));
        rmSync(out, { recursive: true, force: true });
        if (!midWrite) { whole = r.ms; if (r.trainingAt > 0) training = r.ms - r.trainingAt; }
        return false;
      }
      assert.equal(r.signal, 'SIGKILL', `${trial}: ${r.stderr}`);
      stats.killed++;
      if (midWrite) stats.midWriteKills++;
      // A kill during a checkpoint's write leaves its temporary folder, never a checkpoint-<n>.
      if (leftovers(out).some((n) => /^\.checkpoint-\d+\.tmp-/.test(n))) stats.killsInCheckpointWrite++;
      const { newest, lost } = checkCheckpoints(out, refDir, trial);
      // One record is one write of a whole line, so a kill cannot tear one; a crash of the machine
      // (or a full disk) can: simulate it for the mid-write trials, the resume must cope.
      const torn = midWrite && existsSync(join(out, 'run_log.jsonl'));
      if (torn) appendFileSync(join(out, 'run_log.jsonl'), '{"type":"step","step":9');
      stats.bytesLostBeyondLastCheckpoint += lost;
      const resumed = await runCli(newest === null ? ['train', cfg] : ['train', cfg, '--resume']);
      assert.equal(resumed.code, 0, `${trial}: the resume failed:\n${resumed.stderr}`);
      stats.resumesOk++;
      if (newest === null) stats.resumedFromScratch++;
      assert.deepEqual(leftovers(out), [], `${trial}: leftovers of the interrupted save were cleaned up`);
      // The resume started at the newest checkpoint: nothing beyond it is lost.
      const log = parseRunLog(readFileSync(join(out, 'run_log.jsonl'), 'utf8'), 'run_log.jsonl');
      const starts = log.records.filter((x) => x.type === 'start');
      const last = starts[starts.length - 1] as { resumed_from?: string | null };
      assert.equal(last.resumed_from ?? null, newest === null ? null : join(out, `checkpoint-${newest}`), `${trial}: resumed from the newest checkpoint`);
      const firstStep = log.records.slice(log.records.lastIndexOf(starts.at(-1)!)).find((x) => x.type === 'step')?.step;
      assert.equal(firstStep, (newest ?? 0) < MAX_STEPS ? (newest ?? 0) + 1 : undefined, `${trial}: the resumed run's first step follows the checkpoint`);
      // A torn last line is at most one warning, and nothing else in the log is lost.
      assert.equal(log.warnings.length, torn ? 1 : 0, `${trial}: ${JSON.stringify(log.warnings)}`);
      stats.tornLogLines += log.warnings.length;
      assert.ok(bytes(out, 'model.safetensors').equals(refModel), `${trial}: the resumed run's final weights differ from the uninterrupted run's`);
      checkCheckpoints(out, refDir, trial);
      rmSync(out, { recursive: true, force: true });
      return true;
    };
    // Random-time kills until TRIALS of them landed before the run ended (bounded: a kill time
    // is at most 1.1 times a whole run, so most land).
    let i = 0;
    for (let landed = 0; landed < TRIALS; i++) {
      assert.ok(i < 3 * TRIALS, `only ${landed} of ${i} random-time kills landed before the run ended (CRASH_SEED=${SEED})`);
      if (await trial(i, false)) landed++;
    }
    for (let k = 0; k < MID_WRITE_TRIALS; k++, i++) await trial(i, true);
    process.stdout.write(`crash-safety: ${JSON.stringify(stats)} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    assert.ok(stats.killed >= 20, `at least 20 runs were killed (${stats.killed})`);
    assert.ok(stats.midWriteKills >= 10, `at least 10 died in the middle of a file write (${stats.midWriteKills})`);
    assert.ok(stats.killsInCheckpointWrite >= 5, `kills inside a checkpoint's write happened (${stats.killsInCheckpointWrite})`);
    assert.equal(stats.resumesOk, stats.killed);
    assert.equal(stats.bytesLostBeyondLastCheckpoint, 0);
  });

  it('cleans up after a crash: a temporary folder is removed, a checkpoint moved aside for replacement is put back', () => {
    const out = join(dir, 'leftovers');
    mkdirSync(join(out, '.checkpoint-4.tmp-123-456'), { recursive: true });
    writeFileSync(join(out, '.checkpoint-4.tmp-123-456', 'model.safetensors'), 'half');
    mkdirSync(join(out, '.checkpoint-2.old-123-456'), { recursive: true });
    writeFileSync(join(out, '.checkpoint-2.old-123-456', 'config.json'), '{}');
    mkdirSync(join(out, '.checkpoint-6.deleting-123-456'), { recursive: true });
    writeFileSync(join(out, '.model.safetensors.123.abc.tmp'), 'half');
    mkdirSync(join(out, 'checkpoint-8'));
    const notes = cleanCheckpointLeftovers(out);
    assert.equal(notes.length, 4, notes.join('\n'));
    assert.deepEqual(readdirSync(out).sort(), ['checkpoint-2', 'checkpoint-8']);
    assert.equal(readFileSync(join(out, 'checkpoint-2', 'config.json'), 'utf8'), '{}');
  });

  it('resume passes over a checkpoint that lacks a file resuming needs (older versions, hand-made folders), saying so', () => {
    const out = join(dir, 'incomplete');
    for (const step of [2, 4, 10]) mkdirSync(join(out, `checkpoint-${step}`), { recursive: true });
    for (const f of RESUME_FILES) writeFileSync(join(out, 'checkpoint-2', f), '');
    for (const f of RESUME_FILES) if (f !== 'optimizer.safetensors') writeFileSync(join(out, 'checkpoint-10', f), '');
    const r = lastCompleteCheckpoint(out);
    assert.equal(r.path, join(out, 'checkpoint-2'));
    assert.equal(r.notes.length, 2);
    assert.match(r.notes[0]!, /checkpoint-10 lacks optimizer\.safetensors; resuming from an earlier checkpoint/);
    assert.match(r.notes[1]!, /checkpoint-4 lacks config\.json, model\.safetensors, optimizer\.safetensors, trainer_state\.json, rng_state\.json/);
    assert.equal(lastCompleteCheckpoint(join(dir, 'nowhere')).path, null);
  });
});

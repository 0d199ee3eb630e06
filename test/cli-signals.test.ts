/**
 * Interrupts of `bert-lab train` (dist/cli.js) on a tiny configuration, at random moments after
 * training began: Ctrl-C (SIGINT) once, twice, SIGTERM once and twice, and the IPC stop message
 * the extension sends. Asserted each time: the exit status (130 after SIGINT, 143 after SIGTERM,
 * 130 after a stop message; a second signal in the middle of an onnxruntime run ends the process by
 * the first signal itself), what the CLI says (the truth about the checkpoint), never a native abort
 * ("terminate called … Napi::Error", SIGABRT, 134), and that every checkpoint folder — the newest
 * above all — is complete: config.json parses, model.safetensors loads, trainer_state.json
 * parses and names its step, and no temporary folder of a save is left.
 * SIGNALS_SEED picks other moments (the seed is printed).
 */
import assert from 'node:assert/strict';
import { ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { readConfig } from '../src/engine/models/bert/folder.js';
import { lastCompleteCheckpoint, listCheckpoints } from '../src/engine/train/checkpoint.js';
import { parseRunLog, readTrainerState } from '../src/engine/train/state.js';
import { rng } from './helpers.js';
import { sotuLines } from './tiny-mlm.js';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const SEED = Number(process.env['SIGNALS_SEED'] ?? 20260311);
/** Every wait is bounded by this; a slow, loaded machine stays far below it. */
const LIMIT_MS = 60_000;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-signals-'));
  const lines = sotuLines(40, 200).map((l) => l.text);
  writeFileSync(join(dir, 'corpus.txt'), lines.filter((_, i) => i % 100 === 0).join('\n'));
  writeFileSync(join(dir, 'big.txt'), lines.join('\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A run that never ends by itself: a checkpoint every 8 steps (4 per onnxruntime run), a step line every 4. */
function writeConfig(name: string, over: Record<string, unknown> = {}): { file: string; out: string } {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    task: 'mlm', train_file: 'corpus.txt', train_tokenizer: { vocab_size: 300 }, output_dir: name, seed: 3, device: 'cpu', threads: 1,
    model_config: { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 32 },
    max_seq_length: 32, per_device_train_batch_size: 8, max_steps: 1_000_000, save_steps: 8, save_total_limit: 3, steps_per_run: 4, logging_steps: 4, learning_rate: 3e-3, ...over,
  }));
  return { file, out: join(dir, name) };
}

interface Run {
  child: ChildProcess;
  stderr: () => string;
  /** Resolves once stderr matches `re`; rejects, saying what it waited for, when the process exits first or after LIMIT_MS. */
  waitFor: (re: RegExp, what: string) => Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}
function start(cfgFile: string, opts: { ipc?: boolean } = {}): Run {
  const env = { ...process.env };
  delete env['BERT_LAB_FAULT'];
  const child = opts.ipc
    ? fork(CLI, ['train', cfgFile], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env })
    : spawn(process.execPath, [CLI, 'train', cfgFile], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  const listeners = new Set<() => void>();
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); for (const l of [...listeners]) l(); });
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => { ended = true; for (const l of [...listeners]) l(); done({ code, signal }); }));
  const waitFor = (re: RegExp, what: string) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { listeners.delete(check); reject(new Error(`no ${what} on stderr within ${LIMIT_MS / 1000} s:\n${err}`)); }, LIMIT_MS);
    function check() {
      if (re.test(err)) { clearTimeout(timer); listeners.delete(check); resolve(); }
      else if (ended) { clearTimeout(timer); listeners.delete(check); reject(new Error(`the CLI exited before ${what} appeared on stderr:\n${err}`)); }
    }
    listeners.add(check);
    check();
  });
  return { child, stderr: () => err, waitFor, exited };
}

/** The exit, bounded: a CLI that does not exit within LIMIT_MS is killed and the trial fails. */
async function exitOf(r: Run, trial: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => { r.child.kill('SIGKILL'); reject(new Error(`${trial}: the CLI did not exit within ${LIMIT_MS / 1000} s after the interrupt:\n${r.stderr()}`)); }, LIMIT_MS); });
  try { return await Promise.race([r.exited, limit]); } finally { clearTimeout(timer); }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every checkpoint-<n> is complete and readable through the project's own readers; returns the newest. */
function checkCheckpoints(out: string, trial: string): { step: number; path: string } | null {
  const leftovers = existsSync(out) ? readdirSync(out).filter((n) => n.startsWith('.')) : [];
  assert.deepEqual(leftovers, [], `${trial}: temporary files of a save are left (a torn checkpoint)`);
  const all = listCheckpoints(out);
  for (const c of all) {
    assert.equal(readConfig(c.path).model_type, 'bert', `${trial}: ${c.path}/config.json`);
    assert.ok(readSafetensors(join(c.path, 'model.safetensors')).tensors.size > 0, `${trial}: ${c.path}/model.safetensors has tensors`);
    assert.equal(readTrainerState(join(c.path, 'trainer_state.json')).global_step, c.step, `${trial}: ${c.path}/trainer_state.json names its step`);
  }
  const newest = all.at(-1) ?? null;
  assert.equal(lastCompleteCheckpoint(out).path, newest?.path ?? null, `${trial}: the newest checkpoint folder is complete`);
  return newest;
}

function assertNoNativeAbort(r: { code: number | null; signal: NodeJS.Signals | null }, stderr: string, trial: string): void {
  assert.doesNotMatch(stderr, /terminate called|Napi::Error|Aborted|core dumped/, `${trial}: a native abort:\n${stderr}`);
  assert.notEqual(r.signal, 'SIGABRT', `${trial}: SIGABRT:\n${stderr}`);
  assert.notEqual(r.code, 134, `${trial}: exit 134:\n${stderr}`);
}

type Kind = 'SIGINT' | 'SIGTERM' | 'ipc';
const CODE: Record<Kind, number> = { SIGINT: 130, SIGTERM: 143, ipc: 130 };
const NAME: Record<Kind, string> = { SIGINT: 'Ctrl-C (SIGINT)', SIGTERM: 'SIGTERM', ipc: '' };
const send = (r: Run, k: Kind) => (k === 'ipc' ? r.child.connected && r.child.send({ type: 'stop' }) : r.child.kill(k));

/** One stop, `delay` ms after the first step line: exit 128 + the signal, with the stop's checkpoint saved, named and complete. */
async function once(trial: string, kind: Kind, delay: number): Promise<void> {
  const { file, out } = writeConfig(trial);
  const r = start(file, { ipc: kind === 'ipc' });
  await r.waitFor(/^step \d+\//m, 'first step line');
  await sleep(delay);
  send(r, kind);
  const x = await exitOf(r, trial);
  const err = r.stderr();
  assertNoNativeAbort(x, err, trial);
  assert.deepEqual(x, { code: CODE[kind], signal: null }, `${trial}:\n${err}`);
  assert.match(err, kind === 'ipc' ? /^stop requested: finishing the current onnxruntime run, then saving a checkpoint/m
    : new RegExp(`^interrupted by ${esc(NAME[kind])}: finishing the current onnxruntime run, then saving a checkpoint \\(${kind === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again quits at once without it\\)`, 'm'));
  const end = new RegExp(`^${kind === 'ipc' ? 'stopped on request' : `interrupted by ${esc(NAME[kind])}`} at step (\\d+); checkpoint saved in (.*); resume with: bert-lab train .* --resume$`, 'm').exec(err);
  assert.ok(end, `${trial}: the last line says where it stopped and what was saved:\n${err}`);
  const newest = checkCheckpoints(out, trial);
  assert.ok(newest, `${trial}: a checkpoint`);
  assert.equal(newest.path, end[2], `${trial}: the checkpoint named is the newest`);
  assert.equal(newest.step, Number(end[1]));
  const done = parseRunLog(readFileSync(join(out, 'run_log.jsonl'), 'utf8'), 'run_log.jsonl').records.at(-1);
  assert.ok(done?.type === 'done' && done.reason === 'stopped' && done.step === newest.step, `${trial}: run_log ends with the stop: ${JSON.stringify(done)}`);
  rmSync(out, { recursive: true, force: true });
}

/**
 * Two signals: the first `delay` ms after the first step line; the second `gap` ms later, or
 * once the stop's checkpoint is reported saved. What the second may lead to, by what the CLI says:
 * "quitting now; the onnxruntime run in progress is abandoned" (the process ends by the first
 * signal), "quitting now without saving a checkpoint" (exit 128 + the first signal), "… is
 * already saved; exiting" (the same exit), or nothing when the run had ended or the kernel
 * merged the two signals. Never "without a checkpoint" after one was saved.
 */
async function twice(trial: string, first: 'SIGINT' | 'SIGTERM', second: 'SIGINT' | 'SIGTERM', delay: number, gap: number | 'after-save'): Promise<string> {
  const { file, out } = writeConfig(trial);
  const r = start(file);
  await r.waitFor(/^step \d+\//m, 'first step line');
  await sleep(delay);
  r.child.kill(first);
  if (gap === 'after-save') await r.waitFor(/^interrupted by [^\n]*\n(?:[^\n]*\n)*?saved [^\n]*checkpoint-\d+\n/m, 'the stop\'s checkpoint saved');
  else await sleep(gap);
  r.child.kill(second);
  const x = await exitOf(r, trial);
  const err = r.stderr();
  assertNoNativeAbort(x, err, trial);
  assert.match(err, new RegExp(`^interrupted by ${esc(NAME[first])}: finishing the current onnxruntime run`, 'm'), `${trial}:\n${err}`);
  const newest = checkCheckpoints(out, trial);
  const again = new RegExp(`^${esc(NAME[second])}(?: again)?: (.*)$`, 'm').exec(err)?.[1];
  let outcome: string;
  if (again?.startsWith('quitting now; the onnxruntime run in progress is abandoned')) {
    outcome = 'quit mid-run';
    assert.deepEqual(x, { code: null, signal: first }, `${trial}: ends by the first signal itself:\n${err}`);
  } else if (again?.startsWith('quitting now without saving a checkpoint')) {
    outcome = 'quit between runs';
    assert.deepEqual(x, { code: CODE[first], signal: null }, `${trial}:\n${err}`);
  } else if (again !== undefined) {
    outcome = 'already saved';
    assert.match(again, /^(.*checkpoint-\d+) is already saved; exiting$/, `${trial}: the second signal's message:\n${err}`);
    assert.equal(newest?.path, /^(.*checkpoint-\d+) is already saved/.exec(again)![1], `${trial}: the checkpoint it names is the newest`);
    assert.deepEqual(x, { code: CODE[first], signal: null }, `${trial}:\n${err}`);
  } else {
    // The second signal found no handler (the run had just ended) or merged with the first.
    outcome = 'no second message';
    assert.ok((x.code === CODE[first] && x.signal === null) || (x.code === null && x.signal === second), `${trial}: ${JSON.stringify(x)}:\n${err}`);
  }
  if (outcome.startsWith('quit')) {
    // It names the newest complete checkpoint, and saved none after the second signal.
    const named = /the newest checkpoint, (.*), is complete$/.exec(again!)?.[1];
    assert.equal(named, newest?.path, `${trial}: the checkpoint named is the newest:\n${err}`);
    const tail = err.slice(err.indexOf(`${NAME[second]} again: quitting now`));
    assert.doesNotMatch(tail, /^saved /m, `${trial}: nothing is saved after quitting`);
  }
  if (gap === 'after-save') assert.notEqual(outcome.slice(0, 4), 'quit', `${trial}: the stop's checkpoint was saved before the second signal:\n${err}`);
  assert.doesNotMatch(err, /without a checkpoint/);
  rmSync(out, { recursive: true, force: true });
  return outcome;
}

describe('bert-lab train: interrupts', { timeout: 10 * LIMIT_MS }, () => {
  const random = rng(SEED);
  const ms = (max: number) => Math.round(random.next() * max);
  before(() => { process.stdout.write(`cli-signals: seed ${SEED} (SIGNALS_SEED)\n`); });

  it('Ctrl-C once: the current run finishes, a checkpoint is saved and named, exit 130', async () => {
    for (let i = 0; i < 3; i++) await once(`int-${i}`, 'SIGINT', ms(400));
  });
  it('SIGTERM once (VS Code, job schedulers): the same, exit 143', async () => {
    for (let i = 0; i < 2; i++) await once(`term-${i}`, 'SIGTERM', ms(400));
  });
  it('the stop message of a parent process (the extension): the same, exit 130', async () => {
    await once('ipc', 'ipc', ms(400));
  });
  it('Ctrl-C twice: never a native abort or a torn checkpoint; the message tells what was saved', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) outcomes.push(await twice(`int2-${i}`, 'SIGINT', 'SIGINT', ms(400), ms(60)));
    // Back to back: the second lands while the stop's run is in progress (or the kernel merges them).
    outcomes.push(await twice('int2-now', 'SIGINT', 'SIGINT', ms(200), 0));
    outcomes.push(await twice('int2-saved', 'SIGINT', 'SIGINT', ms(200), 'after-save'));
    process.stdout.write(`cli-signals: Ctrl-C twice: ${outcomes.join(', ')}\n`);
  });
  it('Ctrl-C while starting (reading the data): quits with nothing to save, exit 130', async () => {
    // A configuration warning is the readiness line: it is printed once the handlers are in place,
    // before the data is read (asynchronously, so a signal is handled then).
    const { file, out } = writeConfig('starting', { train_file: 'big.txt', report_to: 'none' });
    const r = start(file);
    await r.waitFor(/^warning: .*report_to/m, 'the report_to warning');
    r.child.kill('SIGINT');
    const x = await exitOf(r, 'starting');
    const err = r.stderr();
    assertNoNativeAbort(x, err, 'starting');
    assert.deepEqual(x, { code: 130, signal: null }, err);
    const newest = checkCheckpoints(out, 'starting');
    if (/^interrupted by Ctrl-C \(SIGINT\) before training began: nothing to save; quitting$/m.test(err)) {
      assert.equal(newest, null, 'no checkpoint');
      assert.doesNotMatch(err, /^(step|saved|device:) /m, 'nothing runs after it');
      process.stdout.write('cli-signals: start-up: quit before training began\n');
    } else {
      // A loaded machine sent the signal after start-up: an ordinary stop after the first run.
      assert.match(err, /^interrupted by Ctrl-C \(SIGINT\) at step \d+; checkpoint saved in /m, err);
      assert.ok(newest);
      process.stdout.write('cli-signals: start-up: the signal came after start-up (an ordinary stop)\n');
    }
  });
  it('SIGTERM twice, and SIGTERM then Ctrl-C: the same guarantees, exit status of the first signal', async () => {
    const outcomes = [await twice('term2', 'SIGTERM', 'SIGTERM', ms(400), ms(60)), await twice('term-int', 'SIGTERM', 'SIGINT', ms(400), ms(60))];
    process.stdout.write(`cli-signals: SIGTERM twice: ${outcomes.join(', ')}\n`);
  });
});

#!/usr/bin/env node
/**
 * bert-lab: train | eval | predict | export | download | cache, from the command line. Sessions
 * run in a worker thread, so this thread draws the progress bar and answers interrupts. A
 * checkpoint may be a Hugging Face Hub id: cli-hub.ts resolves it (cache, download, progress).
 *
 * Interrupts of `train` (Ctrl-C = SIGINT, SIGTERM from VS Code or a job scheduler, or a
 * {type:'stop'} message from a parent that forked us with an IPC channel): the first stops after
 * the current onnxruntime run with a checkpoint and exits 128 + the signal (130 for SIGINT, 143
 * for SIGTERM; 130 for a stop message), so `bert-lab train … && bert-lab export …` does not go
 * on. A second signal quits at once, without that checkpoint.
 *
 * Why the second one used to abort natively ("terminate called after throwing an instance of
 * 'Napi::Error'", exit 134): process.exit() (and worker.terminate()) tear down the worker
 * thread's JavaScript environment while onnxruntime-node's synchronous session.run is inside
 * native code in that thread. The run cannot be interrupted; when it returns, the binding builds
 * its result through N-API in an environment that can no longer call into JavaScript, the call
 * fails, node-addon-api turns the failure into a C++ exception, rethrows it from its own catch
 * block while converting it, and std::terminate aborts the whole process. So this file never
 * ends the worker while a request is inside it (SafeWorker counts them): an exit waits for the
 * request in flight to return, and quitting at once while one is in flight ends the process by
 * the signal's default action (the kernel stops every thread; no native code runs afterwards).
 * Checkpoint files are written synchronously on this thread, so a signal handler — which runs
 * between two JavaScript tasks — never sees a checkpoint half-written; each is also written to
 * a temporary folder and renamed (see train/checkpoint.ts), so even a kill cannot tear one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTrainingConfig, suggest } from './train/config.js';
import type { ConfigDiagnostic } from './train/config-source.js';
import { Trainer, TrainerEvent, TrainResult } from './train/trainer.js';
import { lastCompleteCheckpoint } from './train/checkpoint.js';
import type { Device } from './runtime/session.js';
import { isHubError } from './hub/errors.js';
import { planRun } from './train/plan.js';
import { InterruptedError, Io, Parsed, UsageError, str } from './cli-io.js';
import { cacheCommand, downloadCommand, hubFlags } from './cli-hub.js';
import { evaluate, exportCmd, formatNumber, predict } from './cli-infer.js';
import { SafeWorker } from './cli-worker.js';

export { UsageError, formatNumber };
export type { Io };

// ---- the command-line surface ----------------------------------------------------------------

interface Flag {
  type: 'string' | 'boolean';
  /** What the value looks like in the help ("N", "<file>"). */
  arg?: string;
  help: string;
  /** An integer flag and its allowed range (max absent: no upper bound). */
  int?: { min: number; max?: number };
  choices?: readonly string[];
  multiple?: boolean;
  short?: string;
}
interface Command {
  /** The positional arguments, as shown in the usage line (optional ones last). */
  args: { name: string; help: string; optional?: boolean }[];
  /** The usage line after "bert-lab <command>". */
  usage: string;
  summary: string;
  flags: Record<string, Flag>;
  /** Paragraphs after the flags. */
  more?: string;
}

const DEVICES = ['auto', 'cpu', 'cuda', 'webgpu'] as const;
const device = (dflt: string): Flag => ({ type: 'string', arg: DEVICES.join('|'), choices: DEVICES, help: `execution provider; auto tries CUDA, then WebGPU, then the CPU (default: ${dflt})` });
const THREADS: Flag = { type: 'string', arg: 'N', int: { min: 0, max: 1024 }, help: 'ONNX Runtime intra-op threads, 0 to 1024 (0: ONNX Runtime chooses)' };
const HELP: Flag = { type: 'boolean', short: 'h', help: 'show this help' };
const REVISION: Flag = { type: 'string', arg: 'REV', help: 'when <checkpoint> is a Hugging Face Hub id: its branch, tag or full commit hash (default: main)' };
const OFFLINE: Flag = { type: 'boolean', help: 'never download: a Hub id must be in the Hugging Face cache (also: HF_HUB_OFFLINE=1)' };
const CHECKPOINT_OR_ID = 'a checkpoint-<step> folder, a run\'s output_dir, a Hugging Face model folder, or a Hugging Face Hub id ("org/name": from the Hugging Face cache, downloaded into it when missing)';

const COMMANDS: Record<string, Command> = {
  train: {
    args: [{ name: '<config.json|yaml>', help: 'the training configuration (Hugging Face TrainingArguments names)' }],
    usage: '<config.json|yaml> [flags]',
    summary: 'train as the configuration says',
    flags: {
      resume: { type: 'boolean', help: 'continue from the newest complete checkpoint in output_dir' },
      device: device('the configuration\'s "device", else auto'),
      threads: THREADS,
      'skip-memory-check': { type: 'boolean', help: 'start even when the memory estimate exceeds the free memory' },
      offline: { type: 'boolean', help: 'never download: Hub ids in model_name_or_path / tokenizer_name must be in the Hugging Face cache (also: HF_HUB_OFFLINE=1)' },
      help: HELP,
    },
    more: `Warnings about the configuration (fields BERT Lab ignores, such as report_to or fp16) are
printed as "warning: file:line:col: …" before training starts.

Interrupts: Ctrl-C (SIGINT) or SIGTERM stops after the current onnxruntime run, saves a
checkpoint and exits 130 (SIGINT) or 143 (SIGTERM); a parent process's {"type":"stop"} IPC
message does the same and exits 130. Continue with --resume. A second Ctrl-C or SIGTERM quits at
once without that checkpoint (the newest checkpoint already saved stays complete): it exits 130 or
143 as well, by the signal itself while an onnxruntime run is in progress.

A time budget ("max_time": "10m") is no interruption: once it is spent the run finishes the current
onnxruntime run, saves a checkpoint and the model, prints "stopped at max_time (10m) after N steps"
and exits 0. To train longer, raise max_time (time already spent counts) and use --resume.`,
  },
  eval: {
    args: [{ name: '<checkpoint>', help: CHECKPOINT_OR_ID }],
    usage: '<checkpoint> --data <file> [flags]',
    summary: 'evaluate a checkpoint on a labelled (or text) file',
    flags: {
      data: { type: 'string', arg: '<file>', help: 'the evaluation data (required): JSONL, CSV or TSV with text and label, or text for a masked LM' },
      'batch-size': { type: 'string', arg: 'N', int: { min: 1 }, help: 'sequences per batch, 1 or more (default 8)' },
      'max-seq-length': { type: 'string', arg: 'N', int: { min: 8 }, help: 'tokens per sequence, 8 or more (default: the model\'s max_position_embeddings, at most 512)' },
      'ignore-unknown-labels': { type: 'boolean', help: 'skip examples whose label the checkpoint does not know (counted) instead of refusing the file' },
      device: device('auto'),
      threads: THREADS,
      json: { type: 'boolean', help: 'print one JSON line ({"metrics":{…},"examples":N,"skipped":N,…}) instead of a table' },
      revision: REVISION,
      offline: OFFLINE,
      help: HELP,
    },
  },
  predict: {
    args: [{ name: '<checkpoint>', help: 'a masked-LM or sequence-classification checkpoint folder, or a Hugging Face Hub id (from the Hugging Face cache, downloaded into it when missing)' }],
    usage: '<checkpoint> (--text "…" | --file <file>) [flags]',
    summary: 'fill masks or classify; a table, or one JSON line per input with --json',
    flags: {
      text: { type: 'string', arg: '"…"', multiple: true, help: 'an input text (may be given more than once)' },
      file: { type: 'string', arg: '<file>', help: 'inputs from a file: one text per line, or JSONL/CSV/TSV with a text field' },
      'top-k': { type: 'string', arg: 'N', int: { min: 1, max: 1000 }, help: 'predictions per [MASK], 1 to 1000 (default 5); a classifier lists every label' },
      device: device('cpu'),
      threads: THREADS,
      json: { type: 'boolean', help: 'print one JSON line per input instead of a table' },
      revision: REVISION,
      offline: OFFLINE,
      help: HELP,
    },
  },
  export: {
    args: [{ name: '<checkpoint>', help: 'the checkpoint folder to export, or a Hugging Face Hub id' }, { name: '<out-dir>', help: 'the folder to write (config, tokenizer, onnx/model.onnx)' }],
    usage: '<checkpoint> <out-dir> [--no-int8]',
    summary: 'ONNX folder for transformers.js (+ int8)',
    flags: {
      'no-int8': { type: 'boolean', help: 'skip onnx/model_quantized.onnx (the dynamic int8 model)' },
      revision: REVISION,
      offline: OFFLINE,
      help: HELP,
    },
  },
  download: {
    args: [{ name: '<id>', help: 'a Hugging Face Hub model id: "name" or "org/name"' }],
    usage: '<id> [--revision REV] [--offline]',
    summary: 'download a model from the Hugging Face Hub into its cache; prints the folder',
    flags: {
      revision: { type: 'string', arg: 'REV', help: 'a branch, tag or full commit hash (default: main)' },
      offline: { type: 'boolean', help: 'only look in the Hugging Face cache (also: HF_HUB_OFFLINE=1)' },
      help: HELP,
    },
    more: `Downloads what BERT Lab needs (config.json, model.safetensors or its shards, the tokenizer
files) into the Hugging Face cache, in huggingface_hub's layout, so Python's transformers finds
it too; asks the Hub where the revision points now, and downloads only what is missing. Prints
the snapshot folder on stdout (like huggingface-cli download) and progress on stderr. Ctrl-C
keeps the partial file (blobs/<etag>.incomplete); the next run resumes it. Exits 130 then.`,
  },
  cache: {
    args: [{ name: '[ls|rm]', help: 'ls (default): list the models in the Hugging Face cache; rm: delete one', optional: true }, { name: '[<id>]', help: 'rm: the model to delete (all its revisions and files)', optional: true }],
    usage: '[ls | rm <id>] [--json]',
    summary: 'list the Hugging Face cache\'s models (id, revisions, size, model_type), or delete one',
    flags: {
      json: { type: 'boolean', help: 'print JSON instead of a table' },
      help: HELP,
    },
  },
};

const flagLabel = (name: string, f: Flag) => `${f.short ? `-${f.short}, ` : ''}--${name}${f.arg ? ` ${f.arg}` : ''}`;

function commandHelp(name: string): string {
  const c = COMMANDS[name]!;
  const rows = [...c.args.map((a) => [a.name, a.help] as const), ...Object.entries(c.flags).map(([n, f]) => [flagLabel(n, f), f.help] as const)];
  const w = Math.max(...rows.map(([l]) => l.length)) + 2;
  const row = ([l, h]: readonly [string, string]) => `  ${l.padEnd(w)}${h}`;
  return `usage: bert-lab ${name} ${c.usage}

${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.

arguments:
${c.args.map((a) => row([a.name, a.help])).join('\n')}

flags:
${Object.entries(c.flags).map(([n, f]) => row([flagLabel(n, f), f.help])).join('\n')}
${c.more ? `\n${c.more}\n` : ''}`;
}

const USAGE = `usage:
${Object.entries(COMMANDS).map(([n, c]) => `  bert-lab ${n} ${c.usage}\n      ${c.summary}`).join('\n')}
  bert-lab help <command>         the flags of a command (also: bert-lab <command> --help)
  bert-lab --version              the version

A <checkpoint> (and a configuration's model_name_or_path / tokenizer_name) may be a Hugging Face
Hub id: found in the Hugging Face cache, else downloaded into it. Environment: HF_HUB_CACHE (else
HF_HOME/hub, else ~/.cache/huggingface/hub), HF_ENDPOINT, HF_TOKEN (else the token file of
\`hf auth login\`), HF_HUB_OFFLINE=1 (never download).

exit status: 0 success; 1 failure (the message says why); 2 a wrong command line;
  train: 130 after Ctrl-C (SIGINT), 143 after SIGTERM (a checkpoint is saved; resume with --resume)
  a download interrupted by Ctrl-C: 130 (143 after SIGTERM); the next run resumes it
`;

/** The version in the package.json beside (or above) this file: dist/ in the package, out/src/engine/ in a test build. */
export function version(): string {
  for (let d = __dirname, i = 0; i < 6; i++, d = dirname(d)) {
    const p = join(d, 'package.json');
    if (!existsSync(p)) continue;
    try {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'bert-lab' && pkg.version) return pkg.version;
    } catch { /* not ours: look further up */ }
  }
  return 'unknown';
}


/** parseArgs (tokens, not strict) and then checks with messages that name the flag and suggest the closest one. */
export function parseCommand(name: string, args: string[]): Parsed {
  const c = COMMANDS[name]!;
  const options = Object.fromEntries(Object.entries(c.flags).map(([n, f]) => [n, { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) }]));
  const { values, positionals, tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { values, positionals, help: true, ints: {} };
  const ints: Record<string, number> = {};
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const f = c.flags[t.name];
    if (!f) {
      const s = suggest(t.name, Object.keys(c.flags));
      throw new UsageError(`unknown flag ${t.rawName}${s ? ` (did you mean --${s}?)` : ''}`);
    }
    if (f.type === 'string') {
      if (t.value === undefined) throw new UsageError(`${t.rawName} needs a value (${flagLabel(t.name, f)})`);
      // "--data --json": parseArgs (not strict) takes the next flag as the value.
      if (!t.inlineValue && /^--?[A-Za-z]/.test(t.value) && f.int === undefined) throw new UsageError(`${t.rawName} needs a value (${flagLabel(t.name, f)}), not the flag ${t.value} (write ${t.rawName}=${t.value} if you mean it)`);
    } else if (t.value !== undefined) throw new UsageError(`${t.rawName} takes no value (got "${t.value}")`);
    if (!f.multiple && seen.has(t.name)) throw new UsageError(`${t.rawName} is given more than once`);
    seen.add(t.name);
    if (f.type === 'string' && typeof t.value === 'string') {
      if (f.int) ints[t.name] = intValue(t.name, t.value, f.int);
      if (f.choices && !f.choices.includes(t.value)) {
        const s = suggest(t.value, f.choices);
        throw new UsageError(`--${t.name} "${t.value}" is not one of ${f.choices.join(', ')}${s ? ` (did you mean ${s}?)` : ''}`);
      }
    }
  }
  const required = c.args.filter((a) => !a.optional).length;
  if (positionals.length > c.args.length) throw new UsageError(`unexpected argument "${positionals[c.args.length]}" (usage: bert-lab ${name} ${c.usage})`);
  if (positionals.length < required) throw new UsageError(`missing ${c.args.slice(positionals.length, required).map((a) => a.name).join(' and ')} (usage: bert-lab ${name} ${c.usage})`);
  return { values, positionals, help: false, ints };
}

/** An integer in [min, max], or a UsageError that names the flag, the value and the range. */
function intValue(name: string, raw: string, r: { min: number; max?: number }): number {
  const range = r.max === undefined ? `${r.min} or more` : `${r.min} to ${r.max}`;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw new UsageError(`--${name} "${raw}" is not an integer (allowed: ${range})`);
  const n = Number(raw);
  if (n < r.min || (r.max !== undefined && n > r.max)) throw new UsageError(`--${name} ${raw.trim()} is out of range (allowed: ${range})`);
  return n;
}

// ---- output -------------------------------------------------------------------------------------

const processIo: Io = {
  stdout: (s) => { process.stdout.write(s); },
  stderr: (s) => { process.stderr.write(s); },
  get tty() { return !!process.stderr.isTTY; },
  exit: (code) => process.exit(code),
};

const fmtTime = (s: number) => (!Number.isFinite(s) ? '?' : s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`);

/** A one-line progress bar on a terminal; a line per logging step otherwise. */
class Progress {
  private start = Date.now();
  private firstStep = -1;
  constructor(private readonly io: Io, private readonly total: number, private readonly every: number) {}
  update(e: Extract<TrainerEvent, { type: 'step' }>): void {
    if (this.firstStep < 0) { this.firstStep = e.step - 1; this.start = Date.now(); }
    const done = e.step - this.firstStep, rate = done / ((Date.now() - this.start) / 1000);
    const eta = (this.total - e.step) / rate;
    const width = 24, filled = Math.round((width * e.step) / this.total);
    // Only max_time ends a run without a step limit: no bar, no ETA by steps.
    const bar = Number.isFinite(this.total) ? `/${this.total} [${'='.repeat(filled)}${' '.repeat(width - filled)}]` : '';
    const line = `step ${e.step}${bar} loss ${e.loss.toFixed(4)} | lr ${e.learning_rate.toExponential(2)} | ${(e.tokens_per_second / 1000).toFixed(1)}k tok/s${Number.isFinite(eta) ? ` | ETA ${fmtTime(eta)}` : ''}`;
    if (this.io.tty) this.io.stderr(`\r${line}\x1b[K`);
    else if (e.step % this.every === 0 || e.step === this.total) this.io.stderr(`${line}\n`);
  }
  line(s: string): void { this.io.stderr(`${this.io.tty ? '\r\x1b[K' : ''}${s}\n`); }
}

// ---- train --------------------------------------------------------------------------------------

type StopKind = 'SIGINT' | 'SIGTERM' | 'ipc';
const EXIT_CODE: Record<StopKind, number> = { SIGINT: 130, SIGTERM: 143, ipc: 130 };
const SIGNAL_OF: Record<StopKind, 'SIGINT' | 'SIGTERM'> = { SIGINT: 'SIGINT', SIGTERM: 'SIGTERM', ipc: 'SIGINT' };
const stopName = (k: StopKind) => (k === 'SIGINT' ? 'Ctrl-C (SIGINT)' : k === 'SIGTERM' ? 'SIGTERM' : 'a stop request');

async function train(p: Parsed, io: Io): Promise<number> {
  const v = p.values;
  const file = p.positionals[0]!;
  const threads = p.ints['threads'];
  const dev = str(v, 'device') as Device | undefined;
  if (!existsSync(file)) throw new Error(`${file}: no such configuration file`);
  const warnings: ConfigDiagnostic[] = [];
  const cfg = parseTrainingConfig(readFileSync(file, 'utf8'), resolve(file), { onWarning: (d) => warnings.push(d) });
  if (v['resume'] === true) cfg.resume_from_checkpoint = true;
  if (v['skip-memory-check'] === true) cfg.skip_memory_check = true;
  if (dev) cfg.device = dev;
  if (threads !== undefined) cfg.threads = threads;

  const worker = new SafeWorker();
  let bar: Progress | null = null;
  const say = (s: string) => (bar ? bar.line(s) : io.stderr(`${s}\n`));
  let phase: 'starting' | 'training' | 'done' = 'starting';
  // Cancels a download of a Hub model during planning (its partial file stays for the next run).
  const download = new AbortController();
  let resolving = false;
  let planning: Promise<unknown> = Promise.resolve();
  let trainer: Trainer | null = null;
  let first: StopKind | null = null;
  let stopSaved: string | null = null;
  let quitting = false;

  /** Ends the process by the signal's default action: at once, even while a run is in native code. */
  const die = (sig: 'SIGINT' | 'SIGTERM') => {
    process.removeAllListeners(sig);
    process.kill(process.pid, sig);
    // Where signals do not exist (Windows) the line above already ended the process.
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), 2000);
  };
  /** Exits with `code` as soon as no request is inside the worker; nothing new reaches it meanwhile. */
  const quit = async (code: number) => {
    quitting = true;
    await worker.close({ abandon: true });
    process.disconnect?.();
    io.exit(code);
  };
  const newest = () => {
    const c = lastCompleteCheckpoint(cfg.output_dir).path;
    return c ? `the newest checkpoint, ${c}, is complete` : `${cfg.output_dir} has no checkpoint yet`;
  };
  const onStop = (kind: StopKind) => {
    if (phase === 'done') { say(`${stopName(kind)}: ${stopSaved ? `${stopSaved} is already saved` : 'the run has already ended'}; exiting`); return; }
    if (!first) {
      first = kind;
      if (phase === 'starting' || !trainer) {
        say(`interrupted by ${stopName(kind)} before training began: nothing to save; quitting`);
        if (resolving) {
          // A Hub download in progress: cancelled, it stops at once and says where its partial file is kept (bounded wait all the same).
          download.abort(new Error(stopName(kind)));
          void Promise.race([planning.catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]).then(() => quit(EXIT_CODE[kind]));
        } else void quit(EXIT_CODE[kind]);
      } else {
        const again = kind === 'SIGINT' ? 'Ctrl-C again' : kind === 'SIGTERM' ? 'SIGTERM again' : 'SIGINT or SIGTERM';
        say(`${kind === 'ipc' ? 'stop requested' : `interrupted by ${stopName(kind)}`}: finishing the current onnxruntime run, then saving a checkpoint (${again} quits at once without it)…`);
        trainer.stop();
      }
      return;
    }
    if (kind === 'ipc') { say('already stopping…'); return; }
    const code = EXIT_CODE[first];
    if (stopSaved) { say(`${stopName(kind)} again: ${stopSaved} is already saved; exiting`); return; }
    if (worker.busy) {
      // Waiting could take a whole run; ending the worker now would abort natively: the signal ends the process.
      say(`${stopName(kind)} again: quitting now; the onnxruntime run in progress is abandoned and no checkpoint is saved for it; ${newest()}`);
      die(SIGNAL_OF[first]);
    } else if (!quitting) {
      say(`${stopName(kind)} again: quitting now without saving a checkpoint; ${newest()}`);
      void quit(code);
    }
  };
  const onSigint = () => onStop('SIGINT'), onSigterm = () => onStop('SIGTERM');
  // A parent that forked us with an IPC channel (the extension) stops the run with a message.
  const onMessage = (m: unknown) => { if ((m as { type?: string } | null)?.type === 'stop') onStop('ipc'); };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  if (process.send) process.on('message', onMessage);
  // Printed once the handlers above are in place (so a test may interrupt start-up as soon as it sees them).
  for (const d of warnings) io.stderr(`warning: ${file}:${d.line}:${d.column}: ${d.message}\n`);
  try {
    let announced = false;
    const opts = {
      configFile: resolve(file),
      // Once quitting, what start-up still prints (before the process ends) would only confuse.
      log: (s: string) => { if (!quitting) say(s); },
      runnerFor: async (m: Uint8Array, purpose: 'train' | 'eval') => {
        const s = await worker.createSession(m, { device: cfg.device, threads: cfg.threads ?? 0, purpose: 'train' });
        if (!announced && purpose === 'train') { say(`device: ${s.choice.device} — ${s.choice.reason}`); announced = true; }
        return s;
      },
    };
    // Trainer.create, with the download of a Hub model cancellable by the interrupts above.
    const plan = planRun(cfg, {
      ...opts, signal: download.signal, ...(v['offline'] === true ? { hub: { offline: true } } : {}),
      onHubResolving: (on) => { resolving = on; },
    });
    planning = plan;
    let planned;
    try {
      planned = await plan;
    } catch (e) {
      if (first && isHubError(e, 'aborted')) {
        io.stderr(`${e.message}\n`);
        return EXIT_CODE[first];
      }
      throw e;
    }
    if (first) return EXIT_CODE[first]; // interrupted while planning: quitting, nothing is started
    trainer = Trainer.fromPlan(planned, opts);
    phase = 'training';
    const b = new Progress(io, trainer.totalSteps, cfg.logging_steps);
    bar = b;
    trainer.on((e) => {
      if (e.type === 'step') b.update(e);
      else if (e.type === 'eval') b.line(`eval @ step ${e.step}: ${Object.entries(e.metrics).map(([k, x]) => `${k} ${x.toFixed(4)}`).join(', ')}`);
      else if (e.type === 'checkpoint') { b.line(`saved ${e.path}`); if (first) stopSaved = e.path; }
      // The run's end is recorded before train() resolves (it still releases its sessions): from here a signal has nothing to stop.
      else if (e.type === 'done') phase = 'done';
    });
    const r: TrainResult = await trainer.train();
    phase = 'done';
    const best = r.bestModelCheckpoint ? `; best: ${r.bestModelCheckpoint} (${r.bestMetric?.toFixed(4)})` : '';
    const resume = `resume with: bert-lab train ${file} --resume`;
    if (r.reason === 'stopped') {
      const by = first === 'ipc' || !first ? 'stopped on request' : `interrupted by ${stopName(first)}`;
      b.line(`${by} at step ${r.step}; ${stopSaved ? `checkpoint saved in ${stopSaved}` : newest()}; ${resume}${best}`);
      return EXIT_CODE[first ?? 'ipc'];
    }
    // The budget is spent: a finished run (exit 0), with a checkpoint to continue from under a larger max_time.
    if (r.reason === 'max_time') b.line(`stopped at max_time (${trainer.maxTimeText}) after ${r.step} steps; model saved in ${r.outputDir}; to train longer, raise max_time and ${resume}${best}`);
    else b.line(`${r.reason} at step ${r.step}; ${r.reason === 'completed' ? `model saved in ${r.outputDir}` : resume}${best}`);
    return 0;
  } finally {
    phase = 'done';
    await worker.close();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('message', onMessage);
    process.disconnect?.();
  }
}

// ---- main ---------------------------------------------------------------------------------------

/** Runs one command line; resolves to the exit status (0 done, 1 failed, 2 a wrong command line; 130/143 an interrupted train or download). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [cmd, ...args] = argv;
  const names = Object.keys(COMMANDS);
  try {
    switch (cmd) {
      case undefined: io.stderr(USAGE); return 2;
      case '--help': case '-h': io.stdout(USAGE); return 0;
      case '--version': case '-v': case '-V': io.stdout(`${version()}\n`); return 0;
      case 'help': {
        const topic = args[0];
        if (topic === undefined) { io.stdout(USAGE); return 0; }
        if (!COMMANDS[topic]) { const s = suggest(topic, names); throw new UsageError(`no command "${topic}"${s ? ` (did you mean ${s}?)` : ''}; the commands: ${names.join(', ')}`); }
        io.stdout(commandHelp(topic));
        return 0;
      }
    }
    if (!COMMANDS[cmd]) {
      const s = suggest(cmd.replace(/^-+/, ''), names);
      io.stderr(`bert-lab: ${cmd.startsWith('-') ? `unknown flag ${cmd}` : `unknown command "${cmd}"`}${s ? ` (did you mean ${s}?)` : ''}\n${USAGE}`);
      return 2;
    }
    const p = parseCommand(cmd, args);
    if (p.help) { io.stdout(commandHelp(cmd)); return 0; }
    switch (cmd) {
      case 'train': return await train(p, io);
      case 'eval': return await evaluate(p, io);
      case 'predict': return await predict(p, io);
      case 'export': return await exportCmd(p, io);
      case 'download': return await downloadCommand(p.positionals[0]!, hubFlags(p.values), io);
      default: return cacheCommand(p.positionals[0], p.positionals[1], p.values['json'] === true, io);
    }
  } catch (e) {
    if (e instanceof InterruptedError) {
      io.stderr(`bert-lab ${cmd}: ${e.message}\n`);
      return e.exitCode;
    }
    const usage = e instanceof UsageError;
    const known = cmd !== undefined && COMMANDS[cmd] !== undefined;
    const see = usage ? `; see bert-lab ${known ? `${cmd} --help` : '--help'}` : '';
    io.stderr(`bert-lab${known ? ` ${cmd}` : ''}: ${(e as Error).message}${see}\n`);
    return usage ? 2 : 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });

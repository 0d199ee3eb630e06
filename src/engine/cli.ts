#!/usr/bin/env node
/**
 * bert-lab: train | eval | predict | export, from the command line. Sessions run in a worker
 * thread, so this thread draws the progress bar and answers Ctrl-C: the first stops after the
 * current onnxruntime run with a checkpoint (exit 0), a second quits at once.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseTrainingConfig, TrainingConfigError } from './train/config.js';
import { Trainer, TrainerEvent } from './train/trainer.js';
import { EngineWorker } from './runtime/worker-client.js';
import { pipelineFor } from './infer/pipeline.js';
import { exportOnnxFolder } from './infer/export.js';
import { readConfig } from './checkpoint/bert-folder.js';
import { readExamples } from './data/readers.js';

const USAGE = `usage:
  bert-lab train <config.json|yaml> [--resume] [--device auto|cpu|cuda|webgpu] [--threads N] [--skip-memory-check]
                                                    train as the configuration says
  bert-lab eval <checkpoint> --data <file> [--batch-size N]
                                                    evaluate a checkpoint on a labelled (or text) file
  bert-lab predict <checkpoint> [--text "…"] [--file <file>] [--top-k N]
                                                    fill masks or classify; one JSON line per input
  bert-lab export <checkpoint> <out-dir> [--no-int8] ONNX folder for transformers.js (+ int8)`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value\n${USAGE}`);
  args.splice(i, 2);
  return v;
}
function bool(args: string[], name: string): boolean {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
}

const fmtTime = (s: number) => (!Number.isFinite(s) ? '?' : s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`);

/** A one-line progress bar on a terminal; a line per logging step otherwise. */
class Progress {
  private start = Date.now();
  private firstStep = -1;
  private tty = !!process.stderr.isTTY;
  constructor(private readonly total: number, private readonly every: number) {}
  update(e: Extract<TrainerEvent, { type: 'step' }>): void {
    if (this.firstStep < 0) { this.firstStep = e.step - 1; this.start = Date.now(); }
    const done = e.step - this.firstStep, rate = done / ((Date.now() - this.start) / 1000);
    const eta = (this.total - e.step) / rate;
    const width = 24, filled = Math.round((width * e.step) / this.total);
    const line = `step ${e.step}/${this.total} [${'='.repeat(filled)}${' '.repeat(width - filled)}] loss ${e.loss.toFixed(4)} | lr ${e.learning_rate.toExponential(2)} | ${(e.tokens_per_second / 1000).toFixed(1)}k tok/s | ETA ${fmtTime(eta)}`;
    if (this.tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (e.step % this.every === 0 || e.step === this.total) process.stderr.write(`${line}\n`);
  }
  line(s: string): void { process.stderr.write(`${this.tty ? '\r\x1b[K' : ''}${s}\n`); }
}

async function train(args: string[]): Promise<number> {
  const resume = bool(args, '--resume'), skipMemoryCheck = bool(args, '--skip-memory-check');
  const device = flag(args, '--device'), threads = flag(args, '--threads');
  const file = args[0];
  if (!file) throw new Error(`train needs a configuration file\n${USAGE}`);
  if (!existsSync(file)) throw new Error(`${file}: no such configuration file`);
  const cfg = parseTrainingConfig(readFileSync(file, 'utf8'), resolve(file));
  if (resume) cfg.resume_from_checkpoint = true;
  if (skipMemoryCheck) cfg.skip_memory_check = true;
  if (device) {
    if (!['auto', 'cpu', 'cuda', 'webgpu'].includes(device)) throw new Error(`--device is "${device}"; use auto, cpu, cuda or webgpu`);
    cfg.device = device as typeof cfg.device;
  }
  if (threads) cfg.threads = Number(threads);
  const worker = new EngineWorker();
  try {
    let announced = false;
    const trainer = await Trainer.create(cfg, {
      configFile: resolve(file),
      log: (s) => process.stderr.write(`${s}\n`),
      runnerFor: async (m, purpose) => {
        const s = await worker.createSession(m, { device: cfg.device, threads: cfg.threads ?? 0, purpose: 'train' });
        if (!announced && purpose === 'train') { process.stderr.write(`device: ${s.choice.device} — ${s.choice.reason}\n`); announced = true; }
        return s;
      },
    });
    const bar = new Progress(trainer.totalSteps, cfg.logging_steps);
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) { bar.line('stopping after the current run and saving a checkpoint (Ctrl-C again to quit now)…'); trainer.stop(); }
      else { bar.line('quitting without a checkpoint'); process.exit(130); }
    };
    process.on('SIGINT', onSigint);
    // A parent that forked us with an IPC channel (the extension) stops the run with a message.
    const onMessage = (m: unknown) => { if ((m as { type?: string } | null)?.type === 'stop') { bar.line('stop requested: finishing the current run and saving a checkpoint…'); trainer.stop(); } };
    if (process.send) process.on('message', onMessage);
    trainer.on((e) => {
      if (e.type === 'step') bar.update(e);
      else if (e.type === 'eval') bar.line(`eval @ step ${e.step}: ${Object.entries(e.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
      else if (e.type === 'checkpoint') bar.line(`saved ${e.path}`);
    });
    const r = await trainer.train();
    process.off('SIGINT', onSigint);
    process.off('message', onMessage);
    process.disconnect?.();
    bar.line(`${r.reason} at step ${r.step}; ${r.reason === 'completed' ? `model saved in ${r.outputDir}` : `resume with: bert-lab train ${file} --resume`}${r.bestModelCheckpoint ? `; best: ${r.bestModelCheckpoint} (${r.bestMetric?.toFixed(4)})` : ''}`);
    return 0;
  } finally {
    await worker.terminate();
  }
}

async function evaluate(args: string[]): Promise<number> {
  const data = flag(args, '--data'), bs = flag(args, '--batch-size');
  const ckpt = args[0];
  if (!ckpt || !data) throw new Error(`eval needs a checkpoint and --data\n${USAGE}`);
  const bert = readConfig(ckpt);
  const arch = bert.architectures?.[0] ?? 'BertForMaskedLM';
  const task = arch === 'BertForSequenceClassification' ? 'classification' : 'mlm';
  const out = mkdtempSync(join(tmpdir(), 'bert-lab-eval-'));
  const worker = new EngineWorker();
  try {
    const cfg = parseTrainingConfig(JSON.stringify({ output_dir: out, model_name_or_path: resolve(ckpt), task, train_file: resolve(data), validation_file: resolve(data), max_steps: 1, max_seq_length: Math.min(512, bert.max_position_embeddings), ...(bs ? { per_device_train_batch_size: Number(bs) } : {}) }), join(out, 'eval.json'));
    const trainer = await Trainer.create(cfg, { runnerFor: (m) => worker.createSession(m, { device: cfg.device }) });
    const metrics = await trainer.evaluate();
    process.stdout.write(`${JSON.stringify(metrics)}\n`);
    return 0;
  } finally {
    await worker.terminate();
    rmSync(out, { recursive: true, force: true });
  }
}

async function predict(args: string[]): Promise<number> {
  const text = flag(args, '--text'), file = flag(args, '--file'), k = Number(flag(args, '--top-k') ?? 5);
  const ckpt = args[0];
  if (!ckpt || (!text && !file)) throw new Error(`predict needs a checkpoint and --text or --file\n${USAGE}`);
  const worker = new EngineWorker();
  try {
    const pipe = pipelineFor(ckpt, { runnerFor: (m) => worker.createSession(m, { device: 'cpu', purpose: 'infer' }) });
    const inputs: string[] = text ? [text] : [];
    if (file) for await (const e of readExamples(file)) inputs.push(e.text);
    const mlm = pipe.cfg.architectures?.[0] !== 'BertForSequenceClassification';
    for (const t of inputs) {
      const r = mlm ? await pipe.fillMask(t, { topK: k }) : await pipe.classify(t);
      process.stdout.write(`${JSON.stringify({ text: t, ...r })}\n`);
    }
    return 0;
  } finally {
    await worker.terminate();
  }
}

function exportCmd(args: string[]): number {
  const noInt8 = bool(args, '--no-int8');
  const [ckpt, out] = args;
  if (!ckpt || !out) throw new Error(`export needs a checkpoint and an output folder\n${USAGE}`);
  const r = exportOnnxFolder(ckpt, out, { int8: !noInt8 });
  for (const n of r.notes) process.stderr.write(`${n}\n`);
  for (const [f, bytes] of Object.entries(r.files)) process.stdout.write(`${join(r.folder, f)}${bytes ? `  ${(bytes / 1e6).toFixed(2)} MB` : ''}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  try {
    switch (cmd) {
      case 'train': return await train(args);
      case 'eval': return await evaluate(args);
      case 'predict': return await predict(args);
      case 'export': return exportCmd(args);
      case undefined: case '--help': case '-h': case 'help': process.stdout.write(`${USAGE}\n`); return cmd ? 0 : 2;
      default: process.stderr.write(`unknown command "${cmd}"\n${USAGE}\n`); return 2;
    }
  } catch (e) {
    const msg = e instanceof TrainingConfigError ? e.message : (e as Error).message;
    process.stderr.write(`bert-lab ${cmd}: ${msg}\n`);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });

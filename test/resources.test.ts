/**
 * Resources: the memory estimate against hand arithmetic, refusal of a run too large (in the
 * trainer and through the CLI) with the estimate and what to change, the override; a full disk
 * during a checkpoint (a real small tmpfs when this process may mount one, else an injected
 * ENOSPC) leaves the previous checkpoint intact, reports a clear error, and the run resumes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bertConfig } from '../src/engine/models/bert/config.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { RESUME_FILES, listCheckpoints, loadResumeState } from '../src/engine/train/checkpoint.js';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { estimateTrainingMemory, memoryProblem } from '../src/engine/train/resources.js';
import { parseRunLog } from '../src/engine/train/state.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { sotuLines } from './tiny-mlm.js';

const ROOT = join(__dirname, '..', '..');
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-resources-'));
  writeFileSync(join(dir, 'corpus.txt'), sotuLines(40, 200).filter((_, i) => i % 80 === 0).map((l) => l.text).join('\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const TINY = { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32 };
const json = (out: string, over: Record<string, unknown> = {}) => ({
  task: 'mlm', train_file: join(dir, 'corpus.txt'), train_tokenizer: { vocab_size: 200 }, output_dir: out, model_config: TINY, max_seq_length: 32,
  per_device_train_batch_size: 4, max_steps: 8, save_steps: 2, steps_per_run: 2, logging_steps: 2, device: 'cpu', threads: 1, seed: 5, ...over,
});
const config = (out: string, over: Record<string, unknown> = {}) => parseTrainingConfig(JSON.stringify(json(out, over)), join(dir, 'c.json'));

/** A clean run of the configuration the full-disk tests use: trained by the first test that needs it, so any of them runs alone. */
let clean: Promise<string> | undefined;
function cleanRun(): Promise<string> {
  clean ??= (async () => {
    const ref = join(dir, 'ref');
    await (await Trainer.create(config(ref))).train();
    return ref;
  })();
  return clean;
}

describe('memory estimate', () => {
  it('equals the documented formula worked by hand for bert-base, batch 32 × 128, MLM', () => {
    const cfg = bertConfig({ vocab_size: 30522 }); // H 768, I 3072, A 12, L 12
    const P = 110_000_000, B = 32, T = 128;
    const est = estimateTrainingMemory({ cfg, params: P, trainable: P, batchSize: B, seqLength: T, stepsPerRun: 8, accumulation: 1, mlmProbability: 0.15 });
    // state 4·(2P + 12P) = 56·P; activations 4·32·128·(12·(28·768 + 7·3072 + 12·12·128) + 4·768); head 12·30522·⌈0.15·4096⌉
    assert.equal(est.state, 56 * 110e6);
    assert.equal(est.activations, 4 * 4096 * (12 * (21504 + 21504 + 18432) + 3072));
    assert.equal(est.mlmHead, 12 * 30522 * 615);
    assert.equal(est.batches, 32 * 8 * 4096);
    assert.equal(est.total, est.state + est.activations + est.mlmHead + est.batches + 256 * 2 ** 20);
    // ≈ 6.2 GB of state + 12.1 GB of activations: a bert-base MLM at batch 32 × 128 needs a large machine here.
    assert.ok(est.total > 17 * 2 ** 30 && est.total < 18 * 2 ** 30);
  });

  it('names what to change, and checks the host part only against the host when a GPU is also known', () => {
    const cfg = bertConfig({ vocab_size: 30522 });
    const x = { cfg, params: 110e6, trainable: 110e6, batchSize: 32, seqLength: 128, stepsPerRun: 8, accumulation: 1, mlmProbability: 0.15 };
    const est = estimateTrainingMemory(x);
    const msg = memoryProblem(est, x, [{ bytes: 4 * 2 ** 30, where: 'this machine (free memory)' }])!;
    assert.match(msg, /needs about 17\.5 GiB of memory but this machine \(free memory\) has 4\.0 GiB/);
    assert.match(msg, /batch 32 × 128 tokens × 12 layers of 768/);
    for (const what of ['per_device_train_batch_size', 'gradient_accumulation_steps', 'max_seq_length', '"skip_memory_check": true', '--skip-memory-check']) assert.ok(msg.includes(what), what);
    assert.equal(memoryProblem(est, x, [{ bytes: 64 * 2 ** 30, where: 'host' }]), null);
    // With a GPU: the host needs only the state copies; the GPU needs everything.
    assert.equal(memoryProblem(est, x, [{ bytes: 7 * 2 ** 30, where: 'host' }, { bytes: 40 * 2 ** 30, where: 'GPU 0' }]), null);
    assert.match(memoryProblem(est, x, [{ bytes: 64 * 2 ** 30, where: 'host' }, { bytes: 8 * 2 ** 30, where: 'GPU 0 (nvidia-smi, free memory)' }])!, /but GPU 0 \(nvidia-smi, free memory\) has 8\.0 GiB/);
  });

  it('the trainer refuses before allocating the weights, unless skip_memory_check', async () => {
    const tight = [{ bytes: 64 * 2 ** 20, where: 'a test machine' }];
    await assert.rejects(Trainer.create(config(join(dir, 'refused')), { availableMemory: tight }), /needs about 0\.\d\d GiB of memory but a test machine has 0\.06 GiB/);
    assert.ok(!existsSync(join(dir, 'refused', 'run_log.jsonl')), 'nothing started');
    const notes: string[] = [];
    await Trainer.create(config(join(dir, 'forced'), { skip_memory_check: true }), { availableMemory: tight, log: (s) => notes.push(s) });
    assert.ok(notes.some((n) => n.startsWith('warning (skip_memory_check): this configuration needs about')));
  });

  it('the CLI refuses a bert-large at batch 4096 × 512 on this machine, and names the flag', () => {
    const cfgFile = join(dir, 'huge.json');
    writeFileSync(cfgFile, JSON.stringify(json(join(dir, 'huge'), { model_config: { hidden_size: 1024, num_hidden_layers: 24, num_attention_heads: 16, intermediate_size: 4096, max_position_embeddings: 512 }, max_seq_length: 512, per_device_train_batch_size: 4096 })));
    // Bounded: spawnSync blocks this thread, so the test runner's own timeout could not end a hung CLI.
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli.js'), 'train', cfgFile], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.error, undefined, `the CLI did not finish within 300 s: ${r.error?.message}\n${r.stderr}`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /bert-lab train: this configuration needs about \d+\.\d TiB|bert-lab train: this configuration needs about [\d.]+ GiB of memory but/);
    assert.match(r.stderr, /--skip-memory-check/);
  });
});

/** Mounts a tmpfs of `kb` KiB at `at`; false where this process may not (not root, no mount). */
function mountTmpfs(at: string, kb: number): boolean {
  mkdirSync(at, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', at], { timeout: 60_000 }).status === 0;
}

describe('a full disk during a checkpoint', () => {
  const intact = (folder: string, ref: string) => {
    for (const f of RESUME_FILES) assert.ok(existsSync(join(folder, f)), `${folder}/${f}`);
    loadResumeState(folder);
    for (const f of ['model.safetensors', 'optimizer.safetensors']) assert.ok(readFileSync(join(folder, f)).equals(readFileSync(join(ref, f))), `${folder}/${f} equals the clean run's`);
  };

  it('an ENOSPC in the middle of checkpoint-4 leaves checkpoint-2 intact, no half checkpoint, a clear error; the run resumes', async () => {
    const ref = await cleanRun();
    const out = join(dir, 'enospc');
    // Writes 1–10 are checkpoint-2's ten files; the 15th is in the middle of checkpoint-4's.
    process.env['BERT_LAB_FAULT'] = 'enospc:15';
    let error: Error;
    try {
      error = await (await Trainer.create(config(out))).train().then(() => assert.fail('the save should fail'), (e: Error) => e);
    } finally { delete process.env['BERT_LAB_FAULT']; }
    assert.match(error.message, /^saving checkpoint-4 in .* failed: the disk is full \(ENOSPC\)\. Nothing of it was kept; the previous checkpoint .*checkpoint-2 is intact\. Free some space .* resume with --resume$/);
    assert.deepEqual(listCheckpoints(out).map((c) => c.step), [2]);
    assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('.')), [], 'the failed save left nothing behind');
    intact(join(out, 'checkpoint-2'), join(ref, 'checkpoint-2'));
    const last = parseRunLog(readFileSync(join(out, 'run_log.jsonl'), 'utf8'), 'run_log.jsonl').records.at(-1)!;
    assert.equal(last.type, 'error');
    assert.match((last as { message: string }).message, /ENOSPC/);
    const r = await (await Trainer.create(config(out, { resume_from_checkpoint: true }))).train();
    assert.equal(r.reason, 'completed');
    assert.ok(readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(ref, 'model.safetensors'))), 'the resumed run ends where the clean one did');
  });

  it('an ENOSPC while the final model is written replaces none of its files; the resume writes it', async () => {
    const ref = await cleanRun();
    const out = join(dir, 'enospc-final');
    // Writes 1–40 are checkpoints 2, 4, 6 and 8; 41–50 the final model's files.
    process.env['BERT_LAB_FAULT'] = 'enospc:45';
    let error: Error;
    try {
      error = await (await Trainer.create(config(out))).train().then(() => assert.fail('the save should fail'), (e: Error) => e);
    } finally { delete process.env['BERT_LAB_FAULT']; }
    assert.match(error.message, /^saving the final model in .* failed: the disk is full \(ENOSPC\)\. No file of it was replaced; the last checkpoint .*checkpoint-8 is intact/);
    assert.ok(!existsSync(join(out, 'model.safetensors')) && !existsSync(join(out, 'config.json')));
    assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('.')), []);
    intact(join(out, 'checkpoint-8'), join(ref, 'checkpoint-8'));
    assert.equal((await (await Trainer.create(config(out, { resume_from_checkpoint: true }))).train()).reason, 'completed');
    assert.ok(readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(ref, 'model.safetensors'))));
  });

  it('on a real full filesystem (a small tmpfs; injected ENOSPC where mounting is not allowed)', async () => {
    const ref = await cleanRun();
    const mnt = join(dir, 'small');
    const real = mountTmpfs(mnt, 320);
    process.stdout.write(`full disk: ${real ? 'a 320 KiB tmpfs' : 'tmpfs not mountable here; ENOSPC injected at the 25th write'}\n`);
    const out = join(mnt, 'run');
    if (!real) process.env['BERT_LAB_FAULT'] = 'enospc:25';
    try {
      const error = await (await Trainer.create(config(out))).train().then(() => assert.fail('the disk should fill up'), (e: Error) => e);
      assert.match(error.message, /failed: the disk is full \(ENOSPC\)\. Nothing of it was kept; the previous checkpoint .*checkpoint-\d+ is intact/);
      const kept = listCheckpoints(out);
      assert.ok(kept.length >= 1, 'at least one checkpoint fitted');
      for (const c of kept) intact(c.path, join(ref, `checkpoint-${c.step}`));
      assert.deepEqual(readdirSync(out).filter((n) => n.startsWith('.')), []);
      if (real) assert.equal(spawnSync('mount', ['-o', 'remount,size=8m', mnt], { timeout: 60_000 }).status, 0, 'space freed');
      delete process.env['BERT_LAB_FAULT'];
      const r = await (await Trainer.create(config(out, { resume_from_checkpoint: true }))).train();
      assert.equal(r.reason, 'completed');
      assert.ok(readFileSync(join(out, 'model.safetensors')).equals(readFileSync(join(ref, 'model.safetensors'))));
      const log = parseRunLog(readFileSync(join(out, 'run_log.jsonl'), 'utf8'), 'run_log.jsonl');
      assert.ok(log.warnings.length <= 1, 'at most the line the full disk cut off');
    } finally {
      delete process.env['BERT_LAB_FAULT'];
      if (real) spawnSync('umount', [mnt], { timeout: 60_000 });
    }
    readSafetensors(join(ref, 'model.safetensors'));
  });
});

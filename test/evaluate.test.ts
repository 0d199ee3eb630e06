/**
 * Evaluation of a checkpoint through its own id2label, against a hand computation from the logits
 * transformers itself produced for the fixture's texts (test/fixtures/hf-tiny-bert-cls/expected.json):
 * accuracy, the mean cross-entropy in float64, and sklearn's macro F1 over all the checkpoint's
 * classes. Shuffled (non-alphabetical) class names, classes absent from the file, labels given as
 * ids, unknown labels (refused, or skipped and counted), and a file holding only an unknown label.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { evaluateCheckpoint } from '../src/engine/train/evaluate.js';
import { BertPipeline } from '../src/engine/infer/pipeline.js';
import { DataError } from '../src/engine/data/readers.js';

const FIX = join(__dirname, '..', '..', 'test', 'fixtures', 'hf-tiny-bert-cls');
interface Case { text: string[]; text_pair?: string[]; logits: number[][] }
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as { cases: Case[] };
/** Five examples from the fixture's single-text inputs (the first one twice), with transformers' logits. */
const single = expected.cases.filter((c) => !c.text_pair).flatMap((c) => c.text.map((t, i) => ({ text: t, logits: c.logits[i]! })));
const inputs = [...single, single[0]!];

let dir: string;
/** The fixture with its classes renamed in a non-alphabetical order: id 0 = "pos", 1 = "neg", 2 = "neu". */
let shuffled: string;
const NAMES = ['pos', 'neg', 'neu'];
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-eval-'));
  shuffled = join(dir, 'ckpt');
  cpSync(FIX, shuffled, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(shuffled, 'config.json'), 'utf8'));
  cfg.id2label = Object.fromEntries(NAMES.map((n, i) => [String(i), n]));
  cfg.label2id = Object.fromEntries(NAMES.map((n, i) => [n, i]));
  writeFileSync(join(shuffled, 'config.json'), JSON.stringify(cfg, null, 2));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function dataFile(name: string, labels: (string | number | undefined)[]): string {
  const p = join(dir, name);
  writeFileSync(p, labels.map((l, i) => JSON.stringify({ text: inputs[i % inputs.length]!.text, ...(l === undefined ? {} : { label: l }) })).join('\n') + '\n');
  return p;
}

/** Accuracy, mean cross-entropy and macro precision/recall/F1 over `classes` classes, in float64, from logits and class ids. */
function byHand(rows: { logits: number[]; y: number }[], classes: number) {
  let correct = 0, loss = 0;
  const tp = new Array(classes).fill(0), fp = new Array(classes).fill(0), fn = new Array(classes).fill(0);
  for (const { logits, y } of rows) {
    const m = Math.max(...logits), lse = m + Math.log(logits.reduce((a, z) => a + Math.exp(z - m), 0));
    loss += lse - logits[y]!;
    const pred = logits.indexOf(m);
    if (pred === y) { correct++; tp[y]++; } else { fp[pred]++; fn[y]++; }
  }
  const p = tp.map((t, c) => (t + fp[c] ? t / (t + fp[c]) : 0)), r = tp.map((t, c) => (t + fn[c] ? t / (t + fn[c]) : 0));
  const f = p.map((pc, c) => (pc + r[c]! ? (2 * pc * r[c]!) / (pc + r[c]!) : 0));
  const avg = (a: number[]) => a.reduce((x, z) => x + z, 0) / a.length;
  return { eval_accuracy: correct / rows.length, eval_loss: loss / rows.length, eval_precision: avg(p), eval_recall: avg(r), eval_f1: avg(f) };
}
function assertClose(got: Record<string, number>, want: Record<string, number>) {
  for (const [k, v] of Object.entries(want)) assert.ok(Math.abs(got[k]! - v) < 2e-5, `${k}: got ${got[k]}, by hand ${v}`);
}

describe('bert-lab eval on a checkpoint', () => {
  it('scores through the checkpoint\'s own id2label when it is not alphabetical, whatever the batch size', async () => {
    // transformers predicts id 1 for every input; with the checkpoint's names that is "neg".
    assert.deepEqual(inputs.map((x) => x.logits.indexOf(Math.max(...x.logits))), inputs.map(() => 1));
    const labels = ['neg', 'pos', 'neg', 'neu', 'pos'];
    const want = byHand(inputs.map((x, i) => ({ logits: x.logits, y: NAMES.indexOf(labels[i]!) })), 3);
    assert.equal(want.eval_accuracy, 2 / 5);
    for (const batchSize of [8, 2]) {
      const r = await evaluateCheckpoint(shuffled, { data: (dataFile('shuffled.jsonl', labels)), batchSize });
      assertClose(r.metrics, want);
      assert.equal(r.examples, 5);
      assert.equal(r.skipped, 0);
    }
  });

  it('agrees with predict: the label predict names is the one eval counts as right', async () => {
    const pipe = BertPipeline.load(shuffled);
    for (const x of inputs) assert.equal((await pipe.classify(x.text)).labels[0]!.label, 'neg');
    const r = await evaluateCheckpoint(shuffled, { data: (dataFile('all-neg.jsonl', inputs.map(() => 'neg'))) });
    assert.equal(r.metrics['eval_accuracy'], 1);
  });

  it('keeps every class of id2label in the macro averages when the file lacks some, and reads class ids as ids', async () => {
    const labels = ['pos', 'pos', 'neg', 'pos', 'pos']; // no "neu"
    const want = byHand(inputs.map((x, i) => ({ logits: x.logits, y: NAMES.indexOf(labels[i]!) })), 3);
    const r = await evaluateCheckpoint(shuffled, { data: (dataFile('missing.jsonl', labels)) });
    assertClose(r.metrics, want);
    const ids = await evaluateCheckpoint(shuffled, { data: (dataFile('ids.jsonl', labels.map((l) => NAMES.indexOf(l)))) });
    assertClose(ids.metrics, want);
    assert.match(ids.notes.join('\n'), /5 labels were class ids.*0 = pos, 1 = neg, 2 = neu/);
  });

  it('refuses labels the checkpoint does not know, naming the count, the values, the file and the line', async () => {
    const labels = ['neg', 'pos', 'maybe', 'neu', 'maybe'];
    const file = dataFile('unknown.jsonl', labels);
    await assert.rejects(evaluateCheckpoint(shuffled, { data: file }), (e: Error) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: 2 of 5 examples have labels the checkpoint does not know \\("maybe"\\): "maybe" at line 3, "maybe" at line 5\\. The checkpoint's classes \\(config.json id2label\\) are: pos, neg, neu`));
      assert.match(e.message, /--ignore-unknown-labels/);
      return true;
    });
  });

  it('with --ignore-unknown-labels, skips them, says how many, and scores the rest as by hand', async () => {
    const labels = ['neg', 'pos', 'maybe', 'neu', 'maybe'];
    const r = await evaluateCheckpoint(shuffled, { data: (dataFile('unknown2.jsonl', labels)), ignoreUnknownLabels: true });
    assert.equal(r.skipped, 2);
    assert.equal(r.examples, 3);
    assert.match(r.notes.join('\n'), /skipped 2 of 5 examples/);
    const kept = [0, 1, 3];
    assertClose(r.metrics, byHand(kept.map((i) => ({ logits: inputs[i]!.logits, y: NAMES.indexOf(labels[i]!) })), 3));
  });

  it('a file holding only an unknown label is refused, never scored as accuracy 1 and loss 0', async () => {
    const file = dataFile('only-unknown.jsonl', inputs.map(() => 'other'));
    await assert.rejects(evaluateCheckpoint(shuffled, { data: file }), /5 of 5 examples have labels the checkpoint does not know/);
    await assert.rejects(evaluateCheckpoint(shuffled, { data: file, ignoreUnknownLabels: true }), /none of its 5 examples has a label the checkpoint knows/);
  });

  it('an example without a label, an empty file and a missing folder are named', async () => {
    await assert.rejects(evaluateCheckpoint(shuffled, { data: (dataFile('nolabel.jsonl', ['neg', undefined])) }), /nolabel\.jsonl:2: has no label/);
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    await assert.rejects(evaluateCheckpoint(shuffled, { data: empty }), /empty\.jsonl: has no examples/);
    await assert.rejects(evaluateCheckpoint(join(dir, 'nowhere'), { data: empty }), /the checkpoint ".*nowhere": no such folder/);
    // A Hub id is read from the Hugging Face cache only (evaluateCheckpoint never downloads): not there, the message says so and how to get it.
    const was = process.env['HF_HUB_CACHE'];
    process.env['HF_HUB_CACHE'] = join(dir, 'empty-hf-cache');
    try {
      await assert.rejects(evaluateCheckpoint('bert-base-uncased', { data: empty }), (e: Error) => {
        assert.match(e.message, /the checkpoint "bert-base-uncased": no such folder .*the Hugging Face Hub id bert-base-uncased \(revision "main"\) is not in the Hugging Face cache .*empty-hf-cache.*bert-lab download bert-base-uncased/s);
        return true;
      });
    } finally {
      if (was === undefined) delete process.env['HF_HUB_CACHE']; else process.env['HF_HUB_CACHE'] = was;
    }
  });
});

describe('evaluateCheckpoint: masked LM at a chosen masking rate', () => {
  it('masks the checkpoint\'s training rate by default and the given rate when asked; a rate outside (0, 1) is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eval-mlm-'));
    try {
      writeFileSync(join(dir, 'text.txt'), ['the congress of the united states met today.', 'the state of the union is strong.', 'we the people of the united states.', 'the treaty was signed in december.'].join('\n'));
      const mlm = join(__dirname, '..', '..', 'test', 'fixtures', 'hf-tiny-bert');
      const a = await evaluateCheckpoint(mlm, { data: join(dir, 'text.txt') });
      const b = await evaluateCheckpoint(mlm, { data: join(dir, 'text.txt'), mlmProbability: 0.4 });
      assert.ok(a.notes.some((n) => /masked 15% of tokens/.test(n)), a.notes.join('\n'));
      assert.ok(b.notes.some((n) => /masked 40% of tokens/.test(n)), b.notes.join('\n'));
      assert.notEqual(a.metrics['eval_loss'], b.metrics['eval_loss']);
      await assert.rejects(evaluateCheckpoint(mlm, { data: join(dir, 'text.txt'), mlmProbability: 1.5 }), /mlmProbability is 1.5; it must be in \(0, 1\)/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

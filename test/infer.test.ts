/**
 * The inference API and exports on a small BERT pretrained here on real text: fill-mask against
 * an independent softmax/top-k of the full logits and against transformers.js on the exported
 * folder; the int8 export against fp32; attention and classification against transformers' outputs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serializeModel } from '../src/engine/ir/proto.js';
import { loadWeights, readConfig } from '../src/engine/models/bert/folder.js';
import { BertForMaskedLM } from '../src/engine/models/bert/heads.js';
import { inferenceGraph } from '../src/engine/infer/graphs.js';
import { exportOnnxFolder } from '../src/engine/infer/export.js';
import { BertPipeline } from '../src/engine/infer/pipeline.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { tensor } from '../src/engine/runtime/tensor.js';
import { TinyMlm, trainTinyMlm } from './tiny-mlm.js';
import { rng } from './helpers.js';

const FIX = join(__dirname, '..', '..', 'test', 'fixtures');
let dir: string, tiny: TinyMlm;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-infer-'));
  tiny = await trainTinyMlm(dir, { steps: 300 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

describe('fill-mask', () => {
  it('the pretraining lowered the masked-LM loss', () => {
    assert.ok(mean(tiny.losses.slice(-20)) < mean(tiny.losses.slice(0, 20)) - 1, `${mean(tiny.losses.slice(0, 20))} → ${mean(tiny.losses.slice(-20))}`);
  });

  it('gives the softmax top-k of the full logits at every [MASK], with offsets in the text', async () => {
    const text = 'We must [MASK] our children, and the [MASK] of our nation.';
    const res = await BertPipeline.load(tiny.folder).fillMask(text, { topK: 4 });
    assert.equal(res.masks.length, 2);
    for (const m of res.masks) assert.equal(text.slice(m.offset[0], m.offset[1]), '[MASK]');
    // Independent: full [1, T, V] logits from the plain graph, softmax and sort in JS.
    const cfg = readConfig(tiny.folder), model = new BertForMaskedLM(cfg);
    const s = await EngineSession.create(serializeModel(inferenceGraph(model, loadWeights(tiny.folder, model.ps, rng(1).next).weights, { output: 'logits' })), { device: 'cpu' });
    const enc = tiny.tokenizer.encode(text);
    const T = enc.ids.length, V = cfg.vocab_size;
    const logits = (await s.run({ input_ids: tensor('int64', [1, T], enc.ids), attention_mask: tensor('int64', [1, T], enc.attentionMask), token_type_ids: tensor('int64', [1, T], enc.typeIds) }))['logits']!.data as Float32Array;
    for (const m of res.masks) {
      const row = Array.from(logits.subarray(m.tokenIndex * V, (m.tokenIndex + 1) * V));
      const mx = Math.max(...row), z = row.reduce((a, x) => a + Math.exp(x - mx), 0);
      const top = row.map((x, id) => ({ id, p: Math.exp(x - mx) / z })).sort((a, b) => b.p - a.p).slice(0, 4);
      assert.deepEqual(m.predictions.map((p) => p.tokenId), top.map((t) => t.id));
      m.predictions.forEach((p, j) => assert.ok(Math.abs(p.score - top[j]!.p) < 1e-6));
      assert.equal(m.predictions[0]!.sequence.includes('[MASK]'), true, 'the other mask stays in the sequence');
    }
  });

  it('warns, naming max_position_embeddings, when the text is too long', async () => {
    const long = `${'the union is strong and '.repeat(40)}[MASK].`;
    const res = await BertPipeline.load(tiny.folder).fillMask(long);
    assert.ok(res.warnings.some((w) => /max_position_embeddings is 64/.test(w)), res.warnings.join());
    assert.ok(res.warnings.some((w) => /1 of 1 \[MASK\] tokens fell beyond max_position_embeddings/.test(w)), res.warnings.join());
  });

  it('refuses fill-mask on a classification checkpoint, naming it', async () => {
    await assert.rejects(BertPipeline.load(join(FIX, 'hf-tiny-bert-cls')).fillMask('a [MASK]'), /fill-mask needs a masked-LM checkpoint; this one is BertForSequenceClassification/);
  });
});

describe('export', () => {
  it('transformers.js runs the exported folder offline and returns the same top-k as fillMask', async () => {
    const out = join(dir, 'models', 'tiny-export');
    exportOnnxFolder(tiny.folder, out);
    const { pipeline, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = dirname(out) + '/';
    const fill = await pipeline('fill-mask', 'tiny-export', { dtype: 'fp32' });
    const ours = BertPipeline.load(tiny.folder);
    for (const text of tiny.heldOut.slice(0, 12).map((s) => s.replace(/\b(\w+)\b/, '[MASK]'))) {
      const theirs = await fill(text, { top_k: 5 }) as { score: number; token: number }[];
      const mine = (await ours.fillMask(text, { topK: 5 })).masks[0]!.predictions;
      assert.deepEqual(mine.map((p) => p.tokenId), theirs.map((t) => t.token), text);
      mine.forEach((p, j) => assert.ok(Math.abs(p.score - theirs[j]!.score) < 1e-5));
    }
    const q8 = await pipeline('fill-mask', 'tiny-export', { dtype: 'q8' });
    assert.equal(((await q8('The state of the [MASK] is strong.', { top_k: 1 })) as unknown[]).length, 1);
  });

  it('int8: top-1 agrees with fp32 on ≥ 97% of masks over held-out real text; the file is ≤ 30% of fp32', async () => {
    const out = join(dir, 'int8-export');
    exportOnnxFolder(tiny.folder, out);
    const ratio = statSync(join(out, 'onnx', 'model_quantized.onnx')).size / statSync(join(out, 'onnx', 'model.onnx')).size;
    const fp32 = BertPipeline.load(tiny.folder), int8 = BertPipeline.load(tiny.folder, { int8: true });
    const r = rng(3);
    let agree = 0, total = 0;
    for (const s of tiny.heldOut.slice(0, 400)) {
      const words = s.split(' ');
      const i = Math.floor(r.next() * words.length);
      const text = words.map((w, j) => (j === i ? '[MASK]' : w)).join(' ');
      const [a, b] = [await fp32.fillMask(text, { topK: 1 }), await int8.fillMask(text, { topK: 1 })];
      for (let m = 0; m < a.masks.length; m++) {
        total++;
        if (a.masks[m]!.predictions[0]!.tokenId === b.masks[m]!.predictions[0]!.tokenId) agree++;
      }
    }
    console.log(`# int8: top-1 agreement ${(100 * agree / total).toFixed(1)}% of ${total} masks; file ${(100 * ratio).toFixed(1)}% of fp32`);
    assert.ok(total >= 380);
    assert.ok(agree / total >= 0.97, `${agree}/${total}`);
    assert.ok(ratio <= 0.3, `ratio ${ratio}`);
  });
});

describe('attention and classification against transformers', () => {
  it('attention() gives per-layer [heads, T, T] probabilities equal to transformers\' for the same text', async () => {
    const c = JSON.parse(readFileSync(join(FIX, 'hf-tiny-bert', 'expected.json'), 'utf8')).cases[0];
    const res = await BertPipeline.load(join(FIX, 'hf-tiny-bert')).attention(c.text[0]);
    assert.deepEqual(res.tokens, c.tokens[0]);
    assert.equal(res.layers.length, 2);
    res.layers.forEach((l, i) => {
      const want = (c.attentions[i] as number[][][][]).flat(3);
      let d = 0;
      for (let j = 0; j < want.length; j++) d = Math.max(d, Math.abs(l[j]! - want[j]!));
      assert.ok(d < 1e-5, `layer ${i}: ${d}`);
    });
  });
  it('classify() gives the softmax of transformers\' logits, labels from id2label', async () => {
    const c = JSON.parse(readFileSync(join(FIX, 'hf-tiny-bert-cls', 'expected.json'), 'utf8')).cases[0];
    const res = await BertPipeline.load(join(FIX, 'hf-tiny-bert-cls')).classify(c.text[0]);
    const lg = c.logits[0] as number[];
    const z = lg.reduce((a, x) => a + Math.exp(x), 0);
    for (const { label, score } of res.labels) {
      const i = ['neg', 'neu', 'pos'].indexOf(label);
      assert.ok(Math.abs(score - Math.exp(lg[i]!) / z) < 1e-5, label);
    }
  });
});

/**
 * Hugging Face compatibility: folders written by transformers (test/fixtures, made by
 * scripts/make-hf-fixtures.py with the versions in fixture-info.json) load here and give the
 * same tokens, logits and attentions; folders written here have HF's exact tensor names.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { serializeModel } from '../src/engine/ir/proto.js';
import { CheckpointError, loadWeights, readConfig, saveCheckpoint } from '../src/engine/models/bert/folder.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { modelForConfig } from '../src/engine/models/bert/auto.js';
import { BertForMaskedLM, BertForSequenceClassification } from '../src/engine/models/bert/heads.js';
import { inferenceGraph } from '../src/engine/infer/graphs.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { tensor, toNumbers } from '../src/engine/runtime/tensor.js';
import { loadTokenizer } from '../src/engine/tokenizer/index.js';
import { maxAbsDiff, rng } from './helpers.js';

const FIX = join(__dirname, '..', '..', 'test', 'fixtures');
const MLM = join(FIX, 'hf-tiny-bert'), CLS = join(FIX, 'hf-tiny-bert-cls');
interface Case { name: string; text: string[]; text_pair?: string[]; input_ids: number[][]; token_type_ids: number[][]; attention_mask: number[][]; logits: unknown; attentions?: unknown[]; pooler_output?: unknown }
const expected = (folder: string): Case[] => JSON.parse(readFileSync(join(folder, 'expected.json'), 'utf8')).cases;
const info = (folder: string) => JSON.parse(readFileSync(join(folder, 'fixture-info.json'), 'utf8'));
const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);

async function run(folder: string, c: Case, attentions: boolean) {
  const cfg = readConfig(folder);
  const model = modelForConfig(cfg);
  const { weights } = loadWeights(folder, model.ps, () => { throw new Error('nothing should be initialized'); });
  const s = await EngineSession.create(serializeModel(inferenceGraph(model, weights, { output: 'logits', attentions })), { device: 'cpu' });
  const [B, T] = [c.input_ids.length, c.input_ids[0]!.length];
  return s.run({ input_ids: tensor('int64', [B, T], flat(c.input_ids)), attention_mask: tensor('int64', [B, T], flat(c.attention_mask)), token_type_ids: tensor('int64', [B, T], flat(c.token_type_ids)) });
}

describe('parameter names are the Hugging Face state-dict keys (golden lists from transformers)', () => {
  it('BertForMaskedLM: exactly the keys save_pretrained writes; the state dict adds only the tied decoder', () => {
    const m = new BertForMaskedLM(readConfig(MLM));
    const names = m.ps.specs.map((p) => p.name);
    assert.deepEqual([...names].sort(), [...info(MLM).state_dict_keys_in_file].sort());
    const sd: string[] = info(MLM).model_state_dict_keys;
    assert.deepEqual(sd.filter((k) => !names.includes(k)), ['cls.predictions.decoder.weight', 'cls.predictions.decoder.bias']);
  });
  it('BertForSequenceClassification', () => {
    const m = new BertForSequenceClassification(readConfig(CLS));
    assert.deepEqual(m.ps.specs.map((p) => p.name).sort(), [...info(CLS).state_dict_keys_in_file].sort());
    assert.deepEqual([...info(CLS).model_state_dict_keys].sort(), m.ps.specs.map((p) => p.name).sort());
  });
});

describe('a folder made by transformers gives the same numbers here', () => {
  for (const c of expected(MLM)) {
    it(`BertForMaskedLM, ${c.name}: token ids, logits and attentions`, async () => {
      const tok = loadTokenizer(MLM);
      const enc = tok.encodeBatch(c.text.map((t, i) => (c.text_pair ? [t, c.text_pair[i]!] as [string, string] : t)), { padding: {} });
      assert.deepEqual(enc.map((e) => e.ids), c.input_ids);
      assert.deepEqual(enc.map((e) => e.typeIds), c.token_type_ids);
      assert.deepEqual(enc.map((e) => e.attentionMask), c.attention_mask);
      const out = await run(MLM, c, true);
      const d = maxAbsDiff(toNumbers(out['logits']!), flat(c.logits));
      assert.ok(d <= 1e-4, `logits differ by ${d}`);
      c.attentions!.forEach((a, l) => assert.ok(maxAbsDiff(toNumbers(out[`attentions.${l}`]!), flat(a)) <= 1e-5, `layer ${l} attention`));
    });
  }
  for (const c of expected(CLS)) {
    it(`BertForSequenceClassification, ${c.name}: logits`, async () => {
      const out = await run(CLS, c, false);
      assert.ok(maxAbsDiff(toNumbers(out['logits']!), flat(c.logits)) <= 1e-4);
    });
  }
});

describe('saving and loading checkpoint folders', () => {
  it('writes the tensors save_pretrained writes, and reads them back bit for bit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bertlab-'));
    try {
      const cfg = readConfig(MLM);
      const m = new BertForMaskedLM(cfg);
      const { weights } = loadWeights(MLM, m.ps, rng(1).next);
      const out = join(dir, 'ckpt');
      saveCheckpoint(out, m, weights, { tokenizerFrom: MLM });
      const st = readSafetensors(join(out, 'model.safetensors'));
      assert.deepEqual([...st.tensors.keys()].sort(), [...info(MLM).state_dict_keys_in_file].sort());
      assert.deepEqual(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).architectures, ['BertForMaskedLM']);
      const again = loadWeights(out, m.ps, rng(1).next);
      assert.deepEqual(again.notes, []);
      for (const p of m.ps.specs) assert.deepEqual(again.weights[p.name], weights[p.name], p.name);
      assert.equal(loadTokenizer(out).encode('the [MASK] of the union').ids.join(), loadTokenizer(MLM).encode('the [MASK] of the union').ids.join());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('transfer: an MLM checkpoint loads into a classifier, with the new head initialized and named', () => {
    const cfg = { ...readConfig(MLM), id2label: { 0: 'a', 1: 'b' }, label2id: { a: 0, b: 1 } };
    const m = new BertForSequenceClassification(cfg);
    const r = loadWeights(MLM, m.ps, rng(1).next);
    assert.ok(r.notes.some((n) => /newly initialized .*bert\.pooler\.dense\.weight.*classifier\.weight/.test(n)), r.notes.join('\n'));
    assert.ok(r.notes.some((n) => /not used by this model: cls\.predictions/.test(n)));
  });
});

describe('bad checkpoint folders get errors naming the file and tensor', () => {
  const copy = () => { const d = mkdtempSync(join(tmpdir(), 'bertlab-bad-')); cpSync(MLM, d, { recursive: true }); return d; };
  it('a config whose hidden_size disagrees with the weights', () => {
    const d = copy();
    try {
      const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
      writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, hidden_size: 64, num_attention_heads: 4 }));
      assert.throws(() => loadWeights(d, new BertForMaskedLM(readConfig(d)).ps, rng(1).next),
        (e: Error) => e instanceof CheckpointError && /model\.safetensors: tensor "bert\.embeddings\.word_embeddings\.weight" has shape \[500,32\] but config\.json needs \[500,64\]/.test(e.message));
    } finally { rmSync(d, { recursive: true, force: true }); }
  });
  it('missing files and invalid config.json', () => {
    const d = copy();
    try {
      writeFileSync(join(d, 'config.json'), '{"hidden_size": 33, "num_attention_heads": 4}');
      assert.throws(() => readConfig(d), /config\.json: field "num_attention_heads" is 4; it must divide hidden_size \(33\)/);
      writeFileSync(join(d, 'config.json'), '{ not json');
      assert.throws(() => readConfig(d), /config\.json: not valid JSON/);
      unlinkSync(join(d, 'config.json'));
      assert.throws(() => readConfig(d), /config\.json is missing/);
      unlinkSync(join(d, 'model.safetensors'));
      assert.throws(() => loadWeights(d, new BertForMaskedLM(readConfig(MLM)).ps, rng(1).next), /model\.safetensors is missing/);
    } finally { rmSync(d, { recursive: true, force: true }); }
  });
  it('a truncated weights file', () => {
    const d = copy();
    try {
      const f = join(d, 'model.safetensors');
      writeFileSync(f, readFileSync(f).subarray(0, 5000));
      assert.throws(() => loadWeights(d, new BertForMaskedLM(readConfig(d)).ps, rng(1).next), /model\.safetensors/);
    } finally { rmSync(d, { recursive: true, force: true }); }
  });
});

/** BertConfig validation, Hugging Face initialization, legacy names and the multi-task model. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BERT_DEFAULTS, ConfigError, bertConfig, parseBertConfig } from '../src/engine/models/bert/config.js';
import { BertForMaskedLM, BertMultiTask } from '../src/engine/models/bert/heads.js';
import { CheckpointError, loadWeights, readConfig } from '../src/engine/models/bert/folder.js';
import { readSafetensors, writeSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { rng } from './helpers.js';

const MLM = join(__dirname, '..', '..', 'test', 'fixtures', 'hf-tiny-bert');

describe('BertConfig', () => {
  it('fills in Hugging Face\'s defaults (bert-base)', () => {
    const c = parseBertConfig({});
    for (const [k, v] of Object.entries(BERT_DEFAULTS)) assert.deepEqual(c[k], v, k);
    assert.equal(c.hidden_size, 768);
    assert.equal(c.layer_norm_eps, 1e-12);
  });
  const bad: [object, RegExp][] = [
    [{ hidden_size: 0 }, /field "hidden_size" is 0; it must be a positive integer/],
    [{ hidden_size: 100, num_attention_heads: 12 }, /field "num_attention_heads" is 12; it must divide hidden_size \(100\)/],
    [{ hidden_act: 'swish' }, /field "hidden_act" is "swish"; supported: "gelu"/],
    [{ hidden_dropout_prob: 1.5 }, /field "hidden_dropout_prob" is 1.5; it must be a number in \[0, 1\)/],
    [{ model_type: 'roberta' }, /field "model_type" is "roberta"; this reader takes "bert" models only/],
    [{ pad_token_id: 40000 }, /field "pad_token_id" is 40000; it must be an integer id below vocab_size \(30522\)/],
    [{ id2label: { 0: 'a', 2: 'b' } }, /field "id2label" .*keys must be 0, 1, …, n−1/],
    [{ id2label: { 0: 'a', 1: 'b' }, label2id: { a: 0, b: 0 } }, /field "label2id.b" is 0; it must be 1, as in id2label/],
    [{ vocab_size: '30522' }, /field "vocab_size" is "30522"; it must be a positive integer/],
  ];
  for (const [json, re] of bad) it(`rejects ${JSON.stringify(json)}, naming the field and value`, () => assert.throws(() => parseBertConfig(json, 'x/config.json'), (e: Error) => e instanceof ConfigError && /^x\/config\.json: /.test(e.message) && re.test(e.message)));
});

describe('Hugging Face initialization', () => {
  it('normal(0, initializer_range) weights, zero biases, LayerNorm 1/0, a zero padding row', () => {
    const cfg = bertConfig({ vocab_size: 300, hidden_size: 64, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 128, initializer_range: 0.02, pad_token_id: 0 });
    const m = new BertForMaskedLM(cfg);
    const w = m.ps.initialize(rng(1).next);
    const q = w['bert.encoder.layer.0.attention.self.query.weight']!;
    const mean = q.reduce((a, x) => a + x, 0) / q.length, std = Math.sqrt(q.reduce((a, x) => a + (x - mean) ** 2, 0) / q.length);
    assert.ok(Math.abs(mean) < 0.002 && Math.abs(std - 0.02) < 0.001, `${mean} ${std}`);
    assert.ok(w['bert.encoder.layer.0.attention.self.query.bias']!.every((x) => x === 0));
    assert.ok(w['bert.embeddings.LayerNorm.weight']!.every((x) => x === 1));
    assert.ok(w['cls.predictions.bias']!.every((x) => x === 0));
    assert.ok(w['bert.embeddings.word_embeddings.weight']!.subarray(0, 64).every((x) => x === 0), 'padding row');
    assert.ok(w['bert.embeddings.word_embeddings.weight']!.subarray(64, 128).some((x) => x !== 0));
    // Weight decay: matrices and embeddings yes, biases and LayerNorm no (HF Trainer's default).
    const decay = Object.fromEntries(m.ps.specs.map((p) => [p.name, p.decay]));
    assert.equal(decay['bert.embeddings.word_embeddings.weight'], true);
    assert.equal(decay['bert.encoder.layer.0.output.LayerNorm.weight'], false);
    assert.equal(decay['cls.predictions.bias'], false);
  });
});

describe('legacy and partial checkpoints', () => {
  it('accepts LayerNorm gamma/beta and keys without the bert. prefix, and says so', () => {
    const d = mkdtempSync(join(tmpdir(), 'bertlab-legacy-'));
    try {
      cpSync(MLM, d, { recursive: true });
      const st = readSafetensors(join(MLM, 'model.safetensors'));
      const renamed: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [k, t] of st.tensors) {
        const name = k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta').replace(/^bert\./, '');
        renamed[name] = { shape: t.shape, data: t.data };
      }
      writeSafetensors(join(d, 'model.safetensors'), renamed);
      const m = new BertForMaskedLM(readConfig(d));
      const legacy = loadWeights(d, m.ps, () => { throw new Error('nothing is missing'); });
      const modern = loadWeights(MLM, m.ps, rng(1).next);
      for (const p of m.ps.specs) assert.deepEqual(legacy.weights[p.name], modern.weights[p.name], p.name);
      assert.ok(legacy.notes.some((n) => n === 'read bert.embeddings.LayerNorm.weight from "embeddings.LayerNorm.gamma"'), legacy.notes.slice(0, 3).join('\n'));
    } finally { rmSync(d, { recursive: true, force: true }); }
  });
  it('a missing encoder tensor is an error naming it', () => {
    const d = mkdtempSync(join(tmpdir(), 'bertlab-missing-'));
    try {
      cpSync(MLM, d, { recursive: true });
      const st = readSafetensors(join(MLM, 'model.safetensors'));
      const kept: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [k, t] of st.tensors) if (k !== 'bert.encoder.layer.1.attention.self.key.weight') kept[k] = { shape: t.shape, data: t.data };
      writeSafetensors(join(d, 'model.safetensors'), kept);
      assert.throws(() => loadWeights(d, new BertForMaskedLM(readConfig(d)).ps, rng(1).next),
        (e: Error) => e instanceof CheckpointError && /model\.safetensors: tensor "bert\.encoder\.layer\.1\.attention\.self\.key\.weight" is missing/.test(e.message));
    } finally { rmSync(d, { recursive: true, force: true }); }
  });
});

describe('multi-task model', () => {
  it('one encoder, the MLM head under cls.predictions and each classifier under heads.<task>', () => {
    const cfg = bertConfig({ vocab_size: 100, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32 });
    const m = new BertMultiTask(cfg, [{ name: 'mlm', kind: 'mlm' }, { name: 'sentiment', kind: 'classification', labels: 3 }, { name: 'topic', kind: 'classification', labels: 5 }]);
    const names = m.ps.specs.map((p) => p.name);
    assert.equal(names.filter((n) => n.startsWith('bert.embeddings.word_embeddings')).length, 1);
    assert.ok(names.includes('bert.pooler.dense.weight') && names.includes('cls.predictions.bias'));
    assert.deepEqual(names.filter((n) => n.startsWith('heads.')), ['heads.sentiment.classifier.weight', 'heads.sentiment.classifier.bias', 'heads.topic.classifier.weight', 'heads.topic.classifier.bias']);
    assert.deepEqual(m.ps.specs.find((p) => p.name === 'heads.topic.classifier.weight')!.shape, [5, 16]);
    assert.throws(() => new BertMultiTask(cfg, [{ name: 'a', kind: 'mlm' }, { name: 'a', kind: 'classification', labels: 2 }]), /task "a" is defined twice/);
    assert.throws(() => new BertMultiTask(cfg, [{ name: 'bad name', kind: 'mlm' }]), /task name "bad name" may use letters, digits/);
  });
});

describe('the tied MLM decoder in a file', () => {
  it('an equal decoder weight is accepted silently; a different one is ignored with a note', () => {
    const d = mkdtempSync(join(tmpdir(), 'bertlab-decoder-'));
    try {
      cpSync(MLM, d, { recursive: true });
      const st = readSafetensors(join(MLM, 'model.safetensors'));
      const all: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [k, t] of st.tensors) all[k] = { shape: t.shape, data: t.data };
      const word = all['bert.embeddings.word_embeddings.weight']!;
      writeSafetensors(join(d, 'model.safetensors'), { ...all, 'cls.predictions.decoder.weight': word, 'cls.predictions.decoder.bias': all['cls.predictions.bias']! });
      const m = new BertForMaskedLM(readConfig(d));
      assert.deepEqual(loadWeights(d, m.ps, rng(1).next).notes, []);
      const other = Float32Array.from(word.data, (x) => x + 1);
      writeSafetensors(join(d, 'model.safetensors'), { ...all, 'cls.predictions.decoder.weight': { shape: word.shape, data: other } });
      const r = loadWeights(d, m.ps, rng(1).next);
      assert.ok(r.notes.some((n) => /decoder\.weight differs from the word embeddings; the decoder is tied/.test(n)), r.notes.join('\n'));
      assert.deepEqual(r.weights['bert.embeddings.word_embeddings.weight'], word.data);
    } finally { rmSync(d, { recursive: true, force: true }); }
  });
});

/**
 * ALBERT: folders written by transformers (a masked LM whose 3 layers share one group, a
 * classifier whose group has inner_group_num 2) load with HF's parameter names and give the same
 * numbers, attentions per applied layer, and gradients summed over the layers that share a
 * parameter; AlbertForPreTraining loads as the masked LM, its sentence-order head left out with a
 * note; AlbertConfig's defaults and checks; freezing by whole groups; and ALBERT with
 * embedding_size ≠ hidden_size trains, predicts, evaluates and exports through the same code as BERT.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadWeights, readConfig } from '../src/engine/models/bert/folder.js';
import { ALBERT_FAMILY } from '../src/engine/models/albert/family.js';
import { modelForConfig, parseModelConfig } from '../src/engine/models/registry.js';
import { MaskedLMModel } from '../src/engine/models/model.js';
import { readSafetensors, writeSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { FIX, assertForward, everywhereSuite, expected, fixtureSuites, exportSuite } from './family-suite.js';

fixtureSuites(['hf-tiny-albert', 'hf-tiny-albert-cls']);
exportSuite('hf-tiny-albert', 0.85);

const TINY = { model_type: 'albert', vocab_size: 100, embedding_size: 16, hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 40 };

describe('ALBERT\'s shared layers', () => {
  it('the fixtures\' layouts: one group run 3 times (3 attentions); one group of 2 inner layers run 3 times (6 attentions)', () => {
    const mlm = readConfig(join(FIX, 'hf-tiny-albert')), cls = readConfig(join(FIX, 'hf-tiny-albert-cls'));
    assert.deepEqual([mlm.num_hidden_layers, mlm['num_hidden_groups'], mlm['inner_group_num'], expected('hf-tiny-albert').cases[0]!.attentions.length], [3, 1, 1, 3]);
    assert.deepEqual([cls.num_hidden_layers, cls['num_hidden_groups'], cls['inner_group_num'], expected('hf-tiny-albert-cls').cases[0]!.attentions.length], [3, 1, 2, 6]);
  });

  it('a 3-layer model of one group has as many parameters as a 1-layer one; 3 groups have 3 layers\' worth', () => {
    const count = (over: Record<string, unknown>) => modelForConfig(parseModelConfig({ ...TINY, ...over }), 'mlm').ps.count();
    const one = count({ num_hidden_layers: 1 }), shared = count({ num_hidden_layers: 3 }), own = count({ num_hidden_layers: 3, num_hidden_groups: 3 });
    assert.equal(shared, one);
    // One AlbertLayer: q, k, v, dense (H×H + H each), two LayerNorms, ffn and ffn_output.
    const layer = 4 * (32 * 32 + 32) + 2 * 2 * 32 + (32 * 64 + 64) + (64 * 32 + 32);
    assert.equal(own - shared, 2 * layer);
  });

  it('layer l runs group int(l / (num_hidden_layers / num_hidden_groups)): 5 layers over 2 groups are 0, 0, 0, 1, 1', () => {
    const m = modelForConfig(parseModelConfig({ ...TINY, num_hidden_layers: 5, num_hidden_groups: 2, inner_group_num: 2 }), 'mlm');
    const enc = (m as MaskedLMModel).encoder as unknown as { groups: unknown[][]; applied(): unknown[] };
    const applied = enc.applied();
    assert.equal(applied.length, 10);
    const groupOf = (layer: unknown) => enc.groups.findIndex((g) => g.includes(layer));
    assert.deepEqual(applied.map(groupOf), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual(applied.map((l) => enc.groups[groupOf(l)]!.indexOf(l)), [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it('freeze_layers freezes whole groups, those whose layers are all among the first k', () => {
    const f = (layers: number, over: Record<string, unknown>) => ALBERT_FAMILY.freezePrefixes(false, layers, parseModelConfig({ ...TINY, ...over }));
    const g = (i: number) => `albert.encoder.albert_layer_groups.${i}.`;
    // One group shared by 3 layers: frozen only when all 3 are.
    assert.deepEqual(f(2, { num_hidden_layers: 3 }), []);
    assert.deepEqual(f(3, { num_hidden_layers: 3 }), [g(0)]);
    // 3 layers over 2 groups run 0, 0, 1.
    assert.deepEqual(f(1, { num_hidden_layers: 3, num_hidden_groups: 2 }), []);
    assert.deepEqual(f(2, { num_hidden_layers: 3, num_hidden_groups: 2 }), [g(0)]);
    assert.deepEqual(f(3, { num_hidden_layers: 3, num_hidden_groups: 2 }), [g(0), g(1)]);
    assert.deepEqual(ALBERT_FAMILY.freezePrefixes(true, 0, parseModelConfig(TINY)), ['albert.embeddings.', 'albert.encoder.embedding_hidden_mapping_in.']);
  });
});

describe('AlbertForPreTraining', () => {
  it('loads as the masked LM with the same numbers; its pooler and sop_classifier are listed as not used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'albert-pre-'));
    try {
      cpSync(join(FIX, 'hf-tiny-albert'), dir, { recursive: true });
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, architectures: ['AlbertForPreTraining'] }));
      const st = readSafetensors(join(dir, 'model.safetensors')).tensors;
      const tensors = Object.fromEntries([...st].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
      const H = cfg.hidden_size as number;
      tensors['albert.pooler.weight'] = { shape: [H, H], data: new Float32Array(H * H).fill(0.01) };
      tensors['albert.pooler.bias'] = { shape: [H], data: new Float32Array(H) };
      tensors['sop_classifier.classifier.weight'] = { shape: [2, H], data: new Float32Array(2 * H).fill(0.02) };
      tensors['sop_classifier.classifier.bias'] = { shape: [2], data: new Float32Array(2) };
      writeSafetensors(join(dir, 'model.safetensors'), tensors);
      const model = modelForConfig(readConfig(dir));
      assert.ok(model instanceof MaskedLMModel);
      assert.equal(model.architecture, 'AlbertForMaskedLM');
      const { weights, notes } = loadWeights(dir, model.ps, () => { throw new Error('nothing should be initialized'); }, model.family);
      assert.deepEqual(notes, ['not used by this model: albert.pooler.bias, albert.pooler.weight, sop_classifier.classifier.bias, sop_classifier.classifier.weight']);
      await assertForward(model, weights, expected('hf-tiny-albert').cases[0]!);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('AlbertConfig', () => {
  it('HF\'s defaults: albert-xxlarge\'s shape, gelu_new, no dropout but the classifier\'s, pad 0, bos 2, eos 3', () => {
    const c = parseModelConfig({ model_type: 'albert' });
    assert.deepEqual(
      [c.vocab_size, c['embedding_size'], c.hidden_size, c.num_hidden_layers, c['num_hidden_groups'], c.num_attention_heads, c.intermediate_size, c['inner_group_num'], c.hidden_act],
      [30000, 128, 4096, 12, 1, 64, 16384, 1, 'gelu_new']);
    assert.deepEqual([c.hidden_dropout_prob, c.attention_probs_dropout_prob, c.max_position_embeddings, c.type_vocab_size, c.initializer_range, c.layer_norm_eps, c['classifier_dropout_prob']],
      [0, 0, 512, 2, 0.02, 1e-12, 0.1]);
    assert.deepEqual([c.pad_token_id, c['bos_token_id'], c['eos_token_id']], [0, 2, 3]);
    assert.equal(ALBERT_FAMILY.configJSON(c, 'AlbertForMaskedLM')['num_hidden_groups'], 1);
  });

  it('num_hidden_groups above num_hidden_layers is refused, naming file, field and value', () => {
    assert.throws(() => parseModelConfig({ ...TINY, num_hidden_layers: 2, num_hidden_groups: 3 }, 'x/config.json'),
      (e: Error) => e.message === 'x/config.json: field "num_hidden_groups" is 3; it must be an integer from 1 to num_hidden_layers (2): each group is run by at least one layer');
    assert.throws(() => parseModelConfig({ ...TINY, num_hidden_groups: 0 }, 'x/config.json'), /x\/config\.json: field "num_hidden_groups" is 0;/);
  });

  it('bad embedding_size, inner_group_num and classifier_dropout_prob are refused, naming file, field and value', () => {
    const cases: [string, unknown, string][] = [
      ['embedding_size', 0, 'it must be a positive integer'], ['embedding_size', 12.5, 'it must be a positive integer'], ['embedding_size', '16', 'it must be a positive integer'],
      ['inner_group_num', 0, 'it must be a positive integer'], ['inner_group_num', null, 'it must be a positive integer'],
      ['classifier_dropout_prob', 1, 'it must be a number in [0, 1)'], ['classifier_dropout_prob', null, 'it must be a number in [0, 1)'],
    ];
    for (const [field, v, want] of cases) {
      assert.throws(() => parseModelConfig({ ...TINY, [field]: v }, 'x/config.json'), (e: Error) => e.message === `x/config.json: field "${field}" is ${JSON.stringify(v)}; ${want}`);
    }
  });
});

// A WordPiece vocabulary of 800 trained here; embedding_size 16 ≠ hidden_size 32; the 2 layers share group 0, whose
// parameters train through both.
everywhereSuite({
  family: 'ALBERT', modelType: 'albert', tokenTypes: true, layers: 2, heads: 2,
  tiny: { model_type: 'albert', embedding_size: 16, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 40 },
  architectures: { mlm: 'AlbertForMaskedLM', cls: 'AlbertForSequenceClassification', multi: 'AlbertMultiTask' },
  mlmKeys: ['albert.encoder.embedding_hidden_mapping_in.weight', 'predictions.dense.weight', 'predictions.LayerNorm.bias', 'predictions.bias'], notPrefix: 'bert.',
  word: 'albert.embeddings.word_embeddings.weight', trained: 'albert.encoder.albert_layer_groups.0.albert_layers.0.ffn_output.weight',
  clsKeys: ['albert.pooler.weight', 'classifier.weight', 'classifier.bias'],
  multiKeys: ['predictions.bias', 'heads.era.classifier.weight', 'heads.era.classifier.bias', 'albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight'],
});

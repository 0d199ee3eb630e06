/**
 * ELECTRA: folders written by transformers (the generator ElectraForMaskedLM, a classifier with
 * tanh GELU, and the discriminator ElectraForPreTraining) load with HF's parameter names and give
 * the same numbers and gradients; the discriminator fine-tunes into a classifier through the
 * Trainer, and prediction refuses it with what to do instead; ELECTRA with embedding_size ≠
 * hidden_size trains, predicts, evaluates and exports through the same code as BERT.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { Graph } from '../src/engine/ir/graph.js';
import { loadWeights, readConfig } from '../src/engine/models/bert/folder.js';
import { ForwardCtx } from '../src/engine/models/bert/modeling.js';
import { ELECTRA_FAMILY } from '../src/engine/models/electra/family.js';
import { ElectraForPreTraining } from '../src/engine/models/electra/modeling.js';
import { modelForConfig, parseModelConfig } from '../src/engine/models/registry.js';
import { BertPipeline } from '../src/engine/infer/pipeline.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { tensor, toNumbers } from '../src/engine/runtime/tensor.js';
import { runGraph } from './helpers.js';
import { sotuLines } from './tiny-mlm.js';
import { FIX, assertForward, assertGrads, everywhereSuite, expected, fixtureSuites, flat, inputs, ours, exportSuite } from './family-suite.js';

fixtureSuites(['hf-tiny-electra', 'hf-tiny-electra-cls']);
exportSuite('hf-tiny-electra', 0.85);

const DISC = 'hf-tiny-electra-disc';
function loadDiscriminator() {
  const dir = join(FIX, DISC);
  const model = new ElectraForPreTraining(readConfig(dir));
  const { weights, notes } = loadWeights(dir, model.ps, () => { throw new Error('nothing should be initialized'); }, ELECTRA_FAMILY);
  return { model, weights, notes };
}

describe('ELECTRA\'s discriminator (ElectraForPreTraining)', () => {
  it('every parameter of the file, with HF\'s names, and nothing left over', () => {
    const { model, notes } = loadDiscriminator();
    assert.equal(model.architecture, expected(DISC).model);
    assert.deepEqual(model.ps.specs.map((p) => p.name).sort(), ours({ family: ELECTRA_FAMILY }, expected(DISC).state_dict_keys).sort());
    assert.deepEqual(notes, []);
  });

  for (const c of expected(DISC).cases) {
    it(`${c.name}: logits [B, T], hidden states and attentions within 1e-4 of transformers'`, async () => {
      const { model, weights } = loadDiscriminator();
      const out = await assertForward({ ...model, family: ELECTRA_FAMILY, logits: model.logits.bind(model) }, weights, c);
      assert.deepEqual(out['logits']!.dims, [c.input_ids.length, c.input_ids[0]!.length]);
    });
  }

  it('replaced-token loss over the attended tokens and every gradient equal PyTorch\'s', async () => {
    const c = expected(DISC).grad;
    const labels = c.labels as unknown as number[][];
    const { model, weights } = loadDiscriminator();
    const g = new Graph('grad');
    const specs = model.ps.specs;
    const p = Object.fromEntries(specs.map((s) => [s.name, g.input(s.name, 'float32', s.shape)]));
    const { x, feeds, B, T } = inputs(g, { family: ELECTRA_FAMILY }, c);
    for (const s of specs) feeds[s.name] = tensor('float32', s.shape, weights[s.name]!);
    const loss = model.loss(p, x, g.input('labels', 'int64', [B, T]), new ForwardCtx(null));
    feeds['labels'] = tensor('int64', [B, T], flat(labels));
    g.output(loss, 'loss');
    F.grad(loss, specs.map((s) => p[s.name]!)).forEach((d, i) => g.output(d, `grad.${specs[i]!.name}`));
    const out = await runGraph(g, feeds);
    const mine = toNumbers(out['loss']!)[0]!;
    assert.ok(Math.abs(mine - c.loss) <= 1e-4 * Math.abs(c.loss), `loss ${mine} vs ${c.loss}`);
    assert.deepEqual(Object.keys(c.grads).sort(), specs.map((s) => s.name).sort());
    assertGrads(out, specs.map((s) => s.name), c.grads);
  });

  it('prediction refuses the folder, saying to fine-tune it', async () => {
    const why = (e: Error) => /"architectures" is \["ElectraForPreTraining"\]/.test(e.message) && /discriminator/.test(e.message) && /fine-tune it first/.test(e.message) && /model_name_or_path/.test(e.message);
    assert.throws(() => modelForConfig(readConfig(join(FIX, DISC))), why);
    assert.throws(() => BertPipeline.load(join(FIX, DISC)), why);
  });

  describe('fine-tuned into ElectraForSequenceClassification through the Trainer', () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'electra-disc-'));
      writeFileSync(join(dir, 'era.jsonl'), sotuLines(40, 200).filter((_, i) => i % 160 === 0)
        .map((l) => JSON.stringify({ text: l.text, label: l.year <= 1860 ? 'early' : l.year <= 1945 ? 'middle' : 'modern' })).join('\n'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('the encoder loads, the discriminator head is left out with a note, the classifier is new; the folder predicts', async () => {
      const log: string[] = [];
      const cfg = parseTrainingConfig(JSON.stringify({
        task: 'classification', train_file: 'era.jsonl', model_name_or_path: join(FIX, DISC), max_seq_length: 32, learning_rate: 3e-3,
        per_device_train_batch_size: 8, logging_steps: 2, steps_per_run: 3, max_steps: 6, device: 'cpu', seed: 7, save_strategy: 'no',
        output_dir: join(dir, 'cls'), freeze_embeddings: true,
      }), join(dir, 'config.json'));
      await (await Trainer.create(cfg, { log: (l) => log.push(l) })).train();
      assert.ok(log.some((l) => /not used by this model: .*discriminator_predictions\.dense\.weight/.test(l)), log.join('\n'));
      assert.ok(log.some((l) => /newly initialized .*classifier\.dense\.weight.*classifier\.out_proj\.weight/.test(l)), log.join('\n'));
      const saved = JSON.parse(readFileSync(join(dir, 'cls', 'config.json'), 'utf8'));
      assert.deepEqual(saved.architectures, ['ElectraForSequenceClassification']);
      assert.equal(saved.embedding_size, 16);
      const from = readSafetensors(join(FIX, DISC, 'model.safetensors')).tensors, to = readSafetensors(join(dir, 'cls', 'model.safetensors')).tensors;
      assert.ok(['classifier.dense.weight', 'classifier.out_proj.bias'].every((k) => to.has(k)) && ![...to.keys()].some((k) => k.startsWith('discriminator_predictions.')), [...to.keys()].join(', '));
      // Frozen embeddings (and their projection) are the discriminator's, to the bit; the layers trained.
      for (const k of ['electra.embeddings.word_embeddings.weight', 'electra.embeddings_project.weight']) assert.deepEqual(to.get(k)!.data, from.get(k)!.data, k);
      assert.notDeepEqual(to.get('electra.encoder.layer.1.output.dense.weight')!.data, from.get('electra.encoder.layer.1.output.dense.weight')!.data);
      const pipe = BertPipeline.load(join(dir, 'cls'));
      try {
        const r = await pipe.classify('the people of the united states.');
        assert.equal(r.logits.length, 3);
      } finally { await pipe.dispose(); }
    });
  });
});

describe('ElectraConfig', () => {
  it('HF\'s defaults: embedding_size 128, hidden 256, 12 layers, 4 heads, intermediate 1024, summary_* kept', () => {
    const c = parseModelConfig({ model_type: 'electra', summary_type: 'last' });
    assert.deepEqual([c['embedding_size'], c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.intermediate_size, c.hidden_act, c.vocab_size], [128, 256, 12, 4, 1024, 'gelu', 30522]);
    assert.equal(c['summary_type'], 'last');
    assert.equal(c['summary_use_proj'], true);
    assert.deepEqual(ELECTRA_FAMILY.configJSON(c, 'ElectraForMaskedLM')['summary_activation'], 'gelu');
  });
  it('an embedding_size that is not a positive integer is refused, naming file, field and value', () => {
    for (const v of [0, -16, 12.5, '16', null]) {
      assert.throws(() => parseModelConfig({ model_type: 'electra', embedding_size: v }, 'x/config.json'),
        (e: Error) => e.message === `x/config.json: field "embedding_size" is ${JSON.stringify(v)}; it must be a positive integer`);
    }
  });
});

// A WordPiece vocabulary of 800 trained here; embedding_size 16 ≠ hidden_size 32, so embeddings_project is in every folder.
everywhereSuite({
  family: 'ELECTRA', modelType: 'electra', tokenTypes: true, layers: 2, heads: 2,
  tiny: { model_type: 'electra', embedding_size: 16, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 40 },
  architectures: { mlm: 'ElectraForMaskedLM', cls: 'ElectraForSequenceClassification', multi: 'ElectraMultiTask' },
  mlmKeys: ['electra.embeddings_project.weight', 'generator_predictions.dense.weight', 'generator_predictions.LayerNorm.bias', 'generator_lm_head.bias'], notPrefix: 'bert.',
  word: 'electra.embeddings.word_embeddings.weight', trained: 'electra.encoder.layer.1.output.dense.weight',
  clsKeys: ['classifier.dense.weight', 'classifier.out_proj.weight'],
  multiKeys: ['generator_lm_head.bias', 'heads.era.classifier.dense.weight', 'heads.era.classifier.out_proj.bias', 'electra.encoder.layer.1.attention.self.query.weight'],
});

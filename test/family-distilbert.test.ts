/**
 * DistilBERT: folders written by transformers (one with learned, one with sinusoidal position
 * embeddings) load with HF's parameter names and give the same numbers (test/family-suite.ts);
 * config.json keeps DistilBertConfig's own field names both ways, bad values are refused naming the
 * field; sinusoidal position embeddings equal HF's and are never trained; and DistilBERT trains,
 * predicts, evaluates, exports and runs multi-task through the same code as BERT.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/engine/models/bert/config.js';
import { readConfig } from '../src/engine/models/bert/folder.js';
import { DISTILBERT_FAMILY } from '../src/engine/models/distilbert/family.js';
import { sinusoidalEmbeddings } from '../src/engine/models/distilbert/modeling.js';
import { familyOf, modelForConfig, parseModelConfig } from '../src/engine/models/registry.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { checkTrainingConfig, parseTrainingConfig } from '../src/engine/train/config.js';
import { sotuLines } from './tiny-mlm.js';
import { maxAbsDiff } from './helpers.js';
import { FIX, everywhereSuite, fixtureSuites, exportSuite } from './family-suite.js';

fixtureSuites(['hf-tiny-distilbert', 'hf-tiny-distilbert-cls']);
exportSuite('hf-tiny-distilbert', 0.85);

/** DistilBertConfig's fields, as transformers writes them. */
const DISTIL_FIELDS = ['dim', 'n_layers', 'n_heads', 'hidden_dim', 'activation', 'dropout', 'attention_dropout', 'sinusoidal_pos_embds', 'seq_classif_dropout',
  'qa_dropout', 'tie_word_embeddings', 'max_position_embeddings', 'initializer_range', 'pad_token_id', 'vocab_size'];

describe('DistilBERT config.json', () => {
  for (const folder of ['hf-tiny-distilbert', 'hf-tiny-distilbert-cls']) {
    it(`${folder}: read, then written back with the same DistilBERT fields and no BERT ones`, () => {
      const raw = JSON.parse(readFileSync(join(FIX, folder, 'config.json'), 'utf8'));
      const cfg = parseModelConfig(raw, 'config.json');
      assert.equal(familyOf(cfg.model_type), DISTILBERT_FAMILY);
      // The shared code's view: BERT's names.
      assert.deepEqual([cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads, cfg.intermediate_size, cfg.hidden_act, cfg.layer_norm_eps],
        [raw.dim, raw.n_layers, raw.n_heads, raw.hidden_dim, raw.activation, 1e-12]);
      const out = DISTILBERT_FAMILY.configJSON(cfg, raw.architectures[0]);
      for (const f of [...DISTIL_FIELDS, 'model_type', 'architectures', 'id2label', 'label2id']) assert.deepEqual(out[f], raw[f], f);
      for (const f of ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'hidden_act', 'hidden_dropout_prob', 'layer_norm_eps', 'type_vocab_size']) {
        assert.equal(out[f], undefined, `${f} is not DistilBERT's`);
      }
      assert.deepEqual(parseModelConfig(out), cfg, 'what it writes reads back the same');
    });
  }
  it('an empty config gets DistilBertConfig\'s defaults (distilbert-base)', () => {
    const c = parseModelConfig({ model_type: 'distilbert' });
    assert.deepEqual([c['dim'], c['n_layers'], c['n_heads'], c['hidden_dim'], c['activation'], c['dropout'], c['attention_dropout'], c['seq_classif_dropout'], c['qa_dropout'], c['sinusoidal_pos_embds'], c.vocab_size, c.max_position_embeddings],
      [768, 6, 12, 3072, 'gelu', 0.1, 0.1, 0.2, 0.1, false, 30522, 512]);
  });
  it('bad values are refused naming the file, the DistilBERT field and the value', () => {
    const refuses = (raw: Record<string, unknown>, re: RegExp) => assert.throws(() => parseModelConfig({ model_type: 'distilbert', ...raw }, 'm/config.json'), (e: Error) => e instanceof ConfigError && re.test(e.message));
    refuses({ dim: 32, n_heads: 5 }, /^m\/config\.json: field "n_heads" is 5; it must divide dim \(32\)/);
    refuses({ hidden_dim: 0 }, /field "hidden_dim" is 0; it must be a positive integer/);
    refuses({ activation: 'swish' }, /field "activation" is "swish"; supported: "gelu"/);
    refuses({ seq_classif_dropout: 1.5 }, /field "seq_classif_dropout" is 1\.5; it must be a number in \[0, 1\)/);
    refuses({ sinusoidal_pos_embds: 'yes' }, /field "sinusoidal_pos_embds" is "yes"/);
    refuses({ tie_word_embeddings: false }, /field "tie_word_embeddings" is false; .*untied/);
    // A BERT name next to DistilBERT's own, disagreeing: neither silently wins.
    refuses({ dim: 32, n_heads: 4, hidden_size: 64 }, /field "hidden_size" is 64; DistilBERT's config calls it "dim", which is 32/);
    refuses({ intermediate_size: 64 }, /field "intermediate_size" is 64; DistilBERT's config calls it "hidden_dim", which is 3072/);
    refuses({ layer_norm_eps: 1e-5 }, /field "layer_norm_eps" is 0\.00001; DistilBERT's LayerNorms use 1e-12/);
  });
  it('HF\'s attribute_map: hidden_size, num_hidden_layers and num_attention_heads stand for dim, n_layers and n_heads', () => {
    const c = parseModelConfig({ model_type: 'distilbert', hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4 });
    assert.deepEqual([c['dim'], c['n_layers'], c['n_heads']], [32, 2, 4]);
    assert.equal(DISTILBERT_FAMILY.configJSON(c, 'DistilBertForMaskedLM')['hidden_size'], undefined);
  });
});

describe('DistilBERT in a training configuration\'s model_config', () => {
  const SCRATCH = { output_dir: 'out', task: 'mlm', train_file: 'corpus.txt', train_tokenizer: { vocab_size: 1000 } };
  const check = (mc: Record<string, unknown>, top: Record<string, unknown> = {}) => checkTrainingConfig(JSON.stringify({ ...SCRATCH, ...top, model_config: mc }), '/t/config.json');
  it('takes DistilBertConfig\'s field names; left-out ones get DistilBERT\'s defaults, not bert-base\'s', () => {
    const r = check({ model_type: 'distilbert', dim: 32, n_heads: 2, hidden_dim: 64, sinusoidal_pos_embds: true, seq_classif_dropout: 0.1 });
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error'), []);
    const cfg = parseModelConfig({ ...r.config!.model_config, vocab_size: 1000 }, 'model_config');
    assert.deepEqual([cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads, cfg.intermediate_size], [32, 6, 2, 64]);
  });
  it('a bad DistilBERT value points at model_config.<its field>', () => {
    const d = check({ model_type: 'distilbert', dim: 32, n_heads: 5 }).diagnostics.filter((x) => x.severity === 'error');
    assert.equal(d.length, 1);
    assert.equal(d[0]!.field, 'model_config.n_heads');
    assert.match(d[0]!.message, /model_config\.n_heads is 5; it must divide dim \(32\)/);
    assert.equal(check({ model_type: 'distilbert', n_layers: 2 }).diagnostics.length, 0);
    // freeze_layers is checked against DistilBERT's layer count (n_layers, default 6).
    assert.match(check({ model_type: 'distilbert', n_layers: 2 }, { freeze_layers: 3 }).diagnostics[0]!.message, /freeze_layers is 3, but the model has 2 layers/);
    assert.match(check({ model_type: 'distilbert' }, { freeze_layers: 7 }).diagnostics[0]!.message, /freeze_layers is 7, but the model has 6 layers/);
    assert.equal(check({ model_type: 'distilbert' }, { freeze_layers: 6 }).diagnostics.length, 0);
  });
});

describe('DistilBERT sinusoidal position embeddings', () => {
  it('equal those transformers\' create_sinusoidal_embeddings wrote into hf-tiny-distilbert-cls', () => {
    const cfg = readConfig(join(FIX, 'hf-tiny-distilbert-cls'));
    assert.equal(cfg['sinusoidal_pos_embds'], true);
    const file = readSafetensors(join(FIX, 'hf-tiny-distilbert-cls', 'model.safetensors')).tensors.get('distilbert.embeddings.position_embeddings.weight')!;
    const mine = sinusoidalEmbeddings(cfg.max_position_embeddings, cfg.hidden_size);
    assert.ok(maxAbsDiff(mine, Array.from(file.data as Float32Array)) <= 1e-7);
    // A model made anew starts from them too.
    const m = modelForConfig({ ...cfg, architectures: ['DistilBertForMaskedLM'] });
    assert.deepEqual(m.ps.initialize(Math.random)['distilbert.embeddings.position_embeddings.weight'], mine);
  });

  it('training leaves them as they are (frozen)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'distil-sin-'));
    try {
      writeFileSync(join(dir, 'sotu.txt'), sotuLines(40, 200).filter((_, i) => i % 40 === 0).map((l) => l.text).join('\n'));
      const json = {
        task: 'mlm', train_file: 'sotu.txt', train_tokenizer: { vocab_size: 800 }, max_seq_length: 32, output_dir: join(dir, 'out'),
        model_config: { model_type: 'distilbert', dim: 32, n_layers: 1, n_heads: 2, hidden_dim: 64, max_position_embeddings: 40, sinusoidal_pos_embds: true },
        learning_rate: 3e-3, per_device_train_batch_size: 8, max_steps: 3, steps_per_run: 3, device: 'cpu', seed: 7, save_strategy: 'no',
      };
      await (await Trainer.create(parseTrainingConfig(JSON.stringify(json), join(dir, 'config.json')))).train();
      const t = readSafetensors(join(dir, 'out', 'model.safetensors')).tensors;
      assert.deepEqual(Array.from(t.get('distilbert.embeddings.position_embeddings.weight')!.data as Float32Array), Array.from(sinusoidalEmbeddings(40, 32)));
      const cfg = JSON.parse(readFileSync(join(dir, 'out', 'config.json'), 'utf8'));
      assert.deepEqual([cfg.dim, cfg.n_layers, cfg.n_heads, cfg.hidden_dim, cfg.sinusoidal_pos_embds, cfg.hidden_size], [32, 1, 2, 64, true, undefined]);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

// BERT Lab's WordPiece vocabulary ([PAD] is 0): the family's code paths through the trainer, with DistilBERT's own field names.
everywhereSuite({
  family: 'DistilBERT', modelType: 'distilbert', tokenTypes: false, layers: 2, heads: 2,
  tiny: { model_type: 'distilbert', dim: 32, n_layers: 2, n_heads: 2, hidden_dim: 64, max_position_embeddings: 40, activation: 'gelu' },
  architectures: { mlm: 'DistilBertForMaskedLM', cls: 'DistilBertForSequenceClassification', multi: 'DistilBertMultiTask' },
  mlmKeys: ['distilbert.embeddings.position_embeddings.weight', 'vocab_transform.weight', 'vocab_layer_norm.weight', 'vocab_projector.bias'], notPrefix: 'bert.',
  word: 'distilbert.embeddings.word_embeddings.weight', trained: 'distilbert.transformer.layer.1.ffn.lin2.weight',
  clsKeys: ['pre_classifier.weight', 'classifier.weight', 'classifier.bias'],
  multiKeys: ['vocab_projector.bias', 'heads.era.pre_classifier.weight', 'heads.era.classifier.bias', 'distilbert.transformer.layer.1.attention.q_lin.weight'],
});

/**
 * The BERT family beyond BERT (RoBERTa, XLM-RoBERTa here; DistilBERT, ELECTRA, ALBERT in test/family-<name>.test.ts): folders written by transformers load with
 * HF's parameter names and give the same numbers (test/family-suite.ts); the registry refuses other
 * model types by listing the supported ones; and RoBERTa trains, predicts, evaluates, exports and
 * shows attention through the same code as BERT.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CheckpointError, loadWeights, readConfig } from '../src/engine/models/bert/folder.js';
import { SUPPORTED_MODEL_TYPES, modelForConfig, parseModelConfig } from '../src/engine/models/registry.js';
import { BertPipeline, aliasMasks } from '../src/engine/infer/pipeline.js';
import { findMasks, maskAt } from '../src/engine/infer/mask-context.js';
import { FIX, everywhereSuite, exportSuite, fixtureSuites } from './family-suite.js';

fixtureSuites(['hf-tiny-roberta', 'hf-tiny-roberta-cls', 'hf-tiny-xlm-roberta', 'hf-tiny-xlm-roberta-cls']);
// Random weights (no clear winners): int8 measured 93.3% top-1 agreement; trained models reach ≥ 97% (test/infer.test.ts).
exportSuite('hf-tiny-roberta', 0.85);

describe('the registry', () => {
  it('an unknown model_type is refused, listing the supported ones', () => {
    assert.throws(() => parseModelConfig({ model_type: 'gpt2' }, 'x/config.json'),
      (e: Error) => e.message.includes('x/config.json: field "model_type" is "gpt2"') && SUPPORTED_MODEL_TYPES.every((t) => e.message.includes(`"${t}"`)));
    assert.deepEqual([...SUPPORTED_MODEL_TYPES], ['bert', 'roberta', 'xlm-roberta', 'distilbert', 'electra', 'albert']);
  });
  it('RoBERTa and XLM-RoBERTa get their own defaults (pad 1, bos 0, eos 2; vocab 50265 and 30522)', () => {
    const r = parseModelConfig({ model_type: 'roberta' }), x = parseModelConfig({ model_type: 'xlm-roberta' });
    assert.equal(r.pad_token_id, 1); assert.equal(r.vocab_size, 50265); assert.equal(r['bos_token_id'], 0); assert.equal(r['eos_token_id'], 2);
    assert.equal(x.pad_token_id, 1); assert.equal(x.vocab_size, 30522); assert.equal(x.model_type, 'xlm-roberta');
  });
  it('a config whose sizes disagree with the weights names the tensor and both shapes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fam-bad-'));
    try {
      cpSync(join(FIX, 'hf-tiny-roberta'), dir, { recursive: true });
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 48 }));
      const model = modelForConfig(readConfig(dir));
      assert.throws(() => loadWeights(dir, model.ps, Math.random, model.family),
        (e: Error) => e instanceof CheckpointError && /tensor "roberta\.encoder\.layer\.0\.intermediate\.dense\.weight" has shape \[64,32\] but config\.json needs \[48,32\]/.test(e.message));
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
  it('[MASK] typed against a <mask> model becomes <mask>, offsets mapped back to the typed text', () => {
    const a = aliasMasks('a [MASK] b [MASK]', '<mask>');
    assert.equal(a.text, 'a <mask> b <mask>');
    assert.deepEqual([a.back(2), a.back(8), a.back(11), a.back(17)], [2, 8, 11, 17]);
    const b = aliasMasks('x [MASK] y', '<longmask>');
    assert.equal(b.text, 'x <longmask> y');
    assert.deepEqual([b.back(2), b.back(12), b.back(14)], [2, 8, 10]);
    assert.equal(aliasMasks('x [MASK]', '[MASK]').text, 'x [MASK]');
    // And <mask> typed against a [MASK] model; both spellings in one text.
    const c = aliasMasks('<mask> and [MASK] and <mask>.', '[MASK]');
    assert.equal(c.text, '[MASK] and [MASK] and [MASK].');
    assert.deepEqual([c.back(0), c.back(3), c.back(6), c.back(11), c.back(17), c.back(22), c.back(28), c.back(29)], [0, 3, 6, 11, 17, 22, 28, 29]);
    assert.deepEqual([c.back(7), c.back(12)], [7, 12]);
  });
  it('attention reads a mask typed the other way as the model\'s own, with offsets into the typed text', async () => {
    for (const [folder, typed, own] of [['hf-tiny-bert', '<mask>', '[MASK]'], ['hf-tiny-roberta', '[MASK]', '<mask>']] as const) {
      const pipe = BertPipeline.load(join(FIX, folder));
      try {
        const text = `The ${typed} states met.`;
        const r = await pipe.attention(text);
        const i = r.tokens.indexOf(own);
        assert.ok(i > 0, `${folder}: ${r.tokens.join(' ')}`);
        assert.deepEqual(r.offsets[i], [4, 4 + typed.length]);
        assert.equal(text.slice(...r.offsets[i + 1]!).trim(), r.tokens[i + 1]!.replace(/^Ġ/, ''));
      } finally { await pipe.dispose(); }
    }
  });
  it('the editor finds masks written either way ([MASK] and <mask>), in order', () => {
    const t = 'a <mask> b [MASK] c <mask';
    assert.deepEqual(findMasks(t), [{ start: 2, end: 8 }, { start: 11, end: 17 }]);
    assert.deepEqual(maskAt(t, 5), { start: 2, end: 8 });
    assert.equal(maskAt(t, 22), undefined);
  });
});

// A WordPiece vocabulary (its [PAD] is id 0, so pad_token_id 0): the family's code paths, with the tokenizer BERT Lab trains.
everywhereSuite({
  family: 'RoBERTa', modelType: 'roberta', tokenTypes: false, layers: 2, heads: 2,
  tiny: { model_type: 'roberta', pad_token_id: 0, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 40, type_vocab_size: 1 },
  architectures: { mlm: 'RobertaForMaskedLM', cls: 'RobertaForSequenceClassification', multi: 'RobertaMultiTask' },
  mlmKeys: ['roberta.embeddings.position_embeddings.weight', 'lm_head.dense.weight'], notPrefix: 'bert.',
  word: 'roberta.embeddings.word_embeddings.weight', trained: 'roberta.encoder.layer.1.output.dense.weight',
  clsKeys: ['classifier.dense.weight', 'classifier.out_proj.weight'],
  multiKeys: ['lm_head.bias', 'heads.era.classifier.dense.weight', 'heads.era.classifier.out_proj.bias', 'roberta.encoder.layer.1.attention.self.query.weight'],
});

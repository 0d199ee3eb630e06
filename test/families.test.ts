/**
 * The BERT family beyond BERT (RoBERTa, XLM-RoBERTa): folders written by transformers
 * (test/fixtures/hf-tiny-<family>*, made by scripts/make-hf-family-fixtures.py) load here with
 * HF's exact parameter names and give the same logits, hidden states, attentions and training
 * gradients; the registry refuses other model types by listing the supported ones; and each
 * family trains, predicts, evaluates, exports and shows attention through the same code as BERT.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { Graph, Value } from '../src/engine/ir/graph.js';
import { CheckpointError, loadWeights, readConfig } from '../src/engine/models/bert/folder.js';
import { ForwardCtx } from '../src/engine/models/bert/modeling.js';
import { MaskedLMModel, SequenceClassificationModel } from '../src/engine/models/model.js';
import { SUPPORTED_MODEL_TYPES, modelForConfig, parseModelConfig } from '../src/engine/models/registry.js';
import { bindWeights, inferenceGraph } from '../src/engine/infer/graphs.js';
import { BertPipeline, aliasMasks } from '../src/engine/infer/pipeline.js';
import { exportOnnxFolder } from '../src/engine/infer/export.js';
import { evaluateCheckpoint } from '../src/engine/train/evaluate.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { tensor, toNumbers } from '../src/engine/runtime/tensor.js';
import { maxAbsDiff, runGraph } from './helpers.js';
import { sotuLines } from './tiny-mlm.js';

const FIX = join(__dirname, '..', '..', 'test', 'fixtures');
const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
interface Case { name: string; input_ids: number[][]; attention_mask: number[][]; token_type_ids?: number[][]; logits: unknown; hidden_states: unknown[]; attentions: unknown[] }
interface Expected { model: string; model_type: string; mask_token: string; state_dict_keys: string[]; cases: Case[]; grad: Case & { positions?: number[]; labels: number[]; loss: number; grads: Record<string, unknown> } }
const expected = (folder: string): Expected => JSON.parse(readFileSync(join(FIX, folder, 'expected.json'), 'utf8'));

const FOLDERS = ['hf-tiny-roberta', 'hf-tiny-roberta-cls', 'hf-tiny-xlm-roberta', 'hf-tiny-xlm-roberta-cls'];

function load(folder: string) {
  const dir = join(FIX, folder);
  const model = modelForConfig(readConfig(dir));
  const { weights, notes } = loadWeights(dir, model.ps, () => { throw new Error('nothing should be initialized'); }, model.family);
  return { model, weights, notes };
}

/** Logits, every hidden state and attention map of `model` on a case's ids (no token types: these families have none). */
async function forward(folder: string, c: Case) {
  const { model, weights } = load(folder);
  const g = new Graph('t');
  const p = bindWeights(g, model.ps, weights);
  const [B, T] = [c.input_ids.length, c.input_ids[0]!.length];
  const x = { inputIds: g.input('input_ids', 'int64', [B, T]), attentionMask: g.input('attention_mask', 'int64', [B, T]) };
  const o = model.logits(p, x, new ForwardCtx(null, true, true));
  g.output(o.logits, 'logits');
  o.hiddenStates.forEach((h, i) => g.output(h, `hidden.${i}`));
  o.attentions.forEach((a, i) => g.output(a, `attn.${i}`));
  return runGraph(g, { input_ids: tensor('int64', [B, T], flat(c.input_ids)), attention_mask: tensor('int64', [B, T], flat(c.attention_mask)) });
}

const top5 = (row: ArrayLike<number>): number[] => Array.from(row, (v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 5).map((x) => x[1]);

describe('families: parameter names are the Hugging Face state-dict keys', () => {
  for (const folder of FOLDERS) {
    it(`${folder}: every parameter of ${expected(folder).model}, and only the tied decoder besides`, () => {
      const e = expected(folder);
      const { model } = load(folder);
      assert.equal(model.architecture, e.model);
      const names = model.ps.specs.map((p) => p.name);
      assert.deepEqual([...names].sort(), e.state_dict_keys.filter((k) => !k.startsWith('lm_head.decoder.')).sort());
    });
  }
});

describe('families: a folder made by transformers gives the same numbers here', () => {
  for (const folder of FOLDERS) {
    for (const c of expected(folder).cases) {
      it(`${folder}, ${c.name}: logits, hidden states and attentions within 1e-4; top-5 equal`, async () => {
        const out = await forward(folder, c);
        const logits = toNumbers(out['logits']!);
        const d = maxAbsDiff(logits, flat(c.logits));
        assert.ok(d <= 1e-4, `logits differ by ${d}`);
        c.hidden_states.forEach((h, i) => { const dh = maxAbsDiff(toNumbers(out[`hidden.${i}`]!), flat(h)); assert.ok(dh <= 1e-4, `hidden state ${i} differs by ${dh}`); });
        c.attentions.forEach((a, i) => { const da = maxAbsDiff(toNumbers(out[`attn.${i}`]!), flat(a)); assert.ok(da <= 1e-4, `attention ${i} differs by ${da}`); });
        const V = out['logits']!.dims[out['logits']!.dims.length - 1]!, ref = flat(c.logits);
        for (let r = 0; r < logits.length / V; r++) {
          assert.deepEqual(top5(logits.slice(r * V, (r + 1) * V)), top5(ref.slice(r * V, (r + 1) * V)), `row ${r}: top-5 differ`);
        }
      });
    }
  }
});

describe('families: one training step\'s gradients equal PyTorch\'s', () => {
  for (const folder of FOLDERS) {
    it(`${folder}: loss and the gradient of every parameter within 1e-4 relative`, async () => {
      const e = expected(folder), c = e.grad;
      const { model, weights } = load(folder);
      const g = new Graph('grad');
      const specs = model.ps.specs;
      const p = Object.fromEntries(specs.map((s) => [s.name, g.input(s.name, 'float32', s.shape)]));
      const [B, T] = [c.input_ids.length, c.input_ids[0]!.length];
      const x = { inputIds: g.input('input_ids', 'int64', [B, T]), attentionMask: g.input('attention_mask', 'int64', [B, T]) };
      const feeds: Record<string, ReturnType<typeof tensor>> = Object.fromEntries(specs.map((s) => [s.name, tensor('float32', s.shape, weights[s.name]!)]));
      feeds['input_ids'] = tensor('int64', [B, T], flat(c.input_ids));
      feeds['attention_mask'] = tensor('int64', [B, T], flat(c.attention_mask));
      let loss: Value;
      if (model instanceof MaskedLMModel) {
        const n = c.positions!.length;
        loss = model.loss(p, x, g.input('positions', 'int64', [n]), g.input('labels', 'int64', [n]), new ForwardCtx(null));
        feeds['positions'] = tensor('int64', [n], c.positions!);
        feeds['labels'] = tensor('int64', [n], c.labels);
      } else {
        loss = (model as SequenceClassificationModel).loss(p, x, g.input('labels', 'int64', [B]), new ForwardCtx(null));
        feeds['labels'] = tensor('int64', [B], c.labels);
      }
      g.output(loss, 'loss');
      F.grad(loss, specs.map((s) => p[s.name]!)).forEach((d, i) => g.output(d, `grad.${specs[i]!.name}`));
      const out = await runGraph(g, feeds);
      assert.ok(Math.abs(toNumbers(out['loss']!)[0]! - c.loss) <= 1e-4 * Math.abs(c.loss), `loss ${toNumbers(out['loss']!)[0]} vs ${c.loss}`);
      // named_parameters() lists a tied tensor once, under one of its names: the word embeddings or lm_head.decoder.weight.
      const word = 'roberta.embeddings.word_embeddings.weight';
      const grads: Record<string, unknown> = { ...c.grads, ...(c.grads[word] === undefined && c.grads['lm_head.decoder.weight'] ? { [word]: c.grads['lm_head.decoder.weight'] } : {}) };
      assert.deepEqual(Object.keys(grads).filter((k) => !k.startsWith('lm_head.decoder.')).sort(), specs.map((s) => s.name).sort());
      const globalMax = Math.max(...Object.values(grads).map((v) => Math.max(...flat(v).map(Math.abs))));
      for (const s of specs) {
        const ref = flat(grads[s.name]);
        const ours = toNumbers(out[`grad.${s.name}`]!);
        const scale = Math.max(...ref.map(Math.abs));
        const d = maxAbsDiff(ours, ref);
        // Relative to the tensor's largest gradient, plus 1e-6 of the largest gradient of all for key
        // biases, whose true gradient is 0 (softmax ignores a shift along the key axis): both sides hold rounding noise.
        assert.ok(d <= 1e-4 * scale + 1e-6 * globalMax, `${s.name}: gradients differ by ${d} (largest ${scale}, of all ${globalMax})`);
      }
    });
  }
});

describe('the registry', () => {
  it('an unknown model_type is refused, listing the supported ones', () => {
    assert.throws(() => parseModelConfig({ model_type: 'gpt2' }, 'x/config.json'),
      (e: Error) => e.message.includes('x/config.json: field "model_type" is "gpt2"') && SUPPORTED_MODEL_TYPES.every((t) => e.message.includes(`"${t}"`)));
    assert.deepEqual([...SUPPORTED_MODEL_TYPES], ['bert', 'roberta', 'xlm-roberta']);
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
  });
});

describe('RoBERTa everywhere: train, predict, evaluate, export, attention', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fam-run-'));
    const lines = sotuLines(40, 200).filter((_, i) => i % 40 === 0).map((l) => l.text);
    writeFileSync(join(dir, 'sotu.txt'), lines.join('\n'));
    writeFileSync(join(dir, 'era.jsonl'), sotuLines(40, 200).filter((_, i) => i % 160 === 0)
      .map((l) => JSON.stringify({ text: l.text, label: l.year <= 1860 ? 'early' : l.year <= 1945 ? 'middle' : 'modern' })).join('\n'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  // A WordPiece vocabulary (its [PAD] is id 0, so pad_token_id 0): the family's code paths, with the tokenizer BERT Lab trains.
  const TINY = { model_type: 'roberta', pad_token_id: 0, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 40, type_vocab_size: 1 };
  const config = (over: Record<string, unknown>) => parseTrainingConfig(JSON.stringify({
    task: 'mlm', train_file: 'sotu.txt', train_tokenizer: { vocab_size: 800 }, model_config: TINY, max_seq_length: 32,
    learning_rate: 3e-3, per_device_train_batch_size: 8, logging_steps: 2, steps_per_run: 3, device: 'cpu', seed: 7, save_strategy: 'no', ...over,
  }), join(dir, 'config.json'));

  it('MLM from scratch with model_config.model_type "roberta": loss falls; the folder is a RobertaForMaskedLM', async () => {
    const losses: number[] = [];
    const t = await Trainer.create(config({ max_steps: 24, output_dir: join(dir, 'pre') }));
    t.on?.((e) => { if (e.type === 'step') losses.push(e.loss); });
    await t.train();
    const cfg = JSON.parse(readFileSync(join(dir, 'pre', 'config.json'), 'utf8'));
    assert.equal(cfg.model_type, 'roberta');
    assert.deepEqual(cfg.architectures, ['RobertaForMaskedLM']);
    const keys = [...readSafetensors(join(dir, 'pre', 'model.safetensors')).tensors.keys()];
    assert.ok(keys.includes('roberta.embeddings.position_embeddings.weight') && keys.includes('lm_head.dense.weight') && !keys.some((k) => k.startsWith('bert.')), keys.join(', '));
    if (losses.length) assert.ok(losses.slice(-4).reduce((a, b) => a + b) < losses.slice(0, 4).reduce((a, b) => a + b), `loss did not fall: ${losses}`);
  });

  it('fill-mask and attention through the pipeline (no token_type_ids input); [MASK] found', async () => {
    const pipe = BertPipeline.load(join(dir, 'pre'));
    try {
      const r = await pipe.fillMask('the congress of the [MASK] states met today.');
      assert.equal(r.masks.length, 1);
      assert.equal(r.masks[0]!.predictions.length, 5);
      const a = await pipe.attention('we the people.');
      assert.equal(a.layers.length, 2);
      assert.equal(a.heads, 2);
      const g = inferenceGraph(pipe.model, pipe.weights, { output: 'logits' });
      assert.deepEqual(g.inputs.map((i: { name: string }) => i.name), ['input_ids', 'attention_mask']);
    } finally { await pipe.dispose(); }
  });

  it('fine-tunes a classifier from the checkpoint with frozen embeddings; evaluate and export agree', async () => {
    await (await Trainer.create(config({ task: 'classification', train_file: 'era.jsonl', train_tokenizer: undefined, model_config: undefined, model_name_or_path: join(dir, 'pre'),
      max_steps: 6, output_dir: join(dir, 'cls'), freeze_embeddings: true }))).train();
    const cfg = JSON.parse(readFileSync(join(dir, 'cls', 'config.json'), 'utf8'));
    assert.deepEqual(cfg.architectures, ['RobertaForSequenceClassification']);
    const before = readSafetensors(join(dir, 'pre', 'model.safetensors')).tensors, afterT = readSafetensors(join(dir, 'cls', 'model.safetensors')).tensors;
    assert.deepEqual(afterT.get('roberta.embeddings.word_embeddings.weight')!.data, before.get('roberta.embeddings.word_embeddings.weight')!.data);
    assert.notDeepEqual(afterT.get('roberta.encoder.layer.1.output.dense.weight')!.data, before.get('roberta.encoder.layer.1.output.dense.weight')!.data);
    assert.ok(afterT.has('classifier.dense.weight') && afterT.has('classifier.out_proj.weight'));
    const ev = await evaluateCheckpoint(join(dir, 'cls'), { data: join(dir, 'era.jsonl'), maxSeqLength: 32 });
    assert.equal(typeof ev.metrics['eval_accuracy'], 'number');
    const pipe = BertPipeline.load(join(dir, 'cls'));
    const exp = exportOnnxFolder(join(dir, 'cls'), join(dir, 'export'), { int8: false });
    try {
      const r = await pipe.classify('the people of the united states.');
      const xcfg = JSON.parse(readFileSync(join(exp.folder, 'config.json'), 'utf8'));
      assert.equal(xcfg.model_type, 'roberta');
      assert.deepEqual(xcfg.architectures, ['RobertaForSequenceClassification']);
      const s = await EngineSession.create(readFileSync(join(exp.folder, 'onnx', 'model.onnx')), { device: 'cpu' });
      const enc = pipe.tokenizer.encode('the people of the united states.', null, { truncation: null, padding: null });
      const T = enc.ids.length;
      const out = await s.run({ input_ids: tensor('int64', [1, T], enc.ids), attention_mask: tensor('int64', [1, T], enc.attentionMask) });
      assert.ok(maxAbsDiff(toNumbers(out['logits']!), r.logits) < 1e-5);
      await s.release();
    } finally { await pipe.dispose(); }
  });

  it('multi-task: one roberta encoder, an lm_head and heads.<task>.classifier.{dense,out_proj}', async () => {
    await (await Trainer.create(config({ task: undefined, train_file: undefined, max_steps: 3, output_dir: join(dir, 'multi'),
      tasks: [{ name: 'mlm', kind: 'mlm', train_file: 'sotu.txt' }, { name: 'era', kind: 'classification', train_file: 'era.jsonl' }] }))).train();
    const keys = [...readSafetensors(join(dir, 'multi', 'model.safetensors')).tensors.keys()];
    for (const k of ['lm_head.bias', 'heads.era.classifier.dense.weight', 'heads.era.classifier.out_proj.bias', 'roberta.encoder.layer.1.attention.self.query.weight']) assert.ok(keys.includes(k), k);
    assert.equal(JSON.parse(readFileSync(join(dir, 'multi', 'config.json'), 'utf8')).architectures[0], 'RobertaMultiTask');
  });
});

/**
 * The checks every model family passes, shared by test/families.test.ts (RoBERTa, XLM-RoBERTa) and
 * test/family-<name>.test.ts: a folder written by transformers (test/fixtures/hf-tiny-<family>*,
 * made by scripts/make-hf-family-fixtures.py) loads with HF's exact parameter names and gives the
 * same logits, hidden states, attentions and training gradients (`fixtureSuites`); and the family
 * pretrains, predicts, fine-tunes with freezing, evaluates, exports and runs multi-task through the
 * same code as BERT (`everywhereSuite`).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { Graph, Value } from '../src/engine/ir/graph.js';
import { loadWeights, readConfig } from '../src/engine/models/bert/folder.js';
import { BertInputs, ForwardCtx } from '../src/engine/models/bert/modeling.js';
import { ParamValues } from '../src/engine/nn/module.js';
import { AnyModel, MaskedLMModel, SequenceClassificationModel } from '../src/engine/models/model.js';
import { modelForConfig } from '../src/engine/models/registry.js';
import { bindWeights, inferenceGraph } from '../src/engine/infer/graphs.js';
import { BertPipeline } from '../src/engine/infer/pipeline.js';
import { exportOnnxFolder } from '../src/engine/infer/export.js';
import { evaluateCheckpoint } from '../src/engine/train/evaluate.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { HostTensor as Tensor, tensor, toNumbers } from '../src/engine/runtime/tensor.js';
import { maxAbsDiff, runGraph } from './helpers.js';
import { sotuLines } from './tiny-mlm.js';

export const FIX = join(__dirname, '..', '..', 'test', 'fixtures');
export const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
export interface Case { name: string; input_ids: number[][]; attention_mask: number[][]; token_type_ids?: number[][]; logits: unknown; hidden_states: unknown[]; attentions: unknown[] }
export interface Expected { model: string; model_type: string; mask_token: string; state_dict_keys: string[]; cases: Case[]; grad: Case & { positions?: number[]; labels: number[]; loss: number; grads: Record<string, unknown> } }
export const expected = (folder: string): Expected => JSON.parse(readFileSync(join(FIX, folder, 'expected.json'), 'utf8'));

export function load(folder: string) {
  const dir = join(FIX, folder);
  const model = modelForConfig(readConfig(dir));
  const { weights, notes } = loadWeights(dir, model.ps, () => { throw new Error('nothing should be initialized'); }, model.family);
  return { model, weights, notes };
}

/** Keys of a checkpoint that are parameters here: not the tied decoder, not the ignored buffers. */
export const ours = (model: Pick<AnyModel, 'family'>, keys: string[]): string[] => keys.filter((k) => !model.family.ignored.some((r) => r.test(k)));

/** The graph inputs of a case (token_type_ids only where the family reads them). */
export function inputs(g: Graph, model: Pick<AnyModel, 'family'>, c: Case) {
  const [B, T] = [c.input_ids.length, c.input_ids[0]!.length];
  const x = {
    inputIds: g.input('input_ids', 'int64', [B, T]), attentionMask: g.input('attention_mask', 'int64', [B, T]),
    ...(model.family.hasTokenTypes ? { tokenTypeIds: g.input('token_type_ids', 'int64', [B, T]) } : {}),
  };
  const feeds: Record<string, Tensor> = { input_ids: tensor('int64', [B, T], flat(c.input_ids)), attention_mask: tensor('int64', [B, T], flat(c.attention_mask)) };
  if (model.family.hasTokenTypes) feeds['token_type_ids'] = tensor('int64', [B, T], c.token_type_ids ? flat(c.token_type_ids) : new Array(B * T).fill(0));
  return { x, feeds, B, T };
}

const top5 = (row: ArrayLike<number>): number[] => Array.from(row, (v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 5).map((x) => x[1]);

/** A model's forward pass: what fixtureSuites compares (the discriminator of ELECTRA has one too). */
export interface Forward extends Pick<AnyModel, 'family' | 'ps'> {
  logits(p: ParamValues, x: BertInputs, ctx: ForwardCtx): { logits: Value; attentions: Value[]; hiddenStates: Value[] };
}

/** Runs case `c` through `model` with `weights`: logits, hidden states and attentions within 1e-4 of transformers'; the outputs. */
export async function assertForward(model: Forward, weights: Record<string, Float32Array>, c: Case): Promise<Record<string, Tensor>> {
  const g = new Graph('t');
  const p = bindWeights(g, model.ps, weights);
  const { x, feeds } = inputs(g, model, c);
  const o = model.logits(p, x, new ForwardCtx(null, true, true));
  g.output(o.logits, 'logits');
  o.hiddenStates.forEach((h, i) => g.output(h, `hidden.${i}`));
  o.attentions.forEach((a, i) => g.output(a, `attn.${i}`));
  const out = await runGraph(g, feeds);
  const d = maxAbsDiff(toNumbers(out['logits']!), flat(c.logits));
  assert.ok(d <= 1e-4, `logits differ by ${d}`);
  assert.equal(o.hiddenStates.length, c.hidden_states.length, 'hidden states');
  assert.equal(o.attentions.length, c.attentions.length, 'attentions');
  c.hidden_states.forEach((h, i) => { const dh = maxAbsDiff(toNumbers(out[`hidden.${i}`]!), flat(h)); assert.ok(dh <= 1e-4, `hidden state ${i} differs by ${dh}`); });
  c.attentions.forEach((a, i) => { const da = maxAbsDiff(toNumbers(out[`attn.${i}`]!), flat(a)); assert.ok(da <= 1e-4, `attention ${i} differs by ${da}`); });
  return out;
}

/** Names, forward pass and one training step's gradients of each fixture folder against transformers'. */
export function fixtureSuites(folders: string[]): void {
  describe('families: parameter names are the Hugging Face state-dict keys', () => {
    for (const folder of folders) {
      it(`${folder}: every parameter of ${expected(folder).model}, and only the tied decoder besides`, () => {
        const e = expected(folder);
        const { model } = load(folder);
        assert.equal(model.architecture, e.model);
        assert.deepEqual(model.ps.specs.map((p) => p.name).sort(), ours(model, e.state_dict_keys).sort());
      });
    }
  });

  describe('families: a folder made by transformers gives the same numbers here', () => {
    for (const folder of folders) {
      for (const c of expected(folder).cases) {
        it(`${folder}, ${c.name}: logits, hidden states and attentions within 1e-4; top-5 equal`, async () => {
          const { model, weights } = load(folder);
          const out = await assertForward(model as MaskedLMModel, weights, c);
          const logits = toNumbers(out['logits']!);
          const V = out['logits']!.dims[out['logits']!.dims.length - 1]!, ref = flat(c.logits);
          for (let r = 0; r < logits.length / V; r++) {
            assert.deepEqual(top5(logits.slice(r * V, (r + 1) * V)), top5(ref.slice(r * V, (r + 1) * V)), `row ${r}: top-5 differ`);
          }
        });
      }
    }
  });

  describe('families: one training step\'s gradients equal PyTorch\'s', () => {
    for (const folder of folders) {
      it(`${folder}: loss and the gradient of every parameter within 1e-4 relative`, async () => {
        const e = expected(folder), c = e.grad;
        const { model, weights } = load(folder);
        const g = new Graph('grad');
        const specs = model.ps.specs;
        const p = Object.fromEntries(specs.map((s) => [s.name, g.input(s.name, 'float32', s.shape)]));
        const { x, feeds, B } = inputs(g, model, c);
        for (const s of specs) feeds[s.name] = tensor('float32', s.shape, weights[s.name]!);
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
        // named_parameters() lists a tied tensor once, under one of its names: the word embeddings or the decoder.
        const tied = model.family.tied;
        const grads: Record<string, unknown> = { ...c.grads, ...(tied && c.grads[tied.word] === undefined && c.grads[tied.decoder] ? { [tied.word]: c.grads[tied.decoder] } : {}) };
        assert.deepEqual(ours(model, Object.keys(grads)).sort(), specs.map((s) => s.name).sort());
        assertGrads(out, specs.map((s) => s.name), grads);
      });
    }
  });
}

/** Each parameter's gradient (graph output `grad.<name>`) against PyTorch's (`grads`, by name). */
export function assertGrads(out: Record<string, Tensor>, names: string[], grads: Record<string, unknown>): void {
  const globalMax = Math.max(...Object.values(grads).map((v) => Math.max(...flat(v).map(Math.abs))));
  for (const name of names) {
    const ref = flat(grads[name]);
    const mine = toNumbers(out[`grad.${name}`]!);
    const scale = Math.max(...ref.map(Math.abs));
    const d = maxAbsDiff(mine, ref);
    // Relative to the tensor's largest gradient, plus 1e-6 of the largest gradient of all for key
    // biases, whose true gradient is 0 (softmax ignores a shift along the key axis): both sides hold rounding noise.
    assert.ok(d <= 1e-4 * scale + 1e-6 * globalMax, `${name}: gradients differ by ${d} (largest ${scale}, of all ${globalMax})`);
  }
}

/** What a family's runs must write: architectures and some keys of each folder. */
export interface Everywhere {
  family: string;                                  // a name for the test titles
  /** model_config of a tiny model of the family, read with a WordPiece vocabulary of 800 ([PAD] is 0). */
  tiny: Record<string, unknown>;
  modelType: string;
  architectures: { mlm: string; cls: string; multi: string };
  /** Keys the MLM folder must hold; a key prefix it must not. */
  mlmKeys: string[]; notPrefix: string;
  /** The word embeddings (frozen by freeze_embeddings), a layer weight that must train, the classifier's keys. */
  word: string; trained: string; clsKeys: string[];
  multiKeys: string[];
  tokenTypes: boolean;
  layers: number; heads: number;
}

/** Pretraining from scratch, fill-mask and attention, fine-tuning with freezing, eval, export and multi-task. */
export function everywhereSuite(o: Everywhere): void {
  describe(`${o.family} everywhere: train, predict, evaluate, export, attention`, () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'fam-run-'));
      const lines = sotuLines(40, 200).filter((_, i) => i % 40 === 0).map((l) => l.text);
      writeFileSync(join(dir, 'sotu.txt'), lines.join('\n'));
      writeFileSync(join(dir, 'era.jsonl'), sotuLines(40, 200).filter((_, i) => i % 160 === 0)
        .map((l) => JSON.stringify({ text: l.text, label: l.year <= 1860 ? 'early' : l.year <= 1945 ? 'middle' : 'modern' })).join('\n'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    const config = (over: Record<string, unknown>) => parseTrainingConfig(JSON.stringify({
      task: 'mlm', train_file: 'sotu.txt', train_tokenizer: { vocab_size: 800 }, model_config: o.tiny, max_seq_length: 32,
      learning_rate: 3e-3, per_device_train_batch_size: 8, logging_steps: 2, steps_per_run: 3, device: 'cpu', seed: 7, save_strategy: 'no', ...over,
    }), join(dir, 'config.json'));

    it(`MLM from scratch with model_config.model_type "${o.modelType}": loss falls; the folder is a ${o.architectures.mlm}`, async () => {
      const losses: number[] = [];
      const t = await Trainer.create(config({ max_steps: 24, output_dir: join(dir, 'pre') }));
      t.on?.((e) => { if (e.type === 'step') losses.push(e.loss); });
      await t.train();
      const cfg = JSON.parse(readFileSync(join(dir, 'pre', 'config.json'), 'utf8'));
      assert.equal(cfg.model_type, o.modelType);
      assert.deepEqual(cfg.architectures, [o.architectures.mlm]);
      const keys = [...readSafetensors(join(dir, 'pre', 'model.safetensors')).tensors.keys()];
      assert.ok(o.mlmKeys.every((k) => keys.includes(k)) && !keys.some((k) => k.startsWith(o.notPrefix)), keys.join(', '));
      assert.ok(losses.length >= 8, `${losses.length} losses logged`);
      assert.ok(losses.slice(-4).reduce((a, b) => a + b) < losses.slice(0, 4).reduce((a, b) => a + b), `loss did not fall: ${losses}`);
    });

    it(`fill-mask and attention through the pipeline (token_type_ids ${o.tokenTypes ? 'fed' : 'absent'}); [MASK] found`, async () => {
      const pipe = BertPipeline.load(join(dir, 'pre'));
      try {
        const r = await pipe.fillMask('the congress of the [MASK] states met today.');
        assert.equal(r.masks.length, 1);
        assert.equal(r.masks[0]!.predictions.length, 5);
        const a = await pipe.attention('we the people.');
        assert.equal(a.layers.length, o.layers);
        assert.equal(a.heads, o.heads);
        const g = inferenceGraph(pipe.model, pipe.weights, { output: 'logits' });
        assert.deepEqual(g.inputs.map((i: { name: string }) => i.name), ['input_ids', 'attention_mask', ...(o.tokenTypes ? ['token_type_ids'] : [])]);
      } finally { await pipe.dispose(); }
    });

    it('fine-tunes a classifier from the checkpoint with frozen embeddings; evaluate and export agree', async () => {
      await (await Trainer.create(config({ task: 'classification', train_file: 'era.jsonl', train_tokenizer: undefined, model_config: undefined, model_name_or_path: join(dir, 'pre'),
        max_steps: 6, output_dir: join(dir, 'cls'), freeze_embeddings: true }))).train();
      const cfg = JSON.parse(readFileSync(join(dir, 'cls', 'config.json'), 'utf8'));
      assert.deepEqual(cfg.architectures, [o.architectures.cls]);
      const beforeT = readSafetensors(join(dir, 'pre', 'model.safetensors')).tensors, afterT = readSafetensors(join(dir, 'cls', 'model.safetensors')).tensors;
      assert.deepEqual(afterT.get(o.word)!.data, beforeT.get(o.word)!.data);
      assert.notDeepEqual(afterT.get(o.trained)!.data, beforeT.get(o.trained)!.data);
      assert.ok(o.clsKeys.every((k) => afterT.has(k)), [...afterT.keys()].join(', '));
      const ev = await evaluateCheckpoint(join(dir, 'cls'), { data: join(dir, 'era.jsonl'), maxSeqLength: 32 });
      assert.equal(typeof ev.metrics['eval_accuracy'], 'number');
      const pipe = BertPipeline.load(join(dir, 'cls'));
      const exp = exportOnnxFolder(join(dir, 'cls'), join(dir, 'export'), { int8: false });
      try {
        const r = await pipe.classify('the people of the united states.');
        const xcfg = JSON.parse(readFileSync(join(exp.folder, 'config.json'), 'utf8'));
        assert.equal(xcfg.model_type, o.modelType);
        assert.deepEqual(xcfg.architectures, [o.architectures.cls]);
        const s = await EngineSession.create(readFileSync(join(exp.folder, 'onnx', 'model.onnx')), { device: 'cpu' });
        const enc = pipe.tokenizer.encode('the people of the united states.', null, { truncation: null, padding: null });
        const T = enc.ids.length;
        const feeds: Record<string, Tensor> = { input_ids: tensor('int64', [1, T], enc.ids), attention_mask: tensor('int64', [1, T], enc.attentionMask) };
        if (o.tokenTypes) feeds['token_type_ids'] = tensor('int64', [1, T], enc.typeIds);
        const out = await s.run(feeds);
        assert.ok(maxAbsDiff(toNumbers(out['logits']!), r.logits) < 1e-5);
        await s.release();
      } finally { await pipe.dispose(); }
    });

    it(`multi-task: one encoder, the MLM head and heads.<task>.*`, async () => {
      await (await Trainer.create(config({ task: undefined, train_file: undefined, max_steps: 3, output_dir: join(dir, 'multi'),
        tasks: [{ name: 'mlm', kind: 'mlm', train_file: 'sotu.txt' }, { name: 'era', kind: 'classification', train_file: 'era.jsonl' }] }))).train();
      const keys = [...readSafetensors(join(dir, 'multi', 'model.safetensors')).tensors.keys()];
      for (const k of o.multiKeys) assert.ok(keys.includes(k), `${k} in ${keys.join(', ')}`);
      assert.equal(JSON.parse(readFileSync(join(dir, 'multi', 'config.json'), 'utf8')).architectures[0], o.architectures.multi);
    });
  });
}

/**
 * A masked-LM folder written by transformers, exported here: transformers.js runs the exported
 * folder offline and gives the same fill-mask top-5 and scores as BertPipeline; the int8 graph's
 * top-1 agrees with fp32 on at least `minAgreement` of the masks over real sentences.
 */
export function exportSuite(folder: string, minAgreement: number): void {
  describe(`${folder}: export to transformers.js, fp32 and int8`, () => {
    let dir = '';
    before(() => { dir = mkdtempSync(join(tmpdir(), 'fam-export-')); });
    after(() => rmSync(dir, { recursive: true, force: true }));
    // The first words of real sentences, one masked: short enough for the fixtures' 32 positions.
    const texts = (mask: string) => sotuLines(40, 120).filter((_, i) => i % 97 === 0).slice(0, 60).map((l, k) => {
      const w = l.text.split(' ').slice(0, 4);
      return w.map((x, j) => (j === 1 + (k % 3) ? mask : x)).join(' ');
    });

    it('transformers.js (offline) gives the same top-5 and scores as fillMask', async () => {
      const out = join(dir, 'exported');
      exportOnnxFolder(join(FIX, folder), out, { int8: false });
      const { pipeline, env } = await import('@huggingface/transformers');
      env.allowRemoteModels = false;
      env.localModelPath = dir + '/';
      const fill = await pipeline('fill-mask', 'exported', { dtype: 'fp32' });
      const ours = BertPipeline.load(join(FIX, folder));
      try {
        for (const text of texts(expected(folder).mask_token).slice(0, 10)) {
          const theirs = await fill(text, { top_k: 5 }) as { score: number; token: number }[];
          const res = await ours.fillMask(text, { topK: 5 });
          assert.deepEqual(res.warnings, [], text);
          const mine = res.masks[0]!.predictions;
          assert.deepEqual(mine.map((p) => p.tokenId), theirs.map((t) => t.token), text);
          mine.forEach((p, j) => assert.ok(Math.abs(p.score - theirs[j]!.score) < 1e-5, `${text}: score ${p.score} vs ${theirs[j]!.score}`));
        }
      } finally { await ours.dispose(); }
    });

    it(`int8: top-1 agrees with fp32 on ≥ ${100 * minAgreement}% of masks; the quantized file is smaller`, async () => {
      const out = join(dir, 'int8');
      const r = exportOnnxFolder(join(FIX, folder), out, { int8: true });
      assert.ok(r.files['onnx/model_quantized.onnx']! < r.files['onnx/model.onnx']!, JSON.stringify(r.files));
      const fp32 = BertPipeline.load(join(FIX, folder)), int8 = BertPipeline.load(join(FIX, folder), { int8: true });
      try {
        let agree = 0, total = 0;
        for (const text of texts(expected(folder).mask_token)) {
          const [a, b] = [await fp32.fillMask(text, { topK: 1 }), await int8.fillMask(text, { topK: 1 })];
          a.masks.forEach((m, i) => { total++; if (m.predictions[0]!.tokenId === b.masks[i]!.predictions[0]!.tokenId) agree++; });
        }
        console.log(`# ${folder} int8: top-1 agreement ${(100 * agree / total).toFixed(1)}% of ${total} masks`);
        assert.ok(total >= 50, `${total} masks`);
        assert.ok(agree / total >= minAgreement, `${agree}/${total}`);
      } finally { await fp32.dispose(); await int8.dispose(); }
    });
  });
}


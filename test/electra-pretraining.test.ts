/**
 * ELECTRA pretraining (task "electra"): Gumbel-max sampling and the replaced-token labels against
 * a case computed by hand; the sampled tokens, the discriminator's input and labels, and the
 * combined loss of a whole generator + discriminator against a float64 reference written here;
 * no gradient through the sampling; a short run through the Trainer whose loss falls; the saved
 * folders (discriminator, generator/) with the keys transformers expects; the discriminator
 * fine-tuned into a classifier; configuration errors that name the field.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { Graph } from '../src/engine/ir/graph.js';
import { ELECTRA_DEFAULTS } from '../src/engine/models/electra/family.js';
import { ElectraConfig } from '../src/engine/models/electra/modeling.js';
import { ElectraPreTrainingModel, generatorConfig, gumbelSample, replaceTokens } from '../src/engine/models/electra/pretraining.js';
import { Rng } from '../src/engine/data/rng.js';
import { tensor, toNumbers } from '../src/engine/runtime/tensor.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { checkTrainingConfig, parseTrainingConfig } from '../src/engine/train/config.js';
import { Trainer } from '../src/engine/train/trainer.js';
import { runGraph } from './helpers.js';
import { sotuLines } from './tiny-mlm.js';
import { FIX } from './family-suite.js';

const tiny = (over: Partial<ElectraConfig> = {}): ElectraConfig => ({
  ...ELECTRA_DEFAULTS, vocab_size: 12, embedding_size: 8, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32,
  max_position_embeddings: 8, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, ...over,
});

describe('Gumbel-max sampling and replaced-token labels: a case computed by hand', () => {
  it('argmax(logits − log(−log u)) per row, and labels 1 only where the sample differs from the original', async () => {
    const g = new Graph('sample');
    const logits = g.input('logits', 'float32', [3, 3]), u = g.input('u', 'float32', [3, 3]);
    const ids = g.input('ids', 'int64', [1, 4]), pos = g.input('positions', 'int64', [3]), labels = g.input('labels', 'int64', [3]);
    const sampled = gumbelSample(logits, u);
    const r = replaceTokens(ids, pos, labels, sampled);
    g.output(sampled, 'sampled'); g.output(r.ids, 'disc_ids'); g.output(r.labels, 'rtd');
    const out = await runGraph(g, {
      // Row 0: gumbel(0.5, 0.9, 0.1) = (0.367, 2.250, −0.834): 0.367, 3.250, 1.166 → token 1.
      // Row 1: gumbel(0.2, 0.99, 0.3) = (−0.476, 4.600, −0.186): 2.524, 4.600, −0.186 → token 1.
      // Row 2 (a padding slot): equal noise, the largest logit → token 2, which must change nothing.
      logits: tensor('float32', [3, 3], [0, 1, 2, 3, 0, 0, 0, 0, 5]),
      u: tensor('float32', [3, 3], [0.5, 0.9, 0.1, 0.2, 0.99, 0.3, 0.5, 0.5, 0.5]),
      // The collated input: position 1 is [MASK] (9), position 2 kept its token (1); slot 3 pads (position 0, label −100).
      ids: tensor('int64', [1, 4], [2, 9, 1, 0]), positions: tensor('int64', [3], [1, 2, 0]), labels: tensor('int64', [3], [0, 1, -100]),
    });
    assert.deepEqual(toNumbers(out['sampled']!), [1, 1, 2]);
    // Position 1: sampled 1 ≠ original 0 → replaced; position 2: sampled 1 = original 1 → original; position 0 untouched.
    assert.deepEqual(toNumbers(out['disc_ids']!), [2, 1, 1, 0]);
    assert.deepEqual(toNumbers(out['rtd']!), [0, 1, 0, 0]);
  });
});

/** float64 reference of google-research/electra's losses from the graph's own logits. */
function reference(o: Record<string, number[]>, labels: number[], mask: number[], rtdWeight: number, V: number) {
  const N = labels.length;
  let ce = 0, n = 0;
  const sampled: number[] = [];
  for (let i = 0; i < N; i++) {
    const row = o['gen_logits']!.slice(i * V, (i + 1) * V), u = o['uniforms']!.slice(i * V, (i + 1) * V);
    const noisy = row.map((l, v) => l - Math.log(-Math.log(u[v]! + 1e-9) + 1e-9));
    sampled.push(noisy.indexOf(Math.max(...noisy)));
    if (labels[i] === -100) continue;
    const m = Math.max(...row), lse = m + Math.log(row.reduce((a, l) => a + Math.exp(l - m), 0));
    ce += lse - row[labels[i]!]!; n++;
  }
  const gen = ce / Math.max(n, 1);
  let bce = 0, kept = 0;
  o['disc_logits']!.forEach((x, j) => {
    if (!mask[j]) return;
    const y = o['rtd']![j]!;
    bce += Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x))); kept++;
  });
  const disc = bce / kept;
  return { sampled, gen, disc, loss: gen + rtdWeight * disc };
}

describe('ElectraPreTrainingModel: one generator and one discriminator on shared embeddings', () => {
  const cfg = tiny(), gcfg = generatorConfig(cfg, { generator_size: 0.5 });
  const model = new ElectraPreTrainingModel(cfg, gcfg, 50);
  const rng = new Rng(3);
  const weights = model.ps.initialize(() => rng.next());
  // Larger weights than HF's init, so that the generator's distribution is far from uniform.
  for (const [k, w] of Object.entries(weights)) if (!/LayerNorm/.test(k)) for (let i = 0; i < w.length; i++) w[i]! *= 20;
  const B = 2, T = 6, N = 4, V = cfg.vocab_size;
  const ids = [2, 11, 5, 11, 7, 3, 2, 6, 11, 4, 3, 0], mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0];
  const positions = [1, 3, 8, 0], labels = [4, 9, 8, -100];

  it('the generator\'s config: 1/2 of hidden, intermediate and heads; embeddings as the discriminator\'s', () => {
    assert.deepEqual([gcfg.hidden_size, gcfg.intermediate_size, gcfg.num_attention_heads, gcfg.embedding_size, gcfg.num_hidden_layers], [8, 16, 1, 8, 1]);
    const names = model.ps.specs.map((s) => s.name);
    assert.equal(names.filter((n) => n.includes('word_embeddings')).join(), 'electra.embeddings.word_embeddings.weight');
    assert.ok(names.includes('generator.electra.encoder.layer.0.attention.self.query.weight'));
    assert.ok(names.includes('electra.embeddings_project.weight') && !names.includes('generator.electra.embeddings_project.weight'), 'E = 8 is the generator\'s hidden size: no projection there');
    assert.ok(names.includes('generator.generator_lm_head.bias') && names.includes('discriminator_predictions.dense_prediction.weight'));
  });

  it('samples, discriminator input, labels and the loss equal a float64 reference; no gradient flows through the sample', async () => {
    const g = new Graph('electra');
    const p = Object.fromEntries(model.ps.specs.map((s) => [s.name, g.input(s.name, 'float32', s.shape)]));
    const x = { inputIds: g.input('ids', 'int64', [B, T]), attentionMask: g.input('mask', 'int64', [B, T]) };
    const o = model.forward(p, x, g.input('positions', 'int64', [N]), g.input('labels', 'int64', [N]), null, g.input('seed', 'int64', []));
    const outs = { gen_logits: o.generatorLogits, uniforms: o.uniforms, sampled: o.sampled, disc_ids: o.discriminatorIds, rtd: o.rtdLabels, disc_logits: o.discriminatorLogits, gen_loss: o.generatorLoss, disc_loss: o.discriminatorLoss, loss: o.loss };
    for (const [k, v] of Object.entries(outs)) g.output(v, k);
    // The discriminator's loss reaches the generator's own parameters only through the sample: its gradient there is exactly 0.
    const genOwn = model.ps.specs.filter((s) => s.name.startsWith('generator.'));
    F.grad(o.discriminatorLoss, genOwn.map((s) => p[s.name]!)).forEach((d, i) => g.output(F.reduceSum(F.abs(d), d.shape.map((_, j) => j)), `gd.${genOwn[i]!.name}`));
    const feeds = {
      ...Object.fromEntries(model.ps.specs.map((s) => [s.name, tensor('float32', s.shape, weights[s.name]!)])),
      ids: tensor('int64', [B, T], ids), mask: tensor('int64', [B, T], mask), positions: tensor('int64', [N], positions), labels: tensor('int64', [N], labels), seed: tensor('int64', [], [7]),
    };
    const res = await runGraph(g, feeds);
    const num = Object.fromEntries(Object.keys(outs).map((k) => [k, toNumbers(res[k]!)]));
    const ref = reference(num, labels, mask, 50, V);
    assert.deepEqual(num['sampled'], ref.sampled);
    // The discriminator sees the samples at the three real masked positions, the input elsewhere; labels mark differences from the original.
    const original = [...ids], seen = [...ids];
    positions.forEach((q, i) => { if (labels[i] !== -100) { original[q] = labels[i]!; seen[q] = ref.sampled[i]!; } });
    assert.deepEqual(num['disc_ids'], seen);
    assert.deepEqual(num['rtd'], seen.map((t, j) => Number(t !== original[j])));
    assert.ok(ref.sampled.slice(0, 3).some((s, i) => s !== labels[i]), `some sample differs from its original: ${ref.sampled}`);
    for (const [k, want] of [['gen_loss', ref.gen], ['disc_loss', ref.disc], ['loss', ref.loss]] as const) {
      assert.ok(Math.abs(num[k]![0]! - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${k} ${num[k]![0]} vs ${want}`);
    }
    for (const s of genOwn) assert.equal(toNumbers(res[`gd.${s.name}`]!)[0], 0, s.name);
  });

  it('another sampling seed draws other tokens', async () => {
    const draw = async (seed: number) => {
      const g = new Graph('electra');
      const p = Object.fromEntries(model.ps.specs.map((s) => [s.name, g.input(s.name, 'float32', s.shape)]));
      const o = model.forward(p, { inputIds: g.input('ids', 'int64', [B, T]) }, g.input('positions', 'int64', [N]), g.input('labels', 'int64', [N]), null, g.input('seed', 'int64', []));
      g.output(o.uniforms, 'u');
      const r = await runGraph(g, { ...Object.fromEntries(model.ps.specs.map((s) => [s.name, tensor('float32', s.shape, weights[s.name]!)])),
        ids: tensor('int64', [B, T], ids), positions: tensor('int64', [N], positions), labels: tensor('int64', [N], labels), seed: tensor('int64', [], [seed]) });
      return toNumbers(r['u']!);
    };
    const [a, b] = [await draw(1), await draw(2)];
    assert.notDeepEqual(a, b);
    assert.ok(a.every((x) => x >= 0 && x < 1));
  });
});

describe('task "electra" through the Trainer', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'electra-pre-'));
    writeFileSync(join(dir, 'sotu.txt'), sotuLines(40, 200).filter((_, i) => i % 40 === 0).map((l) => l.text).join('\n'));
    writeFileSync(join(dir, 'era.jsonl'), sotuLines(40, 200).filter((_, i) => i % 160 === 0)
      .map((l) => JSON.stringify({ text: l.text, label: l.year <= 1860 ? 'early' : l.year <= 1945 ? 'middle' : 'modern' })).join('\n'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const TINY = { model_type: 'electra', embedding_size: 16, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 40 };
  const config = (over: Record<string, unknown>) => parseTrainingConfig(JSON.stringify({
    task: 'electra', train_file: 'sotu.txt', train_tokenizer: { vocab_size: 400 }, model_config: TINY, max_seq_length: 32,
    learning_rate: 2e-3, per_device_train_batch_size: 8, logging_steps: 5, steps_per_run: 5, device: 'cpu', seed: 7, save_strategy: 'no', ...over,
  }), join(dir, 'config.json'));

  it('30 steps: the loss falls; evaluation reports the generator\'s and the discriminator\'s metrics', async () => {
    const losses: number[] = [];
    const t = await Trainer.create(config({ max_steps: 30, output_dir: join(dir, 'pre'), eval_strategy: 'steps', eval_steps: 30 }));
    t.on((e) => { if (e.type === 'step') losses.push(e.loss); });
    const r = await t.train();
    assert.equal(losses.length, 30);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(losses.slice(-5)) < 0.8 * mean(losses.slice(0, 5)), `loss did not fall: ${losses.map((l) => l.toFixed(2))}`);
    const m = r.lastEval!;
    assert.deepEqual(Object.keys(m).sort(), ['eval_discriminator_loss', 'eval_generator_accuracy', 'eval_generator_loss', 'eval_loss', 'eval_replaced_precision', 'eval_replaced_recall', 'eval_rtd_accuracy']);
    assert.ok(Math.abs(m['eval_loss']! - (m['eval_generator_loss']! + 50 * m['eval_discriminator_loss']!)) < 1e-3 * m['eval_loss']!, JSON.stringify(m));
    for (const k of ['eval_generator_accuracy', 'eval_rtd_accuracy', 'eval_replaced_precision', 'eval_replaced_recall']) assert.ok(m[k]! >= 0 && m[k]! <= 1, `${k} ${m[k]}`);
    // Most tokens are original: a discriminator that learned anything is right on most of them.
    assert.ok(m['eval_rtd_accuracy']! > 0.8, JSON.stringify(m));
  });

  it('the run\'s folder is an ElectraForPreTraining with the discriminator\'s keys only; generator/ an ElectraForMaskedLM with the shared embeddings', () => {
    const pre = join(dir, 'pre');
    const disc = JSON.parse(readFileSync(join(pre, 'config.json'), 'utf8')), gen = JSON.parse(readFileSync(join(pre, 'generator', 'config.json'), 'utf8'));
    assert.deepEqual([disc.architectures, disc.model_type, disc.hidden_size, disc.embedding_size], [['ElectraForPreTraining'], 'electra', 32, 16]);
    assert.deepEqual([gen.architectures, gen.model_type, gen.hidden_size, gen.intermediate_size, gen.num_attention_heads, gen.embedding_size, gen.num_hidden_layers, gen.vocab_size],
      [['ElectraForMaskedLM'], 'electra', 8, 16, 1, 16, 2, disc.vocab_size]);
    const d = readSafetensors(join(pre, 'model.safetensors')).tensors, g = readSafetensors(join(pre, 'generator', 'model.safetensors')).tensors;
    const layer = (p: string) => ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense', 'intermediate.dense', 'output.dense']
      .flatMap((m) => [`${p}.${m}.weight`, `${p}.${m}.bias`]).concat([`${p}.attention.output.LayerNorm.weight`, `${p}.attention.output.LayerNorm.bias`, `${p}.output.LayerNorm.weight`, `${p}.output.LayerNorm.bias`]);
    const embeddings = ['word_embeddings.weight', 'position_embeddings.weight', 'token_type_embeddings.weight', 'LayerNorm.weight', 'LayerNorm.bias'].map((k) => `electra.embeddings.${k}`);
    const encoder = (project: boolean) => [...embeddings, ...(project ? ['electra.embeddings_project.weight', 'electra.embeddings_project.bias'] : []), ...layer('electra.encoder.layer.0'), ...layer('electra.encoder.layer.1')];
    assert.deepEqual([...d.keys()].sort(), [...encoder(true), 'discriminator_predictions.dense.weight', 'discriminator_predictions.dense.bias', 'discriminator_predictions.dense_prediction.weight', 'discriminator_predictions.dense_prediction.bias'].sort());
    assert.deepEqual([...g.keys()].sort(), [...encoder(true), 'generator_predictions.dense.weight', 'generator_predictions.dense.bias', 'generator_predictions.LayerNorm.weight', 'generator_predictions.LayerNorm.bias', 'generator_lm_head.bias'].sort());
    for (const k of embeddings) assert.deepEqual(g.get(k)!.data, d.get(k)!.data, k);
    assert.notDeepEqual(g.get('electra.embeddings_project.weight')!.data.length, d.get('electra.embeddings_project.weight')!.data.length);
    assert.ok(existsSync(join(pre, 'tokenizer.json')) && existsSync(join(pre, 'generator', 'tokenizer.json')));
  });

  it('the discriminator folder fine-tunes into ElectraForSequenceClassification through the Trainer', async () => {
    const log: string[] = [];
    const t = await Trainer.create(config({ task: 'classification', train_file: 'era.jsonl', train_tokenizer: undefined, model_config: undefined, model_name_or_path: join(dir, 'pre'),
      max_steps: 6, logging_steps: 2, steps_per_run: 3, output_dir: join(dir, 'cls') }), { log: (l) => log.push(l) });
    await t.train();
    assert.ok(log.some((l) => /not used by this model: .*discriminator_predictions\.dense\.weight/.test(l)), log.join('\n'));
    const saved = JSON.parse(readFileSync(join(dir, 'cls', 'config.json'), 'utf8'));
    assert.deepEqual(saved.architectures, ['ElectraForSequenceClassification']);
    const from = readSafetensors(join(dir, 'pre', 'model.safetensors')).tensors, to = readSafetensors(join(dir, 'cls', 'model.safetensors')).tensors;
    assert.ok(to.has('classifier.out_proj.weight') && ![...to.keys()].some((k) => k.startsWith('discriminator_predictions.') || k.startsWith('generator')), [...to.keys()].join(', '));
    assert.notDeepEqual(to.get('electra.encoder.layer.1.output.dense.weight')!.data, from.get('electra.encoder.layer.1.output.dense.weight')!.data);
  });

  it('continues a transformers ElectraForPreTraining folder: its discriminator loads, the generator starts anew with a note', async () => {
    const log: string[] = [];
    const t = await Trainer.create(config({ train_tokenizer: undefined, model_config: undefined, model_name_or_path: join(FIX, 'hf-tiny-electra-disc'), max_steps: 2, steps_per_run: 2, output_dir: join(dir, 'more') }), { log: (l) => log.push(l) });
    await t.train();
    assert.ok(log.some((l) => /holds no generator; the generator is newly initialized/.test(l)), log.join('\n'));
    const gen = JSON.parse(readFileSync(join(dir, 'more', 'generator', 'config.json'), 'utf8')), disc = JSON.parse(readFileSync(join(FIX, 'hf-tiny-electra-disc', 'config.json'), 'utf8'));
    assert.equal(gen.hidden_size, Math.round(disc.hidden_size / 4));
  });

  it('a stopped run resumes from its checkpoint (generator included) to the same weights as an uninterrupted one', async () => {
    const base = { max_steps: 10, steps_per_run: 5, logging_steps: 5, save_strategy: 'steps', save_steps: 5 };
    await (await Trainer.create(config({ ...base, output_dir: join(dir, 'whole') }))).train();
    await (await Trainer.create(config({ ...base, output_dir: join(dir, 'split') }), { stopAtStep: 5 })).train();
    assert.ok(existsSync(join(dir, 'split', 'checkpoint-5', 'generator', 'model.safetensors')));
    await (await Trainer.create(config({ ...base, output_dir: join(dir, 'split'), resume_from_checkpoint: true }))).train();
    for (const f of ['model.safetensors', 'generator/model.safetensors']) {
      const a = readSafetensors(join(dir, 'whole', f)).tensors, b = readSafetensors(join(dir, 'split', f)).tensors;
      for (const [k, v] of a) assert.deepEqual(b.get(k)!.data, v.data, `${f}: ${k}`);
    }
  });
});

describe('task "electra": configuration errors name the field', () => {
  const TINY = { model_type: 'electra', embedding_size: 16, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64 };
  const errors = (over: Record<string, unknown>) => checkTrainingConfig(JSON.stringify({ task: 'electra', train_file: 'a.txt', output_dir: 'o', tokenizer_name: 't', model_config: TINY, ...over }), '/x/config.json')
    .diagnostics.filter((d) => d.severity === 'error');
  const one = (over: Record<string, unknown>, field: string, re: RegExp) => {
    const e = errors(over);
    assert.equal(e.length, 1, JSON.stringify(e));
    assert.equal(e[0]!.field, field);
    assert.match(e[0]!.message, re);
  };
  it('a valid configuration has none, and keeps its ELECTRA fields', () => {
    assert.deepEqual(errors({ generator_size: 0.5, rtd_weight: 20 }), []);
    assert.deepEqual(errors({ generator_config: { hidden_size: 16, num_attention_heads: 2, intermediate_size: 32, num_hidden_layers: 1 } }), []);
  });
  it('generator_size outside (0, 1], or one that leaves heads not dividing the width', () => {
    for (const v of [0, 1.5, -0.25]) one({ generator_size: v }, 'generator_size', /generator_size is/);
    // 32 × 0.7 = 22 wide (rounded), 4 × 0.7 = 3 heads.
    one({ generator_size: 0.7 }, 'generator_size', /hidden_size 22 .* not divisible by its 3 attention heads/);
  });
  it('generator_config: fields it cannot set, heads that do not divide, and next to generator_size', () => {
    one({ generator_config: { embedding_size: 8 } }, 'generator_config.embedding_size', /embedding_size/);
    one({ generator_config: { hidden_size: 16, num_attention_heads: 3 } }, 'generator_config.num_attention_heads', /num_attention_heads is 3; it must divide hidden_size \(16\)/);
    one({ generator_size: 0.5, generator_config: { hidden_size: 16 } }, 'generator_config', /not both/);
  });
  it('rtd_weight must be positive; ELECTRA fields without task "electra"; a model_config that is not ELECTRA', () => {
    one({ rtd_weight: 0 }, 'rtd_weight', /rtd_weight is 0/);
    one({ task: 'mlm', generator_size: 0.5 }, 'generator_size', /task is "mlm".*task: "electra"/);
    one({ model_config: { hidden_size: 32 } }, 'model_config.model_type', /model_config.model_type is not set .*"electra"/);
    one({ streaming: true }, 'streaming', /not implemented for task "electra"/);
  });
});

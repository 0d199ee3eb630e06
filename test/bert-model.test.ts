/** BERT on the graph builder against a plain float64 reference, and its losses against finite differences. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { Graph, Value } from '../src/engine/ir/graph.js';
import { ParamSet, ParamValues } from '../src/engine/nn/module.js';
import { bertConfig } from '../src/engine/models/bert/config.js';
import { ForwardCtx } from '../src/engine/models/bert/modeling.js';
import { BertForMaskedLM, BertForSequenceClassification } from '../src/engine/models/bert/heads.js';
import { HostTensor, tensor, toNumbers } from '../src/engine/runtime/tensor.js';
import { referenceBert } from './bert-reference.js';
import { InputSpec, gradcheck, maxAbsDiff, rng, runGraph } from './helpers.js';

const cfg = bertConfig({ vocab_size: 50, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 32, max_position_embeddings: 16, initializer_range: 0.5, id2label: { 0: 'a', 1: 'b', 2: 'c' }, label2id: { a: 0, b: 1, c: 2 } });
const B = 2, T = 7;
const ids = [2, 11, 25, 4, 30, 7, 3, /* padded: */ 2, 40, 4, 3, 0, 0, 0];
const types = [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0];

/** Random weights, LayerNorm scales near 1 — float32 values, shared with the reference. */
function randomWeights(ps: ParamSet, seed: number): Record<string, Float32Array> {
  const r = rng(seed);
  return Object.fromEntries(ps.specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const ln = /LayerNorm\.weight$/.test(s.name);
    return [s.name, Float32Array.from({ length: n }, () => (ln ? 1 + 0.2 * r.normal() : 0.4 * r.normal()))];
  }));
}
const to64 = (w: Record<string, Float32Array>) => Object.fromEntries(Object.entries(w).map(([k, v]) => [k, Float64Array.from(v)]));

/** A graph whose inputs are the parameters and the token tensors. */
function withInputs(ps: ParamSet) {
  const g = new Graph();
  const p: ParamValues = {};
  for (const s of ps.specs) p[s.name] = g.input(s.name, 'float32', s.shape);
  const x = { inputIds: g.input('input_ids', 'int64', ['batch', 'seq']), tokenTypeIds: g.input('token_type_ids', 'int64', ['batch', 'seq']), attentionMask: g.input('attention_mask', 'int64', ['batch', 'seq']) };
  return { g, p, x };
}
const tokenFeeds = (): Record<string, HostTensor> => ({ input_ids: tensor('int64', [B, T], ids), token_type_ids: tensor('int64', [B, T], types), attention_mask: tensor('int64', [B, T], mask) });
const weightFeeds = (ps: ParamSet, w: Record<string, Float32Array>) => Object.fromEntries(ps.specs.map((s) => [s.name, tensor('float32', s.shape, w[s.name]!)]));

describe('BERT forward against a float64 reference', () => {
  it('BertForMaskedLM: logits [B, T, V] and every attention map, with padding', async () => {
    const m = new BertForMaskedLM(cfg);
    const w = randomWeights(m.ps, 1);
    const { g, p, x } = withInputs(m.ps);
    const o = m.logits(p, x, new ForwardCtx(null, true));
    g.output(o.logits, 'logits');
    o.attentions.forEach((a, i) => g.output(a, `attn${i}`));
    assert.deepEqual(o.logits.shape, ['batch', 'seq', cfg.vocab_size]);
    const out = await runGraph(g, { ...weightFeeds(m.ps, w), ...tokenFeeds() });
    const ref = referenceBert(cfg, to64(w), ids, types, mask, B, T);
    const d = maxAbsDiff(toNumbers(out['logits']!), ref.mlmLogits!);
    assert.ok(d <= 1e-4, `logits differ by ${d}`);
    for (let l = 0; l < cfg.num_hidden_layers; l++) assert.ok(maxAbsDiff(toNumbers(out[`attn${l}`]!), ref.attentions[l]!) <= 1e-5, `attention ${l}`);
    // Padding keys get no attention.
    const a0 = toNumbers(out['attn0']!);
    assert.equal(a0[((1 * 4 + 0) * T + 0) * T + 6], 0);
  });

  it('only the listed positions reach the vocabulary projection, with the same logits', async () => {
    const m = new BertForMaskedLM(cfg);
    const w = randomWeights(m.ps, 2);
    const { g, p, x } = withInputs(m.ps);
    const positions = g.input('positions', 'int64', ['n']);
    g.output(m.logits(p, x, new ForwardCtx(null), positions).logits, 'sparse');
    g.output(m.logits(p, x, new ForwardCtx(null)).logits, 'full');
    const pos = [3, 9, 0];
    const out = await runGraph(g, { ...weightFeeds(m.ps, w), ...tokenFeeds(), positions: tensor('int64', [3], pos) });
    const full = toNumbers(out['full']!), sparse = toNumbers(out['sparse']!);
    const V = cfg.vocab_size;
    assert.deepEqual(out['sparse']!.dims, [3, V]);
    pos.forEach((q, i) => assert.ok(maxAbsDiff(sparse.slice(i * V, (i + 1) * V), full.slice(q * V, (q + 1) * V)) < 1e-6));
  });

  it('BertForSequenceClassification: pooled output and logits', async () => {
    const m = new BertForSequenceClassification(cfg);
    const w = randomWeights(m.ps, 3);
    const { g, p, x } = withInputs(m.ps);
    const o = m.logits(p, x, new ForwardCtx(null));
    g.output(o.logits, 'logits');
    g.output(o.pooled, 'pooled');
    const out = await runGraph(g, { ...weightFeeds(m.ps, w), ...tokenFeeds() });
    const ref = referenceBert(cfg, to64(w), ids, types, mask, B, T);
    assert.ok(maxAbsDiff(toNumbers(out['pooled']!), ref.pooled!) <= 1e-4);
    assert.ok(maxAbsDiff(toNumbers(out['logits']!), ref.clsLogits!) <= 1e-4);
  });
});

describe('BERT losses against finite differences in float64 (tiny config, dropout on with a fixed seed)', () => {
  const tiny = bertConfig({ vocab_size: 20, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 12, max_position_embeddings: 8, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 });
  const tIds = [2, 5, 4, 9, 3, 2, 7, 4, 3, 0];
  const tMask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0];
  /**
   * gradcheck over every parameter: the parameters are float64 graph inputs, tokens constants.
   * In float64 the model uses the compositions of LayerNorm and GELU (erf per A&S 7.1.26),
   * since onnxruntime's fused kernels are float32; their own VJPs are checked in vjp.test.ts.
   */
  function check(ps: ParamSet, loss: (p: ParamValues, x: { inputIds: Value; attentionMask: Value }, seed: Value) => Value, seed: number) {
    const w = randomWeights(ps, seed);
    const specs: InputSpec[] = ps.specs.map((s) => ({ shape: s.shape, dtype: 'float64', gen: (_r, i) => w[s.name]![i]! }));
    return gradcheck((...xs) => {
      const p = Object.fromEntries(ps.specs.map((s, i) => [s.name, xs[i]!]));
      const g = xs[0]!.graph;
      const x = { inputIds: g.constant('int64', [2, 5], tIds.map(BigInt)), attentionMask: g.constant('int64', [2, 5], tMask.map(BigInt)) };
      return F.reshape(loss(p, x, g.constant('int64', [], [123n])), [1]);
    }, specs, { directions: 2, tol: 1e-5 }); // float64 central differences through ~100 ops: truncation ~h²·f‴
  }
  it('masked-LM loss (sparse positions, an ignored label)', () => {
    const m = new BertForMaskedLM(tiny);
    return check(m.ps, (p, x, seed) => {
      const g = seed.graph;
      return m.loss(p, x, g.constant('int64', [3], [2n, 3n, 7n]), g.constant('int64', [3], [6n, -100n, 11n]), new ForwardCtx(seed));
    }, 4);
  });
  it('sequence-classification loss', () => {
    const m = new BertForSequenceClassification({ ...tiny, id2label: { 0: 'x', 1: 'y', 2: 'z' }, label2id: { x: 0, y: 1, z: 2 } });
    return check(m.ps, (p, x, seed) => m.loss(p, x, seed.graph.constant('int64', [2], [2n, 0n]), new ForwardCtx(seed)), 5);
  });
  it('multi-label (BCE with logits) and regression losses', async () => {
    const ml = new BertForSequenceClassification({ ...tiny, problem_type: 'multi_label_classification', id2label: { 0: 'x', 1: 'y' }, label2id: { x: 0, y: 1 } });
    await check(ml.ps, (p, x, seed) => ml.loss(p, x, seed.graph.constant('float64', [2, 2], [1, 0, 1, 1]), new ForwardCtx(seed)), 6);
    const rg = new BertForSequenceClassification({ ...tiny, id2label: { 0: 'score' }, label2id: { score: 0 } });
    assert.equal(rg.head.problemType, 'regression');
    await check(rg.ps, (p, x, seed) => rg.loss(p, x, seed.graph.constant('float64', [2], [0.5, -1.5]), new ForwardCtx(seed)), 7);
  });
});

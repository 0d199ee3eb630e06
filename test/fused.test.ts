/** Each fused op used for speed equals its composition from primitives, in value and in gradient. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { geluComposed, layerNormComposed, logSoftmaxComposed, softmaxComposed } from '../src/engine/autodiff/index.js';
import { vjp } from '../src/engine/autodiff/index.js';
import { DType } from '../src/engine/ir/dtype.js';
import { Graph, Value } from '../src/engine/ir/graph.js';
import { tensor, toNumbers } from '../src/engine/runtime/tensor.js';
import { maxAbsDiff, numel, rng, runGraph } from './helpers.js';

/** Runs fused and composed versions on the same inputs and cotangent; returns max differences. */
async function compare(fused: (...x: Value[]) => Value, composed: (...x: Value[]) => Value, shapes: number[][], dtype: DType) {
  const r = rng(3);
  const g = new Graph();
  const xs = shapes.map((s, i) => g.input(`x${i}`, dtype, s));
  const [yf, yc] = [fused(...xs), composed(...xs)];
  const w = g.input('w', dtype, yf.shape);
  g.output(yf, 'yf');
  g.output(yc, 'yc');
  vjp([yf], [w], xs).forEach((v, i) => g.output(v, `gf${i}`));
  vjp([yc], [w], xs).forEach((v, i) => g.output(v, `gc${i}`));
  const feeds = Object.fromEntries(shapes.map((s, i) => [`x${i}`, tensor(dtype, s, Array.from({ length: numel(s) }, () => r.normal() * 2 + (i === 1 ? 1 : 0)))]));
  feeds['w'] = tensor(dtype, yf.shape as number[], Array.from({ length: numel(yf.shape as number[]) }, () => r.normal()));
  const o = await runGraph(g, feeds);
  const value = maxAbsDiff(toNumbers(o['yf']!), toNumbers(o['yc']!));
  const grad = Math.max(...shapes.map((_, i) => maxAbsDiff(toNumbers(o[`gf${i}`]!), toNumbers(o[`gc${i}`]!))));
  return { value, grad };
}

describe('fused ops match their compositions', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const tol = dtype === 'float64' ? 1e-12 : 1e-5;
    it(`Softmax (${dtype})`, async () => {
      const d = await compare((x) => F.softmax(x, -1), (x) => softmaxComposed(x, -1), [[3, 4, 7]], dtype);
      assert.ok(d.value < tol && d.grad < tol, JSON.stringify(d));
    });
    it(`LogSoftmax (${dtype})`, async () => {
      const d = await compare((x) => F.logSoftmax(x, 1), (x) => logSoftmaxComposed(x, 1), [[3, 9, 2]], dtype);
      assert.ok(d.value < tol && d.grad < tol, JSON.stringify(d));
    });
  }
  it('Gelu (float32; onnxruntime has no float64 Erf)', async () => {
    const d = await compare(F.gelu, geluComposed, [[5, 16]], 'float32');
    assert.ok(d.value < 1e-5 && d.grad < 1e-5, JSON.stringify(d));
  });
  for (const dtype of ['float32', 'float64'] as const) {
    it(`LayerNormalization (${dtype}; statistics are float32 in onnxruntime)`, async () => {
      const d = await compare((x, s, b) => F.layerNorm(x, s, b, 1e-12), (x, s, b) => layerNormComposed(x, s, b, 1e-12), [[2, 5, 32], [32], [32]], dtype);
      assert.ok(d.value < 1e-5 && d.grad < 1e-4, JSON.stringify(d));
    });
  }
});

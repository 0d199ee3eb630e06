/** The IR: deterministic serialization, symbolic shapes, and mistakes caught while building. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { apply } from '../src/engine/autodiff/index.js';
import { grad } from '../src/engine/autodiff/index.js';
import { A, BuildError, Graph } from '../src/engine/ir/graph.js';
import { loop } from '../src/engine/ir/loop.js';
import { decodeModel, serializeModel } from '../src/engine/ir/proto.js';
import { tensor, toNumbers } from '../src/engine/runtime/tensor.js';
import { runGraph } from './helpers.js';

function sample(attrOrder: 'ab' | 'ba') {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 4]);
  const w = g.input('w', 'float32', [4, 3]);
  const attrs = attrOrder === 'ab' ? { axis: A.i(-1), epsilon: A.f(1e-5) } : { epsilon: A.f(1e-5), axis: A.i(-1) };
  const y = apply('LayerNormalization', [F.matmul(x, w), g.input('s', 'float32', [3]), null], attrs)[0]!;
  const res = loop(g.input('n', 'int64', []), [y], (_i, [v]) => ({ carried: [F.tanh(v!)] }));
  g.output(res.carried[0]!, 'y');
  return g;
}

describe('serialization', () => {
  it('gives the same bytes for the same graph, whatever the attribute order', () => {
    const a = serializeModel(sample('ab')), b = serializeModel(sample('ab')), c = serializeModel(sample('ba'));
    assert.deepEqual(a, b);
    assert.deepEqual(a, c);
  });
  it('writes a ModelProto with the opset, symbolic dims and the Loop body', () => {
    const m = decodeModel(serializeModel(sample('ab')));
    assert.equal(m['irVersion'], 9);
    assert.deepEqual(m['opsetImport'], [{ version: 20 }]);
    const x = m['graph'].input[0];
    assert.equal(x.name, 'x');
    assert.deepEqual(x.type.tensorType.shape.dim, [{ dimParam: 'batch' }, { dimValue: 4 }]);
    const loopNode = m['graph'].node.find((n: { opType: string }) => n.opType === 'Loop');
    assert.equal(loopNode.attribute[0].name, 'body');
    assert.ok(loopNode.attribute[0].g.node.some((n: { opType: string }) => n.opType === 'Tanh'));
    assert.deepEqual(m['graph'].output.map((o: { name: string }) => o.name), ['y']);
  });
});

describe('symbolic shapes', () => {
  it('infers [batch, seq] through reshape and transpose, and runs at several sizes', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 'seq', 8]);
    const heads = F.transpose(F.reshape(x, [0, 0, 2, 4]), [0, 2, 1, 3]); // [batch, 2, seq, 4]
    assert.deepEqual(heads.shape, ['batch', 2, 'seq', 4]);
    const flat = F.reshape(x, [-1, 8]);
    assert.deepEqual(flat.shape, ['batch*seq', 8]);
    const back = F.reshape(flat, F.shapeOf(x));
    assert.deepEqual(back.shape, ['batch', 'seq', 8]);
    g.output(F.reduceSum(heads, [3]), 'y');
    for (const [b, s] of [[2, 3], [5, 1]] as const) {
      const data = Array.from({ length: b * s * 8 }, (_, i) => i * 0.5 - 3);
      const out = await runGraph(g, { x: tensor('float32', [b, s, 8], data) });
      assert.deepEqual(out['y']!.dims, [b, 2, s]);
      // Reference: y[i, h, t] = Σ_d x[i, t, h·4 + d]
      const want: number[] = [];
      for (let i = 0; i < b; i++) for (let h = 0; h < 2; h++) for (let t = 0; t < s; t++) {
        let acc = 0;
        for (let d = 0; d < 4; d++) acc += data[(i * s + t) * 8 + h * 4 + d]!;
        want.push(acc);
      }
      assert.deepEqual(toNumbers(out['y']!), want);
    }
  });
});

describe('mistakes are caught while building, with the op, shapes and a fix', () => {
  const g = new Graph();
  const a = g.input('a', 'float32', [2, 3]);
  const b = g.input('b', 'float32', [4, 5]);
  const is = (re: RegExp) => (e: unknown) => e instanceof BuildError && re.test(e.message);
  it('a MatMul with mismatched inner dims', () => {
    assert.throws(() => F.matmul(a, b), is(/^MatMul\(a: float32\[2, 3\], b: float32\[4, 5\]\): inner dims differ: 3 vs 4/));
  });
  it('shapes that do not broadcast', () => {
    assert.throws(() => F.add(a, g.input('c', 'float32', [4])), is(/Add\(.*\): shapes \[2, 3\] and \[4\] do not broadcast\. Reshape/));
  });
  it('different symbolic dims', () => {
    assert.throws(() => F.add(g.input('p', 'float32', ['n']), g.input('q', 'float32', ['m'])), is(/do not broadcast/));
  });
  it('an op onnxruntime has no kernel for at this dtype', () => {
    assert.throws(() => F.erf(g.input('d', 'float64', [3])), is(/Erf\(d: float64\[3\]\): onnxruntime has no Erf kernel for float64\. Cast to one of float32, float16 first/));
  });
  it('a gradient through an op without a rule names the op and the path', () => {
    const g2 = new Graph();
    const data = g2.input('data', 'float32', [4, 2]);
    const idx = g2.input('idx', 'int64', [1, 1]);
    const y = F.scatterNDAdd(data, idx, g2.input('u', 'float32', [1, 2]));
    assert.throws(() => grad(F.sumAll(y), [data]), is(/ScatterND\(data: float32\[4, 2\].*has no gradient rule.*via data\)/));
  });
  it('an unknown op', () => {
    assert.throws(() => apply('Frobnicate', [a]), is(/Frobnicate: not in the op table/));
  });
  it('a loss that is not a scalar', () => {
    assert.throws(() => grad(a, [a]), is(/the loss must be a scalar, got a: float32\[2, 3\]/));
  });
  it('a Reshape to the wrong number of elements', () => {
    assert.throws(() => F.reshape(a, [4, 2]), is(/Reshape\(.*\): target shape \[4, 2\] holds 8 elements, the input 6/));
  });
  it('a Loop body that changes a carried shape', () => {
    assert.throws(() => loop(g.input('n', 'int64', []), [a], (_i, [v]) => ({ carried: [F.reduceSum(v!, [0])] })), is(/carried value 0 enters as float32\[2, 3\] but the body returns float32\[3\]/));
  });
});

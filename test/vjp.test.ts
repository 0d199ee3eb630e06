/** Every primitive's vector-Jacobian product against central finite differences in float64. */
import { describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { crossEntropy, dropout } from '../src/engine/autodiff/index.js';
import { Value } from '../src/engine/ir/graph.js';
import { InputSpec, Rng, gradcheck, rng } from './helpers.js';

const pos = (r: Rng) => r.uniform(0.5, 2);
const awayFromZero = (r: Rng) => (r.next() < 0.5 ? -1 : 1) * r.uniform(0.2, 2);

/** Random broadcast-compatible pairs: B drops leading dims of A and sets some dims to 1. */
function broadcastPairs(seed: number, count: number): [number[], number[]][] {
  const r = rng(seed);
  return Array.from({ length: count }, () => {
    const a = Array.from({ length: r.int(1, 4) }, () => r.int(2, 4));
    let b = a.slice(r.int(0, a.length - 1)).map((d) => (r.next() < 0.4 ? 1 : d));
    return r.next() < 0.5 ? [a, b] : [b, a];
  });
}

describe('elementwise binary ops with broadcasting', () => {
  const pairs = broadcastPairs(7, 4);
  for (const [name, op, gen] of [
    ['Add', F.add, undefined], ['Sub', F.sub, undefined], ['Mul', F.mul, undefined], ['Div', F.div, pos],
    ['Max', F.max, undefined], ['Min', F.min, undefined],
  ] as const) {
    for (const [a, b] of pairs) {
      it(`${name} ${JSON.stringify(a)} with ${JSON.stringify(b)}`, () =>
        gradcheck((x, y) => op(x, y), [{ shape: a }, { shape: b, ...(gen ? { gen } : {}) }]));
    }
  }
  it('Pow with a constant exponent', () => gradcheck((x) => F.pow(x, 3), [{ shape: [3, 4], gen: pos }]));
  it('Pow with a tensor exponent, broadcast', () => gradcheck((x, e) => F.pow(x, e), [{ shape: [2, 3], gen: pos }, { shape: [3] }]));
});

describe('elementwise unary ops', () => {
  const cases: [string, (x: Value) => Value, InputSpec][] = [
    ['Neg', F.neg, { shape: [2, 5] }],
    ['Exp', F.exp, { shape: [3, 3] }],
    ['Log', F.log, { shape: [4, 2], gen: pos }],
    ['Sqrt', F.sqrt, { shape: [7], gen: pos }],
    ['Tanh', F.tanh, { shape: [2, 2, 3] }],
    ['Relu', F.relu, { shape: [3, 4], gen: awayFromZero }],
    ['Abs', F.abs, { shape: [3, 4], gen: awayFromZero }],
    ['Identity', F.identity, { shape: [5] }],
    ['Erf (float32)', F.erf, { shape: [3, 4], dtype: 'float32' }],
  ];
  for (const [name, op, spec] of cases) it(name, () => gradcheck(op, [spec]));
  it('Cast float64 → float32 → float64', () => gradcheck((x) => F.cast(F.cast(x, 'float32'), 'float64'), [{ shape: [6] }], { tol: 1e-3, h: 1e-3 }));
  it('Where with a broadcast condition', () => {
    const mask = [1, 0, 1];
    return gradcheck((c, a, b) => F.where(F.greater(c, 0.5), a, b), [
      { shape: [3], gen: (_r, i) => mask[i]!, diff: false }, { shape: [2, 3] }, { shape: [1] },
    ]);
  });
});

describe('shape ops', () => {
  it('Reshape with 0 and -1', () => gradcheck((x) => F.mul(F.reshape(x, [0, -1]), 1), [{ shape: [2, 3, 4] }]));
  it('Transpose', () => gradcheck((x) => F.transpose(x, [2, 0, 1]), [{ shape: [2, 3, 4] }]));
  it('Expand', () => gradcheck((x) => F.expand(x, F.ints(x, [2, 3, 4])), [{ shape: [3, 1] }]));
  it('Unsqueeze', () => gradcheck((x) => F.unsqueeze(x, [0, -1]), [{ shape: [3, 2] }]));
  it('Squeeze', () => gradcheck((x) => F.squeeze(x, [1]), [{ shape: [3, 1, 2] }]));
  it('Slice on two axes with negative bounds', () => gradcheck((x) => F.slice(x, [1, -3], [-1, 4], [0, 2]), [{ shape: [4, 3, 5] }]));
  it('Pad', () => gradcheck((x) => F.pad(x, [1, 0, 0, 2]), [{ shape: [2, 3] }]));
  it('Concat of three inputs', () => gradcheck((a, b, c) => F.concat([a, b, c], 1), [{ shape: [2, 1, 3] }, { shape: [2, 2, 3] }, { shape: [2, 3, 3] }]));
});

describe('indexing', () => {
  it('Gather of embedding rows with repeated indices (ScatterND add)', () => {
    const idx = [0, 3, 3, 1, 4, 0, 3, 2];
    return gradcheck((table, i) => F.gather(table, F.cast(i, 'int64'), 0), [{ shape: [5, 3] }, { shape: [2, 4], gen: (_r, k) => idx[k]!, diff: false }]);
  });
  it('GatherElements', () => {
    const idx = [2, 0, 1, 1, 2, 2];
    return gradcheck((x, i) => F.gatherElements(x, F.cast(i, 'int64'), 1), [{ shape: [3, 4] }, { shape: [3, 2], gen: (_r, k) => idx[k]!, diff: false }]);
  });
});

describe('linear algebra', () => {
  it('MatMul', () => gradcheck(F.matmul, [{ shape: [3, 4] }, { shape: [4, 5] }]));
  it('MatMul batched with a broadcast right operand', () => gradcheck(F.matmul, [{ shape: [2, 3, 4] }, { shape: [4, 5] }]));
  it('MatMul with broadcasting batch dims', () => gradcheck(F.matmul, [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }]));
});

describe('reductions', () => {
  it('ReduceSum keepdims=0', () => gradcheck((x) => F.reduceSum(x, [0, 2]), [{ shape: [2, 3, 4] }]));
  it('ReduceSum keepdims=1', () => gradcheck((x) => F.reduceSum(x, [1], true), [{ shape: [2, 3, 4] }]));
  it('ReduceMean', () => gradcheck((x) => F.reduceMean(x, [-1]), [{ shape: [3, 5] }]));
  it('ReduceMax (distinct values)', () => gradcheck((x) => F.reduceMax(x, [1], true), [{ shape: [3, 4], gen: (_r, i) => Math.sin(i * 1.7) * 3 }]));
});

describe('neural-network ops', () => {
  it('Softmax', () => gradcheck((x) => F.softmax(x, 1), [{ shape: [2, 5, 3] }]));
  it('LogSoftmax', () => gradcheck((x) => F.logSoftmax(x, -1), [{ shape: [3, 6] }]));
  it('Gelu (erf form, float32)', () => gradcheck(F.gelu, [{ shape: [4, 5], dtype: 'float32' }]));
  it('LayerNormalization (float32)', () =>
    gradcheck((x, s, b) => F.layerNorm(x, s, b, 1e-5), [{ shape: [2, 3, 6], dtype: 'float32' }, { shape: [6], dtype: 'float32' }, { shape: [6], dtype: 'float32' }]));
  it('Dropout with a fixed seed (mask reused by backward)', () =>
    gradcheck((x, seed) => dropout(x, 0.3, F.reshape(F.cast(seed, 'int64'), [])), [{ shape: [4, 6] }, { shape: [1], gen: () => 42, diff: false }]));
  it('cross-entropy with ignored labels', () => {
    const labels = [2, -100, 0, 4];
    return gradcheck((logits, y) => F.reshape(crossEntropy(logits, F.cast(y, 'int64')), [1]), [{ shape: [4, 5] }, { shape: [4], gen: (_r, i) => labels[i]!, diff: false }]);
  });
});

/**
 * Linear algebra, reductions and the fused neural-network ops (Softmax, LogSoftmax,
 * LayerNormalization, Gelu): type inference and vector-Jacobian products side by side.
 * Each fused op is tested against its composition from primitives (test/fused.test.ts).
 */
import { DType } from '../ir/dtype.js';
import { Value } from '../ir/graph.js';
import { Dim, broadcastShapes, dimProduct, fmtShape, normAxis, sameDim } from '../ir/shape.js';
import {
  add, cast, div, equal, erf, exp, expand, gather, ints, matmul, mul, reduceMean, reduceProd, reduceSum, reshape, shapeOf, sub, transpose, unsqueeze,
} from './ops.js';
import { OpCtx, VjpCtx, defineOps, fail } from './table.js';
import { attrInt, axesOf, floatOnly, input, knownInts, same, sumToShape } from './rules-util.js';

// Element types measured with scripts/probe-ort-types.ts (onnxruntime-node 1.30, CPU EP).
const F: DType[] = ['float32', 'float64', 'float16'];

function reduceInfer(ctx: OpCtx) {
  const x = input(ctx, 0);
  const axes = ctx.inputs[1] ? axesOf(ctx, 1, x.rank) : x.shape.map((_, i) => i);
  const keep = attrInt(ctx, 'keepdims', 1) === 1;
  const shape = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const known = ctx.op === 'ReduceProd' && x.known && x.rank === 1 ? [dimProduct(x.known)] : undefined;
  return [{ dtype: x.dtype, shape, ...(known ? { known } : {}) }];
}

/** The output gradient with the reduced axes restored as size-1 dims. */
function keptGrad(c: VjpCtx): { dyk: Value; axes: number[] } {
  const x = input(c, 0);
  const axes = c.inputs[1] ? axesOf(c, 1, x.rank) : x.shape.map((_, i) => i);
  const dy = c.dys[0]!;
  return { dyk: attrInt(c, 'keepdims', 1) === 1 ? dy : unsqueeze(dy, axes), axes };
}

/** Number of elements reduced over `axes`, static when the dims are. */
function countOver(x: Value, axes: number[]): Value | number {
  const dims: Dim[] = axes.map((a) => x.shape[a]!);
  const n = dimProduct(dims);
  return typeof n === 'number' ? n : cast(reduceProd(gather(shapeOf(x), ints(x, axes)), [0], false), x.dtype);
}

const lastTwo = (v: Value): Value => transpose(v, [...v.shape.keys()].map((i, _, a) => (i < a.length - 2 ? i : i === a.length - 2 ? a.length - 1 : a.length - 2)));

defineOps({
  MatMul: {
    types: ['float32', 'float64', 'float16', 'int64', 'int32'],
    infer: (ctx) => {
      const [a, b] = [input(ctx, 0), input(ctx, 1)];
      if (a.dtype !== b.dtype) fail(ctx, `element types differ (${a.dtype}, ${b.dtype})`, 'Cast one of them');
      if (a.rank < 2 || b.rank < 2) fail(ctx, 'both inputs need rank ≥ 2', 'Unsqueeze a vector to [1, n] or [n, 1]');
      const [m, k1] = a.shape.slice(-2), [k2, n] = b.shape.slice(-2);
      if (!sameDim(k1!, k2!)) fail(ctx, `inner dims differ: ${k1} vs ${k2}`, `the last dim of A must equal the second-to-last of B`);
      const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
      if (!batch) fail(ctx, `batch dims ${fmtShape(a.shape.slice(0, -2))} and ${fmtShape(b.shape.slice(0, -2))} do not broadcast`);
      return [{ dtype: a.dtype, shape: [...batch, m!, n!] }];
    },
    // dA = dY·Bᵀ, dB = Aᵀ·dY, each summed over broadcast batch dims. For a 2-D weight under a
    // batched input (every Linear layer) the batch is folded into one matmul, [K, B·T]·[B·T, N],
    // instead of B matmuls and a ReduceSum over their results.
    vjp: (c) => {
      const [a, b] = [input(c, 0), input(c, 1)], dy = c.dys[0]!;
      const dA = c.needs[0] ? sumToShape(matmul(dy, lastTwo(b)), a.shape) : null;
      let dB: Value | null = null;
      if (c.needs[1]) {
        if (b.rank === 2 && a.rank > 2) {
          const k = a.shape[a.rank - 1]!, n = dy.shape[dy.rank - 1]!;
          const a2 = typeof k === 'number' ? reshape(a, [-1, k]) : null, dy2 = typeof n === 'number' ? reshape(dy, [-1, n]) : null;
          dB = a2 && dy2 ? matmul(transpose(a2, [1, 0]), dy2) : sumToShape(matmul(lastTwo(a), dy), b.shape);
        } else dB = sumToShape(matmul(lastTwo(a), dy), b.shape);
      }
      return [dA, dB];
    },
  },
  ReduceSum: {
    types: ['float32', 'float64', 'float16', 'int64', 'int32'], infer: reduceInfer,
    vjp: (c) => { const { dyk } = keptGrad(c); return [expand(dyk, shapeOf(input(c, 0))), null]; },
  },
  ReduceMean: {
    types: ['float32', 'float64', 'float16', 'int64', 'int32'], infer: reduceInfer,
    vjp: (c) => { const x = input(c, 0), { dyk, axes } = keptGrad(c); return [div(expand(dyk, shapeOf(x)), countOver(x, axes)), null]; },
  },
  // The gradient goes to the maxima, split evenly between ties (as torch.amax does).
  ReduceMax: {
    types: ['float32', 'float64', 'float16', 'int64', 'int32', 'int8', 'uint8', 'bool'], infer: reduceInfer,
    vjp: (c) => {
      const x = input(c, 0), { dyk, axes } = keptGrad(c);
      const y = attrInt(c, 'keepdims', 1) === 1 ? c.outputs[0]! : unsqueeze(c.outputs[0]!, axes);
      const hit = cast(equal(x, y), x.dtype);
      return [div(mul(hit, dyk), reduceSum(hit, axes, true)), null];
    },
  },
  ReduceProd: { types: ['float32', 'float64', 'float16', 'int64', 'int32'], infer: reduceInfer },

  // Non-differentiable ops used by inference and int8 export.
  TopK: {
    types: ['float32', 'float64', 'float16', 'int64', 'int32'],
    infer: (ctx) => {
      const x = input(ctx, 0), k = knownInts(ctx, 1, 'k')[0]!;
      const axis = normAxis(attrInt(ctx, 'axis', -1), x.rank, () => 'TopK');
      const d = x.shape[axis]!;
      if (typeof d === 'number' && k > d) fail(ctx, `k = ${k} exceeds the axis size ${d}`);
      const shape = x.shape.map((s, i) => (i === axis ? k : s));
      return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape: [...shape] }];
    },
  },
  DynamicQuantizeLinear: {
    types: ['float32'],
    infer: (ctx) => [{ dtype: 'uint8', shape: [...input(ctx, 0).shape] }, { dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }],
  },
  MatMulInteger: {
    types: ['uint8', 'int8'],
    infer: (ctx) => {
      const [a, b] = [input(ctx, 0), input(ctx, 1)];
      if (a.rank < 2 || b.rank !== 2) fail(ctx, 'A needs rank ≥ 2 and B rank 2');
      if (!sameDim(a.shape[a.rank - 1]!, b.shape[0]!)) fail(ctx, `inner dims differ: ${a.shape[a.rank - 1]} vs ${b.shape[0]}`);
      return [{ dtype: 'int32', shape: [...a.shape.slice(0, -1), b.shape[1]!] }];
    },
  },
  DequantizeLinear: {
    types: ['int8', 'uint8', 'int32'],
    infer: (ctx) => [{ dtype: input(ctx, 1).dtype, shape: [...input(ctx, 0).shape] }],
  },
  Softmax: {
    types: F, infer: (ctx) => { floatOnly(ctx); normAxis(attrInt(ctx, 'axis', -1), input(ctx, 0).rank, () => 'Softmax'); return same(ctx); },
    // dx = y ⊙ (dy − Σ dy ⊙ y)
    vjp: (c) => { const y = c.outputs[0]!, dy = c.dys[0]!; return [mul(y, sub(dy, reduceSum(mul(dy, y), [attrInt(c, 'axis', -1)], true)))]; },
  },
  LogSoftmax: {
    types: F, infer: (ctx) => { floatOnly(ctx); normAxis(attrInt(ctx, 'axis', -1), input(ctx, 0).rank, () => 'LogSoftmax'); return same(ctx); },
    // dx = dy − softmax ⊙ Σ dy
    vjp: (c) => { const y = c.outputs[0]!, dy = c.dys[0]!; return [sub(dy, mul(exp(y), reduceSum(dy, [attrInt(c, 'axis', -1)], true)))]; },
  },
  Gelu: {
    types: ['float32', 'float16'], infer: (ctx) => { floatOnly(ctx); return same(ctx); },
    // d/dx x·Φ(x) = Φ(x) + x·φ(x)
    vjp: (c) => {
      const x = input(c, 0);
      const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
      const pdf = mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return [mul(c.dys[0]!, add(cdf, mul(x, pdf)))];
    },
  },
  LayerNormalization: {
    types: F,
    typeInput: 0,
    infer: (ctx) => {
      const [x, scale] = [input(ctx, 0), input(ctx, 1)];
      const axis = normAxis(attrInt(ctx, 'axis', -1), x.rank, () => 'LayerNormalization');
      const norm = x.shape.slice(axis);
      const bias = ctx.inputs[2];
      for (const [what, v] of [['scale', scale], ['bias', bias]] as const) {
        if (v && (v.rank !== norm.length || !v.shape.every((d, i) => sameDim(d, norm[i]!)))) fail(ctx, `${what} must have the normalized shape ${fmtShape(norm)}`);
        if (v && v.dtype !== x.dtype) fail(ctx, `${what} must be ${x.dtype}`);
      }
      // Mean and InvStdDev are float32 whatever the input type (stash_type = 1, measured).
      const stat = x.shape.map((d, i) => (i < axis ? d : 1));
      return [{ dtype: x.dtype, shape: [...x.shape] }, { dtype: 'float32', shape: stat }, { dtype: 'float32', shape: stat }];
    },
    // With x̂ = (x − μ)·r:  dx = r·(g − mean(g) − x̂·mean(g·x̂)),  g = dy·scale;
    // dscale = Σ dy·x̂ and dbias = Σ dy over the leading (batch) axes.
    vjp: (c) => {
      const [x, scale] = [input(c, 0), input(c, 1)], dy = c.dys[0]!;
      const [mu, r] = [cast(c.outputs[1]!, x.dtype), cast(c.outputs[2]!, x.dtype)];
      const axis = normAxis(attrInt(c, 'axis', -1), x.rank, () => 'LayerNormalization');
      const normAxes = x.shape.map((_, i) => i).filter((i) => i >= axis);
      const xhat = mul(sub(x, mu), r);
      let dx: Value | null = null;
      if (c.needs[0]) {
        const g = mul(dy, scale);
        dx = mul(r, sub(sub(g, reduceMean(g, normAxes, true)), mul(xhat, reduceMean(mul(g, xhat), normAxes, true))));
      }
      return [dx, c.needs[1] ? sumToShape(mul(dy, xhat), scale.shape) : null, c.needs[2] ? sumToShape(dy, c.inputs[2]!.shape) : null];
    },
  },
});


/**
 * Elementwise ops: type inference and vector-Jacobian product side by side.
 * Binary rules compute the gradient at the broadcast shape; sumToShape undoes broadcasting.
 */
import { DType, ONNX_DTYPE } from '../ir/dtype.js';
import { Value } from '../ir/graph.js';
import {
  cast, div, exp, greater, less, log, mul, neg, pow, sub, where,
} from './ops.js';
import { OpCtx, VjpCtx, defineOps, fail } from './table.js';
import { attrInt, broadcast, floatOnly, input, same, sameDtypes, sumToShape } from './rules-util.js';

// Element types measured with scripts/probe-ort-types.ts (onnxruntime-node 1.30, CPU EP).
const F: DType[] = ['float32', 'float64', 'float16'];
const NUM: DType[] = ['float32', 'float64', 'float16', 'int64', 'int32', 'int8', 'uint8'];

const binary = (ctx: OpCtx) => [{ dtype: sameDtypes(ctx, [0, 1]), shape: broadcast(ctx, [0, 1]) }];
const compare = (ctx: OpCtx) => { sameDtypes(ctx, [0, 1]); return [{ dtype: 'bool' as DType, shape: broadcast(ctx, [0, 1]) }]; };
const unary = (ctx: OpCtx) => { floatOnly(ctx); return same(ctx); };

/** Gradients of a binary op given its local derivatives at the broadcast shape. */
function binaryGrads(c: VjpCtx, da: () => Value, db: () => Value): (Value | null)[] {
  const [a, b] = [input(c, 0), input(c, 1)];
  return [c.needs[0] ? sumToShape(da(), a.shape) : null, c.needs[1] ? sumToShape(db(), b.shape) : null];
}
const dy0 = (c: VjpCtx): Value => c.dys[0]!;

defineOps({
  Add: { types: NUM, infer: binary, vjp: (c) => binaryGrads(c, () => dy0(c), () => dy0(c)) },
  Sub: { types: NUM, infer: binary, vjp: (c) => binaryGrads(c, () => dy0(c), () => neg(dy0(c))) },
  Mul: {
    types: NUM, infer: binary,
    vjp: (c) => binaryGrads(c, () => mul(dy0(c), input(c, 1)), () => mul(dy0(c), input(c, 0))),
  },
  Div: {
    types: NUM, infer: binary,
    // d(a/b)/db = -a/b² = -y/b
    vjp: (c) => binaryGrads(c, () => div(dy0(c), input(c, 1)), () => neg(div(mul(dy0(c), c.outputs[0]!), input(c, 1)))),
  },
  Pow: {
    types: F,
    infer: (ctx) => { floatOnly(ctx, 1); return [{ dtype: input(ctx, 0).dtype, shape: broadcast(ctx, [0, 1]) }]; },
    // d(x^c)/dx = c·x^(c−1);  d(x^c)/dc = x^c·log x
    vjp: (c) => {
      const [x, e] = [input(c, 0), input(c, 1)];
      return binaryGrads(c,
        () => mul(dy0(c), mul(cast(e, x.dtype), pow(x, sub(cast(e, x.dtype), 1)))),
        () => cast(mul(dy0(c), mul(c.outputs[0]!, log(x))), e.dtype));
    },
  },
  // Max/Min route the gradient to the chosen operand (ties to the first).
  Max: { types: NUM, infer: binary, vjp: (c) => minmax(c, less(input(c, 0), input(c, 1))) },
  Min: { types: NUM, infer: binary, vjp: (c) => minmax(c, less(input(c, 1), input(c, 0))) },
  Mod: { types: ['int64', 'int32', 'int8', 'uint8'], infer: binary },

  Neg: { types: ['float32', 'float64', 'float16', 'int64', 'int32', 'int8'], infer: same, vjp: (c) => [neg(dy0(c))] },
  Exp: { types: F, infer: unary, vjp: (c) => [mul(dy0(c), c.outputs[0]!)] },
  Log: { types: F, infer: unary, vjp: (c) => [div(dy0(c), input(c, 0))] },
  Sqrt: { types: F, infer: unary, vjp: (c) => [div(dy0(c), mul(c.outputs[0]!, 2))] },
  Tanh: { types: F, infer: unary, vjp: (c) => { const y = c.outputs[0]!; return [mul(dy0(c), sub(1, mul(y, y)))]; } },
  // d erf(x)/dx = 2/√π · exp(−x²)
  Erf: { types: ['float32', 'float16'], infer: unary, vjp: (c) => { const x = input(c, 0); return [mul(dy0(c), mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)))]; } },
  Relu: { types: F, infer: unary, vjp: (c) => [where(greater(c.outputs[0]!, 0), dy0(c), 0)] },
  // Piecewise constant: no gradient flows (used for hashing and rounding).
  Floor: { types: F, infer: unary },
  Abs: { types: NUM, infer: same, vjp: (c) => [where(less(input(c, 0), 0), neg(dy0(c)), dy0(c))] },
  Identity: { types: [...NUM, 'bool'], infer: same, vjp: (c) => [dy0(c)] },

  Equal: { types: [...NUM, 'bool'], infer: compare },
  Less: { types: NUM, infer: compare },
  Greater: { types: NUM, infer: compare },
  Not: { types: ['bool'], infer: same },
  And: { types: ['bool'], infer: compare },
  Where: {
    types: ['float32', 'float64', 'float16', 'int64', 'int32', 'uint8'],
    typeInput: 1,
    infer: (ctx) => [{ dtype: sameDtypes(ctx, [1, 2]), shape: broadcast(ctx, [0, 1, 2]) }],
    vjp: (c) => {
      const [cond, a, b] = [input(c, 0), input(c, 1), input(c, 2)];
      return [null,
        c.needs[1] ? sumToShape(where(cond, dy0(c), 0), a.shape) : null,
        c.needs[2] ? sumToShape(where(cond, 0, dy0(c)), b.shape) : null];
    },
  },
  Cast: {
    types: ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int8', 'uint8', 'bool'],
    infer: (ctx) => {
      const code = attrInt(ctx, 'to');
      const to = (Object.entries(ONNX_DTYPE).find(([, v]) => v === code)?.[0]) as DType | undefined;
      if (!to) fail(ctx, `unsupported target type code ${code}`);
      return [{ dtype: to, shape: [...input(ctx, 0).shape] }];
    },
    // Only float→float casts pass a gradient; a cast to an integer type cuts the path.
    vjp: (c) => {
      const x = input(c, 0);
      if (!F.includes(x.dtype) && x.dtype !== 'float16' || !['float32', 'float64', 'float16'].includes(c.outputs[0]!.dtype)) return [null];
      return [cast(dy0(c), x.dtype)];
    },
  },
});


function minmax(c: VjpCtx, pickB: Value): (Value | null)[] {
  return binaryGrads(c, () => where(pickB, 0, dy0(c)), () => where(pickB, dy0(c), 0));
}


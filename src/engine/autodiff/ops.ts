/**
 * Builder functions for the table's ops: positional arguments are graph inputs, options are
 * attributes. Numbers given where a tensor is expected become scalar constants of the other
 * operand's dtype.
 */
import { DType, ONNX_DTYPE } from '../ir/dtype.js';
import { A, BuildError, Value } from '../ir/graph.js';
import { Dim } from '../ir/shape.js';
import { apply } from './table.js';

export type In = Value | number;

/** A scalar constant of `like`'s dtype (or `dtype`) in `like`'s graph. */
export function scalar(like: Value, x: number, dtype: DType = like.dtype): Value {
  return like.graph.constant(dtype, [], [dtype === 'int64' ? BigInt(Math.trunc(x)) : x]);
}
/** A 1-D int64 constant (axes, shapes, starts…) in `like`'s graph. */
export function ints(like: Value, xs: readonly number[]): Value {
  return like.graph.constant('int64', [xs.length], xs.map((x) => BigInt(x)));
}
function pair(a: In, b: In, op: string): [Value, Value] {
  if (a instanceof Value && b instanceof Value) return [a, b];
  if (a instanceof Value) return [a, scalar(a, b as number)];
  if (b instanceof Value) return [scalar(b, a as number), b];
  throw new BuildError(`${op}: at least one operand must be a tensor value, got ${a} and ${b}`);
}
const one = (op: string, inputs: (Value | null)[], attrs = {}): Value => apply(op, inputs, attrs)[0]!;

// Elementwise arithmetic (numpy broadcasting).
export const add = (a: In, b: In): Value => one('Add', pair(a, b, 'Add'));
export const sub = (a: In, b: In): Value => one('Sub', pair(a, b, 'Sub'));
export const mul = (a: In, b: In): Value => one('Mul', pair(a, b, 'Mul'));
export const div = (a: In, b: In): Value => one('Div', pair(a, b, 'Div'));
export const pow = (a: In, b: In): Value => one('Pow', pair(a, b, 'Pow'));
export const max = (a: In, b: In): Value => one('Max', pair(a, b, 'Max'));
export const min = (a: In, b: In): Value => one('Min', pair(a, b, 'Min'));
export const mod = (a: In, b: In): Value => one('Mod', pair(a, b, 'Mod'));
export const neg = (x: Value): Value => one('Neg', [x]);
export const exp = (x: Value): Value => one('Exp', [x]);
export const log = (x: Value): Value => one('Log', [x]);
export const sqrt = (x: Value): Value => one('Sqrt', [x]);
export const tanh = (x: Value): Value => one('Tanh', [x]);
export const erf = (x: Value): Value => one('Erf', [x]);
export const relu = (x: Value): Value => one('Relu', [x]);
export const abs = (x: Value): Value => one('Abs', [x]);
export const floor = (x: Value): Value => one('Floor', [x]);
export const identity = (x: Value): Value => one('Identity', [x]);

// Comparisons and logic (no gradient flows through their bool outputs).
export const equal = (a: In, b: In): Value => one('Equal', pair(a, b, 'Equal'));
export const less = (a: In, b: In): Value => one('Less', pair(a, b, 'Less'));
export const greater = (a: In, b: In): Value => one('Greater', pair(a, b, 'Greater'));
export const not = (x: Value): Value => one('Not', [x]);
export const and = (a: Value, b: Value): Value => one('And', [a, b]);
export function where(cond: Value, a: In, b: In): Value {
  const [x, y] = pair(a, b, 'Where');
  return one('Where', [cond, x, y]);
}
export const cast = (x: Value, to: DType): Value => (x.dtype === to ? x : one('Cast', [x], { to: A.i(ONNX_DTYPE[to]) }));

// Linear algebra.
export const matmul = (a: Value, b: Value): Value => one('MatMul', [a, b]);

// Shapes. Shapes given as arrays may use 0 (copy the input dim) and -1 (infer), as in ONNX Reshape.
export const shapeOf = (x: Value): Value => one('Shape', [x]);
export const reshape = (x: Value, shape: readonly Dim[] | Value): Value =>
  one('Reshape', [x, shape instanceof Value ? shape : ints(x, shape.map((d) => { if (typeof d !== 'number') throw new BuildError(`Reshape(${x}): a literal target shape takes numbers, got "${d}"; pass shapeOf(value) for symbolic dims`); return d; }))]);
/** Reshape `x` to the (runtime) shape of `like`. */
export const reshapeLike = (x: Value, like: Value): Value => (x.shape.length === like.shape.length && x.shape.every((d, i) => d === like.shape[i]) ? x : reshape(x, shapeOf(like)));
export const transpose = (x: Value, perm: readonly number[]): Value => one('Transpose', [x], { perm: A.ints([...perm]) });
export const expand = (x: Value, shape: Value): Value => one('Expand', [x, shape]);
export const unsqueeze = (x: Value, axes: readonly number[]): Value => one('Unsqueeze', [x, ints(x, axes)]);
export const squeeze = (x: Value, axes: readonly number[]): Value => one('Squeeze', [x, ints(x, axes)]);
export const slice = (x: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[]): Value =>
  one('Slice', [x, ints(x, starts), ints(x, ends), ints(x, axes), ...(steps ? [ints(x, steps)] : [])]);
export const concat = (xs: readonly Value[], axis: number): Value => one('Concat', [...xs], { axis: A.i(axis) });
export const pad = (x: Value, pads: readonly number[]): Value => one('Pad', [x, ints(x, pads)], { mode: A.s('constant') });
export const constantOfShape = (shape: Value, dtype: DType, value: number): Value =>
  one('ConstantOfShape', [shape], { value: A.t({ dtype, dims: [1], bytes: scalarBytes(dtype, value) }) });
export const zerosLike = (x: Value): Value => constantOfShape(shapeOf(x), x.dtype, 0);
export const range = (start: Value, limit: Value, delta: Value): Value => one('Range', [start, limit, delta]);
function scalarBytes(dtype: DType, v: number): Uint8Array {
  const buf = new ArrayBuffer(8), dv = new DataView(buf);
  switch (dtype) {
    case 'float32': dv.setFloat32(0, v, true); return new Uint8Array(buf, 0, 4);
    case 'float64': dv.setFloat64(0, v, true); return new Uint8Array(buf, 0, 8);
    case 'int64': dv.setBigInt64(0, BigInt(v), true); return new Uint8Array(buf, 0, 8);
    case 'int32': dv.setInt32(0, v, true); return new Uint8Array(buf, 0, 4);
    case 'bool': case 'uint8': case 'int8': dv.setUint8(0, v); return new Uint8Array(buf, 0, 1);
    default: throw new BuildError(`ConstantOfShape: fill values of ${dtype} are not supported; use float32 and Cast`);
  }
}

// Indexing.
export const gather = (data: Value, indices: Value, axis = 0): Value => one('Gather', [data, indices], { axis: A.i(axis) });
export const gatherElements = (data: Value, indices: Value, axis: number): Value => one('GatherElements', [data, indices], { axis: A.i(axis) });
export const scatterNDAdd = (data: Value, indices: Value, updates: Value): Value => one('ScatterND', [data, indices, updates], { reduction: A.s('add') });
export const scatterElementsAdd = (data: Value, indices: Value, updates: Value, axis: number): Value =>
  one('ScatterElements', [data, indices, updates], { axis: A.i(axis), reduction: A.s('add') });

// Reductions (axes given as an input, as in opset 18+).
export const reduceSum = (x: Value, axes: readonly number[], keepdims = false): Value =>
  one('ReduceSum', [x, ints(x, axes)], { keepdims: A.i(keepdims ? 1 : 0) });
export const reduceMean = (x: Value, axes: readonly number[], keepdims = false): Value =>
  one('ReduceMean', [x, ints(x, axes)], { keepdims: A.i(keepdims ? 1 : 0) });
export const reduceMax = (x: Value, axes: readonly number[], keepdims = false): Value =>
  one('ReduceMax', [x, ints(x, axes)], { keepdims: A.i(keepdims ? 1 : 0) });
export const reduceProd = (x: Value, axes: readonly number[], keepdims = false): Value =>
  one('ReduceProd', [x, ints(x, axes)], { keepdims: A.i(keepdims ? 1 : 0) });
/** Sum of all elements, as a scalar. */
export const sumAll = (x: Value): Value => reduceSum(x, x.shape.map((_, i) => i), false);

/** The k largest values along `axis` and their indices, sorted. */
export function topK(x: Value, k: number, axis = -1): { values: Value; indices: Value } {
  const [values, indices] = apply('TopK', [x, ints(x, [k])], { axis: A.i(axis), largest: A.i(1), sorted: A.i(1) }) as [Value, Value];
  return { values, indices };
}

// Neural-network ops (fused kernels; tests prove each equals its composition in rules-nn.ts).
export const softmax = (x: Value, axis = -1): Value => one('Softmax', [x], { axis: A.i(axis) });
export const logSoftmax = (x: Value, axis = -1): Value => one('LogSoftmax', [x], { axis: A.i(axis) });
export const gelu = (x: Value): Value => one('Gelu', [x], { approximate: A.s('none') });
export function layerNorm(x: Value, scale: Value, bias: Value | null, epsilon: number, axis = -1): Value {
  return apply('LayerNormalization', [x, scale, bias], { axis: A.i(axis), epsilon: A.f(epsilon) })[0]!;
}

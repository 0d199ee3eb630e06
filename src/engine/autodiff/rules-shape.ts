/**
 * Shape and indexing ops: type inference (tracking the contents of shape vectors while building)
 * and vector-Jacobian products side by side.
 */
import { DType } from '../ir/dtype.js';
import { Dim, broadcastShapes, dimDivide, dimProduct, fmtShape, normAxis, sameDim } from '../ir/shape.js';
import {
  pad, reshapeLike, scatterElementsAdd, scatterNDAdd, slice, squeeze, transpose, unsqueeze, zerosLike,
} from './ops.js';
import { OpCtx, defineOps, fail } from './table.js';
import { attrInt, attrInts, axesOf, input, knownInts, sumToShape } from './rules-util.js';

const ANY: DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int8', 'uint8', 'bool'];
const INT_MAX = 2 ** 62;

function knownDims(ctx: OpCtx, i: number, what: string): Dim[] {
  const v = input(ctx, i);
  if (!v.known) fail(ctx, `${what} (input ${i}) must be known while building: a constant, or built from shapeOf()`);
  return v.known;
}

function reshapeDims(ctx: OpCtx): Dim[] {
  const x = input(ctx, 0);
  const target = knownDims(ctx, 1, 'the target shape');
  const out = target.map((d, i) => (d === 0 ? (x.shape[i] ?? fail(ctx, `0 at position ${i} copies a dim the input does not have`)) : d));
  const minus = out.flatMap((d, i) => (d === -1 ? [i] : []));
  if (minus.length > 1) fail(ctx, `at most one -1 is allowed in the target shape ${fmtShape(target)}`);
  const total = dimProduct(x.shape);
  if (minus.length === 1) {
    const rest = dimProduct(out.filter((d) => d !== -1));
    const d = dimDivide(total, rest);
    if (d === undefined) fail(ctx, `cannot infer -1: ${total} elements do not divide by ${rest}`);
    out[minus[0]!] = d;
  } else if (!sameDim(dimProduct(out), total)) {
    fail(ctx, `target shape ${fmtShape(out)} holds ${dimProduct(out)} elements, the input ${total}`);
  }
  return out;
}

/** Normalized [start, end, step] per sliced axis; `len` is the output dim. */
function sliceSpec(ctx: OpCtx) {
  const x = input(ctx, 0);
  const starts = knownInts(ctx, 1, 'starts'), ends = knownInts(ctx, 2, 'ends');
  const axes = ctx.inputs[3] ? axesOf(ctx, 3, x.rank) : starts.map((_, i) => i);
  const steps = ctx.inputs[4] ? knownInts(ctx, 4, 'steps') : starts.map(() => 1);
  if (starts.length !== ends.length || axes.length !== starts.length || steps.length !== starts.length) fail(ctx, 'starts, ends, axes and steps must have one entry per sliced axis');
  return axes.map((axis, k) => {
    const d = x.shape[axis]!, step = steps[k]!;
    let s = starts[k]!, e = ends[k]!;
    if (step === 0) fail(ctx, 'a step of 0 is not allowed');
    if (typeof d !== 'number') {
      // Symbolic dim: only forward slices from a non-negative start are understood.
      if (step !== 1 || s < 0 || e < 0) fail(ctx, `axis ${axis} has the symbolic size "${d}"; slice it with step 1 and non-negative starts and ends, or give it a static size`);
      const len: Dim = e >= INT_MAX / 2 ? (s === 0 ? d : fail(ctx, `slicing "${d}" from ${s} to its end needs a static size`)) : e - s;
      return { axis, s, e: e >= INT_MAX / 2 ? null : e, step, len };
    }
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) { s = Math.min(Math.max(s, 0), d); e = Math.min(Math.max(e, 0), d); }
    else { s = Math.min(Math.max(s, 0), d - 1); e = Math.min(Math.max(e, -1), d - 1); }
    const len = Math.max(0, Math.ceil((e - s) / step));
    return { axis, s, e, step, len };
  });
}

defineOps({
  Shape: { types: ANY, infer: (ctx) => [{ dtype: 'int64', shape: [input(ctx, 0).rank], known: [...input(ctx, 0).shape] }] },
  Reshape: {
    types: ANY,
    infer: (ctx) => { const shape = reshapeDims(ctx); return [{ dtype: input(ctx, 0).dtype, shape, ...(input(ctx, 0).known && shape.length <= 1 ? { known: input(ctx, 0).known } : {}) }]; },
    vjp: (c) => [reshapeLike(c.dys[0]!, input(c, 0)), null],
  },
  Transpose: {
    types: ANY,
    infer: (ctx) => {
      const x = input(ctx, 0);
      const perm = attrInts(ctx, 'perm') ?? x.shape.map((_, i) => x.rank - 1 - i);
      if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i)) fail(ctx, `perm ${fmtShape(perm)} is not a permutation of ${x.rank} axes`);
      return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }];
    },
    vjp: (c) => {
      const perm = attrInts(c, 'perm') ?? input(c, 0).shape.map((_, i, a) => a.length - 1 - i);
      const inv = perm.map((_, i) => perm.indexOf(i));
      return [transpose(c.dys[0]!, inv)];
    },
  },
  Expand: {
    types: ANY,
    infer: (ctx) => {
      const x = input(ctx, 0), target = knownDims(ctx, 1, 'the target shape');
      const shape = broadcastShapes(x.shape, target);
      if (!shape) fail(ctx, `cannot expand ${fmtShape(x.shape)} to ${fmtShape(target)}`, 'each dim must equal the target\'s or be 1');
      return [{ dtype: x.dtype, shape }];
    },
    vjp: (c) => [sumToShape(c.dys[0]!, input(c, 0).shape), null],
  },
  Unsqueeze: {
    types: ANY,
    infer: (ctx) => {
      const x = input(ctx, 0);
      const rank = x.rank + knownInts(ctx, 1, 'axes').length;
      const axes = axesOf(ctx, 1, rank);
      const rest = [...x.shape];
      return [{ dtype: x.dtype, shape: Array.from({ length: rank }, (_, i) => (axes.includes(i) ? 1 : rest.shift()!)), ...(x.known && rank === 1 ? { known: x.known } : {}) }];
    },
    vjp: (c) => [squeeze(c.dys[0]!, knownInts(c, 1, 'axes')), null],
  },
  Squeeze: {
    types: ANY,
    infer: (ctx) => {
      const x = input(ctx, 0);
      const axes = axesOf(ctx, 1, x.rank);
      for (const a of axes) if (x.shape[a] !== 1) fail(ctx, `axis ${a} has size ${x.shape[a]}, not 1`);
      return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)), ...(x.known ? { known: x.known } : {}) }];
    },
    vjp: (c) => [unsqueeze(c.dys[0]!, axesOf(c, 1, input(c, 0).rank)), null],
  },
  Slice: {
    types: ANY,
    infer: (ctx) => {
      const x = input(ctx, 0), shape = [...x.shape];
      const spec = sliceSpec(ctx);
      for (const { axis, len } of spec) shape[axis] = len;
      const known = x.known && x.rank === 1 && spec.length === 1 && spec[0]!.step === 1 && spec[0]!.e !== null
        ? x.known.slice(spec[0]!.s, spec[0]!.e) : undefined;
      return [{ dtype: x.dtype, shape, ...(known ? { known } : {}) }];
    },
    // The gradient is the output gradient padded with zeros back to the input's extent.
    vjp: (c) => {
      const x = input(c, 0), pads = new Array<number>(2 * x.rank).fill(0);
      for (const { axis, s, e, step } of sliceSpec(c)) {
        if (step !== 1) fail(c, 'the gradient of a strided Slice is not implemented', 'use step 1, or Gather with explicit indices');
        const d = x.shape[axis]!;
        if (e !== null && typeof d !== 'number') fail(c, `the gradient needs the static size of axis ${axis} ("${d}")`);
        pads[axis] = s;
        pads[axis + x.rank] = e === null ? 0 : (d as number) - e;
      }
      return [pad(c.dys[0]!, pads), null, null, null, null];
    },
  },
  Pad: {
    types: ANY,
    infer: (ctx) => {
      const x = input(ctx, 0), pads = knownInts(ctx, 1, 'pads');
      if (pads.length !== 2 * x.rank) fail(ctx, `pads needs ${2 * x.rank} entries, got ${pads.length}`);
      return [{ dtype: x.dtype, shape: x.shape.map((d, i) => {
        const p = pads[i]! + pads[i + x.rank]!;
        if (p === 0) return d;
        if (typeof d !== 'number') fail(ctx, `cannot pad the symbolic axis ${i} ("${d}")`);
        return d + p;
      }) }];
    },
    vjp: (c) => {
      const x = input(c, 0), pads = knownInts(c, 1, 'pads');
      const axes = x.shape.map((_, i) => i);
      return [slice(c.dys[0]!, axes.map((i) => pads[i]!), axes.map((i) => (pads[i + x.rank]! === 0 ? INT_MAX : -pads[i + x.rank]!)), axes), null];
    },
  },
  Concat: {
    types: ANY,
    infer: (ctx) => {
      const xs = ctx.inputs.map((_, i) => input(ctx, i));
      const axis = normAxis(attrInt(ctx, 'axis'), xs[0]!.rank, () => 'Concat');
      const shape = [...xs[0]!.shape];
      for (const x of xs.slice(1)) {
        if (x.rank !== shape.length || x.dtype !== xs[0]!.dtype) fail(ctx, 'inputs must share rank and element type');
        x.shape.forEach((d, i) => { if (i !== axis && !sameDim(d, shape[i]!)) fail(ctx, `dim ${i} differs (${shape[i]} vs ${d}); only axis ${axis} may differ`); });
      }
      const sizes = xs.map((x) => x.shape[axis]!);
      shape[axis] = sizes.every((d) => typeof d === 'number') ? (sizes as number[]).reduce((a, b) => a + b, 0) : sizes.join('+');
      const known = xs.every((x) => x.known) && shape.length === 1 ? xs.flatMap((x) => x.known!) : undefined;
      return [{ dtype: xs[0]!.dtype, shape, ...(known ? { known } : {}) }];
    },
    vjp: (c) => {
      const axis = attrInt(c, 'axis');
      let offset = 0;
      return c.inputs.map((v, i) => {
        const size = v!.shape[normAxis(axis, v!.rank, () => 'Concat')]!;
        if (typeof size !== 'number') fail(c, `the gradient needs static sizes along the concatenated axis, input ${i} has "${size}"`);
        const g = c.needs[i] ? slice(c.dys[0]!, [offset], [offset + size], [axis]) : null;
        offset += size;
        return g;
      });
    },
  },
  ConstantOfShape: {
    types: ['int64'],
    infer: (ctx) => {
      const value = ctx.attrs['value'];
      const dtype: DType = value && 't' in value ? value.t.dtype : 'float32';
      return [{ dtype, shape: knownDims(ctx, 0, 'the shape') }];
    },
  },
  Range: {
    types: ['int64', 'int32', 'float32', 'float64'],
    infer: (ctx) => {
      const [s, l, d] = [0, 1, 2].map((i) => input(ctx, i).known?.[0]);
      let len: Dim;
      if (typeof s === 'number' && typeof l === 'number' && typeof d === 'number') len = Math.max(0, Math.ceil((l - s) / d));
      else if (s === 0 && d === 1 && l !== undefined) len = l;
      else fail(ctx, 'start, limit and delta must be known while building (limit may be symbolic when start is 0 and delta 1)');
      return [{ dtype: input(ctx, 0).dtype, shape: [len] }];
    },
  },
  Gather: {
    types: ANY,
    infer: (ctx) => {
      const [data, idx] = [input(ctx, 0), input(ctx, 1)];
      if (idx.dtype !== 'int64' && idx.dtype !== 'int32') fail(ctx, `indices must be int64 or int32, got ${idx.dtype}`);
      const axis = normAxis(attrInt(ctx, 'axis', 0), data.rank, () => 'Gather');
      const shape = [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)];
      const known = data.known && idx.known && data.rank === 1 ? (idx.known as number[]).map((i) => data.known![i < 0 ? i + data.known!.length : i]!) : undefined;
      return [{ dtype: data.dtype, shape, ...(known ? { known } : {}) }];
    },
    // Rows gathered from the data receive the output gradient, summed where an index repeats
    // (ScatterND with reduction='add', as for an embedding table).
    vjp: (c) => {
      const [data, idx] = [input(c, 0), input(c, 1)];
      if (normAxis(attrInt(c, 'axis', 0), data.rank, () => 'Gather') !== 0) fail(c, 'the gradient is implemented for axis 0 only', 'Transpose the gathered axis to the front');
      return [scatterNDAdd(zerosLike(data), unsqueeze(idx, [-1]), c.dys[0]!), null];
    },
  },
  GatherElements: {
    types: ANY,
    infer: (ctx) => {
      const [data, idx] = [input(ctx, 0), input(ctx, 1)];
      if (data.rank !== idx.rank) fail(ctx, 'data and indices must have the same rank');
      return [{ dtype: data.dtype, shape: [...idx.shape] }];
    },
    vjp: (c) => [scatterElementsAdd(zerosLike(input(c, 0)), input(c, 1), c.dys[0]!, attrInt(c, 'axis', 0)), null],
  },
  ScatterND: {
    types: ANY,
    infer: (ctx) => {
      const [data, idx, upd] = [input(ctx, 0), input(ctx, 1), input(ctx, 2)];
      const k = idx.shape[idx.rank - 1];
      if (typeof k !== 'number') fail(ctx, 'the last dim of indices must be static');
      const want = [...idx.shape.slice(0, -1), ...data.shape.slice(k)];
      if (upd.rank !== want.length || !upd.shape.every((d, i) => sameDim(d, want[i]!))) fail(ctx, `updates must have shape ${fmtShape(want)}`);
      return [{ dtype: data.dtype, shape: [...data.shape] }];
    },
  },
  ScatterElements: {
    types: ANY,
    infer: (ctx) => [{ dtype: input(ctx, 0).dtype, shape: [...input(ctx, 0).shape] }],
  },
});


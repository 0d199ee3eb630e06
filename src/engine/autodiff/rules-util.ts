/** Helpers shared by the op rules: attribute access, broadcasting inference, undoing broadcasting. */
import { DType, isFloat } from '../ir/dtype.js';
import { Attr, BuildError, TensorType, Value } from '../ir/graph.js';
import { Dim, broadcastShapes, fmtShape, normAxis, sameShape } from '../ir/shape.js';
import { OpCtx, fail } from './table.js';
import { reduceSum, reshape } from './ops.js';

export function attrInt(ctx: OpCtx, name: string, dflt?: number): number {
  const a: Attr | undefined = ctx.attrs[name];
  if (a && 'i' in a) return a.i;
  if (dflt === undefined) fail(ctx, `attribute "${name}" (int) is required`);
  return dflt;
}
export function attrFloat(ctx: OpCtx, name: string, dflt: number): number {
  const a = ctx.attrs[name];
  return a && 'f' in a ? a.f : dflt;
}
export function attrInts(ctx: OpCtx, name: string): number[] | undefined {
  const a = ctx.attrs[name];
  return a && 'ints' in a ? a.ints : undefined;
}
export function attrStr(ctx: OpCtx, name: string, dflt: string): string {
  const a = ctx.attrs[name];
  return a && 's' in a ? a.s : dflt;
}

export function input(ctx: OpCtx, i: number): Value {
  const v = ctx.inputs[i];
  if (!v) fail(ctx, `input ${i} is required`);
  return v;
}

/** Contents of a constant integer input (axes, shape, starts…), known while building. */
export function knownInts(ctx: OpCtx, i: number, what: string): number[] {
  const v = input(ctx, i);
  if (!v.known || v.known.some((d) => typeof d !== 'number')) fail(ctx, `${what} (input ${i}) must be a constant known while building`);
  return v.known as number[];
}

export function sameDtypes(ctx: OpCtx, idx: number[]): DType {
  const ts = idx.map((i) => input(ctx, i).dtype);
  if (ts.some((t) => t !== ts[0])) fail(ctx, `inputs must share one element type, got ${ts.join(' and ')}`, 'Cast one of them');
  return ts[0]!;
}

export function broadcast(ctx: OpCtx, idx: number[]): Dim[] {
  const shapes = idx.map((i) => input(ctx, i).shape);
  const out = broadcastShapes(...shapes);
  if (!out) fail(ctx, `shapes ${shapes.map(fmtShape).join(' and ')} do not broadcast`, 'Reshape, Unsqueeze or Expand an operand so that each pair of trailing dims is equal or 1');
  return out;
}

export const axesOf = (ctx: OpCtx, i: number, rank: number): number[] =>
  knownInts(ctx, i, 'axes').map((a) => normAxis(a, rank, () => `${ctx.op}(${ctx.inputs[0]?.name})`));

export const floatOnly = (ctx: OpCtx, i = 0): void => {
  const v = input(ctx, i);
  if (!isFloat(v.dtype)) fail(ctx, `input ${i} must be a float tensor, got ${v.dtype}`);
};

export const same = (ctx: OpCtx): TensorType[] => [{ dtype: input(ctx, 0).dtype, shape: [...input(ctx, 0).shape] }];

/**
 * Undoes broadcasting: sums `g` (shaped like a broadcast result) down to `shape`, once for every
 * op rather than inside each rule.
 */
export function sumToShape(g: Value, shape: readonly Dim[]): Value {
  let y = g;
  const lead = y.rank - shape.length;
  if (lead > 0) y = reduceSum(y, Array.from({ length: lead }, (_, i) => i), false);
  const axes = shape.flatMap((d, i) => (d === 1 && y.shape[i] !== 1 ? [i] : []));
  if (axes.length) y = reduceSum(y, axes, true);
  if (!sameShape(y.shape, shape)) {
    if (y.shape.length === shape.length && y.shape.every((d, i) => d === shape[i] || d === 1 || shape[i] === 1)) return reshape(y, shape.map((d) => (typeof d === 'number' ? d : 0)));
    throw new BuildError(`internal: cannot sum a gradient of shape ${fmtShape(g.shape)} to ${fmtShape(shape)}`);
  }
  return y;
}

/**
 * The op table's contract and `apply`, which checks inputs, infers output types and emits the node.
 * Each op's entry (rules-*.ts) states its type inference and its vector-Jacobian product together.
 */
import { DType } from '../ir/dtype.js';
import { Attr, BuildError, TensorType, Value, graphOf } from '../ir/graph.js';
import { fmtShape } from '../ir/shape.js';

export interface OpCtx { op: string; inputs: (Value | null)[]; attrs: Record<string, Attr> }
export interface VjpCtx extends OpCtx {
  outputs: Value[];
  /** Cotangent of each output; null where no gradient reaches it. */
  dys: (Value | null)[];
  /** Which inputs need a gradient (the others may be returned as null). */
  needs: boolean[];
}

export interface OpDef {
  /** Output types from input types and attributes; throws BuildError naming what is wrong. */
  infer(ctx: OpCtx): TensorType[];
  /** Gradient for each input (null: none flows, or not needed). Absent: the op has no rule. */
  vjp?: (ctx: VjpCtx) => (Value | null)[];
  /** Element types onnxruntime's CPU kernels take for input `typeInput` (default 0), measured (scripts/probe-ort-types). */
  types: readonly DType[];
  typeInput?: number;
}

const TABLE = new Map<string, OpDef>();
export function defineOps(defs: Record<string, OpDef>): void {
  for (const [k, d] of Object.entries(defs)) TABLE.set(k, d);
}
export const opDef = (op: string): OpDef | undefined => TABLE.get(op);
export const opNames = (): string[] => [...TABLE.keys()];

export const describeInputs = (inputs: (Value | null)[]): string =>
  inputs.map((v) => (v ? `${v.name}: ${v.dtype}${fmtShape(v.shape)}` : '(none)')).join(', ');

export function fail(ctx: OpCtx, problem: string, fix?: string): never {
  throw new BuildError(`${ctx.op}(${describeInputs(ctx.inputs)}): ${problem}${fix ? `. ${fix}` : ''}`);
}

/** Emits one node of a table op into the deepest graph among its inputs. */
export function apply(op: string, inputs: (Value | null)[], attrs: Record<string, Attr> = {}): Value[] {
  const def = TABLE.get(op);
  if (!def) throw new BuildError(`${op}: not in the op table; known ops: ${opNames().sort().join(', ')}`);
  const ctx: OpCtx = { op, inputs, attrs };
  const typed = inputs[def.typeInput ?? 0];
  if (typed && !def.types.includes(typed.dtype)) {
    fail(ctx, `onnxruntime has no ${op} kernel for ${typed.dtype}`, `Cast to one of ${def.types.join(', ')} first`);
  }
  const outTypes = def.infer(ctx);
  return graphOf(op, inputs).addNode(op, inputs, attrs, outTypes);
}

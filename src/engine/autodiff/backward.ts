/**
 * Reverse-mode differentiation over the op table. Only nodes on a path from the requested
 * values (`wrt`) to the outputs are differentiated; gradients of reused values are summed.
 */
import { isFloat } from '../ir/dtype.js';
import { BuildError, Node, Value } from '../ir/graph.js';
import { fmtShape, sameShape } from '../ir/shape.js';
import { add, constantOfShape, ints, zerosLike } from './ops.js';
import { describeInputs, opDef } from './table.js';

/** Nodes that `outputs` depend on, in creation (topological) order. */
function ancestors(outputs: Value[]): Node[] {
  const seen = new Set<Node>();
  const stack = outputs.map((v) => v.producer).filter((n): n is Node => !!n);
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const v of n.inputs) if (v?.producer) stack.push(v.producer);
  }
  return [...seen].sort((a, b) => a.seq - b.seq);
}

/**
 * Vector-Jacobian product: the gradient of Σ seeds[i]·outputs[i] with respect to each of `wrt`.
 * A value in `wrt` the outputs do not depend on gets zeros.
 */
export function vjp(outputs: Value[], seeds: Value[], wrt: Value[]): Value[] {
  if (outputs.length !== seeds.length) throw new BuildError(`vjp: ${outputs.length} outputs but ${seeds.length} seeds`);
  outputs.forEach((o, i) => {
    const s = seeds[i]!;
    if (s.dtype !== o.dtype || !sameShape(s.shape, o.shape)) throw new BuildError(`vjp: the seed for ${o} must be ${o.dtype}${fmtShape(o.shape)}, got ${s}`);
  });
  for (const w of wrt) if (!isFloat(w.dtype)) throw new BuildError(`vjp: cannot differentiate with respect to ${w}: only float values have gradients`);

  const nodes = ancestors(outputs);
  // Forward: which float values depend on wrt.
  const live = new Set<Value>(wrt);
  for (const n of nodes) {
    if (n.inputs.some((v) => v && live.has(v))) for (const o of n.outputs) if (isFloat(o.dtype)) live.add(o);
  }

  const grads = new Map<Value, Value>();
  const accumulate = (v: Value, g: Value) => {
    const prev = grads.get(v);
    grads.set(v, prev ? add(prev, g) : g);
  };
  outputs.forEach((o, i) => { if (live.has(o)) accumulate(o, seeds[i]!); });

  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k]!;
    const dys = n.outputs.map((o) => grads.get(o) ?? null);
    if (dys.every((d) => d === null)) continue;
    const needs = n.inputs.map((v) => !!v && live.has(v));
    if (!needs.some(Boolean)) continue;
    const rule = opDef(n.op)?.vjp;
    if (!rule) {
      const via = n.inputs.filter((v, i) => v && needs[i]).map((v) => v!.name).join(', ');
      throw new BuildError(`${n.op}(${describeInputs(n.inputs)}) has no gradient rule, but the gradient must flow through it (via ${via}). `
        + `Write it as a composition of differentiable ops, or add a vjp to its entry in src/engine/autodiff/rules-*.ts`);
    }
    const gs = rule({ op: n.op, inputs: n.inputs, attrs: n.attrs, outputs: n.outputs, dys, needs });
    n.inputs.forEach((v, i) => {
      const g = gs[i];
      if (!v || !needs[i] || !g) return;
      if (g.dtype !== v.dtype || !sameShape(g.shape, v.shape)) {
        throw new BuildError(`internal: the ${n.op} rule gave input ${i} (${v}) a gradient of type ${g.dtype}${fmtShape(g.shape)}`);
      }
      accumulate(v, g);
    });
  }
  return wrt.map((w) => grads.get(w) ?? zerosLike(w));
}

/** Gradients of a scalar loss with respect to `wrt` (seed 1). */
export function grad(loss: Value, wrt: Value[]): Value[] {
  if (loss.rank !== 0) throw new BuildError(`grad: the loss must be a scalar, got ${loss}; reduce it first (e.g. reduceMean)`);
  const one = constantOfShape(ints(loss, []), loss.dtype, 1);
  return vjp([loss], [one], wrt);
}

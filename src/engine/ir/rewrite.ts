/**
 * Graph rewriting: copy a root graph node by node, letting a visitor replace nodes, then drop
 * what no output needs (dead nodes and initializers).
 */
import { ConstTensor, Graph, Node, Value } from './graph.js';

export interface Rewriter {
  /**
   * Returns replacement values for `node`'s outputs (built in `g` from the mapped `inputs`), or
   * undefined to copy the node unchanged.
   */
  visit(node: Node, inputs: (Value | null)[], g: Graph, init: (v: Value) => ConstTensor | undefined): Value[] | undefined;
}

export function rewriteGraph(src: Graph, r: Rewriter): Graph {
  if (src.parent || src.nodes.some((n) => Object.values(n.attrs).some((a) => 'g' in a))) {
    throw new Error('rewriteGraph: graphs with subgraphs are not supported');
  }
  const g = new Graph(src.name);
  const names = new Set<string>([...src.inputs, ...src.initializers.keys()].map((v) => v.name));
  for (const n of src.nodes) for (const o of n.outputs) names.add(o.name);
  g.reserve(names);
  const map = new Map<Value, Value>();
  const inits = new Map<Value, ConstTensor>();
  for (const v of src.inputs) map.set(v, g.input(v.name, v.dtype, v.shape));
  for (const [v, t] of src.initializers) { const nv = g.initializer(v.name, t); map.set(v, nv); inits.set(nv, t); }
  const m = (v: Value | null) => (v ? map.get(v)! : null);
  for (const n of src.nodes) {
    const ins = n.inputs.map(m);
    const replaced = r.visit(n, ins, g, (v) => inits.get(v));
    const outs = replaced ?? g.addNode(n.op, ins, n.attrs, n.outputs.map((o) => ({ dtype: o.dtype, shape: o.shape, ...(o.known ? { known: o.known } : {}) })), { domain: n.domain, names: n.outputs.map((o) => o.name) });
    n.outputs.forEach((o, i) => map.set(o, outs[i]!));
  }
  for (const v of src.outputs) g.output(map.get(v)!, v.name);
  removeDead(g);
  return g;
}

/** Removes nodes and initializers that no graph output depends on. */
export function removeDead(g: Graph): void {
  const live = new Set<Value>(g.outputs);
  const keep = new Set<Node>();
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (n.outputs.some((o) => live.has(o))) {
      keep.add(n);
      for (const v of n.inputs) if (v) live.add(v);
    }
  }
  const kept = g.nodes.filter((n) => keep.has(n));
  g.nodes.splice(0, g.nodes.length, ...kept);
  for (const v of [...g.initializers.keys()]) if (!live.has(v)) g.initializers.delete(v);
}

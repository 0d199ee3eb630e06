/**
 * The ONNX graph IR: values with dtype and shape, nodes, subgraphs and initializers.
 * Nodes are appended in creation order, which is always a topological order.
 */
import { DType, encodeValues } from './dtype.js';
import { Dim, Shape, fmtShape } from './shape.js';

/** A mistake found while building a graph: the message names the op, its inputs and the fix. */
export class BuildError extends Error {
  override name = 'BuildError';
}

/** An output's type; `known` carries the contents of a small integer vector when they follow from the inputs. */
export interface TensorType { dtype: DType; shape: Dim[]; known?: Dim[] }

/** A constant tensor: raw little-endian bytes. */
export interface ConstTensor { dtype: DType; dims: number[]; bytes: Uint8Array }

export function constTensor(dtype: DType, dims: number[], values: ArrayLike<number | bigint>): ConstTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new BuildError(`constant of shape ${fmtShape(dims)} needs ${n} values, got ${values.length}`);
  return { dtype, dims, bytes: encodeValues(dtype, values) };
}

export type Attr =
  | { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] }
  | { t: ConstTensor } | { g: Graph };
export const A = {
  i: (i: number): Attr => ({ i }),
  f: (f: number): Attr => ({ f }),
  s: (s: string): Attr => ({ s }),
  ints: (ints: number[]): Attr => ({ ints }),
  floats: (floats: number[]): Attr => ({ floats }),
  t: (t: ConstTensor): Attr => ({ t }),
  g: (g: Graph): Attr => ({ g }),
};

export class Value {
  /** Contents of a small integer 1-D tensor when known while building (constants, Shape outputs). */
  known?: Dim[];
  constructor(
    readonly graph: Graph,
    public name: string,
    readonly dtype: DType,
    readonly shape: Dim[],
    readonly producer?: Node,
  ) {}
  get rank(): number { return this.shape.length; }
  toString(): string { return `${this.name}: ${this.dtype}${fmtShape(this.shape)}`; }
}

export class Node {
  constructor(
    readonly graph: Graph,
    readonly seq: number,
    readonly op: string,
    readonly inputs: (Value | null)[],
    readonly attrs: Record<string, Attr>,
    readonly domain: string,
    readonly name: string,
  ) {}
  outputs: Value[] = [];
}

/** Shared by a model's root graph and all its subgraphs: unique names and node order. */
class Scope {
  private used = new Set<string>();
  private counters = new Map<string, number>();
  seq = 0;
  /** Names that `claim` may take later: `fresh` never hands them out. */
  readonly reserved = new Set<string>();
  fresh(prefix: string): string {
    let n = this.counters.get(prefix) ?? 0;
    let name: string;
    do name = `${prefix}_${n++}`; while (this.used.has(name) || this.reserved.has(name));
    this.counters.set(prefix, n);
    this.used.add(name);
    return name;
  }
  claim(name: string): string {
    if (this.used.has(name)) throw new BuildError(`the name "${name}" is already used in this model; names of inputs, outputs and initializers must be unique`);
    this.used.add(name);
    return name;
  }
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers = new Map<Value, ConstTensor>();
  readonly depth: number;
  private readonly scope: Scope;

  constructor(readonly name = 'main', readonly parent?: Graph) {
    this.scope = parent ? parent.scope : new Scope();
    this.depth = parent ? parent.depth + 1 : 0;
  }

  /** A new subgraph (e.g. a Loop body) that may read this graph's values. */
  subgraph(name: string): Graph { return new Graph(name, this); }

  fresh(prefix: string): string { return this.scope.fresh(prefix); }
  /** Keeps `names` for later explicit use (graph rewrites that copy a graph's names). */
  reserve(names: Iterable<string>): void { for (const n of names) this.scope.reserved.add(n); }
  nextSeq(): number { return this.scope.seq++; }

  /** True when `this` is `g` or nested inside it. */
  within(g: Graph): boolean {
    for (let x: Graph | undefined = this; x; x = x.parent) if (x === g) return true;
    return false;
  }

  /** A graph input named `name`, or a fresh name made from `{ prefix }`. */
  input(name: string | { prefix: string }, dtype: DType, shape: Shape): Value {
    const v = new Value(this, typeof name === 'string' ? this.scope.claim(name) : this.scope.fresh(name.prefix), dtype, [...shape]);
    this.inputs.push(v);
    return v;
  }

  initializer(name: string, t: ConstTensor): Value {
    const v = new Value(this, this.scope.claim(name), t.dtype, [...t.dims]);
    this.initializers.set(v, t);
    return v;
  }

  /**
   * Marks `v` as a graph output, under `name` when given. A value computed in this graph is
   * renamed in place (names are read when serializing); graph inputs, outer values and values
   * already output go through an Identity. (onnxruntime 1.30's Identity elimination breaks a graph
   * where an Identity renames a value that other nodes also consume, so renaming avoids it.)
   */
  output(v: Value, name?: string): Value {
    const own = v.graph === this && !!v.producer && !this.outputs.includes(v);
    if (own && name !== undefined && name !== v.name) {
      v.name = this.scope.claim(name);
      this.outputs.push(v);
      return v;
    }
    if (!own) {
      const out = this.addNode('Identity', [v], {}, [{ dtype: v.dtype, shape: v.shape }], name === undefined ? {} : { names: [name] })[0]!;
      this.outputs.push(out);
      return out;
    }
    this.outputs.push(v);
    return v;
  }

  /** Appends a node whose output types the caller has worked out. Use the op table (`apply`) instead where it applies. */
  addNode(op: string, inputs: (Value | null)[], attrs: Record<string, Attr>, outTypes: TensorType[],
    opts: { domain?: string; names?: string[] } = {}): Value[] {
    for (const v of inputs) {
      if (v && !this.within(v.graph)) throw new BuildError(`${op}: input ${v.name} belongs to graph "${v.graph.name}", which is not visible from graph "${this.name}"`);
    }
    const node = new Node(this, this.nextSeq(), op, inputs, attrs, opts.domain ?? '', this.fresh(op));
    node.outputs = outTypes.map((t, i) => {
      const name = opts.names?.[i] !== undefined ? this.scope.claim(opts.names[i]!) : this.fresh(op.toLowerCase());
      const v = new Value(this, name, t.dtype, [...t.shape], node);
      if (t.known) v.known = t.known;
      return v;
    });
    this.nodes.push(node);
    return node.outputs;
  }

  /** A Constant node; small integer vectors remember their contents for shape inference. */
  constant(dtype: DType, dims: number[], values: ArrayLike<number | bigint>): Value {
    const v = this.addNode('Constant', [], { value: A.t(constTensor(dtype, dims, values)) }, [{ dtype, shape: dims }])[0]!;
    if ((dtype === 'int64' || dtype === 'int32') && dims.length <= 1) v.known = Array.from(values, (x) => Number(x));
    return v;
  }
}

/** The deepest graph among the inputs' graphs; all of them must be visible from it. */
export function graphOf(op: string, inputs: (Value | null)[]): Graph {
  let g: Graph | undefined;
  for (const v of inputs) if (v && (!g || v.graph.depth > g.depth)) g = v.graph;
  if (!g) throw new BuildError(`${op}: needs at least one input value to know which graph it belongs to`);
  for (const v of inputs) {
    if (v && !g.within(v.graph)) throw new BuildError(`${op}: inputs come from unrelated graphs ("${v.graph.name}" and "${g.name}")`);
  }
  return g;
}

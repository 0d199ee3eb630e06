/**
 * ONNX Loop construction. The body is built by a callback in a subgraph that may read the outer
 * graph's values; the Loop node is appended after the body, so every outer value the body
 * created on the way (constants, hoisted computations) precedes it.
 */
import { BuildError, TensorType, Value } from './graph.js';
import { Dim, fmtShape, sameShape } from './shape.js';

export interface LoopBody { carried: Value[]; scans?: Value[] }

/**
 * Runs `body` `tripCount` times (an int64 scalar). `carried` values are threaded through the
 * iterations; each scan output is stacked along a new leading axis of size `tripDim`.
 */
export function loop(tripCount: Value, carried: Value[], body: (iter: Value, carried: Value[]) => LoopBody, opts: { name?: string; tripDim?: Dim } = {}): { carried: Value[]; scans: Value[] } {
  if (tripCount.dtype !== 'int64' || tripCount.rank !== 0) throw new BuildError(`Loop: the trip count must be an int64 scalar, got ${tripCount}`);
  const outer = [tripCount, ...carried].reduce((g, v) => (v.graph.depth > g.depth ? v.graph : g), tripCount.graph);
  const g = outer.subgraph(opts.name ?? outer.fresh('loop_body'));
  const iter = g.input({ prefix: 'iter' }, 'int64', []);
  const cond = g.input({ prefix: 'cond' }, 'bool', []);
  const ins = carried.map((v) => g.input({ prefix: `${v.name}_in` }, v.dtype, v.shape));
  const res = body(iter, ins);
  if (res.carried.length !== carried.length) throw new BuildError(`Loop: the body returned ${res.carried.length} carried values for ${carried.length} inputs`);
  res.carried.forEach((v, i) => {
    const want = carried[i]!;
    if (v.dtype !== want.dtype || !sameShape(v.shape, want.shape)) {
      throw new BuildError(`Loop: carried value ${i} enters as ${want.dtype}${fmtShape(want.shape)} but the body returns ${v.dtype}${fmtShape(v.shape)}; a carried value must keep its type and shape`);
    }
  });
  g.output(cond);
  for (const v of res.carried) g.output(v);
  const scans = res.scans ?? [];
  for (const v of scans) g.output(v);
  const trip: Dim = opts.tripDim ?? (typeof tripCount.known?.[0] === 'number' ? tripCount.known[0] : 'trip_count');
  const outTypes: TensorType[] = [
    ...carried.map((v) => ({ dtype: v.dtype, shape: [...v.shape] })),
    ...scans.map((v) => ({ dtype: v.dtype, shape: [trip, ...v.shape] })),
  ];
  const outs = outer.addNode('Loop', [tripCount, null, ...carried], { body: { g } }, outTypes);
  return { carried: outs.slice(0, carried.length), scans: outs.slice(carried.length) };
}


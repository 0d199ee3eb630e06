/** Test helpers: a seeded RNG, running a graph on the CPU, and a finite-difference gradient check. */
import assert from 'node:assert/strict';
import { DType } from '../src/engine/ir/dtype.js';
import { Graph, Value } from '../src/engine/ir/graph.js';
import { serializeModel } from '../src/engine/ir/proto.js';
import { vjp } from '../src/engine/autodiff/index.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { EngineWorker } from '../src/engine/runtime/worker-client.js';
import * as F from '../src/engine/autodiff/index.js';
import { Feeds, HostTensor, tensor, toNumbers } from '../src/engine/runtime/tensor.js';

/** mulberry32: a small seeded generator, so every test sees the same numbers. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo: number, hi: number) => lo + (hi - lo) * next(),
    normal: () => Math.sqrt(-2 * Math.log(next() + 1e-300)) * Math.cos(2 * Math.PI * next()),
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
  };
}
export type Rng = ReturnType<typeof rng>;

export async function session(g: Graph): Promise<EngineSession> {
  return EngineSession.create(serializeModel(g), { device: 'cpu', threads: 1 });
}

export async function runGraph(g: Graph, feeds: Feeds): Promise<Record<string, HostTensor>> {
  const s = await session(g);
  try { return await s.run(feeds); } finally { await s.release(); }
}

export const numel = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export interface InputSpec {
  shape: number[];
  dtype?: DType;
  /** Values for this input: default standard normal. */
  gen?: (r: Rng, i: number) => number;
  /** False for inputs that are not differentiated (indices, conditions, seeds). */
  diff?: boolean;
}

/**
 * Checks the VJP of `build` against central finite differences: for each differentiable input
 * and several random directions v, <grad, v> must equal d/dh Σ w·f(x + h v), the sum taken in
 * float64. float64 graphs use plain central differences (rel. tol 1e-6); float32 graphs
 * Richardson-extrapolated ones (rel. tol 1e-3). Tensors of ≤ 8 elements are also checked
 * coordinate by coordinate.
 */
export async function gradcheck(build: (...xs: Value[]) => Value, specs: InputSpec[], opts: { seed?: number; tol?: number; h?: number; directions?: number } = {}) {
  const r = rng(opts.seed ?? 1);
  const g = new Graph('gradcheck');
  const xs = specs.map((s, i) => g.input(`x${i}`, s.dtype ?? 'float64', s.shape));
  const y = build(...xs);
  const w = g.input('w', y.dtype, y.shape);
  const diffIdx = specs.flatMap((s, i) => (s.diff === false ? [] : [i]));
  const grads = vjp([y], [w], diffIdx.map((i) => xs[i]!));
  g.output(y, 'y');
  grads.forEach((gr, k) => g.output(gr, `g${k}`));
  const s = await session(g);
  const f64 = y.dtype === 'float64';
  const tol = opts.tol ?? (f64 ? 1e-6 : 1e-3);
  const h = opts.h ?? (f64 ? 1e-5 : 2e-2);

  const base = specs.map((sp) => Array.from({ length: numel(sp.shape) }, (_, i) => (sp.gen ? sp.gen(r, i) : r.normal())));
  const yShape = y.shape as number[];
  const wv = Array.from({ length: numel(yShape) }, () => r.normal());
  const feeds = (vals: number[][]): Feeds => ({
    ...Object.fromEntries(specs.map((sp, i) => [`x${i}`, tensor(sp.dtype ?? 'float64', sp.shape, vals[i]!)])),
    w: tensor(y.dtype, yShape, wv),
  });
  const out = await s.run(feeds(base));
  const L = async (i: number, v: number[], t: number) => {
    const vals = base.map((b, k) => (k === i ? b.map((x, j) => x + t * v[j]!) : b));
    const o = toNumbers((await s.run(feeds(vals), ['y']))['y']!);
    let acc = 0;
    for (let j = 0; j < o.length; j++) acc += o[j]! * wv[j]!;
    return acc;
  };
  const central = async (i: number, v: number[], t: number) => (await L(i, v, t) - await L(i, v, -t)) / (2 * t);
  const fd = async (i: number, v: number[]) => (f64 ? central(i, v, h) : (4 * await central(i, v, h / 2) - await central(i, v, h)) / 3);

  const failures: string[] = [];
  for (const [k, i] of diffIdx.entries()) {
    const gv = toNumbers(out[`g${k}`]!);
    const n = gv.length;
    const dirs: number[][] = [];
    for (let d = 0; d < (opts.directions ?? 3); d++) dirs.push(Array.from({ length: n }, () => r.normal()));
    if (n <= 8) for (let j = 0; j < n; j++) dirs.push(Array.from({ length: n }, (_, q) => (q === j ? 1 : 0)));
    for (const v of dirs) {
      const analytic = gv.reduce((a, x, j) => a + x * v[j]!, 0);
      const numeric = await fd(i, v);
      const err = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-3);
      if (!(err <= tol)) failures.push(`input ${i}: analytic ${analytic} vs finite difference ${numeric} (rel. error ${err.toExponential(2)} > ${tol})`);
    }
  }
  await s.release();
  assert.deepEqual(failures, []);
}

/** Runs softmax([0, ln 2, ln 5]) = [1/8, 1/4, 5/8] through the worker bundle at `script` (a built or packaged dist/worker-main.js). */
export async function assertWorkerRunsSoftmax(script: string): Promise<void> {
  const g = new Graph();
  g.output(F.softmax(g.input('x', 'float32', [1, 3])), 'y');
  const w = new EngineWorker(script);
  try {
    const s = await w.createSession(serializeModel(g), { device: 'cpu' });
    const y = toNumbers((await s.run({ x: tensor('float32', [1, 3], [0, Math.log(2), Math.log(5)]) }))['y']!);
    assert.ok(Math.abs(y[0]! - 0.125) < 1e-6 && Math.abs(y[1]! - 0.25) < 1e-6 && Math.abs(y[2]! - 0.625) < 1e-6, `${y}`);
  } finally {
    await w.terminate();
  }
}

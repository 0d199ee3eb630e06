/**
 * Ops composed from table primitives: they get their gradients from the primitives' rules.
 * The compositions of fused ops (softmax, layer norm, gelu) are kept for the tests that prove
 * the fused kernels equal them.
 */
import { isFloat } from '../ir/dtype.js';
import { BuildError, Value } from '../ir/graph.js';
import {
  abs, add, cast, div, equal, erf, exp, floor, gatherElements, gelu, layerNorm, less, log, logSoftmax, max, mod, mul, neg, not, range, tanh,
  reduceMax, reduceMean, reduceProd, reduceSum, reshape, scalar, shapeOf, sqrt, squeeze, sub, sumAll, unsqueeze, where,
} from './ops.js';

/**
 * Mean cross-entropy of `logits` [..., C] against integer `labels` [...], ignoring positions whose
 * label is `ignoreIndex` (PyTorch's default −100). Written with LogSoftmax and GatherElements
 * because SoftmaxCrossEntropyLoss has no CUDA kernel in onnxruntime's inference build.
 * When every label is ignored the loss is 0 (PyTorch gives NaN).
 */
export function crossEntropy(logits: Value, labels: Value, ignoreIndex = -100): Value {
  if (labels.dtype !== 'int64') throw new BuildError(`crossEntropy: labels must be int64, got ${labels}`);
  if (labels.rank !== logits.rank - 1) throw new BuildError(`crossEntropy: labels ${labels} must have the shape of logits ${logits} without its last (class) axis`);
  const lp = logSoftmax(logits, -1);
  const valid = not(equal(labels, ignoreIndex));
  const safe = where(valid, labels, 0);
  const picked = squeeze(gatherElements(lp, unsqueeze(safe, [-1]), -1), [-1]); // [...]
  const w = cast(valid, logits.dtype);
  const count = max(sumAll(w), 1);
  return div(neg(sumAll(mul(picked, w))), count);
}

/** A prime below 2^26: squares of residues stay below 2^52, exact in float64. */
const P = 67108859;

/**
 * Numbers uniform on the integers of [0, P) with the shape of `x` (as float64), a pure function
 * of (`seed`, element index): a counter-based hash — an affine start, then two rounds of
 * h ← h² + c mod P — in float64, where `mod` is h − ⌊h/P⌋·P (measured 30% faster than int64
 * Mod, a division per element). Stateless, unlike ONNX Dropout and RandomUniform whose
 * generators live in the kernel, so a step's masks depend only on its seed: what makes resumed
 * runs bit-identical.
 */
export function hashDraws(x: Value, seed: Value): Value {
  if (seed.dtype !== 'int64' || seed.rank !== 0) throw new BuildError(`hashDraws: the seed must be an int64 scalar, got ${seed}`);
  const shape = shapeOf(x);
  const n = reduceProd(shape, [0], false);
  const idx = cast(reshape(range(scalar(n, 0), n, scalar(n, 1)), shape), 'float64'); // constant-folded for static shapes
  const modP = (h: Value) => sub(h, mul(floor(mul(h, 1 / P)), P));
  let h = modP(add(mul(idx, 48271), add(mul(cast(mod(seed, P), 'float64'), 16807), 1)));
  for (const c of [12345, 678901]) h = modP(add(mul(h, h), c));
  return h;
}

/** Uniform numbers in [0, 1) with the shape of `x` (see hashDraws). */
export const hashUniform = (x: Value, seed: Value): Value => cast(div(hashDraws(x, seed), P), isFloat(x.dtype) ? x.dtype : 'float32');

/**
 * Inverted dropout: zeroes each element with probability `rate` and scales the rest by
 * 1/(1 − rate). The keep mask is an ordinary value of the forward graph, so backward selects
 * with the same mask (the Where rule) instead of drawing a new one. The threshold is compared
 * in integers, which saves two passes over the tensor.
 */
export function dropout(x: Value, rate: number, seed: Value): Value {
  if (!(rate >= 0 && rate < 1)) throw new BuildError(`dropout: rate must be in [0, 1), got ${rate}`);
  if (rate === 0) return x;
  const h = hashDraws(x, seed);
  const keep = not(less(h, scalar(h, Math.floor(rate * P))));
  return where(keep, mul(x, 1 / (1 - rate)), scalar(x, 0));
}

/**
 * erf for float64 graphs, where onnxruntime has no Erf kernel: Abramowitz & Stegun 7.1.26
 * (|error| ≤ 1.5e-7, smooth), odd-extended. Lets whole models run in float64 for gradient checks.
 */
export function erfFloat64(x: Value): Value {
  const ax = abs(x);
  const t = div(1, add(mul(ax, 0.3275911), 1));
  let poly = scalar(x, 1.061405429);
  for (const a of [-1.453152027, 1.421413741, -0.284496736, 0.254829592]) poly = add(mul(poly, t), a);
  const y = sub(1, mul(mul(poly, t), exp(neg(mul(ax, ax)))));
  return mul(where(less(x, 0), scalar(x, -1), scalar(x, 1)), y);
}

/** GELU (erf form): the fused kernel, or its composition in float64. */
export const geluAnyFloat = (x: Value): Value =>
  (x.dtype === 'float64' ? mul(mul(x, 0.5), add(erfFloat64(mul(x, Math.SQRT1_2)), 1)) : gelu(x));

/** GELU, tanh approximation (HF's "gelu_new", "gelu_pytorch_tanh"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export const geluTanh = (x: Value): Value =>
  mul(mul(x, 0.5), add(tanh(mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI))), 1));

/** LayerNormalization over the last axis: the fused kernel, or in float64 the composition (the kernel's statistics are float32). */
export const layerNormAnyFloat = (x: Value, scale: Value, bias: Value | null, epsilon: number): Value =>
  (x.dtype === 'float64' ? layerNormComposed(x, scale, bias, epsilon) : layerNorm(x, scale, bias, epsilon));

// Compositions of the fused ops, from primitives.
export function softmaxComposed(x: Value, axis = -1): Value {
  const e = exp(sub(x, reduceMax(x, [axis], true)));
  return div(e, reduceSum(e, [axis], true));
}
export function logSoftmaxComposed(x: Value, axis = -1): Value {
  const z = sub(x, reduceMax(x, [axis], true));
  return sub(z, log(reduceSum(exp(z), [axis], true)));
}
export const geluComposed = (x: Value): Value => mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
export function layerNormComposed(x: Value, scale: Value, bias: Value | null, epsilon: number): Value {
  const mu = reduceMean(x, [-1], true);
  const d = sub(x, mu);
  const y = div(d, sqrt(add(reduceMean(mul(d, d), [-1], true), epsilon)));
  return bias ? add(mul(y, scale), bias) : mul(y, scale);
}


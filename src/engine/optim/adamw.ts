/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization") and global-norm gradient
 * clipping as graph ops, following torch.optim.AdamW and torch.nn.utils.clip_grad_norm_.
 */
import { Value } from '../ir/graph.js';
import { add, cast, div, min, mul, pow, scalar, sqrt, sub, sumAll } from '../autodiff/index.js';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay, applied to parameters whose `decay` flag is set. */
  weightDecay: number;
}
export const ADAMW_DEFAULTS: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.0 };

/** √(Σ‖g‖²) over all gradients, and the gradients scaled by min(1, maxNorm / (norm + 1e-6)). */
export function clipByGlobalNorm(grads: Value[], maxNorm: number | undefined): { norm: Value; grads: Value[] } {
  const sq = grads.map((g) => sumAll(mul(g, g)));
  const norm = sqrt(sq.reduce((a, b) => add(a, b)));
  if (!maxNorm || maxNorm <= 0) return { norm, grads };
  const coef = min(div(scalar(norm, maxNorm), add(norm, 1e-6)), 1);
  return { norm, grads: grads.map((g) => mul(g, coef)) };
}

export interface AdamWState { param: Value; expAvg: Value; expAvgSq: Value }

/**
 * One AdamW update of every parameter at step `t` (int64 scalar, counting from 1) with learning
 * rate `lr` (float scalar):
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *   p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)
 */
export function adamwUpdate(states: AdamWState[], grads: Value[], decay: boolean[], lr: Value, t: Value, cfg: AdamWConfig): AdamWState[] {
  const tf = cast(t, lr.dtype);
  const bc1 = sub(1, pow(scalar(lr, cfg.beta1), tf));
  const bc2sqrt = sqrt(sub(1, pow(scalar(lr, cfg.beta2), tf)));
  const stepSize = div(lr, bc1);
  const shrink = sub(1, mul(lr, cfg.weightDecay));
  return states.map(({ param, expAvg, expAvgSq }, i) => {
    const g = grads[i]!;
    const p = decay[i] && cfg.weightDecay !== 0 ? mul(param, shrink) : param;
    const m = add(mul(expAvg, cfg.beta1), mul(g, 1 - cfg.beta1));
    const v = add(mul(expAvgSq, cfg.beta2), mul(mul(g, g), 1 - cfg.beta2));
    const denom = add(div(sqrt(v), bc2sqrt), cfg.eps);
    return { param: sub(p, mul(stepSize, div(m, denom))), expAvg: m, expAvgSq: v };
  });
}

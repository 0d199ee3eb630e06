/**
 * Parameters with scoped, checkpoint-compatible names ("encoder.layer.0.attention.self.query.weight")
 * and their initial values; layers that read them by name while a graph is built.
 */
import { BuildError, Value } from '../ir/graph.js';
import { add, gather, matmul, transpose } from '../autodiff/index.js';
import { layerNormAnyFloat } from '../autodiff/index.js';

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Apply weight decay (by convention: matrices yes; biases and LayerNorm no). */
  decay: boolean;
}

/** Initial values; `zeroRow` zeroes one row (an embedding's padding index, as torch does); `values`: fixed ones (sinusoidal positions). */
export type Init = { kind: 'normal'; std: number; zeroRow?: number } | { kind: 'zeros' } | { kind: 'ones' } | { kind: 'uniform'; bound: number } | { kind: 'values'; values: Float32Array };

export class ParamSet {
  readonly specs: ParamSpec[] = [];
  readonly inits = new Map<string, Init>();
  private stack: string[] = [];

  /** Runs `fn` with `name` appended to the current scope. */
  scope<T>(name: string | number, fn: () => T): T {
    this.stack.push(String(name));
    try { return fn(); } finally { this.stack.pop(); }
  }

  add(name: string, shape: number[], init: Init, decay: boolean): string {
    const full = [...this.stack, name].join('.');
    if (this.inits.has(full)) throw new BuildError(`parameter "${full}" is defined twice`);
    this.specs.push({ name: full, shape, decay });
    this.inits.set(full, init);
    return full;
  }

  count(): number { return this.specs.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0); }

  /** Initial values drawn from `random` (a uniform [0,1) generator, for reproducibility). */
  initialize(random: () => number): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const p of this.specs) {
      const n = p.shape.reduce((a, b) => a * b, 1), init = this.inits.get(p.name)!;
      const v = new Float32Array(n);
      if (init.kind === 'ones') v.fill(1);
      else if (init.kind === 'values') v.set(init.values);
      else if (init.kind === 'uniform') for (let i = 0; i < n; i++) v[i] = (2 * random() - 1) * init.bound;
      else if (init.kind === 'normal') {
        for (let i = 0; i < n; i++) v[i] = init.std * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        if (init.zeroRow !== undefined) {
          const width = p.shape[p.shape.length - 1]!;
          v.fill(0, init.zeroRow * width, (init.zeroRow + 1) * width);
        }
      }
      out[p.name] = v;
    }
    return out;
  }
}

/** Looks parameters up by full name while a loss is being built. */
export type ParamValues = Record<string, Value>;
export function param(values: ParamValues, name: string): Value {
  const v = values[name];
  if (!v) throw new BuildError(`parameter "${name}" was not given to the graph; known: ${Object.keys(values).slice(0, 8).join(', ')}…`);
  return v;
}

/** y = x·Wᵀ + b with W [out, in] as in torch.nn.Linear (and Hugging Face checkpoints). */
export class Linear {
  readonly weight: string;
  readonly bias: string | null;
  constructor(ps: ParamSet, name: string, readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean; init?: Init } = {}) {
    const init = opts.init ?? { kind: 'uniform', bound: 1 / Math.sqrt(inFeatures) };
    [this.weight, this.bias] = ps.scope(name, () => [
      ps.add('weight', [outFeatures, inFeatures], init, true),
      opts.bias === false ? null : ps.add('bias', [outFeatures], { kind: 'zeros' }, false),
    ]);
  }
  forward(p: ParamValues, x: Value): Value {
    const y = matmul(x, transpose(param(p, this.weight), [1, 0])); // [..., out]
    return this.bias ? add(y, param(p, this.bias)) : y;
  }
}

export class Embedding {
  readonly weight: string;
  constructor(ps: ParamSet, name: string, readonly num: number, readonly dim: number, init: Init = { kind: 'normal', std: 1 }) {
    this.weight = ps.scope(name, () => ps.add('weight', [num, dim], init, true));
  }
  forward(p: ParamValues, ids: Value): Value { return gather(param(p, this.weight), ids, 0); } // [..., dim]
}

/** LayerNorm with Hugging Face's parameter names (weight, bias), never weight-decayed. */
export class LayerNorm {
  readonly weight: string;
  readonly bias: string;
  constructor(ps: ParamSet, name: string, readonly dim: number, readonly eps = 1e-12) {
    [this.weight, this.bias] = ps.scope(name, () => [ps.add('weight', [dim], { kind: 'ones' }, false), ps.add('bias', [dim], { kind: 'zeros' }, false)]);
  }
  forward(p: ParamValues, x: Value): Value { return layerNormAnyFloat(x, param(p, this.weight), param(p, this.bias), this.eps); }
}

/**
 * A plain float64 BERT written with loops over arrays, independent of the graph builder: the
 * reference the graph-built model is tested against. Follows transformers' modeling_bert.py.
 */
import { BertConfig } from '../src/engine/models/bert/config.js';

type W = Record<string, Float64Array>;
type F64 = Float64Array<ArrayBufferLike>;

/** erf to ~1e-13: Taylor series below 3, continued fraction for erfc above. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x, sum = x;
    for (let n = 1; n < 120; n++) {
      term *= -x * x / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from the tail.
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + (k / 2) / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}
const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

/** y[n, o] = Σ_i x[n, i]·W[o, i] + b[o] */
function linear(x: Float64Array, n: number, w: Float64Array, b: Float64Array, inF: number, outF: number): Float64Array {
  const y = new Float64Array(n * outF);
  for (let r = 0; r < n; r++) for (let o = 0; o < outF; o++) {
    let acc = b[o]!;
    for (let i = 0; i < inF; i++) acc += x[r * inF + i]! * w[o * inF + i]!;
    y[r * outF + o] = acc;
  }
  return y;
}
function layerNorm(x: Float64Array, n: number, d: number, g: Float64Array, b: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    let mu = 0, v = 0;
    for (let i = 0; i < d; i++) mu += x[r * d + i]!;
    mu /= d;
    for (let i = 0; i < d; i++) v += (x[r * d + i]! - mu) ** 2;
    v /= d;
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i]! - mu) / Math.sqrt(v + eps) * g[i]! + b[i]!;
  }
  return y;
}

export interface RefOutput { hidden: Float64Array; attentions: Float64Array[]; pooled: Float64Array | null; mlmLogits: Float64Array | null; clsLogits: Float64Array | null }

/** Forward pass for ids/types/mask [B, T] (row-major); `w` holds HF state-dict names. */
export function referenceBert(cfg: BertConfig, w: W, ids: number[], types: number[], mask: number[], B: number, T: number): RefOutput {
  const H = cfg.hidden_size, nh = cfg.num_attention_heads, hd = H / nh, I = cfg.intermediate_size, N = B * T;
  const get = (k: string) => { const v = w[k]; if (!v) throw new Error(`reference: missing ${k}`); return v; };
  let h: F64 = new Float64Array(N * H);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
    const r = b * T + t;
    for (let i = 0; i < H; i++) {
      h[r * H + i] = get('bert.embeddings.word_embeddings.weight')[ids[r]! * H + i]!
        + get('bert.embeddings.position_embeddings.weight')[t * H + i]!
        + get('bert.embeddings.token_type_embeddings.weight')[types[r]! * H + i]!;
    }
  }
  h = layerNorm(h, N, H, get('bert.embeddings.LayerNorm.weight'), get('bert.embeddings.LayerNorm.bias'), cfg.layer_norm_eps);
  const attentions: Float64Array[] = [];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const pre = `bert.encoder.layer.${l}.`;
    const q = linear(h, N, get(pre + 'attention.self.query.weight'), get(pre + 'attention.self.query.bias'), H, H);
    const k = linear(h, N, get(pre + 'attention.self.key.weight'), get(pre + 'attention.self.key.bias'), H, H);
    const v = linear(h, N, get(pre + 'attention.self.value.weight'), get(pre + 'attention.self.value.bias'), H, H);
    const probs = new Float64Array(B * nh * T * T);
    const ctx = new Float64Array(N * H);
    for (let b = 0; b < B; b++) for (let a = 0; a < nh; a++) for (let i = 0; i < T; i++) {
      const s = new Float64Array(T);
      let mx = -Infinity;
      for (let j = 0; j < T; j++) {
        let acc = 0;
        for (let d = 0; d < hd; d++) acc += q[(b * T + i) * H + a * hd + d]! * k[(b * T + j) * H + a * hd + d]!;
        s[j] = acc / Math.sqrt(hd) + (mask[b * T + j] ? 0 : -3.4028234663852886e38);
        mx = Math.max(mx, s[j]!);
      }
      let z = 0;
      for (let j = 0; j < T; j++) { s[j] = Math.exp(s[j]! - mx); z += s[j]!; }
      for (let j = 0; j < T; j++) {
        const pij = s[j]! / z;
        probs[((b * nh + a) * T + i) * T + j] = pij;
        for (let d = 0; d < hd; d++) ctx[(b * T + i) * H + a * hd + d]! += pij * v[(b * T + j) * H + a * hd + d]!;
      }
    }
    attentions.push(probs);
    const ao = linear(ctx, N, get(pre + 'attention.output.dense.weight'), get(pre + 'attention.output.dense.bias'), H, H);
    for (let i = 0; i < N * H; i++) ao[i]! += h[i]!;
    const attn = layerNorm(ao, N, H, get(pre + 'attention.output.LayerNorm.weight'), get(pre + 'attention.output.LayerNorm.bias'), cfg.layer_norm_eps);
    const inter = linear(attn, N, get(pre + 'intermediate.dense.weight'), get(pre + 'intermediate.dense.bias'), H, I).map(cfg.hidden_act === 'gelu' ? gelu : (x) => Math.max(0, x));
    const out = linear(inter, N, get(pre + 'output.dense.weight'), get(pre + 'output.dense.bias'), I, H);
    for (let i = 0; i < N * H; i++) out[i]! += attn[i]!;
    h = layerNorm(out, N, H, get(pre + 'output.LayerNorm.weight'), get(pre + 'output.LayerNorm.bias'), cfg.layer_norm_eps);
  }
  let pooled: Float64Array | null = null, clsLogits: Float64Array | null = null, mlmLogits: Float64Array | null = null;
  if (w['bert.pooler.dense.weight']) {
    const first = new Float64Array(B * H);
    for (let b = 0; b < B; b++) for (let i = 0; i < H; i++) first[b * H + i] = h[b * T * H + i]!;
    pooled = linear(first, B, get('bert.pooler.dense.weight'), get('bert.pooler.dense.bias'), H, H).map(Math.tanh);
    if (w['classifier.weight']) {
      const L = get('classifier.bias').length;
      clsLogits = linear(pooled, B, get('classifier.weight'), get('classifier.bias'), H, L);
    }
  }
  if (w['cls.predictions.bias']) {
    const t = linear(h, N, get('cls.predictions.transform.dense.weight'), get('cls.predictions.transform.dense.bias'), H, H).map(cfg.hidden_act === 'gelu' ? gelu : (x) => Math.max(0, x));
    const tn = layerNorm(t, N, H, get('cls.predictions.transform.LayerNorm.weight'), get('cls.predictions.transform.LayerNorm.bias'), cfg.layer_norm_eps);
    mlmLogits = linear(tn, N, get('bert.embeddings.word_embeddings.weight'), get('cls.predictions.bias'), H, cfg.vocab_size);
  }
  return { hidden: h, attentions, pooled, mlmLogits, clsLogits };
}

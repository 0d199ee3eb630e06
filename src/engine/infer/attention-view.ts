/**
 * What the attention panel draws, computed in the extension host from one AttentionResult (every
 * layer's probabilities stay here; the page gets 8-bit thumbnails and one head at a time).
 *
 * `keep` lists the token positions shown (e.g. all but [CLS]/[SEP]/[PAD]); it restricts rows AND
 * columns. Probabilities are NOT renormalised over the kept columns: a query row then sums to
 * less than 1, and the page reports how much of its mass went to hidden tokens. Renormalising
 * would show a distribution the model never computed (BERT heads often park most of their mass on
 * [SEP] or [CLS], and rescaling the rest would make it look sharp).
 */
import type { AttentionResult } from './pipeline.js';

export interface ViewToken { text: string; start: number; end: number; segment: number | null; special: boolean }
export interface Thumbnails {
  /** Side of each thumbnail: the requested size, or the number of kept tokens when that is fewer. */
  size: number;
  count: number;
  /** `count` thumbnails of size × size bytes, row-major, in layer-major order (layer, then head). */
  data: Uint8Array;
  /** Each thumbnail's maximum (the probability that byte 255 stands for). */
  scale: number[];
}

const SPECIAL = new Set(['[CLS]', '[SEP]', '[PAD]']);

/** The page's token list: segment from the sequence ids; special = [CLS]/[SEP]/[PAD] or outside both segments. */
export function viewTokens(r: AttentionResult): ViewToken[] {
  return r.tokens.map((text, i) => {
    const seg = r.sequenceIds[i] ?? null;
    const [start, end] = r.offsets[i] ?? [0, 0];
    return { text, start, end, segment: seg, special: seg === null || SPECIAL.has(text) };
  });
}

/** Positions to show: all, or all but the special tokens. */
export function keepIndices(tokens: readonly { special: boolean }[], hideSpecial: boolean): number[] {
  return tokens.flatMap((t, i) => (hideSpecial && t.special ? [] : [i]));
}

/** Tokens per sequence of an AttentionResult (checks that the layers have the [heads, T, T] shape). */
export function seqLength(r: AttentionResult): number {
  const T = r.tokens.length;
  r.layers.forEach((a, l) => {
    if (a.length !== r.heads * T * T) throw new Error(`attention layer ${l} holds ${a.length} values, expected heads × T × T = ${r.heads} × ${T} × ${T}`);
  });
  return T;
}

/** Checks `keep` against T tokens: distinct positions in [0, T), at least one. */
export function checkKeep(keep: readonly number[], T: number): Int32Array {
  if (keep.length === 0) throw new Error('every token is hidden: show the special tokens, or run a text with words in it');
  const seen = new Uint8Array(T);
  keep.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0 || k >= T) throw new Error(`keep[${i}] = ${k} is not a token position of this input (0…${T - 1}); run the text again`);
    if (seen[k]) throw new Error(`keep[${i}] = ${k} appears twice`);
    seen[k] = 1;
  });
  return Int32Array.from(keep);
}

function checkLayerHead(r: AttentionResult, layer: number, head: number): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= r.layers.length) throw new Error(`layer ${layer} does not exist: the model has layers 0…${r.layers.length - 1}`);
  if (!Number.isInteger(head) || head < -1 || head >= r.heads) throw new Error(`head ${head} does not exist: the model has heads 0…${r.heads - 1} (-1 = their mean)`);
}

/** One head's query × key probabilities over the kept positions, n × n row-major; head -1 = mean of the layer's heads. */
export function headMatrix(r: AttentionResult, layer: number, head: number, keep: readonly number[]): Float32Array {
  const T = seqLength(r);
  checkLayerHead(r, layer, head);
  const K = checkKeep(keep, T), n = K.length, a = r.layers[layer]!;
  const heads = head < 0 ? Array.from({ length: r.heads }, (_, h) => h) : [head];
  const out = new Float32Array(n * n);
  if (heads.length === 1) {
    const base = head * T * T;
    for (let i = 0; i < n; i++) {
      const row = base + K[i]! * T;
      for (let j = 0; j < n; j++) out[i * n + j] = a[row + K[j]!]!;
    }
    return out;
  }
  const acc = new Float64Array(n * n);
  for (const h of heads) {
    const base = h * T * T;
    for (let i = 0; i < n; i++) {
      const row = base + K[i]! * T;
      for (let j = 0; j < n; j++) acc[i * n + j]! += a[row + K[j]!]!;
    }
  }
  for (let i = 0; i < acc.length; i++) out[i] = acc[i]! / heads.length;
  return out;
}

/**
 * Average-pooling bins of n kept positions into s ≤ n bins: position k goes to bin ⌊k·s/n⌋, so
 * every bin holds ⌊n/s⌋ or ⌈n/s⌉ positions and none is empty.
 */
export function poolBins(n: number, s: number): { bin: Int32Array; count: Int32Array } {
  const bin = new Int32Array(n), count = new Int32Array(s);
  for (let k = 0; k < n; k++) { bin[k] = Math.floor((k * s) / n); count[bin[k]!]!++; }
  return { bin, count };
}

/** The side of the thumbnails for n kept tokens at a requested size. */
export const thumbSize = (n: number, size: number): number => Math.max(1, Math.min(size, n));

/**
 * The thumbnails of one layer into `out` (bytes) and `scale`, starting at thumbnail `first`:
 * one per head, or one for the mean of its heads. Each is the kept submatrix average-pooled to
 * size × size and scaled to its own maximum (0 → 0, max → 255).
 */
export function thumbnailsOfLayer(r: AttentionResult, layer: number, K: Int32Array, s: number, mean: boolean, out: Uint8Array, scale: number[], first: number): void {
  const T = r.tokens.length, n = K.length, a = r.layers[layer]!;
  const { bin, count } = poolBins(n, s);
  const acc = new Float64Array(s * s);
  const emit = (t: number, div: number) => {
    let max = 0;
    for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) {
      const v = acc[i * s + j]! / (count[i]! * count[j]! * div);
      acc[i * s + j] = v;
      if (v > max) max = v;
    }
    const o = t * s * s;
    for (let c = 0; c < s * s; c++) out[o + c] = max > 0 ? Math.round((acc[c]! / max) * 255) : 0;
    scale[t] = max;
    acc.fill(0);
  };
  // Bins are contiguous runs of kept positions: sum each run of a row, then add it once.
  const end = new Int32Array(s);
  for (let b = 0, k = 0; b < s; b++) { k += count[b]!; end[b] = k; }
  for (let h = 0; h < r.heads; h++) {
    const base = h * T * T;
    for (let i = 0; i < n; i++) {
      const row = base + K[i]! * T, rb = bin[i]! * s;
      for (let b = 0, j = 0; b < s; b++) {
        let sum = 0;
        for (const e = end[b]!; j < e; j++) sum += a[row + K[j]!]!;
        acc[rb + b]! += sum;
      }
    }
    if (!mean) emit(first + h, 1);
  }
  if (mean) emit(first, r.heads);
}

/** Thumbnails of every layer × head (layer-major), or of each layer's mean when `mean`. */
export function thumbnails(r: AttentionResult, keep: readonly number[], size: number, mean: boolean): Thumbnails {
  const T = seqLength(r);
  const K = checkKeep(keep, T);
  if (!Number.isInteger(size) || size < 1) throw new Error(`thumbnail size ${size} must be a positive integer`);
  const s = thumbSize(K.length, size);
  const per = mean ? 1 : r.heads, count = r.layers.length * per;
  const data = new Uint8Array(count * s * s), scale = new Array<number>(count).fill(0);
  for (let l = 0; l < r.layers.length; l++) thumbnailsOfLayer(r, l, K, s, mean, data, scale, l * per);
  return { size: s, count, data, scale };
}

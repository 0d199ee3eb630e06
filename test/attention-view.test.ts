/**
 * The attention panel's host-side views against a naive float64 reference written here: random
 * row-stochastic matrices of odd sizes (not divisible by the thumbnail size), subsets of kept
 * positions, per-head and mean-of-heads matrices and thumbnails.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AttentionResult } from '../src/engine/infer/pipeline.js';
import { headMatrix, keepIndices, poolBins, thumbnails, viewTokens } from '../src/engine/infer/attention-view.js';
import { rng } from './helpers.js';

/** A random attention result: L layers of H heads, each row a softmax of random logits. */
function randomResult(L: number, H: number, T: number, seed: number): AttentionResult {
  const rand = rng(seed).next;
  const layers = Array.from({ length: L }, () => {
    const a = new Float32Array(H * T * T);
    for (let r = 0; r < H * T; r++) {
      const e = Array.from({ length: T }, () => Math.exp(4 * rand()));
      const s = e.reduce((x, y) => x + y, 0);
      e.forEach((v, j) => { a[r * T + j] = v / s; });
    }
    return a;
  });
  const tokens = Array.from({ length: T }, (_, i) => (i === 0 ? '[CLS]' : i === T - 1 ? '[SEP]' : `w${i}`));
  return { tokens, offsets: tokens.map((_, i) => [i, i + 1] as [number, number]), sequenceIds: tokens.map((_, i) => (i === 0 || i === T - 1 ? null : 0)), layers, heads: H, warnings: [] };
}

/** Reference: p[l][h][q][k] in float64, the mean over heads when h = -1. */
function refAt(r: AttentionResult, l: number, h: number, q: number, k: number): number {
  const T = r.tokens.length;
  if (h >= 0) return r.layers[l]![h * T * T + q * T + k]!;
  let s = 0;
  for (let g = 0; g < r.heads; g++) s += r.layers[l]![g * T * T + q * T + k]!;
  return s / r.heads;
}

/** Reference pooling, written from the definition: bin b of s holds the kept positions with ⌊k·s/n⌋ = b. */
function refThumb(r: AttentionResult, l: number, h: number, keep: number[], s: number): number[] {
  const n = keep.length;
  const members = Array.from({ length: s }, (_, b) => keep.filter((_, k) => Math.floor((k * s) / n) === b));
  const out: number[] = [];
  for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) {
    let sum = 0;
    for (const q of members[i]!) for (const k of members[j]!) sum += refAt(r, l, h, q, k);
    out.push(sum / (members[i]!.length * members[j]!.length));
  }
  return out;
}

const randomKeep = (T: number, seed: number): number[] => { const rand = rng(seed).next; const k = Array.from({ length: T }, (_, i) => i).filter(() => rand() < 0.7); return k.length ? k : [0]; };

describe('attention view', () => {
  it('lists tokens with their segments and marks [CLS]/[SEP]/[PAD] and out-of-segment tokens special', () => {
    const r: AttentionResult = { tokens: ['[CLS]', 'a', '[SEP]', 'b', '[SEP]', '[PAD]'], offsets: [[0, 0], [0, 1], [0, 0], [0, 1], [0, 0], [0, 0]], sequenceIds: [null, 0, null, 1, null, null], layers: [], heads: 1, warnings: [] };
    const t = viewTokens(r);
    assert.deepEqual(t.map((x) => [x.segment, x.special]), [[null, true], [0, false], [null, true], [1, false], [null, true], [null, true]]);
    assert.deepEqual(keepIndices(t, true), [1, 3]);
    assert.deepEqual(keepIndices(t, false), [0, 1, 2, 3, 4, 5]);
  });

  it('pooling bins cover every position once, none empty, sizes differing by at most one', () => {
    for (const [n, s] of [[37, 8], [8, 8], [100, 7], [5, 1]] as const) {
      const { bin, count } = poolBins(n, s);
      assert.equal([...count].reduce((a, b) => a + b, 0), n);
      assert.ok(Math.max(...count) - Math.min(...count) <= 1 && Math.min(...count) >= 1, `${n}/${s}: ${[...count]}`);
      assert.deepEqual([...bin], [...bin].slice().sort((a, b) => a - b), 'bins are contiguous');
    }
  });

  for (const [L, H, T, size, seed] of [[2, 3, 13, 4, 1], [1, 4, 37, 8, 2], [3, 2, 9, 16, 3]] as const) {
    it(`head matrices and their mean over kept rows and columns (L${L} H${H} T${T})`, () => {
      const r = randomResult(L, H, T, seed);
      for (const keep of [Array.from({ length: T }, (_, i) => i), randomKeep(T, seed + 10), [T - 1, 0, 2]]) {
        for (let l = 0; l < L; l++) for (let h = -1; h < H; h++) {
          const m = headMatrix(r, l, h, keep), n = keep.length;
          assert.equal(m.length, n * n);
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
            const want = refAt(r, l, h, keep[i]!, keep[j]!);
            assert.ok(Math.abs(m[i * n + j]! - want) <= 1e-6, `l${l} h${h} [${i},${j}]: ${m[i * n + j]} vs ${want}`);
          }
        }
      }
    });

    it(`thumbnails: average-pooled, each scaled to its own maximum (L${L} H${H} T${T}, size ${size})`, () => {
      const r = randomResult(L, H, T, seed);
      for (const keep of [Array.from({ length: T }, (_, i) => i), randomKeep(T, seed + 20)]) {
        for (const mean of [false, true]) {
          const th = thumbnails(r, keep, size, mean);
          const s = Math.min(size, keep.length);
          assert.equal(th.size, s);
          assert.equal(th.count, mean ? L : L * H);
          assert.equal(th.data.length, th.count * s * s);
          for (let l = 0; l < L; l++) for (const h of mean ? [-1] : Array.from({ length: H }, (_, g) => g)) {
            const t = mean ? l : l * H + h;
            const ref = refThumb(r, l, h, keep, s), max = Math.max(...ref);
            assert.ok(Math.abs(th.scale[t]! - max) <= 1e-9 * Math.max(1, max), `scale of ${t}: ${th.scale[t]} vs ${max}`);
            ref.forEach((v, c) => {
              const got = th.data[t * s * s + c]!;
              assert.ok(Math.abs(got - (v / max) * 255) <= 0.5 + 1e-6, `thumb ${t} cell ${c}: ${got} vs ${(v / max) * 255}`);
            });
          }
        }
      }
    });
  }

  it('refuses bad requests with errors that name the value', () => {
    const r = randomResult(1, 2, 5, 4);
    assert.throws(() => headMatrix(r, 1, 0, [0]), /layer 1 does not exist: the model has layers 0…0/);
    assert.throws(() => headMatrix(r, 0, 2, [0]), /head 2 does not exist/);
    assert.throws(() => headMatrix(r, 0, 0, [5]), /keep\[0\] = 5 is not a token position/);
    assert.throws(() => headMatrix(r, 0, 0, [1, 1]), /keep\[1\] = 1 appears twice/);
    assert.throws(() => thumbnails(r, [], 4, false), /every token is hidden/);
    assert.throws(() => thumbnails({ ...r, layers: [new Float32Array(7)] }, [0], 4, false), /attention layer 0 holds 7 values, expected heads × T × T = 2 × 5 × 5/);
  });
});

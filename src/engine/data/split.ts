/**
 * A deterministic train/validation split of a stream. Each example's side is decided by a hash of
 * (seed, its index in the stream), not by drawing from a generator: no count or buffer is needed,
 * both passes over a file agree, and appending to the file leaves earlier examples where they were.
 */
import type { Example } from './types.js';

export type SplitName = 'train' | 'validation';
export interface SplitOptions {
  /** Fraction of examples in validation, in [0, 1] (validation_split_percentage / 100). */
  ratio: number;
  seed: number;
}
export interface SplitExample { split: SplitName; /** 0-based position in the stream */ index: number; example: Example }

/** murmur3's 32-bit finalizer: a bijection whose every input bit flips each output bit with probability ≈ ½. */
function fmix32(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) from (seed, index); index may be any safe integer ≥ 0. */
export function splitHash(index: number, seed: number): number {
  const lo = index >>> 0, hi = Math.floor(index / 4294967296) >>> 0;
  return fmix32(fmix32(fmix32((seed ^ 0x9e3779b9) >>> 0) ^ lo) ^ hi) / 4294967296;
}

function checkOptions(ratio: number, seed: number): void {
  if (!(Number.isFinite(ratio) && ratio >= 0 && ratio <= 1)) throw new RangeError(`validation ratio ${ratio} must be a number from 0 to 1 (a percentage of 10 is 0.1)`);
  if (!Number.isInteger(seed)) throw new RangeError(`split seed ${seed} must be an integer`);
}

/** Whether the example at `index` goes to validation: true for a `ratio` fraction of indices. */
export function isValidation(index: number, seed: number, ratio: number): boolean {
  return splitHash(index, seed) < ratio;
}

/** Tags each example of the stream with its side of the split. */
export async function* splitExamples(examples: AsyncIterable<Example> | Iterable<Example>, opts: SplitOptions): AsyncGenerator<SplitExample> {
  checkOptions(opts.ratio, opts.seed);
  let index = 0;
  for await (const example of examples) {
    yield { split: isValidation(index, opts.seed, opts.ratio) ? 'validation' : 'train', index, example };
    index++;
  }
}

/** One side of the split. Reading the source twice (once per side) gives both, in constant memory. */
export async function* takeSplit(examples: AsyncIterable<Example> | Iterable<Example>, part: SplitName, opts: SplitOptions): AsyncGenerator<Example> {
  for await (const t of splitExamples(examples, opts)) if (t.split === part) yield t.example;
}

/**
 * Length buckets and a deterministic, resumable batch sampler.
 *
 * The trainer compiles one train-step model per batch shape, and one call of it runs K optimizer
 * steps, so the K batches of a call ("a run") must share [B, T]. Sequences are therefore padded
 * to a bucket length T from a short list (dynamic padding to the bucket, not to a global maximum),
 * and every run draws all K·B examples from one bucket.
 *
 * One epoch, planned from the generator's state at its start:
 *   1. shuffle all example indices; put each into the group of its bucket (the smallest ≥ its
 *      length), after the examples carried over from the previous epoch;
 *   2. from the smallest bucket up, cut each group into runs of K·B examples; what is left of a
 *      group (< K·B) joins the front of the next larger group (its examples fit there too, with
 *      more padding), so nothing is dropped;
 *   3. what is left of the largest group is carried into the next epoch, where it is placed at
 *      the front of its buckets' groups, so it is trained on first;
 *   4. shuffle the order of the runs.
 * So every example is visited once per epoch: an epoch's runs hold the examples carried in plus
 * the epoch's own, less those carried out. (HF's Trainer drops nothing either, but pads a short
 * last batch; fixed shapes rule that out here.) When the dataset has fewer than K·B examples,
 * epochs pass with no run until enough are carried, and one run can then hold an example twice
 * (once from each epoch).
 *
 * State: the epoch, the index of the next run in its plan, the generator state at the epoch's
 * start and the examples carried in. Restoring re-plans the epoch from these and continues at
 * the cursor: exactly the runs an uninterrupted sampler would have produced.
 */
import { Rng } from './rng.js';

/** Multiples of `step` below maxSeqLength, then maxSeqLength itself: 128 → [32, 64, 96, 128]. */
export function defaultBuckets(maxSeqLength: number, step = 32): number[] {
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 1) throw new Error(`maxSeqLength is ${maxSeqLength}; expected an integer ≥ 1.`);
  if (!Number.isInteger(step) || step < 1) throw new Error(`bucket step is ${step}; expected an integer ≥ 1.`);
  const out: number[] = [];
  for (let t = step; t < maxSeqLength; t += step) out.push(t);
  out.push(maxSeqLength);
  return out;
}

/** Throws unless `buckets` is a non-empty, strictly increasing list of positive integers. */
export function checkBuckets(buckets: readonly number[]): void {
  if (buckets.length === 0) throw new Error('buckets is empty; give at least one sequence length, e.g. defaultBuckets(maxSeqLength).');
  buckets.forEach((b, i) => {
    if (!Number.isInteger(b) || b < 1) throw new Error(`buckets[${i}] is ${b}; expected a positive integer length.`);
    if (i > 0 && b <= buckets[i - 1]!) throw new Error(`buckets must increase strictly, but buckets[${i - 1}] = ${buckets[i - 1]} and buckets[${i}] = ${b}; sort them and drop duplicates.`);
  });
}

/** Index of the smallest bucket that holds `length` tokens. */
export function bucketIndex(length: number, buckets: readonly number[]): number {
  for (let i = 0; i < buckets.length; i++) if (length <= buckets[i]!) return i;
  throw new Error(`a sequence of ${length} tokens is longer than the largest bucket (${buckets[buckets.length - 1]}); truncate to maxSeqLength or add a bucket of at least ${length}.`);
}

/** The bucket length T a sequence of `length` tokens is padded to. */
export function bucketFor(length: number, buckets: readonly number[]): number {
  return buckets[bucketIndex(length, buckets)]!;
}

export interface SamplerOptions {
  /** B: sequences per batch. */
  batchSize: number;
  /** Allowed padded lengths T, strictly increasing. */
  buckets: readonly number[];
  seed: number;
  /** K: batches per run (optimizer steps per call of the train-step model). */
  stepsPerRun: number;
}

/** Everything needed to continue exactly where a sampler stopped; plain JSON. */
export interface SamplerState {
  epoch: number;
  /** Index of the next run in the epoch's plan. */
  cursor: number;
  /** Generator state at the start of the epoch (the plan is re-made from it). */
  rngState: number;
  /** Examples carried into this epoch from the previous one. */
  carry: number[];
}

/** K batches of B example indices, all padded to T. */
export interface Run {
  epoch: number;
  T: number;
  batches: number[][];
}

export class BatchSampler {
  private readonly bucketOf: Int32Array;
  private readonly B: number;
  private readonly K: number;
  private readonly buckets: readonly number[];
  private epoch = 0;
  private cursor = 0;
  private rngState: number;
  private carryIn: number[] = [];
  private plan: Run[] = [];
  private carryOut: number[] = [];
  private nextRngState = 0;

  /** `lengths[i]`: tokens of example i (special tokens included, unpadded). */
  constructor(lengths: readonly number[], opts: SamplerOptions, state?: SamplerState) {
    const { batchSize, stepsPerRun, buckets, seed } = opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize is ${batchSize}; expected an integer ≥ 1.`);
    if (!Number.isInteger(stepsPerRun) || stepsPerRun < 1) throw new Error(`stepsPerRun is ${stepsPerRun}; expected an integer ≥ 1.`);
    if (lengths.length === 0) throw new Error('the dataset has no examples; check the data path and format.');
    checkBuckets(buckets);
    this.B = batchSize;
    this.K = stepsPerRun;
    this.buckets = buckets;
    this.bucketOf = Int32Array.from(lengths, (len, i) => {
      try { return bucketIndex(len, buckets); } catch (e) { throw new Error(`example ${i}: ${(e as Error).message}`); }
    });
    this.rngState = Rng.derive(seed, 'batches').state;
    if (state) this.restore(state);
    this.replan();
  }

  /** Runs of the current epoch's plan (the cursor counts through them). */
  get runsThisEpoch(): number { return this.plan.length; }

  get state(): SamplerState {
    return { epoch: this.epoch, cursor: this.cursor, rngState: this.rngState, carry: [...this.carryIn] };
  }

  /** The next run; moves on to the next epoch when this one is done. */
  next(): Run {
    // An epoch adds n examples and carries fewer than K·B, so a run comes within K·B/n + 1 epochs.
    for (let guard = Math.ceil((this.B * this.K) / this.bucketOf.length) + 2; this.cursor >= this.plan.length; guard--) {
      if (guard === 0) throw new Error('BatchSampler: no run after many epochs; this is a bug.');
      this.epoch++;
      this.rngState = this.nextRngState;
      this.carryIn = this.carryOut;
      this.cursor = 0;
      this.replan();
    }
    const r = this.plan[this.cursor++]!;
    return { epoch: r.epoch, T: r.T, batches: r.batches.map((b) => [...b]) };
  }

  private restore(s: SamplerState): void {
    const n = this.bucketOf.length;
    const int = (v: unknown, name: string) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`sampler state: ${name} is ${JSON.stringify(v)}; expected an integer ≥ 0. Was the state saved by this version?`);
      return v;
    };
    this.epoch = int(s.epoch, 'epoch');
    this.cursor = int(s.cursor, 'cursor');
    this.rngState = int(s.rngState, 'rngState') >>> 0;
    if (!Array.isArray(s.carry)) throw new Error('sampler state: carry is missing; expected a list of example indices.');
    for (const i of s.carry) {
      if (int(i, 'a carried example') >= n) throw new Error(`sampler state: carried example ${i} is not in a dataset of ${n} examples; the dataset changed since the state was saved — restart the epoch or use the original data.`);
    }
    this.carryIn = [...s.carry];
  }

  private replan(): void {
    const rng = Rng.fromState(this.rngState);
    const n = this.bucketOf.length, B = this.B, size = this.K * B;
    const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    const groups: number[][] = this.buckets.map(() => []);
    for (const i of this.carryIn) groups[this.bucketOf[i]!]!.push(i);
    for (const i of order) groups[this.bucketOf[i]!]!.push(i);
    const runs: Run[] = [];
    let left: number[] = [];
    groups.forEach((g, k) => {
      const pool = left.length ? left.concat(g) : g;
      const full = Math.floor(pool.length / size);
      for (let r = 0; r < full; r++) {
        const batches: number[][] = [];
        for (let j = 0; j < this.K; j++) batches.push(pool.slice(r * size + j * B, r * size + (j + 1) * B));
        runs.push({ epoch: this.epoch, T: this.buckets[k]!, batches });
      }
      left = pool.slice(full * size);
    });
    rng.shuffle(runs);
    if (this.cursor > runs.length) throw new Error(`sampler state: cursor ${this.cursor} is past the ${runs.length} runs of epoch ${this.epoch}; the dataset or batch settings changed since the state was saved.`);
    this.plan = runs;
    this.carryOut = left;
    this.nextRngState = rng.state;
  }
}

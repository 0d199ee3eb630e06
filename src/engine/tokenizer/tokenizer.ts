/**
 * BERT's WordPiece tokenizer, matching Hugging Face's Rust `tokenizers` token for token and offset
 * for offset: added tokens are cut out of the original text, each piece between them is
 * normalized (BertNormalizer) into a buffer that remembers, per UTF-16 unit, the range of the
 * original text it came from; the buffer is split into words (BertPreTokenizer) and each word
 * into the longest vocabulary pieces from the left (WordPiece). Special tokens, truncation and
 * padding follow (post.ts).
 *
 * Speed: ASCII goes through two 128-entry tables, other characters through a per-code-point
 * cache; words are matched by walking a trie (trie.ts), so no substring is made per lookup.
 */
import { AddedTokenMatcher } from './added-tokens.js';
import { Encoding, SequenceTokens, TemplateInfo, assemble, padEncoding, paddedLength, truncateSequences } from './post.js';
import { EncodeOptions, TruncationOptions, VocabTxtOptions, WordPieceSpec, parseJson, specFromVocab } from './spec.js';
import { specFromTokenizerJson, tokenizerJsonFromSpec } from './hf-json.js';
import { VocabTrie } from './trie.js';
import { BYTES_CHAR } from './components.js';
import { Pipeline, decodeTokens, encodePiece, normalizeSegment, preTokenizeText, readPipeline, setTemplateReader, wordStartMark } from './pipeline.js';
import { JsonFields } from './spec.js';
import { readTemplate } from './hf-json.js';

setTemplateReader(readTemplate);

/** Tab, line feed, vertical tab, form feed, carriage return as byte-level characters. */
const BYTE_LEVEL_BREAKS = [9, 10, 11, 12, 13].map((b) => BYTES_CHAR[b]).join('');

/** The roles of special tokens, whatever the family calls them ([MASK] or <mask>, [CLS] or <s>). */
export interface SpecialTokens { mask?: string; pad?: string; cls?: string; sep?: string; unk?: string }

/** Model, normalizer, pre-tokenizer, post-processor and decoder types the BERT fast path reads. */
function isBertPipeline(root: Record<string, unknown>): boolean {
  const t = (k: string) => (root[k] == null ? null : typeof root[k] === 'object' ? (root[k] as Record<string, unknown>)['type'] : undefined);
  const model = typeof root['model'] === 'object' && root['model'] !== null ? root['model'] as Record<string, unknown> : undefined;
  const modelType = model?.['type'] ?? (model && 'max_input_chars_per_word' in model ? 'WordPiece' : undefined);
  return modelType === 'WordPiece' && [null, 'BertNormalizer'].includes(t('normalizer') as string) && [null, 'BertPreTokenizer'].includes(t('pre_tokenizer') as string)
    && [null, 'BertProcessing', 'TemplateProcessing'].includes(t('post_processor') as string) && [null, 'WordPiece'].includes(t('decoder') as string);
}
import { CHINESE, PUNCT, REMOVE, SPACE, charClass, mapChar } from './unicode.js';

// What each unit of the normalized buffer is to the pre-tokenizer.
const WORD = 0, BLANK = 1, ALONE = 2;
// ASCII characters clean_text removes.
const DROP = 3;

interface Mapped { units: string; kinds: Uint8Array }
const NOTHING: Mapped = { units: '', kinds: new Uint8Array(0) };

export class WordPieceTokenizer {
  readonly spec: WordPieceSpec;
  private readonly trie: VocabTrie;
  /** Trie node after the continuing-subword prefix ("##"): where non-initial pieces start. */
  private readonly contRoot: number;
  private readonly unkId: number;
  private readonly tokenById = new Map<number, string>();
  /** Model vocabulary by id (an array: read once per token on the hot path). */
  private readonly vocabById: string[] = [];
  private readonly idByToken = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  private readonly rawMatcher: AddedTokenMatcher;
  private readonly normMatcher: AddedTokenMatcher;
  private readonly template: TemplateInfo;
  private readonly clean: boolean;
  private readonly chinese: boolean;
  private readonly strip: boolean;
  private readonly lower: boolean;
  private readonly split: boolean;
  private readonly asciiKind = new Uint8Array(128);
  private readonly asciiUnit = new Uint16Array(128);
  private readonly charCache = new Map<number, Mapped>();
  // The normalized buffer: code unit, pre-tokenizer kind, original [start, end) per unit.
  private units = new Uint16Array(256);
  private kinds = new Uint8Array(256);
  private ostart = new Int32Array(256);
  private oend = new Int32Array(256);
  private wordIndex = 0;
  /** The general tokenizer.json pipeline (BPE, Unigram…); undefined on the BERT WordPiece fast path. */
  readonly pipeline: Pipeline | undefined;
  private specialOverrides: SpecialTokens = {};

  constructor(spec: WordPieceSpec, pipeline?: Pipeline) {
    this.spec = spec;
    this.pipeline = pipeline;
    this.trie = new VocabTrie(spec.vocab);
    this.contRoot = spec.continuingSubwordPrefix ? this.trie.walk(spec.continuingSubwordPrefix) : 0;
    this.unkId = spec.vocab.get(spec.unkToken) ?? -1;
    for (const [t, id] of spec.vocab) { this.tokenById.set(id, t); this.idByToken.set(t, id); this.vocabById[id] = t; }
    for (const a of spec.addedTokens) {
      this.tokenById.set(a.id, a.content);
      this.idByToken.set(a.content, a.id);
      if (a.special) this.specialIds.add(a.id);
    }
    const n = spec.normalizer;
    this.clean = n?.cleanText ?? false;
    this.chinese = n?.handleChineseChars ?? false;
    this.lower = n?.lowercase ?? false;
    this.strip = n ? (n.stripAccents ?? n.lowercase) : false;
    this.split = spec.bertPreTokenizer;
    for (let c = 0; c < 128; c++) {
      const cls = charClass(c);
      this.asciiKind[c] = this.clean && cls & REMOVE ? DROP : this.kindOf(c);
      // clean_text turns whitespace into ' ', which normalized added tokens can see ("hello\tworld").
      this.asciiUnit[c] = this.clean && cls & SPACE ? 32 : this.lower && c >= 65 && c <= 90 ? c + 32 : c;
    }
    this.rawMatcher = new AddedTokenMatcher(spec.addedTokens.filter((a) => !a.normalized).map((token) => ({ text: token.content, token })));
    // Normalized added tokens are looked for in normalized text, so their contents are normalized too.
    this.normMatcher = new AddedTokenMatcher(spec.addedTokens.filter((a) => a.normalized).map((token) => ({ text: this.normalizeText(token.content), token })));
    // As in the Rust library, such a token reads back (idToToken, decode, tokens) in its normalized form.
    for (const a of spec.addedTokens) if (a.normalized) this.tokenById.set(a.id, this.normalizeText(a.content));
    this.template = TemplateInfo.from(spec.postProcessor);
  }

  /** From the text of a tokenizer.json; `file` names it in errors. */
  static fromTokenizerJson(text: string, file = 'tokenizer.json'): WordPieceTokenizer {
    const doc = parseJson(text, file);
    const f = new JsonFields(file);
    const root = f.object(doc, '(top level)');
    if (isBertPipeline(root)) return new WordPieceTokenizer(specFromTokenizerJson(doc, file));
    // Any other pipeline: the BERT spec's reader takes added tokens, truncation and padding from a
    // stand-in WordPiece document; the pipeline does the rest.
    const p = readPipeline(f, root);
    const stub = { added_tokens: root['added_tokens'], truncation: root['truncation'], padding: root['padding'], model: { type: 'WordPiece', vocab: {} as Record<string, number>, unk_token: '' } };
    for (const [t, id] of p.model.vocab) stub.model.vocab[t] = id;
    const spec = specFromTokenizerJson(withUnk(stub), file);
    spec.vocab = p.model.vocab;
    spec.unkToken = p.model.unkToken;
    spec.continuingSubwordPrefix = p.model.continuingSubwordPrefix;
    spec.postProcessor = p.postProcessor;
    return new WordPieceTokenizer(spec, p);
  }

  /** Special-token roles: tokenizer_config.json's (set by loadTokenizer), else read off the tokens. */
  get specialTokens(): SpecialTokens {
    const special = this.spec.addedTokens.filter((a) => a.special).map((a) => a.content);
    const find = (re: RegExp) => special.find((t) => re.test(t));
    const single = this.spec.postProcessor?.single ?? [];
    const specials = single.filter((p) => 'special' in p).map((p) => (p as { special: string }).special);
    const firstIsSpecial = single.length > 0 && 'special' in single[0]!;
    const out: SpecialTokens = {
      mask: find(/^(\[MASK\]|<mask>)$/i) ?? find(/mask/i),
      pad: this.spec.padding?.padToken && this.idByToken.has(this.spec.padding.padToken) ? this.spec.padding.padToken : find(/^(\[PAD\]|<pad>)$/i) ?? find(/pad/i),
      cls: firstIsSpecial ? specials[0] : find(/^(\[CLS\]|<s>)$/),
      sep: specials.length > (firstIsSpecial ? 1 : 0) ? specials[specials.length - 1] : find(/^(\[SEP\]|<\/s>)$/),
      unk: this.spec.unkToken || undefined,
    };
    for (const k of Object.keys(out) as (keyof SpecialTokens)[]) if (out[k] === undefined) delete out[k];
    return { ...out, ...this.specialOverrides };
  }

  /** Sets roles from tokenizer_config.json / special_tokens_map.json (mask_token, pad_token, …). */
  setSpecialTokens(roles: SpecialTokens): void {
    for (const [k, v] of Object.entries(roles)) if (v !== undefined && this.idByToken.has(v)) this.specialOverrides[k as keyof SpecialTokens] = v;
  }

  /** From a vocabulary (tokens in id order, or token → id) and BertTokenizer's options. */
  static fromVocab(vocab: string[] | Map<string, number>, options: VocabTxtOptions = {}, file = 'vocab.txt'): WordPieceTokenizer {
    const map = Array.isArray(vocab) ? new Map(vocab.map((t, i) => [t, i] as [string, number])) : vocab;
    return new WordPieceTokenizer(specFromVocab(map, options, file));
  }

  /** The tokenizer.json text for this tokenizer. */
  toTokenizerJson(): string {
    if (this.pipeline) return JSON.stringify(this.pipeline.json, null, 2);
    return JSON.stringify(tokenizerJsonFromSpec(this.spec), null, 2);
  }

  /** Number of distinct ids (vocabulary and added tokens). */
  get vocabSize(): number {
    return this.tokenById.size;
  }

  tokenToId(token: string): number | undefined {
    return this.idByToken.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenById.get(id);
  }

  /**
   * Which tokens begin a word, read off the tokens alone (for sequences whose Encoding's wordIds
   * are lost): WordPiece, a piece without the continuation prefix ("##"); byte-level BPE, a token
   * starting with "Ġ" (a space), or at or after a tab or line break ("ĉ", "Ċ"…, which the
   * pre-tokenizer keeps apart); sentencepiece, one starting with "▁". So a word is what whitespace
   * delimits. The first token always begins one; with neither prefix nor mark, every token does.
   */
  wordStarts(ids: readonly number[]): boolean[] {
    const prefix = this.spec.continuingSubwordPrefix;
    const mark = this.pipeline && !prefix ? wordStartMark(this.pipeline) : null;
    const breaks = mark === 'Ġ' ? BYTE_LEVEL_BREAKS : '';
    const tokens = ids.map((id) => this.tokenById.get(id) ?? '');
    return tokens.map((t, i) => {
      if (i === 0) return true;
      if (prefix) return !t.startsWith(prefix);
      if (mark === null) return true;
      return t.startsWith(mark) || (t !== '' && breaks.includes(t[0]!)) || (tokens[i - 1] !== '' && breaks.includes(tokens[i - 1]!.at(-1)!));
    });
  }

  /** Tokenizes `text` (and `pair`), adds special tokens, truncates and pads as the options say. */
  encode(text: string, pair?: string | null, options: EncodeOptions = {}): Encoding {
    const enc = this.encodeOne(text, pair ?? null, options);
    const padding = options.padding === undefined ? this.spec.padding : options.padding;
    if (padding) padEncoding(enc, paddedLength([enc.ids.length], padding), padding);
    return enc;
  }

  /** Encodes each input; padding without maxLength pads all to the longest of the batch. */
  encodeBatch(inputs: (string | [string, string])[], options: EncodeOptions = {}): Encoding[] {
    const encs = inputs.map((x) => (typeof x === 'string' ? this.encodeOne(x, null, options) : this.encodeOne(x[0], x[1], options)));
    const padding = options.padding === undefined ? this.spec.padding : options.padding;
    if (padding && encs.length > 0) {
      const len = paddedLength(encs.map((e) => e.ids.length), padding);
      for (const e of encs) padEncoding(e, len, padding);
    }
    return encs;
  }

  /** Tokens back to text, with the WordPiece decoder's joining and cleanup; unknown ids are skipped. */
  decode(ids: ArrayLike<number>, options: { skipSpecialTokens?: boolean } = {}): string {
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const t = this.tokenById.get(ids[i]!);
      if (t === undefined || (options.skipSpecialTokens && this.specialIds.has(ids[i]!))) continue;
      tokens.push(t);
    }
    if (this.pipeline) return decodeTokens(this.pipeline, tokens);
    const d = this.spec.decoder;
    if (!d) return tokens.join(' ');
    let out = '';
    tokens.forEach((t, i) => {
      let s = t;
      if (i > 0) s = t.startsWith(d.prefix) ? t.slice(d.prefix.length) : ` ${t}`;
      out += d.cleanup ? cleanup(s) : s;
    });
    return out;
  }

  /**
   * The normalized words WordPiece would see in `text` (added tokens left out): what the trainer
   * counts, and a way to see what the normalizer and pre-tokenizer did.
   */
  preTokenize(text: string): string[] {
    if (this.pipeline) return preTokenizeText(this.pipeline, text);
    const words: string[] = [];
    let pos = 0;
    const segment = (from: number, to: number) => {
      const n = this.normalize(text, from, to);
      let p = 0;
      if (!this.normMatcher.empty) for (const m of this.normMatcher.find(this.bufferText(0, n))) { this.splitWords(p, m.start, null, words); p = m.end; }
      this.splitWords(p, n, null, words);
    };
    for (const m of this.rawMatcher.empty ? [] : this.rawMatcher.find(text)) {
      if (m.start > pos) segment(pos, m.start);
      pos = m.end;
    }
    if (pos < text.length) segment(pos, text.length);
    return words;
  }

  private encodeOne(text: string, pair: string | null, options: EncodeOptions): Encoding {
    const a = this.encodeSequence(text);
    const b = pair === null ? null : this.encodeSequence(pair);
    const addSpecial = options.addSpecialTokens ?? true;
    const truncation: TruncationOptions | null = options.truncation === undefined ? this.spec.truncation : options.truncation;
    if (truncation) truncateSequences(a, b, truncation, addSpecial ? this.template.added(b !== null) : 0);
    return assemble(a, b, this.template, addSpecial);
  }

  /** The tokens of one text, before special tokens: ids, original UTF-16 offsets, word indices. */
  private encodeSequence(text: string): SequenceTokens {
    const out: SequenceTokens = { ids: [], tokens: [], starts: [], ends: [], words: [] };
    this.wordIndex = 0;
    let pos = 0;
    if (!this.rawMatcher.empty) {
      for (const m of this.rawMatcher.find(text)) {
        if (m.start > pos) this.encodeSegment(text, pos, m.start, out);
        // With trim_offsets (RoBERTa) the space an lstrip token swallowed leaves its offsets, as in Rust.
        let start = m.start;
        if (this.pipeline?.trimOffsets) while (start < m.end && /\s/.test(text[start]!) && text.slice(start).trimStart() !== '' && !text.startsWith(m.token.content, start)) start++;
        out.ids.push(m.token.id); out.tokens.push(text.slice(m.start, m.end)); out.starts.push(start); out.ends.push(m.end); out.words.push(this.wordIndex++);
        pos = m.end;
      }
    }
    if (pos < text.length) this.encodeSegment(text, pos, text.length, out);
    return out;
  }

  private encodeSegment(text: string, from: number, to: number, out: SequenceTokens): void {
    if (this.pipeline) return this.encodePipelineSegment(this.pipeline, text, from, to, out);
    const n = this.normalize(text, from, to);
    if (this.normMatcher.empty) return this.splitWords(0, n, out);
    // Rare path: normalized added tokens are matched in the normalized text.
    const s = this.bufferText(0, n);
    let pos = 0;
    for (const m of this.normMatcher.find(s)) {
      if (m.start > pos) this.splitWords(pos, m.start, out);
      out.ids.push(m.token.id); out.tokens.push(s.slice(m.start, m.end)); out.starts.push(this.ostart[m.start]!); out.ends.push(this.oend[m.end - 1]!);
      out.words.push(this.wordIndex++);
      pos = m.end;
    }
    if (pos < n) this.splitWords(pos, n, out);
  }

  private encodePipelineSegment(p: Pipeline, text: string, from: number, to: number, out: SequenceTokens): void {
    const n = normalizeSegment(p, text, from, to);
    const word = { next: this.wordIndex };
    let pos = 0;
    for (const m of this.normMatcher.empty ? [] : this.normMatcher.find(n.s)) {
      if (m.start > pos) encodePiece(p, n.slice(pos, m.start), out, word);
      out.ids.push(m.token.id); out.tokens.push(n.s.slice(m.start, m.end)); out.starts.push(n.starts[m.start]!); out.ends.push(n.ends[m.end - 1]!);
      out.words.push(word.next++);
      pos = m.end;
    }
    if (pos < n.s.length) encodePiece(p, pos === 0 ? n : n.slice(pos, n.s.length), out, word);
    this.wordIndex = word.next;
  }

  /** Normalizes text[from, to) into the buffer; returns its length in units. */
  private normalize(text: string, from: number, to: number): number {
    this.reserve(to - from);
    let units = this.units, kinds = this.kinds, os = this.ostart, oe = this.oend;
    const ak = this.asciiKind, au = this.asciiUnit;
    let n = 0;
    let i = from;
    while (i < to) {
      const c = text.charCodeAt(i);
      if (c < 128) {
        const k = ak[c]!;
        if (k !== DROP) { units[n] = au[c]!; kinds[n] = k; os[n] = i; oe[n] = i + 1; n++; }
        i++;
        continue;
      }
      let cp = c, len = 1;
      if (c >= 0xd800 && c < 0xe000) {
        const d = i + 1 < to ? text.charCodeAt(i + 1) : 0;
        if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) { cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000; len = 2; }
        else cp = 0xfffd; // a lone surrogate reaches Rust as U+FFFD
      }
      const m = this.mapped(cp);
      const k = m.units.length;
      if (k > 0) {
        // Room for this character's units and one per unit still to come.
        if (n + k + (to - i) > units.length) {
          this.reserve(n + k + (to - i), n);
          units = this.units; kinds = this.kinds; os = this.ostart; oe = this.oend;
        }
        for (let q = 0; q < k; q++) { units[n] = m.units.charCodeAt(q); kinds[n] = m.kinds[q]!; os[n] = i; oe[n] = i + len; n++; }
      }
      i += len;
    }
    return n;
  }

  /** Splits buffer[from, to) into words at blanks and around punctuation, and tokenizes each (or collects it). */
  private splitWords(from: number, to: number, out: SequenceTokens | null, collect?: string[]): void {
    const kinds = this.kinds, units = this.units;
    let i = from;
    while (i < to) {
      const k = kinds[i];
      if (k === BLANK) { i++; continue; }
      let j = i + 1;
      if (k === ALONE) {
        if (units[i]! >= 0xd800 && units[i]! < 0xdc00 && j < to) j++;
      } else {
        while (j < to && kinds[j] === WORD) j++;
      }
      if (out) this.wordPiece(i, j, out);
      else collect!.push(this.bufferText(i, j));
      i = j;
    }
  }

  /** Greedy longest-match-first WordPiece of buffer[s, e); a word with an unmatched rest is one [UNK]. */
  private wordPiece(s: number, e: number, out: SequenceTokens): void {
    const word = this.wordIndex++;
    const units = this.units, os = this.ostart, oe = this.oend;
    const trie = this.trie, ids = trie.ids, tokens = this.vocabById;
    if (e - s > this.spec.maxInputCharsPerWord && codePoints(units, s, e) > this.spec.maxInputCharsPerWord) {
      return this.pushUnk(s, e, word, out);
    }
    const mark = out.ids.length;
    let pos = s;
    while (pos < e) {
      let node = pos === s ? 0 : this.contRoot;
      let best = -1, bestEnd = pos;
      for (let q = pos; q < e && node >= 0; q++) {
        node = trie.next(node, units[q]!);
        if (node >= 0 && ids[node]! >= 0) { best = ids[node]!; bestEnd = q + 1; }
      }
      if (best < 0) {
        out.ids.length = out.tokens.length = out.starts.length = out.ends.length = out.words.length = mark;
        return this.pushUnk(s, e, word, out);
      }
      out.ids.push(best); out.tokens.push(tokens[best]!); out.starts.push(os[pos]!); out.ends.push(oe[bestEnd - 1]!); out.words.push(word);
      pos = bestEnd;
    }
  }

  private pushUnk(s: number, e: number, word: number, out: SequenceTokens): void {
    if (this.unkId < 0) throw new Error(`WordPiece: the unknown token ${JSON.stringify(this.spec.unkToken)} is not in the vocabulary, and a word needs it.`);
    out.ids.push(this.unkId); out.tokens.push(this.spec.unkToken); out.starts.push(this.ostart[s]!); out.ends.push(this.oend[e - 1]!); out.words.push(word);
  }

  /** Kind of one normalized code point for the pre-tokenizer. */
  private kindOf(cp: number): number {
    if (!this.split) return WORD;
    const cls = charClass(cp);
    return cls & SPACE ? BLANK : cls & PUNCT ? ALONE : WORD;
  }

  /** What one non-ASCII code point becomes: normalized units and their kinds (cached). */
  private mapped(cp: number): Mapped {
    let m = this.charCache.get(cp);
    if (m) return m;
    const cls = charClass(cp);
    if (this.clean && cls & REMOVE) m = NOTHING;
    else if (this.clean && cls & SPACE) m = { units: ' ', kinds: Uint8Array.of(this.kindOf(32)) };
    else {
      let units = '';
      const kinds: number[] = [];
      const pad = this.chinese && cls & CHINESE;
      // BertNormalizer puts spaces around CJK ideographs; kept as units so normalized added tokens see them.
      if (pad) { units += ' '; kinds.push(this.kindOf(32)); }
      for (const ch of mapChar(cp, this.strip, this.lower)) {
        const k = this.kindOf(ch.codePointAt(0)!);
        units += ch;
        for (let q = 0; q < ch.length; q++) kinds.push(k);
      }
      if (pad) { units += ' '; kinds.push(this.kindOf(32)); }
      m = { units, kinds: Uint8Array.from(kinds) };
    }
    this.charCache.set(cp, m);
    return m;
  }

  /** The normalized form of a whole string (for normalized added tokens). */
  private normalizeText(s: string): string {
    if (this.pipeline) return normalizeSegment(this.pipeline, s, 0, s.length).s;
    return this.bufferText(0, this.normalize(s, 0, s.length));
  }

  private bufferText(from: number, to: number): string {
    let s = '';
    for (let i = from; i < to; i += 4096) s += String.fromCharCode(...this.units.subarray(i, Math.min(to, i + 4096)));
    return s;
  }

  private reserve(size: number, keep = 0): void {
    if (size <= this.units.length) return;
    let cap = this.units.length;
    while (cap < size) cap *= 2;
    const grow = <T extends Uint16Array | Uint8Array | Int32Array>(a: T, make: (n: number) => T): T => { const b = make(cap); b.set(a.subarray(0, keep)); return b; };
    this.units = grow(this.units, (n) => new Uint16Array(n));
    this.kinds = grow(this.kinds, (n) => new Uint8Array(n));
    this.ostart = grow(this.ostart, (n) => new Int32Array(n));
    this.oend = grow(this.oend, (n) => new Int32Array(n));
  }
}

/** The stand-in WordPiece document needs its unk token in the vocabulary. */
function withUnk(stub: { model: { vocab: Record<string, number>; unk_token: string } }): typeof stub {
  let unk = '\u0000unk';
  while (unk in stub.model.vocab) unk += '_';
  const ids = Object.values(stub.model.vocab);
  stub.model.vocab[unk] = ids.reduce((a, b) => Math.max(a, b + 1), 0);
  stub.model.unk_token = unk;
  return stub;
}

function codePoints(units: Uint16Array, s: number, e: number): number {
  let n = e - s;
  for (let i = s; i < e; i++) if (units[i]! >= 0xdc00 && units[i]! < 0xe000) n--;
  return n;
}

/** The WordPiece decoder's cleanup, in the Rust library's order. */
function cleanup(s: string): string {
  return s.replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',').replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(' do not', " don't").replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}

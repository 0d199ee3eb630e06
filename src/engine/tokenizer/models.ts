/**
 * The subword models of tokenizer.json other than the BERT fast path: BPE (models/bpe/*.rs) and
 * Unigram (models/unigram/model.rs, encode_optimized), and WordPiece for pipelines that are not
 * BERT's. Each turns one pre-tokenized word into tokens with UTF-16 unit ranges in that word.
 */
import { JsonFields } from './spec.js';

export interface ModelToken { id: number; token: string; start: number; end: number }

export interface Model {
  vocab: Map<string, number>;
  unkToken: string;
  /** WordPiece's "##", BPE's continuing_subword_prefix, '' otherwise. */
  continuingSubwordPrefix: string;
  tokenize(word: string): ModelToken[];
}

const utf8Len = (ch: string) => new TextEncoder().encode(ch).length;
const hex = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;

/** One symbol per code point, with its [start, end) in the word. */
function chars(word: string): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (let i = 0; i < word.length;) {
    const n = word.codePointAt(i)! > 0xffff ? 2 : 1;
    out.push([word.slice(i, i + n), i, i + n]);
    i += n;
  }
  return out;
}

/** A word's tokens from `cache`, else computed and kept (up to 100,000 words: real text repeats its words). */
function cachedTokens(cache: Map<string, ModelToken[]>, word: string, compute: (w: string) => ModelToken[]): ModelToken[] {
  if (word.length === 0) return [];
  const hit = cache.get(word);
  if (hit) return hit;
  const out = compute(word);
  if (cache.size < 100_000) cache.set(word, out);
  return out;
}

export class BpeModel implements Model {
  readonly vocab = new Map<string, number>();
  private readonly vocabR: string[] = [];
  /** "left right" (ids) → [rank, new id]. */
  private readonly merges = new Map<string, [number, number]>();
  readonly unkToken: string;
  readonly continuingSubwordPrefix: string;
  private readonly suffix: string;
  private readonly fuseUnk: boolean;
  private readonly byteFallback: boolean;
  private readonly ignoreMerges: boolean;
  private readonly cache = new Map<string, ModelToken[]>();

  constructor(f: JsonFields, m: Record<string, unknown>) {
    for (const [t, id] of Object.entries(f.object(m['vocab'], 'model.vocab'))) {
      const n = f.int(id, `model.vocab[${JSON.stringify(t)}]`);
      this.vocab.set(t, n); this.vocabR[n] = t;
    }
    this.unkToken = m['unk_token'] == null ? '' : f.string(m['unk_token'], 'model.unk_token');
    this.continuingSubwordPrefix = m['continuing_subword_prefix'] == null ? '' : f.string(m['continuing_subword_prefix'], 'model.continuing_subword_prefix');
    this.suffix = m['end_of_word_suffix'] == null ? '' : f.string(m['end_of_word_suffix'], 'model.end_of_word_suffix');
    this.fuseUnk = f.bool(m['fuse_unk'], 'model.fuse_unk', false);
    this.byteFallback = f.bool(m['byte_fallback'], 'model.byte_fallback', false);
    this.ignoreMerges = f.bool(m['ignore_merges'], 'model.ignore_merges', false);
    const prefixLen = this.continuingSubwordPrefix.length;
    f.array(m['merges'] ?? [], 'model.merges').forEach((x, rank) => {
      const field = `model.merges[${rank}]`;
      let a: string, b: string;
      if (typeof x === 'string') {
        const sp = x.indexOf(' ');
        if (sp < 0) f.fail(field, x, 'two tokens separated by a space');
        a = x.slice(0, sp); b = x.slice(sp + 1);
      } else {
        const p = f.array(x, field);
        a = f.string(p[0], `${field}[0]`); b = f.string(p[1], `${field}[1]`);
      }
      const ia = this.vocab.get(a), ib = this.vocab.get(b);
      // The merged token drops b's continuing-subword prefix (models/bpe/model.rs).
      const merged = a + (prefixLen && b.startsWith(this.continuingSubwordPrefix) ? b.slice(prefixLen) : b);
      const id = this.vocab.get(merged);
      if (ia === undefined || ib === undefined || id === undefined) f.fail(field, x, `a merge of two vocabulary tokens into a vocabulary token (${JSON.stringify(merged)})`);
      this.merges.set(`${ia} ${ib}`, [rank, id]);
    });
  }

  tokenize(word: string): ModelToken[] {
    return cachedTokens(this.cache, word, (w) => this.tokenizeUncached(w));
  }

  private tokenizeUncached(word: string): ModelToken[] {
    if (this.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return [{ id, token: word, start: 0, end: word.length }];
    }
    // Symbols: id and unit range.
    const ids: number[] = [], starts: number[] = [], ends: number[] = [];
    let unk: [number, number, number] | null = null;
    const cs = chars(word);
    cs.forEach(([ch, a, b], i) => {
      let s = ch;
      if (i > 0) s = this.continuingSubwordPrefix + s;
      if (i === cs.length - 1) s += this.suffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        if (unk) { ids.push(unk[0]); starts.push(unk[1]); ends.push(unk[2]); unk = null; }
        ids.push(id); starts.push(a); ends.push(b);
        return;
      }
      if (this.byteFallback) {
        const bytes = [...new TextEncoder().encode(s)].map((x) => this.vocab.get(hex(x)));
        if (bytes.every((x) => x !== undefined)) {
          if (unk) { ids.push(unk[0]); starts.push(unk[1]); ends.push(unk[2]); unk = null; }
          for (const x of bytes) { ids.push(x!); starts.push(a); ends.push(b); }
          return;
        }
      }
      if (this.unkToken) {
        const unkId = this.vocab.get(this.unkToken);
        if (unkId === undefined) throw new Error(`BPE: the unknown token ${JSON.stringify(this.unkToken)} is not in the vocabulary, and ${JSON.stringify(word)} needs it.`);
        if (unk && this.fuseUnk) unk[2] = b;
        else { if (unk) { ids.push(unk[0]); starts.push(unk[1]); ends.push(unk[2]); } unk = [unkId, a, b]; }
      }
    });
    if (unk) { const u = unk as [number, number, number]; ids.push(u[0]); starts.push(u[1]); ends.push(u[2]); }
    // Merge the lowest-ranked pair, leftmost first, until none applies (Word::merge_all without dropout).
    for (;;) {
      let best = -1, bestRank = Infinity, bestId = 0;
      for (let i = 0; i + 1 < ids.length; i++) {
        const m = this.merges.get(`${ids[i]} ${ids[i + 1]}`);
        if (m && m[0] < bestRank) { bestRank = m[0]; best = i; bestId = m[1]; }
      }
      if (best < 0) break;
      ids.splice(best, 2, bestId); starts.splice(best + 1, 1); ends.splice(best, 1);
    }
    return ids.map((id, i) => ({ id, token: this.vocabR[id]!, start: starts[i]!, end: ends[i]! }));
  }
}

/** A trie over UTF-16 units for Unigram's prefix search. */
class Trie {
  private readonly next: Map<number, number>[] = [new Map()];
  readonly ids: number[] = [-1];
  add(s: string, id: number): void {
    let node = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      let n = this.next[node]!.get(c);
      if (n === undefined) { n = this.next.length; this.next.push(new Map()); this.ids.push(-1); this.next[node]!.set(c, n); }
      node = n;
    }
    if (this.ids[node] === -1) this.ids[node] = id;
  }
  step(node: number, c: number): number { return this.next[node]!.get(c) ?? -1; }
}

const K_UNK_PENALTY = 10;

export class UnigramModel implements Model {
  readonly vocab = new Map<string, number>();
  private readonly pieces: string[] = [];
  private readonly scores: number[] = [];
  private readonly trie = new Trie();
  readonly unkToken: string;
  readonly continuingSubwordPrefix = '';
  private readonly unkId: number | null;
  private readonly byteFallback: boolean;
  private readonly minScore: number;
  private readonly cache = new Map<string, ModelToken[]>();

  constructor(f: JsonFields, m: Record<string, unknown>) {
    let min = Infinity;
    f.array(m['vocab'], 'model.vocab').forEach((x, id) => {
      const p = f.array(x, `model.vocab[${id}]`);
      const piece = f.string(p[0], `model.vocab[${id}][0]`);
      const score = p[1];
      if (typeof score !== 'number') f.fail(`model.vocab[${id}][1]`, score, 'a number (the log probability)');
      if (!this.vocab.has(piece)) this.vocab.set(piece, id);
      this.pieces.push(piece); this.scores.push(score);
      this.trie.add(piece, id);
      if (score < min) min = score;
    });
    this.minScore = min;
    this.unkId = m['unk_id'] == null ? null : f.int(m['unk_id'], 'model.unk_id');
    if (this.unkId !== null && this.unkId >= this.pieces.length) f.fail('model.unk_id', this.unkId, `an index into model.vocab (${this.pieces.length} pieces)`);
    this.unkToken = this.unkId === null ? '' : this.pieces[this.unkId]!;
    this.byteFallback = f.bool(m['byte_fallback'], 'model.byte_fallback', false);
  }

  tokenize(word: string): ModelToken[] {
    return cachedTokens(this.cache, word, (w) => this.viterbi(w));
  }

  private viterbi(s: string): ModelToken[] {
    const size = s.length;
    const score = new Float64Array(size + 1), from = new Int32Array(size + 1).fill(-1), idAt = new Int32Array(size + 1);
    const unkScore = this.minScore - K_UNK_PENALTY;
    for (let start = 0; start < size;) {
      const here = score[start]!;
      const mblen = s.codePointAt(start)! > 0xffff ? 2 : 1;
      let single = false;
      let node = 0;
      for (let q = start; q < size; q++) {
        node = this.trie.step(node, s.charCodeAt(q));
        if (node < 0) break;
        const id = this.trie.ids[node]!;
        if (id < 0) continue;
        const end = q + 1;
        const cand = this.scores[id]! + here;
        if (from[end] === -1 || cand > score[end]!) { score[end] = cand; from[end] = start; idAt[end] = id; }
        if (end - start === mblen) single = true;
      }
      if (!single) {
        const end = start + mblen;
        if (this.unkId === null) throw new Error(`Unigram: ${JSON.stringify(s.slice(start, end))} is not in the vocabulary and the model has no unk_id.`);
        const cand = unkScore + here;
        if (from[end] === -1 || cand > score[end]!) { score[end] = cand; from[end] = start; idAt[end] = this.unkId; }
      }
      start += mblen;
    }
    // Back from the end; consecutive unknown pieces are fused into one.
    const spans: [number, number, number][] = [];
    for (let end = size; end > 0;) {
      const start = from[end]!, id = idAt[end]!;
      const last = spans[spans.length - 1];
      if (id === this.unkId && last && last[2] === this.unkId && last[0] === end) last[0] = start;
      else spans.push([start, end, id]);
      end = start;
    }
    spans.reverse();
    const out: ModelToken[] = [];
    for (const [a, b, id] of spans) {
      const text = s.slice(a, b);
      const known = this.vocab.get(text);
      if (known !== undefined) { out.push({ id: known, token: text, start: a, end: b }); continue; }
      if (this.byteFallback) {
        const bytes = [...new TextEncoder().encode(text)].map((x) => [this.vocab.get(hex(x)), hex(x)] as const);
        if (bytes.every(([x]) => x !== undefined)) { for (const [x, t] of bytes) out.push({ id: x!, token: t, start: a, end: b }); continue; }
      }
      out.push({ id: this.unkId!, token: text, start: a, end: b });
    }
    return out;
  }
}

/** WordPiece (models/wordpiece/mod.rs) for pipelines other than BERT's: greedy longest match. */
export class WordPieceModel implements Model {
  readonly vocab = new Map<string, number>();
  readonly unkToken: string;
  readonly continuingSubwordPrefix: string;
  private readonly maxChars: number;

  constructor(f: JsonFields, m: Record<string, unknown>) {
    for (const [t, id] of Object.entries(f.object(m['vocab'], 'model.vocab'))) this.vocab.set(t, f.int(id, `model.vocab[${JSON.stringify(t)}]`));
    this.unkToken = f.string(m['unk_token'] ?? '[UNK]', 'model.unk_token');
    if (!this.vocab.has(this.unkToken)) f.fail('model.unk_token', this.unkToken, 'a token of model.vocab');
    this.continuingSubwordPrefix = f.string(m['continuing_subword_prefix'] ?? '##', 'model.continuing_subword_prefix');
    this.maxChars = f.int(m['max_input_chars_per_word'], 'model.max_input_chars_per_word', 1, 100);
  }

  tokenize(word: string): ModelToken[] {
    const unk = [{ id: this.vocab.get(this.unkToken)!, token: this.unkToken, start: 0, end: word.length }];
    if ([...word].length > this.maxChars) return unk;
    const out: ModelToken[] = [];
    for (let start = 0; start < word.length;) {
      let end = word.length, found: ModelToken | null = null;
      while (start < end) {
        const sub = (start > 0 ? this.continuingSubwordPrefix : '') + word.slice(start, end);
        const id = this.vocab.get(sub);
        if (id !== undefined) { found = { id, token: sub, start, end }; break; }
        end -= word.codePointAt(end - 1 > start && word.charCodeAt(end - 1) >= 0xdc00 && word.charCodeAt(end - 1) < 0xe000 ? end - 2 : end - 1)! > 0xffff ? 2 : 1;
      }
      if (!found) return unk;
      out.push(found);
      start = found.end;
    }
    return out;
  }
}

export { utf8Len };

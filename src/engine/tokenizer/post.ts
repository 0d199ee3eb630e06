/**
 * After WordPiece: truncation, special tokens (TemplateProcessing) and padding, in that order and
 * with the Rust library's rules (tokenizers' `truncate_encodings`, `TemplateProcessing`,
 * `Encoding::pad`).
 */
import { PaddingOptions, PostProcessorSpec, TemplatePiece, TruncationOptions } from './spec.js';

/** The tokens of one text before special tokens. */
export interface SequenceTokens {
  ids: number[];
  /** The token strings: vocabulary entries, or for added tokens the text they matched. */
  tokens: string[];
  /** UTF-16 [start, end) of each token in the original text. */
  starts: number[];
  ends: number[];
  /** Index of the word (pre-tokenizer piece or added token) each token comes from. */
  words: number[];
}

export interface Encoding {
  ids: number[];
  typeIds: number[];
  tokens: string[];
  /** UTF-16 [start, end) in the text the token came from (`text` or `pair`); [0, 0] for special and padding tokens. */
  offsets: [number, number][];
  /** 1 for real tokens, 0 for padding. */
  attentionMask: number[];
  /** 1 for tokens the post-processor or padding added. */
  specialTokensMask: number[];
  /** Word index within its sequence; null for special and padding tokens. */
  wordIds: (number | null)[];
  /** 0 for `text`, 1 for `pair`, null for special and padding tokens. */
  sequenceIds: (number | null)[];
}

/** The post-processor's templates, or none (sequences concatenated, B with token type 1). */
export class TemplateInfo {
  private constructor(private readonly pp: PostProcessorSpec | null) {}

  static from(pp: PostProcessorSpec | null): TemplateInfo {
    return new TemplateInfo(pp);
  }

  pieces(pair: boolean): TemplatePiece[] | null {
    return this.pp ? (pair ? this.pp.pair : this.pp.single) : null;
  }

  special(name: string): { ids: number[]; tokens: string[] } {
    return this.pp!.specialTokens[name]!;
  }

  /** How many ids the special tokens add: the room truncation keeps for them. */
  added(pair: boolean): number {
    let n = 0;
    for (const p of this.pieces(pair) ?? []) if ('special' in p) n += this.special(p.special).ids.length;
    return n;
  }
}

function cut(s: SequenceTokens, n: number, direction: 'right' | 'left'): void {
  if (s.ids.length <= n) return;
  for (const a of [s.ids, s.tokens, s.starts, s.ends, s.words] as unknown[][]) {
    if (direction === 'right') a.length = n;
    else a.splice(0, a.length - n);
  }
}

function cappedLength(s: SequenceTokens, limit: number, dir: 'right' | 'left'): number {
  const n = s.ids.length, w = s.words;
  if (n <= limit) return n;
  let i = dir === 'right' ? limit : n - limit;
  if (dir === 'right') while (i < n && w[i] === w[i - 1]) i++;
  else while (i > 0 && w[i - 1] === w[i]) i--;
  return dir === 'right' ? i : n - i;
}

/** Shortens a (and b) so that, with `added` special tokens, they fit in truncation.maxLength. */
export function truncateSequences(a: SequenceTokens, b: SequenceTokens | null, t: TruncationOptions, added: number): void {
  const max = t.maxLength - added;
  if (max < 0) {
    throw new Error(`truncation.maxLength is ${t.maxLength}, but the special tokens alone take ${added}; use a maxLength of at least ${added + 1}.`);
  }
  const dir = t.direction ?? 'right';
  const total = a.ids.length + (b ? b.ids.length : 0);
  if (total <= max) return;
  const strategy = t.strategy ?? 'longest_first';
  if (strategy === 'longest_first') {
    if (!b) return cut(a, max, dir);
    // The shorter sequence keeps what it can; if both are too long they split the room evenly and
    // the longer gets the odd token. "Longer" is judged on lengths capped as tokenizers 0.23.2
    // caps them (observed, not documented): it stops tokenizing at the first word boundary at or
    // past maxLength tokens.
    let n1 = cappedLength(a, t.maxLength, dir), n2 = cappedLength(b, t.maxLength, dir);
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > max ? n1 : Math.max(n1, max - n1);
    if (n1 + n2 > max) { n1 = Math.floor(max / 2); n2 = n1 + (max % 2); }
    if (swap) [n1, n2] = [n2, n1];
    cut(a, n1, dir);
    cut(b, n2, dir);
    return;
  }
  const target = strategy === 'only_first' ? a : b;
  if (!target) throw new Error('truncation.strategy "only_second" needs a pair of texts; use "longest_first" or "only_first" for single texts.');
  const remove = total - max;
  if (target.ids.length <= remove) {
    throw new Error(`truncation.strategy "${strategy}": the ${strategy === 'only_first' ? 'first' : 'second'} text has ${target.ids.length} tokens, but ${remove} must go; use "longest_first" or a larger maxLength.`);
  }
  cut(target, target.ids.length - remove, dir);
}

/** One encoding from the sequences and the template's special tokens. */
export function assemble(a: SequenceTokens, b: SequenceTokens | null, tpl: TemplateInfo, addSpecial: boolean): Encoding {
  const enc: Encoding = { ids: [], typeIds: [], tokens: [], offsets: [], attentionMask: [], specialTokensMask: [], wordIds: [], sequenceIds: [] };
  const append = (s: SequenceTokens, seq: number, typeId: number) => {
    for (let i = 0; i < s.ids.length; i++) {
      const id = s.ids[i]!;
      enc.ids.push(id);
      enc.typeIds.push(typeId);
      enc.tokens.push(s.tokens[i]!);
      enc.offsets.push([s.starts[i]!, s.ends[i]!]);
      enc.attentionMask.push(1);
      enc.specialTokensMask.push(0);
      enc.wordIds.push(s.words[i]!);
      enc.sequenceIds.push(seq);
    }
  };
  const pieces = tpl.pieces(b !== null);
  if (!pieces) {
    append(a, 0, 0);
    if (b) append(b, 1, 1);
    return enc;
  }
  for (const p of pieces) {
    if ('sequence' in p) {
      const s = p.sequence === 'A' ? a : b;
      if (s) append(s, p.sequence === 'A' ? 0 : 1, p.typeId);
    } else if (addSpecial) {
      const st = tpl.special(p.special);
      st.ids.forEach((id, k) => {
        enc.ids.push(id);
        enc.typeIds.push(p.typeId);
        enc.tokens.push(st.tokens[k]!);
        enc.offsets.push([0, 0]);
        enc.attentionMask.push(1);
        enc.specialTokensMask.push(1);
        enc.wordIds.push(null);
        enc.sequenceIds.push(null);
      });
    }
  }
  return enc;
}

/** The length to pad to: maxLength, or the longest of `lengths`, rounded up to padToMultipleOf. */
export function paddedLength(lengths: number[], p: PaddingOptions): number {
  let n = p.maxLength ?? lengths.reduce((a, b) => Math.max(a, b), 0);
  const m = p.padToMultipleOf;
  if (m && m > 0 && n % m > 0) n += m - (n % m);
  return n;
}

/** Pads in place up to `length` (never truncates), on the right or the left. */
export function padEncoding(e: Encoding, length: number, p: PaddingOptions): void {
  const k = length - e.ids.length;
  if (k <= 0) return;
  const fill = <T>(a: T[], v: T) => {
    const extra = new Array<T>(k).fill(v);
    if (p.direction === 'left') a.unshift(...extra);
    else a.push(...extra);
  };
  fill(e.ids, p.padId ?? 0);
  fill(e.typeIds, p.padTypeId ?? 0);
  fill(e.tokens, p.padToken ?? '[PAD]');
  fill(e.attentionMask, 0);
  fill(e.specialTokensMask, 1);
  fill(e.wordIds, null);
  fill(e.sequenceIds, null);
  const offsets = Array.from({ length: k }, () => [0, 0] as [number, number]);
  if (p.direction === 'left') e.offsets.unshift(...offsets);
  else e.offsets.push(...offsets);
}

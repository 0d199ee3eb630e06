/**
 * Finding added tokens ([CLS], [MASK], user tokens) in text, as Hugging Face's AddedVocabulary
 * does: leftmost-longest, non-overlapping matches of the literal contents (an Aho-Corasick
 * automaton there; a handful of indexOf scans here, as there are only a few tokens), then the
 * single_word, lstrip and rstrip options applied to each match in order.
 */
import { AddedToken } from './spec.js';
import { SPACE, charClass } from './unicode.js';

export interface AddedMatch {
  start: number;
  end: number;
  token: AddedToken;
}

// Rust regex's Unicode \w, which single_word tests on the neighbouring characters.
const WORD_CHAR = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;

const isSpaceAt = (s: string, i: number): boolean => charClass(s.codePointAt(i)!) & SPACE ? true : false;

export class AddedTokenMatcher {
  private readonly patterns: { text: string; token: AddedToken }[];

  /** `patterns` pairs each token with the text to look for (its content, or its normalized content). */
  constructor(patterns: { text: string; token: AddedToken }[]) {
    this.patterns = patterns.filter((p) => p.text.length > 0);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Matches in s[from, to), in order, with start/end adjusted by lstrip/rstrip. */
  find(s: string, from = 0, to = s.length): AddedMatch[] {
    const out: AddedMatch[] = [];
    const pats = this.patterns;
    const next = new Array<number>(pats.length).fill(-2);
    let pos = from;
    let startOffset = from;
    for (;;) {
      let best = -1, bestLen = 0, bestK = -1;
      for (let k = 0; k < pats.length; k++) {
        const text = pats[k]!.text;
        if (next[k]! !== -1 && next[k]! < pos) next[k] = s.indexOf(text, pos);
        const at = next[k]!;
        if (at === -1 || at + text.length > to) continue;
        if (bestK < 0 || at < best || (at === best && text.length > bestLen)) { best = at; bestLen = text.length; bestK = k; }
      }
      if (bestK < 0) break;
      let start = best, end = best + bestLen;
      pos = end;
      const token = pats[bestK]!.token;
      if (token.singleWord) {
        const before = start > from ? String.fromCodePoint(codePointBefore(s, start)) : '';
        const after = end < to ? String.fromCodePoint(s.codePointAt(end)!) : '';
        if ((before && WORD_CHAR.test(before)) || (after && WORD_CHAR.test(after))) continue;
      }
      if (token.lstrip) {
        let b = start;
        while (b > from && isSpaceAt(s, b - 1)) b--;
        start = Math.max(b, startOffset);
      }
      if (token.rstrip) {
        while (end < to && isSpaceAt(s, end)) end++;
        pos = Math.max(pos, end);
      }
      out.push({ start, end, token });
      startOffset = end;
    }
    return out;
  }
}

function codePointBefore(s: string, i: number): number {
  const lo = s.charCodeAt(i - 1);
  if (lo >= 0xdc00 && lo < 0xe000 && i >= 2) {
    const hi = s.charCodeAt(i - 2);
    if (hi >= 0xd800 && hi < 0xdc00) return ((hi - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
  }
  return lo;
}

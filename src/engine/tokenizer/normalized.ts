/**
 * A normalized string that remembers where each of its UTF-16 units came from in the original
 * text, with the Rust `tokenizers` library's alignment rules (NormalizedString::transform_range):
 * a character that replaces an original one takes that one's range; an inserted character takes
 * the range of the original character before it; removed characters vanish.
 */
export class Normalized {
  /** `origin`: where this string starts in the original text (Rust's original_shift), the range an
   * insertion at the very start takes. */
  constructor(public s: string, public starts: number[], public ends: number[], public origin = starts[0] ?? 0) {}

  static of(text: string, from: number, to: number): Normalized {
    let s = '';
    const starts: number[] = [], ends: number[] = [];
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < to && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) < 0xe000) {
        s += text[i]! + text[i + 1]!; starts.push(i, i); ends.push(i + 2, i + 2); i++;
      } else if (c >= 0xd800 && c < 0xe000) {
        s += '\ufffd'; starts.push(i); ends.push(i + 1); // a lone surrogate reaches Rust as U+FFFD
      } else { s += text[i]!; starts.push(i); ends.push(i + 1); }
    }
    return new Normalized(s, starts, ends, from);
  }

  slice(a: number, b: number): Normalized {
    return new Normalized(this.s.slice(a, b), this.starts.slice(a, b), this.ends.slice(a, b));
  }

  /**
   * Rust's NormalizedString::transform over the whole string: each new character comes with a
   * change, 0 replacing the next old character, -k replacing it and dropping k more, > 0 inserted
   * (it takes the range of the old character before the cursor, or the origin at the start).
   * Old characters no change consumes are dropped at the end, as in Rust.
   */
  transform(dest: Iterable<[string, number]>, initialOffset = 0): void {
    let s = '', cur = 0;
    const st: number[] = [], en: number[] = [];
    const consume = (k: number) => { for (; k > 0 && cur < this.s.length; k--) cur += this.s.codePointAt(cur)! > 0xffff ? 2 : 1; };
    consume(initialOffset);
    for (const [ch, change] of dest) {
      let a: number, b: number;
      if (change > 0) [a, b] = cur < 1 ? [this.origin, this.origin] : [this.starts[cur - 1]!, this.ends[cur - 1]!];
      else {
        const k = Math.min(cur, this.s.length - 1); // Rust would panic past the end
        [a, b] = [this.starts[k] ?? this.origin, this.ends[k] ?? this.origin];
        consume(1 - change);
      }
      s += ch;
      for (let q = 0; q < ch.length; q++) { st.push(a); en.push(b); }
    }
    this.s = s; this.starts = st; this.ends = en;
  }

  /** Each code point becomes `f(cp)` (a string, '' removes it), aligned to that code point. */
  mapChars(f: (ch: string) => string): void {
    let s = '';
    const st: number[] = [], en: number[] = [];
    for (let i = 0; i < this.s.length;) {
      const cp = this.s.codePointAt(i)!;
      const n = cp > 0xffff ? 2 : 1;
      const out = f(this.s.slice(i, i + n));
      for (let k = 0; k < out.length; k++) { st.push(this.starts[i]!); en.push(this.ends[i]!); }
      s += out;
      i += n;
    }
    this.s = s; this.starts = st; this.ends = en;
  }

  /**
   * Replaces each match of `re` (global) by `content`: the new characters take the range of the
   * match's last character (Rust's replace inserts them after removing the match).
   */
  replace(re: RegExp, content: string): void {
    let s = '', last = 0;
    const st: number[] = [], en: number[] = [];
    for (const m of this.s.matchAll(re)) {
      if (m[0].length === 0) continue;
      const a = m.index!, b = a + m[0].length;
      s += this.s.slice(last, a); st.push(...this.starts.slice(last, a)); en.push(...this.ends.slice(last, a));
      s += content;
      for (let k = 0; k < content.length; k++) { st.push(this.starts[b - 1]!); en.push(this.ends[b - 1]!); }
      last = b;
    }
    if (last === 0 && s === '') return;
    s += this.s.slice(last); st.push(...this.starts.slice(last)); en.push(...this.ends.slice(last));
    this.s = s; this.starts = st; this.ends = en;
  }

  /** Prepends `p`, aligned to the first character (nothing happens to an empty string). */
  prepend(p: string): void {
    if (this.s.length === 0) return;
    const a = this.starts[0]!, b = this.ends[0]!;
    this.s = p + this.s;
    this.starts = [...new Array<number>(p.length).fill(a), ...this.starts];
    this.ends = [...new Array<number>(p.length).fill(b), ...this.ends];
  }

  /** Keeps units [a, b). */
  keep(a: number, b: number): void {
    this.s = this.s.slice(a, b); this.starts = this.starts.slice(a, b); this.ends = this.ends.slice(a, b);
  }

  /**
   * Unicode normalization with the alignment unicode-normalization-alignments gives: the text is
   * cut before each character that starts a new normalization segment, each segment is normalized
   * alone; its output characters replace its input characters one for one, extra output
   * characters count as inserted, missing ones as removed.
   */
  unicode(form: 'NFC' | 'NFD' | 'NFKC' | 'NFKD'): void {
    if (isAsciiOrNormalized(this.s, form)) return;
    let s = '';
    const st: number[] = [], en: number[] = [];
    let i = 0;
    while (i < this.s.length) {
      // A segment: one character and the combining marks after it.
      let j = i + (this.s.codePointAt(i)! > 0xffff ? 2 : 1);
      while (j < this.s.length && COMBINING.test(String.fromCodePoint(this.s.codePointAt(j)!))) j += this.s.codePointAt(j)! > 0xffff ? 2 : 1;
      const input = [...this.s.slice(i, j)];
      const output = [...this.s.slice(i, j).normalize(form)];
      let u = i;
      const charStart: number[] = [];
      for (const ch of input) { charStart.push(u); u += ch.length; }
      output.forEach((ch, k) => {
        const src = k < input.length ? charStart[k]! : charStart[input.length - 1]!;
        s += ch;
        for (let q = 0; q < ch.length; q++) { st.push(this.starts[src]!); en.push(this.ends[src]!); }
      });
      i = j;
    }
    this.s = s; this.starts = st; this.ends = en;
  }
}

// Marks, and Hangul vowel and trailing jamo (they compose with the jamo before them).
const COMBINING = /^[\p{M}\u1160-\u11ff\ud7b0-\ud7ff]$/u;

function isAsciiOrNormalized(s: string, form: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) || s.normalize(form) === s;
}

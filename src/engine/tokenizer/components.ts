/**
 * The normalizers and pre-tokenizers of Hugging Face's tokenizer.json, read from their JSON and
 * applied with the Rust `tokenizers` library's semantics (normalizers/*.rs, pre_tokenizers/*.rs).
 * Each is a function over `Normalized` strings, so offsets follow every step.
 */
import { Normalized } from './normalized.js';
import { CharsMap, CharsMapError, precompiledNormalizer } from './precompiled.js';
import { JsonFields } from './spec.js';
import { CHINESE, PUNCT, REMOVE, SPACE, charClass, mapChar } from './unicode.js';

export type Normalizer = (n: Normalized) => void;
/** Splits one piece into pieces (empty ones are dropped by the caller). */
export type PreTokenizer = (pieces: Normalized[]) => Normalized[];

const NORMALIZERS = 'BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend, Precompiled, Sequence';
const PRE_TOKENIZERS = 'BertPreTokenizer, ByteLevel, Metaspace, Whitespace, WhitespaceSplit, Split, Punctuation, Digits, Sequence';

// Rust's char::is_whitespace, for regexes (JavaScript's \s also matches U+FEFF).
const WS = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const isWhitespace = (ch: string) => (charClass(ch.codePointAt(0)!) & SPACE) !== 0;

/** A tokenizer.json pattern ({ String } or { Regex }) as a global JS regex. */
function pattern(f: JsonFields, v: unknown, field: string): RegExp {
  const o = f.object(v, field);
  if (typeof o['String'] === 'string') return new RegExp(o['String'].replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
  if (typeof o['Regex'] === 'string') {
    // Oniguruma's \s is White_Space; JavaScript's adds U+FEFF.
    const src = o['Regex'].replace(/\\s/g, `[${WS}]`).replace(/\\S/g, `[^${WS}]`);
    try { return new RegExp(src, 'gu'); } catch (e) { return f.fail(`${field}.Regex`, o['Regex'], `a regular expression JavaScript can run (${(e as Error).message})`); }
  }
  return f.fail(field, v, '{ "String": … } or { "Regex": … }');
}

export function readNormalizer(f: JsonFields, v: unknown, field: string): Normalizer {
  const o = f.object(v, field);
  const type = o['type'];
  switch (type) {
    case 'Sequence': {
      const list = f.array(o['normalizers'], `${field}.normalizers`).map((x, i) => readNormalizer(f, x, `${field}.normalizers[${i}]`));
      return (n) => { for (const g of list) g(n); };
    }
    case 'NFC': case 'NFD': case 'NFKC': case 'NFKD': return (n) => n.unicode(type);
    case 'Lowercase': return (n) => n.mapChars((ch) => ch.toLowerCase());
    case 'StripAccents': return (n) => n.mapChars((ch) => (/^\p{M}$/u.test(ch) ? '' : ch)); // is_combining_mark: Mn, Mc, Me
    case 'Strip': {
      const left = f.bool(o['strip_left'], `${field}.strip_left`, true), right = f.bool(o['strip_right'], `${field}.strip_right`, true);
      return (n) => {
        let a = 0, b = n.s.length;
        if (left) while (a < b && isWhitespace(String.fromCodePoint(n.s.codePointAt(a)!))) a += n.s.codePointAt(a)! > 0xffff ? 2 : 1;
        if (right) while (b > a && isWhitespace(n.s[b - 1]!)) b--;
        n.keep(a, b);
      };
    }
    case 'Replace': {
      const re = pattern(f, o['pattern'], `${field}.pattern`);
      const content = f.string(o['content'], `${field}.content`);
      return (n) => n.replace(re, content);
    }
    case 'Prepend': {
      const p = f.string(o['prepend'], `${field}.prepend`);
      return (n) => n.prepend(p);
    }
    case 'BertNormalizer': {
      const clean = f.bool(o['clean_text'], `${field}.clean_text`, true);
      const chinese = f.bool(o['handle_chinese_chars'], `${field}.handle_chinese_chars`, true);
      const lower = f.bool(o['lowercase'], `${field}.lowercase`, true);
      const strip = o['strip_accents'] == null ? lower : f.bool(o['strip_accents'], `${field}.strip_accents`);
      return (n) => n.mapChars((ch) => {
        const cp = ch.codePointAt(0)!, cls = charClass(cp);
        if (clean && cls & REMOVE) return '';
        if (clean && cls & SPACE) return ' ';
        const m = mapChar(cp, strip, lower);
        return chinese && cls & CHINESE ? ` ${m} ` : m;
      });
    }
    case 'Precompiled': {
      const b64 = f.string(o['precompiled_charsmap'], `${field}.precompiled_charsmap`);
      // An empty charsmap (sentencepiece's "identity" rule) normalizes nothing; Rust refuses it.
      if (b64 === '') return () => {};
      try { return precompiledNormalizer(CharsMap.fromBase64(b64)); } catch (e) {
        if (!(e instanceof CharsMapError)) throw e;
        return f.fail(`${field}.precompiled_charsmap`, b64, `a sentencepiece precompiled_charsmap in base64 (${e.message})`);
      }
    }
    default:
      return f.fail(`${field}.type`, type, `one of ${NORMALIZERS}`);
  }
}

type Behavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** Splits `n` at the matches of `find` (ranges), as NormalizedString::split does. */
function split(n: Normalized, matches: [number, number][], behavior: Behavior, invert = false): Normalized[] {
  // All pieces in order, each marked as a match or not.
  const parts: [number, number, boolean][] = [];
  let pos = 0;
  for (const [a, b] of matches) {
    if (a > pos) parts.push([pos, a, invert]);
    if (b > a) parts.push([a, b, !invert]);
    pos = b;
  }
  if (pos < n.s.length) parts.push([pos, n.s.length, invert]);
  let out: [number, number][] = [];
  if (behavior === 'Removed') out = parts.filter((p) => !p[2]).map((p) => [p[0], p[1]]);
  else if (behavior === 'Isolated') out = parts.map((p) => [p[0], p[1]]);
  else if (behavior === 'Contiguous') {
    let prev = false;
    for (const [a, b, m] of parts) { if (m === prev && out.length) out[out.length - 1]![1] = b; else out.push([a, b]); prev = m; }
  } else if (behavior === 'MergedWithPrevious') {
    let prev = false;
    for (const [a, b, m] of parts) { if (m && !prev && out.length) out[out.length - 1]![1] = b; else out.push([a, b]); prev = m; }
  } else {
    let prev = false;
    for (let i = parts.length - 1; i >= 0; i--) {
      const [a, b, m] = parts[i]!;
      if (m && !prev && out.length) out[out.length - 1]![0] = a; else out.push([a, b]);
      prev = m;
    }
    out.reverse();
  }
  return out.filter(([a, b]) => b > a).map(([a, b]) => n.slice(a, b));
}

const regexMatches = (s: string, re: RegExp): [number, number][] => {
  const out: [number, number][] = [];
  for (const m of s.matchAll(re)) if (m[0].length > 0) out.push([m.index!, m.index! + m[0].length]);
  return out;
};
const charMatches = (s: string, test: (ch: string) => boolean): [number, number][] => {
  const out: [number, number][] = [];
  for (let i = 0; i < s.length;) {
    const n = s.codePointAt(i)! > 0xffff ? 2 : 1;
    if (test(s.slice(i, i + n))) out.push([i, i + n]);
    i += n;
  }
  return out;
};

// GPT-2's pattern (pre_tokenizers/byte_level.rs), with Rust's whitespace.
const BYTE_LEVEL_RE = new RegExp(`'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`, 'gu');

/** GPT-2's byte → character table: printable bytes map to themselves, the rest to U+0100 onwards. */
export const BYTES_CHAR: string[] = (() => {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const table: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(bs.includes(b) ? b : 256 + n++);
  return table;
})();
const encoder = new TextEncoder();

function byteLevelChars(n: Normalized): void {
  n.mapChars((ch) => {
    if (ch.length === 1 && ch.charCodeAt(0) < 128) return BYTES_CHAR[ch.charCodeAt(0)]!;
    let out = '';
    for (const b of encoder.encode(ch)) out += BYTES_CHAR[b]!;
    return out;
  });
}

const isPunctuation = (ch: string) => (charClass(ch.codePointAt(0)!) & PUNCT) !== 0;

export function readPreTokenizer(f: JsonFields, v: unknown, field: string): PreTokenizer {
  const o = f.object(v, field);
  const type = o['type'];
  const each = (g: (n: Normalized) => Normalized[]): PreTokenizer => (pieces) => pieces.flatMap(g);
  switch (type) {
    case 'Sequence': {
      const list = f.array(o['pretokenizers'], `${field}.pretokenizers`).map((x, i) => readPreTokenizer(f, x, `${field}.pretokenizers[${i}]`));
      return (pieces) => list.reduce((p, g) => g(p), pieces);
    }
    case 'ByteLevel': {
      const prefix = f.bool(o['add_prefix_space'], `${field}.add_prefix_space`, true);
      const useRegex = f.bool(o['use_regex'], `${field}.use_regex`, true);
      return (pieces) => pieces.flatMap((n) => {
        if (prefix && !n.s.startsWith(' ')) n.prepend(' ');
        return useRegex ? split(n, regexMatches(n.s, BYTE_LEVEL_RE), 'Isolated') : n.s.length ? [n] : [];
      }).map((n) => { byteLevelChars(n); return n; });
    }
    case 'Metaspace': {
      const rep = f.string(o['replacement'] ?? '▁', `${field}.replacement`);
      let scheme = o['prepend_scheme'];
      if (scheme === undefined) scheme = f.bool(o['add_prefix_space'], `${field}.add_prefix_space`, true) ? 'always' : 'never';
      if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never') f.fail(`${field}.prepend_scheme`, scheme, '"always", "first" or "never"');
      const doSplit = f.bool(o['split'], `${field}.split`, true);
      const repRe = new RegExp(rep.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
      return each((n) => {
        n.replace(/ /g, rep);
        if (scheme === 'always' || (scheme === 'first' && n.starts[0] === 0)) if (!n.s.startsWith(rep)) n.prepend(rep);
        return doSplit ? split(n, regexMatches(n.s, repRe), 'MergedWithNext') : [n];
      });
    }
    case 'Whitespace': return each((n) => split(n, regexMatches(n.s, /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]+|[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/gu), 'Removed', true));
    case 'WhitespaceSplit': return each((n) => split(n, charMatches(n.s, isWhitespace), 'Removed'));
    case 'BertPreTokenizer': return each((n) => split(n, charMatches(n.s, isWhitespace), 'Removed').flatMap((p) => split(p, charMatches(p.s, isPunctuation), 'Isolated')));
    case 'Punctuation': {
      const b = behavior(f, o['behavior'] ?? 'Isolated', `${field}.behavior`);
      return each((n) => split(n, charMatches(n.s, isPunctuation), b));
    }
    case 'Digits': {
      const individual = f.bool(o['individual_digits'], `${field}.individual_digits`, false);
      return each((n) => split(n, charMatches(n.s, (ch) => /^\p{N}$/u.test(ch)), individual ? 'Isolated' : 'Contiguous'));
    }
    case 'Split': {
      const re = pattern(f, o['pattern'], `${field}.pattern`);
      const b = behavior(f, o['behavior'], `${field}.behavior`);
      const invert = f.bool(o['invert'], `${field}.invert`, false);
      return each((n) => split(n, regexMatches(n.s, re), b, invert));
    }
    default:
      return f.fail(`${field}.type`, type, `one of ${PRE_TOKENIZERS}`);
  }
}

function behavior(f: JsonFields, v: unknown, field: string): Behavior {
  if (v === 'Removed' || v === 'Isolated' || v === 'MergedWithPrevious' || v === 'MergedWithNext' || v === 'Contiguous') return v;
  return f.fail(field, v, '"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext" or "Contiguous"');
}

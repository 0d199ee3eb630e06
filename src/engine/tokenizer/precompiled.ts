/**
 * SentencePiece's `precompiled_charsmap` (the Precompiled normalizer of XLM-R, ALBERT and T5
 * tokenizer.json files), read and applied as the Rust `spm_precompiled` crate and tokenizers'
 * normalizers/precompiled.rs do.
 *
 * The blob is [u32 LE: trie size in bytes][Darts double-array trie: u32 LE units][replacement
 * pool: NUL-terminated UTF-8 strings]. The trie's keys are UTF-8 byte strings; a leaf's value is
 * the pool offset of the key's replacement.
 */
import { Normalized } from './normalized.js';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Why a charsmap cannot be read (the caller names the file and field). */
export class CharsMapError extends Error {}

export class CharsMap {
  /** Replacements already looked up, by chunk (null: no key is a prefix of the chunk). */
  private cache = new Map<string, string | null>();

  private constructor(private units: Uint32Array, private pool: Uint8Array) {}

  /** Decodes the base64 blob; throws CharsMapError where the Rust crate refuses it. */
  static fromBase64(b64: string): CharsMap {
    // The Rust base64 engine is strict (padding, alphabet); Buffer.from is not.
    if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new CharsMapError('not standard base64');
    const bytes = Buffer.from(b64, 'base64');
    if (bytes.length < 4) throw new CharsMapError(`${bytes.length} bytes, too short for the trie size`);
    const trieBytes = bytes.readUInt32LE(0);
    const count = Math.floor(trieBytes / 4);
    if (4 + 4 * count > bytes.length) throw new CharsMapError(`the trie size is ${trieBytes} bytes but only ${bytes.length - 4} follow`);
    const units = new Uint32Array(count);
    for (let i = 0; i < count; i++) units[i] = bytes.readUInt32LE(4 + 4 * i);
    const pool = new Uint8Array(bytes.subarray(4 + 4 * count));
    try { utf8Decoder.decode(pool); } catch { throw new CharsMapError('its replacement strings are not valid UTF-8'); }
    return new CharsMap(units, pool);
  }

  /**
   * The replacement of the shortest trie key that is a prefix of `chunk`'s UTF-8 bytes, or null
   * (Rust `Precompiled::transform`: the first common-prefix-search result).
   */
  transform(chunk: string): string | null {
    let r = this.cache.get(chunk);
    if (r !== undefined) return r;
    r = this.lookup(utf8.encode(chunk));
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(chunk, r);
    return r;
  }

  private lookup(key: Uint8Array): string | null {
    const u = this.units;
    if (u.length === 0) return null;
    // Darts unit: bits 0-7 label (bit 31 set on leaves), bit 8 has-leaf, bits 10-31 offset
    // (shifted left by 8 when bit 9 is set); a leaf unit's low 31 bits are its value.
    const offset = (x: number) => (x >>> 10) * (x & 512 ? 256 : 1);
    let pos = offset(u[0]!);
    for (const c of key) {
      if (c === 0) break;
      pos ^= c;
      const unit = u[pos];
      if (unit === undefined || (unit & 0x800000ff) >>> 0 !== c) return null;
      pos ^= offset(unit);
      if (unit & 256) {
        const leaf = u[pos];
        return leaf === undefined ? null : this.at(leaf & 0x7fffffff);
      }
    }
    return null;
  }

  /** The pool's NUL-terminated string at byte `index`. */
  private at(index: number): string | null {
    if (index > this.pool.length) return null;
    let end = index;
    while (end < this.pool.length && this.pool[end] !== 0) end++;
    try { return utf8Decoder.decode(this.pool.subarray(index, end)); } catch { return null; }
  }
}

// Extended grapheme clusters (UAX #29), as the Rust unicode-segmentation crate's graphemes(true).
let graphemes: Intl.Segmenter | undefined;
const utf8Length = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c < 0xdc00 ? (i++, 4) : 3;
  }
  return n;
};

/**
 * Normalizes by grapheme cluster: a cluster under 6 UTF-8 bytes whose bytes start with a trie key
 * is replaced whole, otherwise each character is looked up alone. The change list is the one
 * precompiled.rs hands to NormalizedString::transform: replacement characters replace old ones
 * one for one, extra ones count as inserted, and a shorter replacement folds its deficit into the
 * last change listed so far (a previous character's, when the replacement is empty) — so offsets
 * shift exactly as Rust's do.
 */
export function precompiledNormalizer(map: CharsMap): (n: Normalized) => void {
  return (n) => {
    const dest: [string, number][] = [];
    let modified = false;
    const replace = (old: string, norm: string) => {
      modified = true;
      const first = dest.length;
      for (const c of norm) dest.push([c, 0]);
      const diff = (dest.length - first) - [...old].length;
      if (diff > 0) for (let k = dest.length - diff; k < dest.length; k++) dest[k]![1] = 1;
      else if (diff < 0 && dest.length > 0) dest[dest.length - 1]![1] += diff;
    };
    // Printable ASCII: every character is its own cluster.
    const clusters = /^[\x20-\x7e]*$/.test(n.s) ? n.s : Array.from((graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' })).segment(n.s), (g) => g.segment);
    for (const g of clusters) {
      if (utf8Length(g) < 6) {
        const norm = map.transform(g);
        if (norm !== null) { replace(g, norm); continue; }
      }
      for (const c of g) {
        const norm = map.transform(c);
        if (norm !== null) replace(c, norm); else dest.push([c, 0]);
      }
    }
    if (modified) n.transform(dest);
  };
}

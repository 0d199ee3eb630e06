/**
 * Every Unicode scalar value through our BertNormalizer + BertPreTokenizer and through Hugging
 * Face's Rust `tokenizers` (the reference): the words must be identical. This is what checks the
 * Unicode 8.0 / 9.0 tables in src/engine/tokenizer/unicode.ts, under each normalizer switch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bertNormalizer, bertPreTokenizer } from 'tokenizers';
import { BertNormalizerOptions, WordPieceTokenizer } from '../src/engine/tokenizer/index.js';

const SCALARS: number[] = [];
for (let c = 0; c < 0x110000; c++) if (c < 0xd800 || c > 0xdfff) SCALARS.push(c);

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const preTokenizer = bertPreTokenizer();

/**
 * Words of "Z<c>Z Z<c'>Z …" for a batch of scalars, by both implementations; on a difference,
 * the scalars whose own words differ.
 */
function compare(opts: BertNormalizerOptions): { batches: number; differing: string[] } {
  const ours = WordPieceTokenizer.fromVocab(SPECIALS, {
    lowercase: opts.lowercase, stripAccents: opts.stripAccents, tokenizeChineseChars: opts.handleChineseChars, cleanText: opts.cleanText,
  });
  const rust = bertNormalizer({
    cleanText: opts.cleanText, handleChineseChars: opts.handleChineseChars, stripAccents: opts.stripAccents ?? opts.lowercase, lowercase: opts.lowercase,
  });
  const rustWords = (text: string) => preTokenizer.preTokenizeString(rust.normalizeString(text)).map((p) => p[0]);
  const differing: string[] = [];
  let batches = 0;
  for (let i = 0; i < SCALARS.length; i += 0x4000) {
    const batch = SCALARS.slice(i, i + 0x4000);
    const text = batch.map((c) => `Z${String.fromCodePoint(c)}Z`).join(' ');
    batches++;
    if (JSON.stringify(ours.preTokenize(text)) === JSON.stringify(rustWords(text))) continue;
    for (const c of batch) {
      const t = `Z${String.fromCodePoint(c)}Z`;
      const a = ours.preTokenize(t), b = rustWords(t);
      if (JSON.stringify(a) !== JSON.stringify(b)) differing.push(`U+${c.toString(16).toUpperCase()}: ours ${JSON.stringify(a)}, Rust ${JSON.stringify(b)}`);
    }
  }
  return { batches, differing };
}

describe('BertNormalizer + BertPreTokenizer on all 1,112,064 scalar values, against tokenizers (Rust)', () => {
  const configs: [string, BertNormalizerOptions][] = [
    ['uncased (Hugging Face defaults)', { cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: true }],
    ['cased', { cleanText: true, handleChineseChars: true, stripAccents: null, lowercase: false }],
    ['accents stripped, no lowercase, no cleaning, no CJK split', { cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false }],
  ];
  for (const [name, opts] of configs) {
    it(name, () => {
      const { batches, differing } = compare(opts);
      assert.equal(batches, Math.ceil(SCALARS.length / 0x4000));
      assert.deepEqual(differing.slice(0, 20), [], `${differing.length} scalar values differ`);
    });
  }
});

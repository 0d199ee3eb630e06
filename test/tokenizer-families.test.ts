/**
 * Tokenizers of the BERT family that are not WordPiece (RoBERTa/GPT-2 byte-level BPE, XLM-R and
 * ALBERT Unigram, sentencepiece BPE with byte fallback), written by Hugging Face's libraries
 * (scripts/make-tokenizer-fixtures.py): ids, tokens and UTF-16 offsets must equal the Rust
 * `tokenizers` library's on SOTU sentences (a different fifth per tokenizer) and on adversarial lines; pairs, truncation and
 * decode too. A component we do not read is an error naming it and the file.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { TokenizerFileError, WordPieceTokenizer, loadTokenizer } from '../src/engine/tokenizer/index.js';
import { ADVERSARIAL, SOTU, diff } from './tokenizer-reference.js';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'tokenizers');
const NAMES = ['roberta-bpe', 'gpt2-bpe', 'xlmr-unigram', 'albert-unigram', 'llama-bpe'];

for (const name of NAMES) {
  describe(`tokenizer family: ${name}`, () => {
    const file = path.join(FIXTURES, name, 'tokenizer.json');
    const ours = loadTokenizer(path.join(FIXTURES, name));
    const rust = RustTokenizer.fromFile(file);

    it('reads the file through the general pipeline', () => {
      assert.ok(ours.pipeline, 'a non-WordPiece tokenizer.json goes through the pipeline');
      assert.equal(ours.vocabSize, rust.getVocabSize(true));
    });

    it('ids, tokens and UTF-16 offsets equal Rust on the adversarial lines', async () => {
      for (const text of ADVERSARIAL) {
        const r = await rust.encode(text);
        const d = diff(ours.encode(text), r, [text]);
        assert.equal(d, null, `${JSON.stringify(text)}: ${d}`);
      }
    });

    // Every 5th sentence (~13k of 64k; each tokenizer a different fifth): the whole corpus passes too, but takes ~2.5 min for five tokenizers.
    it('ids, tokens and UTF-16 offsets equal Rust on a fifth of the SOTU sentences', async () => {
      const lines = SOTU.filter((_, i) => i % 5 === NAMES.indexOf(name));
      const BATCH = 2000;
      let checked = 0;
      for (let i = 0; i < lines.length; i += BATCH) {
        const batch = lines.slice(i, i + BATCH);
        const rs = await rust.encodeBatch(batch);
        batch.forEach((text, k) => {
          const d = diff(ours.encode(text), rs[k]!, [text]);
          assert.equal(d, null, `line ${i + k} ${JSON.stringify(text.slice(0, 100))}: ${d}`);
          checked++;
        });
      }
      assert.equal(checked, lines.length);
    });

    it('pairs equal Rust', async () => {
      for (let i = 0; i + 1 < 200; i += 2) {
        const [a, b] = [SOTU[i]!, SOTU[i + 1]!];
        const d = diff(ours.encode(a, b), await rust.encode(a, b), [a, b]);
        assert.equal(d, null, `pair ${i}: ${d}`);
      }
    });

    it('truncation keeps the first maxLength tokens with the special tokens', () => {
      const text = SOTU.find((s) => s.length > 300)!;
      const full = ours.encode(text, null, { addSpecialTokens: false });
      const cut = ours.encode(text, null, { truncation: { maxLength: 16 } });
      assert.equal(cut.ids.length, 16);
      const added = ours.encode('', null).ids.length;
      assert.deepEqual(cut.ids.filter((_, i) => cut.specialTokensMask[i] === 0), full.ids.slice(0, 16 - added));
    });

    it('decode equals Rust', async () => {
      for (const text of [...SOTU.slice(0, 300), ...ADVERSARIAL]) {
        const ids = ours.encode(text).ids;
        assert.equal(ours.decode(ids, { skipSpecialTokens: true }), await rust.decode(ids, true), JSON.stringify(text));
      }
    });
  });
}

describe('tokenizer families: WordPiece behind other normalizers and pre-tokenizers', () => {
  // BERT's vocabulary with components the BERT fast path does not read: the general pipeline's WordPiece.
  const doc = JSON.parse(fs.readFileSync(path.join(FIXTURES, '..', 'hf-tiny-bert', 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const variants: [string, unknown, unknown][] = [
    ['NFD+Lowercase+StripAccents / Whitespace', { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }, { type: 'StripAccents' }] }, { type: 'Whitespace' }],
    ['NFKC+Strip+Replace / Sequence[WhitespaceSplit, Punctuation, Digits]', { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Strip', strip_left: true, strip_right: true }, { type: 'Replace', pattern: { String: '``' }, content: '"' }] },
      { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Isolated' }, { type: 'Digits', individual_digits: true }] }],
    ['NFC / Split regex MergedWithPrevious', { type: 'NFC' }, { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'MergedWithPrevious', invert: false }],
  ];
  for (const [label, normalizer, preTokenizer] of variants) {
    it(`${label}: ids, tokens and offsets equal Rust`, async () => {
      const text = JSON.stringify({ ...doc, normalizer, pre_tokenizer: preTokenizer });
      const ours = WordPieceTokenizer.fromTokenizerJson(text);
      const rust = RustTokenizer.fromString(text);
      assert.ok(ours.pipeline);
      for (const line of [...ADVERSARIAL, ...SOTU.slice(0, 2000)]) {
        const d = diff(ours.encode(line), await rust.encode(line), [line]);
        assert.equal(d, null, `${JSON.stringify(line.slice(0, 100))}: ${d}`);
      }
    });
  }
});

describe('tokenizer families: special tokens and errors', () => {
  it('knows each family\'s mask, pad, cls, sep and unk tokens', () => {
    assert.deepEqual(loadTokenizer(path.join(FIXTURES, 'roberta-bpe')).specialTokens, { mask: '<mask>', pad: '<pad>', cls: '<s>', sep: '</s>', unk: '<unk>' });
    assert.deepEqual(loadTokenizer(path.join(FIXTURES, 'albert-unigram')).specialTokens, { mask: '[MASK]', pad: '<pad>', cls: '[CLS]', sep: '[SEP]', unk: '<unk>' });
  });

  it('a component we do not read names its type and the file', () => {
    const doc = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'xlmr-unigram', 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    doc['normalizer'] = { type: 'Nmt' };
    assert.throws(() => WordPieceTokenizer.fromTokenizerJson(JSON.stringify(doc), 'xlmr/tokenizer.json'),
      (e: Error) => e instanceof TokenizerFileError && /xlmr\/tokenizer\.json/.test(e.message) && /normalizer\.type/.test(e.message) && /Nmt/.test(e.message));
    doc['normalizer'] = null;
    doc['model'] = { type: 'WordLevel', vocab: {}, unk_token: '<unk>' };
    assert.throws(() => WordPieceTokenizer.fromTokenizerJson(JSON.stringify(doc), 'x/tokenizer.json'), /x\/tokenizer\.json: field "model\.type" is "WordLevel"/);
  });
});

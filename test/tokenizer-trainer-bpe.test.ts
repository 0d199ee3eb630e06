/**
 * The byte-level BPE trainer (RoBERTa-style pretraining from scratch). Its vocabulary and merges
 * must equal those of the Rust BpeTrainer as ByteLevelBPETokenizer runs it: roberta-bpe's
 * tokenizer.json was trained by it (scripts/make-tokenizer-fixtures.py, every 4th SOTU sentence,
 * 1000 tokens, min_frequency 2). The tokenizer.json we write must load in the Rust library and
 * encode exactly as ours does, before and after saving.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { WordPieceTokenizer, loadTokenizer, saveTokenizer, trainByteLevelBpe } from '../src/engine/tokenizer/index.js';
import { maskTokens, specialIdsOf, tokenizeForMlm, wordIdsFromPieces } from '../src/engine/data/collate-mlm.js';
import { Rng } from '../src/engine/data/rng.js';
import { checkTrainingConfig, parseTrainingConfig } from '../src/engine/train/config.js';
import { planRun } from '../src/engine/train/plan.js';
import { ADVERSARIAL, SOTU, diff } from './tokenizer-reference.js';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'tokenizers');
const FIXTURE = path.join(FIXTURES, 'roberta-bpe', 'tokenizer.json');
const reference = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { model: { vocab: Record<string, number>; merges: [string, string][] } };
const trained = trainByteLevelBpe(SOTU.filter((_, i) => i % 4 === 0), { vocabSize: 1000 });
const json = trained.toTokenizerJson();
const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

describe('byte-level BPE trainer', () => {
  it('vocabulary and merges equal the Rust BpeTrainer\'s on the same sentences', () => {
    const model = (JSON.parse(json) as typeof reference).model;
    assert.equal(Object.keys(model.vocab).length, 1000);
    assert.deepEqual(['<s>', '<pad>', '</s>', '<unk>', '<mask>', '!', 'Ġ'].map((t) => model.vocab[t]), [0, 1, 2, 3, 4, 5, 225]);
    // 'Ġ' (U+0120, the space byte): after the 188 printable bytes and 32 other U+01xx ones, in code-point order.
    assert.deepEqual(model.vocab, reference.model.vocab);
    assert.deepEqual(model.merges, reference.model.merges);
  });

  it('the Rust library loads the tokenizer.json and encodes and decodes exactly as ours', async () => {
    const rust = RustTokenizer.fromString(json);
    assert.equal(rust.getVocabSize(true), trained.vocabSize);
    for (const text of [...ADVERSARIAL, ...SOTU.filter((_, i) => i % 4 === 1).slice(0, 3000)]) {
      const r = await rust.encode(text);
      assert.equal(diff(trained.encode(text), r, [text]), null, JSON.stringify(text));
      assert.equal(trained.decode(r.getIds(), { skipSpecialTokens: true }), await rust.decode(r.getIds(), true));
    }
    const [a, b] = [SOTU[1]!, SOTU[2]!];
    assert.equal(diff(trained.encode(a, b), await rust.encode(a, b), [a, b]), null, 'a pair: <s> A </s></s> B </s>');
  });

  it('saved and loaded again, it encodes the same and knows its special tokens', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpe-')); dirs.push(dir);
    saveTokenizer(trained, dir);
    const back = loadTokenizer(dir);
    assert.deepEqual(back.specialTokens, { mask: '<mask>', pad: '<pad>', cls: '<s>', sep: '</s>', unk: '<unk>' });
    for (const text of [...ADVERSARIAL, ...SOTU.slice(0, 500)]) assert.deepEqual(back.encode(text), trained.encode(text), JSON.stringify(text));
  });

  it('lowercase adds a Lowercase normalizer', () => {
    const t = trainByteLevelBpe(SOTU.slice(0, 300), { vocabSize: 400, lowercase: true });
    assert.deepEqual(t.encode('The PEOPLE').ids, t.encode('the people').ids);
  });

  it('bad options name the option, the value and what is allowed', () => {
    assert.throws(() => trainByteLevelBpe(['a b'], { vocabSize: 100 }), /BPE trainer: option vocabSize is 100; expected at least 261 \(the 5 special tokens and the 256 byte characters\)/);
    assert.throws(() => trainByteLevelBpe(['a b'], { minFrequency: -1 }), /option minFrequency is -1/);
    assert.throws(() => trainByteLevelBpe(['a b'], { specialTokens: ['<s>', '<s>'] }), /option specialTokens/);
  });
});

/**
 * Checks wordIdsFromPieces against the words whitespace delimits in the text: two neighbouring
 * tokens that are not all whitespace share a word exactly when no whitespace lies between them
 * (by their offsets in the text).
 */
function checkWhitespaceWords(tok: WordPieceTokenizer, lines: string[]): number {
  let joined = 0;
  const special = specialIdsOf(tok);
  for (const text of lines) {
    const e = tok.encode(text, null, { addSpecialTokens: false });
    const words = wordIdsFromPieces(e.ids, tok, special);
    const blank = (t: number) => /^\s*$/.test(text.slice(e.offsets[t]![0], e.offsets[t]![1]));
    for (let t = 1; t < e.ids.length; t++) {
      if (blank(t) || blank(t - 1)) continue;
      // Between them, or leading the second (sentencepiece's "▁" covers the space it replaced).
      const same = !/\s/.test(text.slice(e.offsets[t - 1]![1], e.offsets[t]![0])) && !/^\s/.test(text.slice(e.offsets[t]![0], e.offsets[t]![1]));
      if (same) joined++;
      assert.equal(words[t] === words[t - 1], same, `tokens ${t - 1}, ${t} (${JSON.stringify(e.tokens.slice(t - 1, t + 1))}) of ${JSON.stringify(text)}`);
    }
  }
  return joined;
}

describe('whole words of byte-level BPE and sentencepiece tokens', () => {
  const lines = [...SOTU.slice(0, 2000), 'a\nb c\td', 'line one\r\nline two', 'tab\tsep  double  spaces', "don't stop-gap U.S.A. (1999)"];

  it('byte-level BPE: a word starts at a token with "Ġ", or at or after a tab or line break', () => {
    assert.ok(checkWhitespaceWords(trained, lines) > 1000, 'the text must have words of several tokens');
  });

  it('sentencepiece (Metaspace): a word starts at a token with "▁"', () => {
    assert.ok(checkWhitespaceWords(loadTokenizer(path.join(FIXTURES, 'xlmr-unigram')), lines) > 1000);
  });

  it('WordPiece is unchanged: a piece with "##" continues its word', () => {
    const bert = loadTokenizer(path.join(FIXTURES, '..', 'hf-tiny-bert'));
    const e = bert.encode('unaffable tokenization', null, { addSpecialTokens: false });
    const starts = bert.wordStarts(e.ids);
    assert.deepEqual(starts, e.tokens.map((t, i) => i === 0 || !t.startsWith('##')));
  });

  it('whole-word masking of byte-level BPE sequences masks all tokens of a word together', () => {
    const seqs = tokenizeForMlm(trained, SOTU.slice(0, 3000), { maxSeqLength: 64, lineByLine: true });
    const special = specialIdsOf(trained);
    const rng = new Rng(7);
    let multi = 0;
    for (const seq of seqs) {
      const r = maskTokens(seq, rng, { wholeWord: true, maskId: trained.tokenToId('<mask>')!, vocabSize: trained.vocabSize, specialIds: special });
      const chosen = new Set(r.positions);
      seq.ids.forEach((_, t) => {
        const w = seq.wordIds![t];
        if (w === null || special.has(seq.ids[t]!)) return;
        const mates = seq.wordIds!.map((x, u) => (x === w ? u : -1)).filter((u) => u >= 0);
        if (mates.length > 1 && chosen.has(t)) multi++;
        for (const u of mates) assert.equal(chosen.has(u), chosen.has(t), `word ${w} of ${JSON.stringify(seq.ids)}`);
      });
    }
    assert.ok(multi > 100, 'words of several tokens must be chosen');
  });
});

describe('train_tokenizer type "bpe" in the training configuration', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpe-cfg-')); dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'sotu.txt'), SOTU.slice(0, 400).join('\n'));
  const config = (train_tokenizer: unknown) => JSON.stringify({
    output_dir: 'out', task: 'mlm', train_file: 'sotu.txt', train_tokenizer, max_seq_length: 32, max_steps: 1, device: 'cpu',
    model_config: { model_type: 'roberta', hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 40 },
  });

  it('trains a byte-level BPE tokenizer with RoBERTa\'s special tokens', async () => {
    const notes: string[] = [];
    const plan = await planRun(parseTrainingConfig(config({ type: 'bpe', vocab_size: 400 }), path.join(dir, 'config.json')), { log: (n) => notes.push(n) });
    assert.equal((plan.tokenizer.pipeline!.json['model'] as { type: string }).type, 'BPE');
    assert.equal(plan.tokenizer.vocabSize, 400);
    assert.deepEqual(plan.tokenizer.specialTokens, { mask: '<mask>', pad: '<pad>', cls: '<s>', sep: '</s>', unk: '<unk>' });
    assert.ok(notes.some((n) => /trained a byte-level BPE vocabulary of 400 tokens/.test(n)), notes.join('\n'));
  });

  it('the new model pads with the tokenizer\'s <pad> (id 1), whatever the family, unless model_config names pad_token_id', async () => {
    for (const model_type of ['roberta', 'bert']) {
      const c = JSON.parse(config({ type: 'bpe', vocab_size: 400 }));
      c.model_config.model_type = model_type;
      const plan = await planRun(parseTrainingConfig(JSON.stringify(c), path.join(dir, 'config.json')));
      assert.equal(plan.model.cfg.pad_token_id, 1, model_type);
      assert.equal(plan.tokenizer.tokenToId('<pad>'), 1);
    }
    const c = JSON.parse(config({ type: 'bpe', vocab_size: 400 }));
    c.model_config.pad_token_id = 3;
    assert.equal((await planRun(parseTrainingConfig(JSON.stringify(c), path.join(dir, 'config.json')))).model.cfg.pad_token_id, 3);
  });

  it('an unknown type names the field and the allowed values', () => {
    const { diagnostics } = checkTrainingConfig(config({ type: 'sentencepiece', vocab_size: 400 }), path.join(dir, 'config.json'));
    assert.ok(diagnostics.some((d) => d.field === 'train_tokenizer.type' && /"sentencepiece"/.test(d.message) && /wordpiece/.test(d.message) && /bpe/.test(d.message)), JSON.stringify(diagnostics));
  });
});

/**
 * fill-mask returns the input's tokens (for the predictions panel to show and mask): their
 * vocabulary strings against transformers' tokens in the fixture, and their UTF-16 offsets
 * against positions counted by hand in the texts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InferenceWorker } from '../src/engine/infer/infer-client.js';
import { BertPipeline, type InputToken } from '../src/engine/infer/pipeline.js';

const FIX = join(__dirname, '..', '..', 'test', 'fixtures', 'hf-tiny-bert');
const pipe = BertPipeline.load(FIX);
const cases = (JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as { cases: { text: string[]; tokens: string[][] }[] }).cases;
const spans = (ts: InputToken[]) => ts.map((t) => [t.text, t.start, t.end, t.special] as const);

describe('fill-mask tokens', () => {
  it('lists every token with its offsets; [CLS]/[SEP] are special at [0, 0]', async () => {
    const text = cases[0]!.text[0]!; // 'the congress of the [MASK] states met today.'
    assert.equal(text, 'the congress of the [MASK] states met today.');
    const r = await pipe.fillMask(text, { topK: 2 });
    assert.deepEqual(r.tokens.map((t) => t.text), cases[0]!.tokens[0], 'the same tokens as transformers');
    assert.deepEqual(spans(r.tokens), [
      ['[CLS]', 0, 0, true], ['the', 0, 3, false], ['congress', 4, 12, false], ['of', 13, 15, false], ['the', 16, 19, false],
      ['[MASK]', 20, 26, false], ['states', 27, 33, false], ['me', 34, 36, false], ['##t', 36, 37, false], ['to', 38, 40, false],
      ['##d', 40, 41, false], ['##ay', 41, 43, false], ['.', 43, 44, false], ['[SEP]', 0, 0, true],
    ]);
    assert.equal(r.masks[0]!.tokenIndex, 5);
  });

  it('slices each word piece to its surface in the text, two masks', async () => {
    const text = cases[1]!.text[0]!; // 'the [MASK] of the union is [MASK] and strong.'
    const r = await pipe.fillMask(text, { topK: 1 });
    assert.deepEqual(r.tokens.map((t) => t.text), cases[1]!.tokens[0]);
    const surface = r.tokens.filter((t) => !t.special).map((t) => text.slice(t.start, t.end));
    assert.deepEqual(surface, ['the', '[MASK]', 'of', 'the', 'un', 'ion', 'is', '[MASK]', 'and', 'st', 'ro', 'n', 'g', '.']);
    assert.deepEqual(r.masks.map((m) => m.tokenIndex), [2, 8]);
  });

  it('offsets are UTF-16 positions in the original text (capitals, accents, an emoji)', async () => {
    const text = 'The Café 😀 [MASK].';
    // T0 h1 e2 _3 C4 a5 f6 é7 _8 😀9-10 _11 [MASK]12-17 .18
    const r = await pipe.fillMask(text, { topK: 1 });
    const real = r.tokens.filter((t) => !t.special);
    assert.deepEqual(real.map((t) => text.slice(t.start, t.end)), ['The', 'C', 'a', 'f', 'é', '😀', '[MASK]', '.']);
    assert.deepEqual(real.map((t) => t.text), ['the', 'c', '##a', '##f', '##e', '[UNK]', '[MASK]', '.']);
    assert.deepEqual(r.masks[0]!.offset, [12, 18]);
  });

  it('lists tokens when there is no mask, and only the kept tokens when truncated', async () => {
    const none = await pipe.fillMask('the union', { topK: 1 });
    assert.deepEqual(spans(none.tokens), [['[CLS]', 0, 0, true], ['the', 0, 3, false], ['un', 4, 6, false], ['##ion', 6, 9, false], ['[SEP]', 0, 0, true]]);
    assert.deepEqual(none.masks, []);
    const long = `${'of '.repeat(100)}[MASK]`; // 100 words + mask: truncated to 64 positions = [CLS] + 62 × "of" + [SEP]
    const r = await pipe.fillMask(long, { topK: 1 });
    assert.equal(r.tokens.length, 64);
    assert.deepEqual(spans(r.tokens.slice(-2)), [['of', 183, 185, false], ['[SEP]', 0, 0, true]]);
    assert.ok(r.warnings.some((w) => /1 of 1 \[MASK\] tokens fell beyond/.test(w)), r.warnings.join());
  });
});

describe('fill-mask tokens through the inference worker', () => {
  const w = new InferenceWorker(join(__dirname, '..', 'src', 'engine', 'infer', 'infer-worker.js'));
  after(() => w.dispose());
  it('crosses the thread unchanged', async () => {
    const text = 'the [MASK] of the union is [MASK] and strong.';
    const [here, there] = [await pipe.fillMask(text, { topK: 3 }), await w.fillMask(FIX, text, 3)];
    assert.deepEqual(there.tokens, here.tokens);
    assert.deepEqual(there.masks.map((m) => m.predictions.map((p) => p.token)), here.masks.map((m) => m.predictions.map((p) => p.token)));
  });
});

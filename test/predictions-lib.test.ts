/**
 * The predictions page's pure logic against hand-computed expectations: the tokens are those the
 * fill-mask pipeline gives for the hf-tiny-bert fixture's first case (test/infer-tokens.test.ts
 * checks them against transformers).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  alignMasks, barWidth, baseName, chooseSlots, fillPrediction, findMasks, formatMs, formatPercent, maskable, maskSpan, maskTarget,
  parseTopK, runCheckpoints, snippet, wordGroups, type TokenLike,
} from '../src/webviews/lib/predictions-view.js';

const TEXT = 'the congress of the [MASK] states met today.';
const tok = (text: string, start: number, end: number, special = false): TokenLike => ({ text, start, end, special });
const TOKENS = [
  tok('[CLS]', 0, 0, true), tok('the', 0, 3), tok('congress', 4, 12), tok('of', 13, 15), tok('the', 16, 19), tok('[MASK]', 20, 26),
  tok('states', 27, 33), tok('me', 34, 36), tok('##t', 36, 37), tok('to', 38, 40), tok('##d', 40, 41), tok('##ay', 41, 43), tok('.', 43, 44), tok('[SEP]', 0, 0, true),
];

describe('masking a clicked token', () => {
  it('replaces the span by [MASK] and gives the mask\'s new span', () => {
    assert.deepEqual(maskSpan('the congress met', 4, 12), { text: 'the [MASK] met', start: 4, end: 10 });
    assert.deepEqual(maskSpan('ab', 2, 2), { text: 'ab[MASK]', start: 2, end: 8 });
    assert.throws(() => maskSpan('ab', 1, 3), /span \[1, 3\) is outside the text \(2 characters\)/);
  });

  it('groups word pieces into words; specials and masks stand alone', () => {
    assert.deepEqual(wordGroups(TOKENS).map((g) => [g.start, g.end, g.pieces]), [
      [0, 0, [0]], [0, 3, [1]], [4, 12, [2]], [13, 15, [3]], [16, 19, [4]], [20, 26, [5]], [27, 33, [6]],
      [34, 37, [7, 8]], [38, 43, [9, 10, 11]], [43, 44, [12]], [0, 0, [13]],
    ]);
    // A "##" piece that does not touch the token before it starts a word of its own.
    assert.deepEqual(wordGroups([tok('a', 0, 1), tok('##b', 2, 3)]).map((g) => g.pieces), [[0], [1]]);
  });

  it('masks the piece, or the whole word; special tokens and masks are not maskable', () => {
    assert.deepEqual(maskTarget(TOKENS, 10, false), { start: 40, end: 41 });
    assert.deepEqual(maskTarget(TOKENS, 10, true), { start: 38, end: 43 });
    assert.deepEqual(maskTarget(TOKENS, 7, true), { start: 34, end: 37 });
    assert.deepEqual(maskTarget(TOKENS, 2, true), { start: 4, end: 12 });
    assert.equal(maskTarget(TOKENS, 0, false), null);
    assert.equal(maskTarget(TOKENS, 5, true), null);
    assert.equal(maskTarget(TOKENS, 99, false), null);
    assert.deepEqual(TOKENS.map((t) => maskable(t)), [false, true, true, true, true, false, true, true, true, true, true, true, true, false]);
    const w = maskTarget(TOKENS, 11, true)!;
    assert.equal(maskSpan(TEXT, w.start, w.end).text, 'the congress of the [MASK] states met [MASK].');
    const p = maskTarget(TOKENS, 8, false)!;
    assert.equal(maskSpan(TEXT, p.start, p.end).text, 'the congress of the [MASK] states me[MASK] today.');
  });

  it('finds every mask', () => {
    assert.deepEqual(findMasks(TEXT), [20]);
    assert.deepEqual(findMasks('[MASK][MASK] a [MASK]'), [0, 6, 15]);
    assert.deepEqual(findMasks('no mask'), []);
  });
});

describe('putting a prediction in place of its mask', () => {
  it('replaces the mask; a ## piece joins the word before it', () => {
    assert.equal(fillPrediction(TEXT, 20, 26, 'united'), 'the congress of the united states met today.');
    assert.equal(fillPrediction('he walk [MASK] home', 8, 14, '##ing'), 'he walking home');
    assert.equal(fillPrediction('[MASK] x', 0, 6, '##s'), 's x');
  });
  it('refuses when the mask is no longer there', () => {
    assert.equal(fillPrediction('the union of the [MASK]', 20, 26, 'united'), null);
  });
});

describe('rows of masks across two checkpoints', () => {
  const p = (token: string, score: number) => ({ token, score });
  it('aligns by span, keeps masks only one side has, and marks top-1 agreement', () => {
    const a = { masks: [{ start: 20, end: 26, predictions: [p('x', 0.5)] }, { start: 4, end: 10, predictions: [p('the', 0.9), p('a', 0.1)] }] };
    const b = { masks: [{ start: 4, end: 10, predictions: [p('the', 0.6)] }, { start: 30, end: 36, predictions: [p('y', 1)] }] };
    const rows = alignMasks([a, b]);
    assert.deepEqual(rows.map((r) => [r.start, r.cells.map((c) => c?.map((x) => x.token) ?? null), r.agree]), [
      [4, [['the', 'a'], ['the']], true],
      [20, [['x'], null], null],
      [30, [null, ['y']], null],
    ]);
    const c = { masks: [{ start: 4, end: 10, predictions: [p('a', 0.7)] }] };
    assert.equal(alignMasks([a, c])[0]!.agree, false);
    assert.deepEqual(alignMasks([a]).map((r) => r.agree), [null, null], 'one column: nothing to agree with');
    assert.deepEqual(alignMasks([{ masks: [] }, { masks: [] }]), []);
  });
});

describe('choosing the checkpoints', () => {
  const items = [{ path: '/r/a' }, { path: '/r/b' }, { path: '/r/c' }];
  it('follows the host\'s selection, else the saved one when still offered, else the first item', () => {
    const saved = { first: '/r/b', second: '/r/c', compare: true };
    assert.deepEqual(chooseSlots(items, ['/r/a'], saved), { first: '/r/a', second: '/r/c', compare: true });
    assert.deepEqual(chooseSlots(items, ['/r/a', '/r/b'], { first: '', second: '', compare: false }), { first: '/r/a', second: '/r/b', compare: true });
    assert.deepEqual(chooseSlots(items, [], saved), saved);
    assert.deepEqual(chooseSlots(items, [], { first: '/gone', second: '/gone2', compare: true }), { first: '/r/a', second: '', compare: false });
    assert.deepEqual(chooseSlots(items, ['/not-offered'], { first: '/r/c', second: '', compare: false }), { first: '/r/c', second: '', compare: false });
    assert.deepEqual(chooseSlots([], [], saved), { first: '', second: '', compare: false });
  });
  it('runs one checkpoint, or two when comparing with a different one', () => {
    assert.deepEqual(runCheckpoints({ first: '/a', second: '/b', compare: true }), ['/a', '/b']);
    assert.deepEqual(runCheckpoints({ first: '/a', second: '/b', compare: false }), ['/a']);
    assert.deepEqual(runCheckpoints({ first: '/a', second: '/a', compare: true }), ['/a']);
    assert.deepEqual(runCheckpoints({ first: '', second: '/b', compare: true }), []);
  });
});

describe('formatting', () => {
  it('percentages with one decimal, <0.1% and 100% at the ends', () => {
    assert.deepEqual([0.873, 0.05, 0.99996, 1, 0.0005, 0.00049, 0, -1, Number.NaN].map(formatPercent), ['87.3%', '5.0%', '100%', '100%', '0.1%', '<0.1%', '0%', '0%', '–']);
  });
  it('bar widths clamped to the track', () => {
    assert.deepEqual([0.25, 1.5, -0.1, Number.NaN].map(barWidth), [25, 100, 0, 0]);
  });
  it('durations, names, top-k', () => {
    assert.deepEqual([12.4, 999.4, 1240].map(formatMs), ['12 ms', '999 ms', '1.24 s']);
    assert.deepEqual(['/runs/mlm/checkpoint-500', 'C:\\runs\\final\\', 'x'].map(baseName), ['checkpoint-500', 'final', 'x']);
    assert.deepEqual(parseTopK(' 7 '), { k: 7 });
    for (const bad of ['0', '101', '2.5', '', 'five']) assert.deepEqual(parseTopK(bad), { error: `top-k must be a whole number from 1 to 100, not "${bad}"` });
  });
  it('a context snippet cut at spaces with ellipses', () => {
    const t = 'one two three four five six seven [MASK] eight nine ten eleven twelve';
    assert.deepEqual(snippet(t, 34, 40, 12), { before: '…six seven ', mask: '[MASK]', after: ' eight nine…' });
    assert.deepEqual(snippet('a\n\n[MASK]  b', 3, 9), { before: 'a ', mask: '[MASK]', after: ' b' });
  });
});

/**
 * The predictions panel's host side in plain Node (a stub of the vscode API, the real inference
 * worker, the hf-tiny-bert fixtures): what it offers on `ready`, what it answers to a run (tokens,
 * masks and top-k as the pipeline computes them), and what it refuses (paths not offered, an
 * untrusted workspace), with a classifier's error in its own column.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BertPipeline } from '../src/engine/infer/pipeline.js';
import { created, useVscodeStub } from './vscode-stub.js';
import { CLS, MLM, exchange, follow, inferSetup, testWorker, type Msg } from './panel-harness.js';

useVscodeStub();
const worker = testWorker();
after(() => worker.dispose());
const setup = (opts: { trusted?: boolean; pick?: string } = {}) => inferSetup(worker, opts);

describe('predictions panel (host)', async () => {
  const { PredictionsPanel, UNTRUSTED } = await import('../src/extension/panels/predictions.js');

  it('answers ready with the offered checkpoints and the given text; runs fill-mask with tokens and top-k', async () => {
    const { ctx } = setup();
    const p = PredictionsPanel.create(ctx as never, { checkpoint: MLM, text: 'the [MASK] of the union' });
    const fake = created[created.length - 1]!;
    assert.equal(fake.viewType, 'bertLab.predictions');
    const [list, text] = await exchange(fake, { type: 'ready' }, 2);
    assert.deepEqual(list, { type: 'checkpoints', items: [{ label: 'tiny · final', description: 'fixture', path: MLM }], selected: [MLM] });
    assert.deepEqual(text, { type: 'predictions/text', text: 'the [MASK] of the union' });

    const input = 'the congress of the [MASK] states met today.';
    const [res] = await exchange(fake, { type: 'predictions/run', requestId: 7, text: input, checkpoints: [MLM], topK: 3 });
    assert.equal(res!.type, 'predictions/result');
    assert.equal(res!['requestId'], 7);
    const [col] = res!['columns'] as { checkpoint: string; tokens: { text: string; start: number; end: number; special: boolean }[]; masks: { start: number; end: number; predictions: { token: string; score: number }[] }[]; warnings: string[]; ms: number; error?: string }[];
    assert.equal(col!.checkpoint, MLM);
    assert.equal(col!.error, undefined);
    assert.deepEqual(col!.tokens.map((t) => [t.text, t.start, t.end, t.special]).slice(4, 9), [['the', 16, 19, false], ['[MASK]', 20, 26, false], ['states', 27, 33, false], ['me', 34, 36, false], ['##t', 36, 37, false]]);
    assert.deepEqual(col!.masks.map((m) => [m.start, m.end, m.predictions.length]), [[20, 26, 3]]);
    const direct = (await BertPipeline.load(MLM).fillMask(input, { topK: 3 })).masks[0]!.predictions;
    assert.deepEqual(col!.masks[0]!.predictions.map((x) => x.token), direct.map((x) => x.token));
    col!.masks[0]!.predictions.forEach((x, j) => assert.ok(Math.abs(x.score - direct[j]!.score) < 1e-6));
    assert.ok(col!.ms > 0);
    p.dispose();
  });

  it('refuses a path it did not offer, naming it', async () => {
    const { ctx, inferCalls } = setup();
    const p = PredictionsPanel.create(ctx as never);
    const fake = created[created.length - 1]!;
    await exchange(fake, { type: 'ready' });
    const [err] = await exchange(fake, { type: 'predictions/run', requestId: 3, text: 'a [MASK]', checkpoints: ['/etc'], topK: 5 });
    assert.deepEqual(err, { type: 'error', requestId: 3, message: '/etc was not offered to this panel; choose a checkpoint from the list' });
    assert.equal(inferCalls(), 0);
    p.dispose();
  });

  it('a picked classifier joins the list in slot 1 and gets its error in its own column', async () => {
    const { ctx } = setup({ pick: CLS });
    const p = PredictionsPanel.create(ctx as never, { checkpoint: MLM });
    const fake = created[created.length - 1]!;
    await exchange(fake, { type: 'ready' });
    const [list] = await exchange(fake, { type: 'predictions/pickCheckpoint', slot: 1 });
    assert.deepEqual((list!['items'] as { path: string }[]).map((i) => i.path), [MLM, CLS]);
    assert.deepEqual(list!['selected'], [MLM, CLS]);
    const [res] = await exchange(fake, { type: 'predictions/run', requestId: 4, text: 'the [MASK] of the union', checkpoints: [MLM, CLS], topK: 2 });
    const cols = res!['columns'] as { masks: unknown[]; error?: string }[];
    assert.equal(cols[0]!.error, undefined);
    assert.equal(cols[0]!.masks.length, 1);
    assert.match(cols[1]!.error!, /fill-mask needs a masked-LM checkpoint; this one is BertForSequenceClassification/);
    assert.deepEqual(cols[1]!.masks, []);
    p.dispose();
  });

  it('answers only the newest of overlapping runs', async () => {
    const { ctx } = setup({ pick: CLS });
    const p = PredictionsPanel.create(ctx as never, { checkpoint: MLM });
    const fake = created[created.length - 1]!;
    const handled = follow(p, fake);
    await exchange(fake, { type: 'ready' });
    await exchange(fake, { type: 'predictions/pickCheckpoint', slot: 1 });
    const from = fake.posted.length;
    fake.fromPage({ type: 'predictions/run', requestId: 20, text: 'the [MASK] of the union', checkpoints: [MLM, CLS], topK: 2 });
    const [res] = await exchange(fake, { type: 'predictions/run', requestId: 21, text: 'the union [MASK]', checkpoints: [MLM], topK: 2 });
    // Run 20's handler has returned (after its first column came back from the worker): had it not been dropped, its result would be here.
    await handled.settled();
    assert.deepEqual(fake.posted.slice(from).map((m) => [(m as Msg).type, (m as Msg)['requestId']]), [['predictions/result', 21]]);
    assert.equal((res!['columns'] as unknown[]).length, 1);
    p.dispose();
  });

  it('loads nothing in an untrusted workspace and says why', async () => {
    const { ctx, inferCalls } = setup({ trusted: false });
    const p = PredictionsPanel.create(ctx as never, { checkpoint: MLM });
    const fake = created[created.length - 1]!;
    const [, err] = await exchange(fake, { type: 'ready' }, 2);
    assert.deepEqual(err, { type: 'error', message: UNTRUSTED });
    const [err2] = await exchange(fake, { type: 'predictions/run', requestId: 9, text: 'a [MASK]', checkpoints: [MLM], topK: 5 });
    assert.deepEqual(err2, { type: 'error', requestId: 9, message: UNTRUSTED });
    assert.equal(inferCalls(), 0);
    p.dispose();
  });

  it('drops a malformed message (logged), and keeps a text for a hidden page until it is ready again', async () => {
    const { ctx, log } = setup();
    const p = PredictionsPanel.create(ctx as never);
    const fake = created[created.length - 1]!;
    const handled = follow(p, fake);
    await exchange(fake, { type: 'ready' });
    const n = fake.posted.length;
    fake.fromPage({ type: 'predictions/run', requestId: -1, text: 'x', checkpoints: [MLM], topK: 5 });
    await handled.settled();
    assert.equal(fake.posted.length, n, 'no answer to a malformed message');
    assert.ok(log.some((l) => /dropped a message: message\.requestId: expected an integer in \[0, /.test(l)), log.join('\n'));
    fake.setVisible(false);
    p.show({ text: 'later [MASK]' });
    assert.equal(fake.revealed, 1);
    assert.ok(!fake.posted.slice(n).some((m) => (m as Msg).type === 'predictions/text'), 'not sent before the page is ready');
    const got = await exchange(fake, { type: 'ready' }, 2);
    assert.deepEqual(got.map((m) => m.type), ['checkpoints', 'predictions/text']);
    assert.equal(got[1]!['text'], 'later [MASK]');
    p.dispose();
  });
});

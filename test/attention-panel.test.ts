/**
 * The attention panel's host side in plain Node (the vscode API stub, the real inference worker,
 * the hf-tiny-bert fixture): what it offers on `ready`, the tokens and matrices it answers
 * (checked against the pipeline's own attention, indexed here by hand), which requests it drops
 * as stale, and what it refuses (paths not offered, an untrusted workspace, requests before a run).
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
/** The stub posts JSON copies: a typed array arrives as an object of its indices. */
const values = (x: unknown): number[] => Object.values(x as Record<string, number>);

describe('attention panel (host)', async () => {
  const { AttentionPanel, UNTRUSTED } = await import('../src/extension/panels/attention.js');
  const text = 'the union of states', pair = 'congress met today.';
  const direct = await BertPipeline.load(MLM).attention(text, pair);
  const T = direct.tokens.length, Hn = direct.heads;
  const at = (l: number, h: number, q: number, k: number) => direct.layers[l]![h * T * T + q * T + k]!;

  it('loads a command\'s input and offers its checkpoint; a run answers the tokens with segments', async () => {
    const { ctx } = setup();
    const p = AttentionPanel.create(ctx as never, { checkpoint: MLM, text, pair });
    const fake = created[created.length - 1]!;
    assert.equal(fake.viewType, 'bertLab.attention');
    const [load, list] = await exchange(fake, { type: 'ready' }, 2);
    assert.deepEqual(load, { type: 'attention/load', checkpoint: MLM, text, pair });
    assert.deepEqual(list, { type: 'checkpoints', items: [{ label: 'tiny · final', description: 'fixture', path: MLM }], selected: [MLM] });
    const [meta] = await exchange(fake, { type: 'attention/run', requestId: 3, checkpoint: MLM, text, pair });
    assert.equal(meta!.type, 'attention/meta');
    assert.deepEqual([meta!['requestId'], meta!['checkpoint'], meta!['layers'], meta!['heads']], [3, MLM, 2, 4]);
    const tokens = meta!['tokens'] as { text: string; segment: number | null; special: boolean }[];
    assert.deepEqual(tokens.map((t) => t.text), direct.tokens);
    assert.deepEqual(tokens.map((t) => t.segment), direct.sequenceIds);
    const seps = direct.tokens.flatMap((t, i) => (t === '[CLS]' || t === '[SEP]' ? [i] : []));
    assert.deepEqual(tokens.flatMap((t, i) => (t.special ? [i] : [])), seps);
    assert.ok(tokens.some((t) => t.segment === 1), 'the pair is segment 1');
    p.dispose();
  });

  it('answers one head, the heads\' mean and thumbnails over the kept positions', async () => {
    const { ctx } = setup();
    const p = AttentionPanel.create(ctx as never, { checkpoint: MLM });
    const fake = created[created.length - 1]!;
    await exchange(fake, { type: 'ready' }, 2);
    await exchange(fake, { type: 'attention/run', requestId: 1, checkpoint: MLM, text, pair });
    const keep = direct.tokens.flatMap((t, i) => (t === '[CLS]' || t === '[SEP]' ? [] : [i])), n = keep.length;
    const [head] = await exchange(fake, { type: 'attention/head', requestId: 2, layer: 1, head: 3, keep });
    assert.deepEqual([head!['requestId'], head!['layer'], head!['head'], head!['n']], [2, 1, 3, n]);
    const got = values(head!['data']);
    keep.forEach((q, i) => keep.forEach((k, j) => assert.equal(got[i * n + j], at(1, 3, q, k))));
    const [mean] = await exchange(fake, { type: 'attention/head', requestId: 3, layer: 0, head: -1, keep });
    const gm = values(mean!['data']);
    keep.forEach((q, i) => keep.forEach((k, j) => {
      let s = 0;
      for (let h = 0; h < Hn; h++) s += at(0, h, q, k);
      assert.ok(Math.abs(gm[i * n + j]! - s / Hn) < 1e-6);
    }));
    const [th] = await exchange(fake, { type: 'attention/thumbs', requestId: 4, keep, mean: false, size: 4 });
    assert.deepEqual([th!['requestId'], th!['size'], th!['count']], [4, 4, 2 * Hn]);
    // Thumbnail of layer 1, head 2: bin b holds the kept positions k with floor(k·4/n) = b.
    const bins = [0, 1, 2, 3].map((b) => keep.filter((_, k) => Math.floor((k * 4) / n) === b));
    const pooled = bins.flatMap((rq) => bins.map((rk) => { let s = 0; for (const q of rq) for (const k of rk) s += at(1, 2, q, k); return s / (rq.length * rk.length); }));
    const max = Math.max(...pooled), t = 1 * Hn + 2;
    assert.ok(Math.abs((th!['scale'] as number[])[t]! - max) < 1e-9);
    values(th!['data']).slice(t * 16, t * 16 + 16).forEach((v, c) => assert.ok(Math.abs(v - (pooled[c]! / max) * 255) <= 0.5 + 1e-6));
    p.dispose();
  });

  it('drops superseded thumbnails and runs; after a reload it gives the page its last result again', async () => {
    const { ctx } = setup();
    const p = AttentionPanel.create(ctx as never, { checkpoint: MLM });
    const fake = created[created.length - 1]!;
    const handled = follow(p, fake);
    await exchange(fake, { type: 'ready' }, 2);
    let from = fake.posted.length;
    fake.fromPage({ type: 'attention/run', requestId: 10, checkpoint: MLM, text: 'one text', pair });
    await exchange(fake, { type: 'attention/run', requestId: 11, checkpoint: MLM, text, pair });
    // Run 10's handler has got its attention back from the worker and returned: had it not been dropped, its meta would be here.
    await handled.settled();
    assert.deepEqual(fake.posted.slice(from).map((m) => [(m as Msg).type, (m as Msg)['requestId']]), [['attention/meta', 11]]);
    from = fake.posted.length;
    const keep = Array.from({ length: T }, (_, i) => i);
    fake.fromPage({ type: 'attention/thumbs', requestId: 12, keep, mean: false, size: 8 });
    await exchange(fake, { type: 'attention/thumbs', requestId: 13, keep, mean: true, size: 8 });
    await handled.settled();
    const thumbs = fake.posted.slice(from) as Msg[];
    assert.deepEqual(thumbs.map((m) => [m.type, m['requestId'], m['count']]), [['attention/thumbs', 13, 2]]);
    const [meta, list] = await exchange(fake, { type: 'ready' }, 2);
    assert.deepEqual([meta!.type, meta!['requestId'], (meta!['tokens'] as unknown[]).length, list!.type], ['attention/meta', 11, T, 'checkpoints']);
    const [th] = await exchange(fake, { type: 'attention/thumbs', requestId: 1, keep, mean: true, size: 8 });
    assert.equal(th!['requestId'], 1, 'a reloaded page numbers its requests from 1 again');
    assert.deepEqual([th!['data'], th!['scale']], [thumbs[0]!['data'], thumbs[0]!['scale']], 'the same request, the same thumbnails (from the cache)');
    const [heads] = await exchange(fake, { type: 'attention/thumbs', requestId: 2, keep, mean: false, size: 8 });
    assert.equal(heads!['count'], 2 * Hn, 'another request is not answered from the cache');
    p.dispose();
  });

  it('refuses paths not offered, requests before a run and bad positions, naming them; a picked folder is offered', async () => {
    const { ctx, inferCalls } = setup({ pick: CLS });
    const p = AttentionPanel.create(ctx as never);
    const fake = created[created.length - 1]!;
    await exchange(fake, { type: 'ready' });
    const [err] = await exchange(fake, { type: 'attention/run', requestId: 3, checkpoint: '/etc', text });
    assert.deepEqual(err, { type: 'error', requestId: 3, message: '/etc was not offered to this panel; choose a checkpoint from the list' });
    assert.equal(inferCalls(), 0);
    const [err2] = await exchange(fake, { type: 'attention/head', requestId: 4, layer: 0, head: 0, keep: [0] });
    assert.deepEqual(err2, { type: 'error', requestId: 4, message: 'no attention to show yet: press Run' });
    const [list] = await exchange(fake, { type: 'attention/pickCheckpoint' });
    assert.deepEqual((list!['items'] as { path: string }[]).map((i) => i.path), [MLM, CLS]);
    assert.deepEqual(list!['selected'], [CLS]);
    const [meta] = await exchange(fake, { type: 'attention/run', requestId: 5, checkpoint: CLS, text });
    assert.equal(meta!.type, 'attention/meta');
    const [err3] = await exchange(fake, { type: 'attention/head', requestId: 6, layer: 5, head: 0, keep: [0] });
    assert.match(err3!['message'] as string, /^layer 5 does not exist: the model has layers 0…1/);
    const [err4] = await exchange(fake, { type: 'attention/thumbs', requestId: 7, keep: [0, 999], mean: false, size: 8 });
    assert.match(err4!['message'] as string, /^keep\[1\] = 999 is not a token position of this input/);
    p.dispose();
  });

  it('loads nothing in an untrusted workspace and says why', async () => {
    const { ctx, inferCalls } = setup({ trusted: false });
    const p = AttentionPanel.create(ctx as never, { checkpoint: MLM, text });
    const fake = created[created.length - 1]!;
    const got = await exchange(fake, { type: 'ready' }, 3);
    assert.deepEqual(got[2], { type: 'error', message: UNTRUSTED });
    const [err] = await exchange(fake, { type: 'attention/run', requestId: 9, checkpoint: MLM, text });
    assert.deepEqual(err, { type: 'error', requestId: 9, message: UNTRUSTED });
    assert.equal(inferCalls(), 0);
    p.dispose();
  });
});

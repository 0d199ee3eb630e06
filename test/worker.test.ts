/** Sessions in a worker thread: the caller's event loop keeps ticking, cancellation between runs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import * as F from '../src/engine/autodiff/ops.js';
import { Graph } from '../src/engine/ir/graph.js';
import { loop } from '../src/engine/ir/loop.js';
import { serializeModel } from '../src/engine/ir/proto.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { CancelledError, EngineWorker } from '../src/engine/runtime/worker-client.js';
import { Feeds, tensor, toNumbers } from '../src/engine/runtime/tensor.js';
import { rng } from './helpers.js';

const WORKER = join(__dirname, '..', 'src', 'engine', 'runtime', 'worker-main.js');

/** x ← tanh(x·W) repeated `n` times (an input), on 512×512: a run as long as we like. */
function slowModel(): Uint8Array {
  const g = new Graph();
  const x0 = g.input('x', 'float32', [512, 512]);
  const w = g.input('w', 'float32', [512, 512]);
  const n = g.input('n', 'int64', []);
  const res = loop(n, [x0], (_i, [x]) => ({ carried: [F.tanh(F.matmul(x!, w))] }));
  g.output(res.carried[0]!, 'y');
  return serializeModel(g);
}
function slowFeeds(n: number): Feeds {
  const r = rng(1);
  return {
    x: tensor('float32', [512, 512], Float32Array.from({ length: 512 * 512 }, () => r.normal())),
    w: tensor('float32', [512, 512], Float32Array.from({ length: 512 * 512 }, () => r.normal() / 22)),
    n: tensor('int64', [], [n]),
  };
}

/** Runs `work` while a 5 ms interval ticks; returns the run's duration and the longest gap between ticks. */
async function measureTicks(work: () => Promise<unknown>): Promise<{ ms: number; maxGap: number; ticks: number }> {
  let last = performance.now(), maxGap = 0, ticks = 0;
  const timer = setInterval(() => { const now = performance.now(); maxGap = Math.max(maxGap, now - last); last = now; ticks++; }, 5);
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  clearInterval(timer);
  maxGap = Math.max(maxGap, performance.now() - last);
  return { ms, maxGap, ticks };
}

/** Iterations of slowModel that take about `ms` on this machine (measured after a warm-up run). */
async function iterationsFor(ms: number): Promise<number> {
  const probe = await EngineSession.create(slowModel(), { device: 'cpu', threads: 1 });
  const feeds = slowFeeds(10);
  await probe.run(feeds);
  const t0 = performance.now();
  await probe.run(feeds);
  const per = Math.max(0.01, (performance.now() - t0) / 10);
  await probe.release();
  return Math.max(10, Math.ceil(ms / per));
}

describe('EngineWorker', () => {
  it('keeps the calling thread\'s event loop ticking during a long run (and a same-thread run does not)', async () => {
    const model = slowModel();
    const n = await iterationsFor(1000);
    const probe = await EngineSession.create(model, { device: 'cpu', threads: 1 });
    const feeds = slowFeeds(n);
    await probe.run(slowFeeds(1));
    const inThread = await measureTicks(() => probe.run(feeds));
    await probe.release();

    const w = new EngineWorker(WORKER);
    try {
      const s = await w.createSession(model, { device: 'cpu', threads: 1 });
      const inWorker = await measureTicks(() => s.run(feeds));
      console.log(`# ${n} iterations; same thread: ${inThread.ms.toFixed(0)} ms run, longest tick gap ${inThread.maxGap.toFixed(0)} ms; `
        + `worker: ${inWorker.ms.toFixed(0)} ms run, ${inWorker.ticks} ticks, longest gap ${inWorker.maxGap.toFixed(0)} ms`);
      assert.ok(inThread.maxGap > 0.8 * inThread.ms, 'control: a same-thread run blocks the event loop');
      assert.ok(inWorker.ms > 300, 'the run is long enough to matter');
      assert.ok(inWorker.maxGap < Math.min(100, inWorker.ms / 4), `longest gap ${inWorker.maxGap} ms during a ${inWorker.ms} ms run`);
      assert.ok(inWorker.ticks >= inWorker.ms / 50);
    } finally {
      await w.terminate();
    }
  });

  it('gives the same outputs as a session in this thread', async () => {
    const model = slowModel();
    const here = await EngineSession.create(model, { device: 'cpu', threads: 1 });
    const a = await here.run(slowFeeds(3));
    const w = new EngineWorker(WORKER);
    try {
      const s = await w.createSession(model, { device: 'cpu', threads: 1 });
      assert.equal(s.choice.device, 'cpu');
      const b = await s.run(slowFeeds(3));
      assert.deepEqual(toNumbers(b['y']!), toNumbers(a['y']!));
    } finally {
      await w.terminate();
    }
  });

  it('cancels queued runs between runs; the running one finishes; the worker stays usable', async () => {
    const feeds = slowFeeds(await iterationsFor(600));
    const w = new EngineWorker(WORKER);
    try {
      const s = await w.createSession(slowModel(), { device: 'cpu', threads: 1 });
      const ac = new AbortController();
      const runs = [0, 1, 2, 3].map(() => s.run(feeds, undefined, ac.signal).then(() => 'done', (e) => (e instanceof CancelledError ? 'cancelled' : `error: ${e}`)));
      await new Promise((r) => setTimeout(r, 150));
      ac.abort();
      const results = await Promise.all(runs);
      assert.equal(results[0], 'done', 'the run in flight completes');
      assert.deepEqual(results.slice(1), ['cancelled', 'cancelled', 'cancelled']);
      const again = await s.run(slowFeeds(1));
      assert.deepEqual(again['y']!.dims, [512, 512]);
    } finally {
      await w.terminate();
    }
  });

  it('reports a bad request as an error without dying', async () => {
    const w = new EngineWorker(WORKER);
    try {
      await assert.rejects(w.createSession(new Uint8Array([1, 2, 3])), /protobuf|parse|load|model/i);
      const s = await w.createSession(slowModel(), { device: 'cpu' });
      await assert.rejects(s.run({ x: tensor('float32', [2], [1, 2]) }), /input|dimension|missing|shape/i);
      assert.deepEqual((await s.run(slowFeeds(1)))['y']!.dims, [512, 512]);
    } finally {
      await w.terminate();
    }
  });
});

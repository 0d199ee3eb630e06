/** Sessions in a worker thread: the caller's event loop keeps ticking, cancellation between runs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import * as F from '../src/engine/autodiff/index.js';
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

/**
 * Runs `work` while this thread's event loop turns as often as it can (a chain of setImmediate
 * callbacks) and counts the turns completed before `work` settles: a count, which does not depend
 * on how loaded the machine is the way a gap in milliseconds does. The run's duration and the
 * longest gap between turns are measured for the log only.
 */
async function turnsDuring(work: () => Promise<unknown>): Promise<{ turns: number; ms: number; maxGap: number }> {
  let turns = 0, running = true, last = performance.now(), maxGap = 0;
  const turn = () => {
    if (!running) return;
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last); last = now; turns++;
    setImmediate(turn);
  };
  setImmediate(turn);
  const t0 = performance.now();
  await work();
  running = false;
  const ms = performance.now() - t0;
  return { turns, ms, maxGap: Math.max(maxGap, performance.now() - last) };
}

/**
 * Resolves once the worker thread has been busy without a break for `busyMs`: its event loop spent
 * no time idle (waiting for messages) meanwhile, so it is inside a blocking session.run; receiving
 * and queueing requests takes a few milliseconds. A positive sign that the run has started, where
 * a fixed sleep would only guess. Fails after a generous limit if the worker never gets there.
 */
async function insideRun(w: EngineWorker, busyMs = 200): Promise<void> {
  const thread = (w as unknown as { worker?: Worker }).worker;
  assert.ok(thread?.performance, 'EngineWorker keeps its thread in `worker` no more: update insideRun() in test/worker.test.ts');
  const limit = 120_000, t0 = performance.now();
  let idle = thread.performance.eventLoopUtilization().idle, since = t0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 5));
    const now = performance.now(), u = thread.performance.eventLoopUtilization();
    if (u.idle !== idle) { idle = u.idle; since = now; } // it waited for messages meanwhile: not inside a run
    else if (now - since >= busyMs) return;
    if (now - t0 > limit) assert.fail(`the worker did not start a run within ${limit / 1000} s (its event loop kept going idle)`);
  }
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
    const inThread = await turnsDuring(() => probe.run(feeds));
    await probe.release();

    const w = new EngineWorker(WORKER);
    try {
      const s = await w.createSession(model, { device: 'cpu', threads: 1 });
      const inWorker = await turnsDuring(() => s.run(feeds));
      console.log(`# ${n} iterations; same thread: ${inThread.ms.toFixed(0)} ms run, ${inThread.turns} event-loop turns, longest gap ${inThread.maxGap.toFixed(0)} ms; `
        + `worker: ${inWorker.ms.toFixed(0)} ms run, ${inWorker.turns} turns, longest gap ${inWorker.maxGap.toFixed(0)} ms`);
      // Counts, not milliseconds: a same-thread run lets the loop turn at most once (before
      // onnxruntime's setImmediate starts the blocking call), whatever the machine's load; during
      // a run in the worker the loop keeps turning, hundreds of times at the least.
      assert.ok(inThread.turns <= 2, `control: a same-thread run blocks the event loop (${inThread.turns} turns during it)`);
      assert.ok(inWorker.turns >= 100, `the event loop turned ${inWorker.turns} times during the worker's run`);
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
    // About 2 s per run here: long past the moment insideRun() sees it started, even if this machine gets faster meanwhile.
    const feeds = slowFeeds(await iterationsFor(2000));
    const w = new EngineWorker(WORKER);
    try {
      const s = await w.createSession(slowModel(), { device: 'cpu', threads: 1 });
      const ac = new AbortController();
      const runs = [0, 1, 2, 3].map(() => s.run(feeds, undefined, ac.signal).then(() => 'done', (e) => (e instanceof CancelledError ? 'cancelled' : `error: ${e}`)));
      await insideRun(w); // the first run is running, the other three wait in the worker's queue
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

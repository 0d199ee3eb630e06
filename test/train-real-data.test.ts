/** A small model trains on real text (State of the Union passages, from an npm package). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { trainEra } from '../demo/sotu-era.js';
import { EngineWorker } from '../src/engine/runtime/worker-client.js';

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

describe('training on a real data set, in the worker', () => {
  it('the loss falls well below its start and held-out accuracy beats the majority class', async () => {
    const worker = new EngineWorker(join(__dirname, '..', 'src', 'engine', 'runtime', 'worker-main.js'));
    try {
      const r = await trainEra({ steps: 300, runnerFor: (m) => worker.createSession(m, { device: 'cpu' }) });
      const first = mean(r.losses.slice(0, 20)), last = mean(r.losses.slice(-20));
      console.log(`# loss ${first.toFixed(3)} → ${last.toFixed(3)}; held-out accuracy ${(100 * r.accuracy).toFixed(1)}% on ${r.testSize} passages, majority baseline ${(100 * r.baseline).toFixed(1)}%`);
      assert.equal(r.losses.length, 300);
      assert.ok(Math.abs(first - Math.log(3)) < 0.1, `the loss starts near ln 3 (chance), got ${first}`);
      assert.ok(last < 0.6 * first, `loss ${first} → ${last}`);
      assert.ok(r.accuracy > r.baseline + 0.15, `accuracy ${r.accuracy} vs baseline ${r.baseline}`);
    } finally {
      await worker.terminate();
    }
  });
});

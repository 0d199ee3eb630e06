/** The stateless dropout masks: rate, independence, determinism per seed, and scaling. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { dropout, hashUniform } from '../src/engine/autodiff/index.js';
import { Graph } from '../src/engine/ir/graph.js';
import { tensor, toNumbers } from '../src/engine/runtime/tensor.js';
import { session } from './helpers.js';

describe('dropout masks', () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [256, 4096]);
  const seed = g.input('seed', 'int64', []);
  g.output(dropout(x, 0.1, seed), 'y');
  g.output(hashUniform(x, seed), 'u');
  const ones = tensor('float32', [256, 4096], new Float32Array(256 * 4096).fill(1));
  const run = async (s: number) => { const ses = await session(g); try { return await ses.run({ x: ones, seed: tensor('int64', [], [s]) }); } finally { await ses.release(); } };

  it('keep 90% of 1M elements (±0.2 points), scale kept ones by 1/0.9, and look uniform and independent', async () => {
    const o = await run(7);
    const y = toNumbers(o['y']!), u = toNumbers(o['u']!);
    const kept = y.filter((v) => v !== 0);
    assert.ok(Math.abs(kept.length / y.length - 0.9) < 0.002, `${kept.length / y.length}`);
    assert.ok(kept.every((v) => Math.abs(v - 1 / 0.9) < 1e-6));
    // Deciles of u within 0.2 points of 10%; neighbours uncorrelated.
    const bins = new Array(10).fill(0);
    for (const v of u) bins[Math.min(9, Math.floor(v * 10))]++;
    for (const b of bins) assert.ok(Math.abs(b / u.length - 0.1) < 0.002, `${bins}`);
    let num = 0, den = 0;
    for (let i = 1; i < u.length; i++) { num += (u[i]! - 0.5) * (u[i - 1]! - 0.5); den += (u[i]! - 0.5) ** 2; }
    assert.ok(Math.abs(num / den) < 0.01, `lag-1 correlation ${num / den}`);
  });
  it('the same seed gives the same mask; another seed an unrelated one', async () => {
    const [a, b, c] = [toNumbers((await run(7))['y']!), toNumbers((await run(7))['y']!), toNumbers((await run(8))['y']!)];
    assert.deepEqual(a, b);
    let both = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === 0 && c[i] === 0) both++;
    assert.ok(Math.abs(both / a.length - 0.01) < 0.001, `P(dropped under both seeds) ${both / a.length}`);
  });
  it('rejects a rate outside [0, 1)', () => assert.throws(() => dropout(F.identity(x), 1, seed), /rate must be in \[0, 1\), got 1/));
});

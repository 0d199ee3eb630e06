/** Execution-provider selection: explicit devices, and `auto` falling back with a stated reason. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/index.js';
import { Graph } from '../src/engine/ir/graph.js';
import { serializeModel } from '../src/engine/ir/proto.js';
import { EngineSession, cudaInstalled } from '../src/engine/runtime/session.js';
import { tensor } from '../src/engine/runtime/tensor.js';

const model = (() => { const g = new Graph(); g.output(F.exp(g.input('x', 'float32', [2])), 'y'); return serializeModel(g); })();

describe('EngineSession.create', () => {
  it('runs on the CPU when asked, with a thread count', async () => {
    const s = await EngineSession.create(model, { device: 'cpu', threads: 1 });
    assert.deepEqual(s.choice, { device: 'cpu', reason: 'the CPU was requested' });
    const y = await s.run({ x: tensor('float32', [2], [0, 1]) });
    assert.deepEqual(Array.from(y['y']!.data as Float32Array), [1, Math.fround(Math.E)]);
  });
  it('auto says which provider runs and why', async () => {
    const s = await EngineSession.create(model, { device: 'auto', purpose: 'train' });
    if (cudaInstalled()) assert.ok(s.choice.device === 'cuda' || /CUDA failed to start/.test(s.choice.reason));
    else {
      assert.equal(s.choice.device, 'cpu');
      assert.match(s.choice.reason, /CUDA is not installed .*ONNXRUNTIME_NODE_INSTALL=cuda12.*running on the CPU/);
      assert.match(s.choice.reason, /WebGPU is not used for training/);
    }
  });
  it('an explicit cuda request without the provider libraries is a clear error, not a crash', { skip: cudaInstalled() ? 'the CUDA provider libraries are installed here, so a cuda request does not fail' : false }, async () => {
    await assert.rejects(EngineSession.create(model, { device: 'cuda' }), /device "cuda" is not available: .*Use device "auto" or "cpu"/);
  });
  it('a bad model is rejected with onnxruntime\'s reason', async () => {
    await assert.rejects(EngineSession.create(new Uint8Array([8, 1, 2]), { device: 'cpu' }), /./);
  });
});

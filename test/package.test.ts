/** The extension manifest, the bundles, and the layout rules (engine without vscode, light activation). */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as F from '../src/engine/autodiff/ops.js';
import { Graph } from '../src/engine/ir/graph.js';
import { serializeModel } from '../src/engine/ir/proto.js';
import { EngineWorker } from '../src/engine/runtime/worker-client.js';
import { tensor, toNumbers } from '../src/engine/runtime/tensor.js';

const ROOT = join(__dirname, '..', '..');
const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? files(p) : [p];
});

describe('package', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  it('is a VS Code extension manifest named bert-lab', () => {
    assert.equal(pkg.name, 'bert-lab');
    assert.match(pkg.engines.vscode, /^\^1\.\d+\.0$/);
    assert.equal(pkg.main, './dist/extension.js');
    for (const c of pkg.contributes.commands) assert.equal(c.category, 'BERT Lab');
    assert.deepEqual(pkg.contributes.configuration.properties['bertLab.device'].enum, ['auto', 'cpu', 'cuda', 'webgpu']);
  });
  it('skips onnxruntime-node\'s CUDA download on install (.npmrc)', () => {
    assert.match(readFileSync(join(ROOT, '.npmrc'), 'utf8'), /^onnxruntime-node-install=skip$/m);
  });
  it('keeps vscode out of the engine and onnxruntime out of activation', () => {
    for (const f of files(join(ROOT, 'src', 'engine'))) assert.doesNotMatch(readFileSync(f, 'utf8'), /from ['"]vscode['"]|require\(['"]vscode['"]\)/, f);
    // The activation bundle may mention onnxruntime in text, but never loads it: training runs in a
    // child process (dist/cli.js) and inference in a worker thread (dist/infer-worker.js).
    assert.doesNotMatch(readFileSync(join(ROOT, 'dist', 'extension.js'), 'utf8'), /require\(["']onnxruntime-node["']\)/);
    assert.match(readFileSync(join(ROOT, 'dist', 'infer-worker.js'), 'utf8'), /require\(["']onnxruntime-node["']\)/);
  });
  it('bundles a worker (dist/worker-main.js) that runs a model', async () => {
    const g = new Graph();
    g.output(F.softmax(g.input('x', 'float32', [1, 3])), 'y');
    const w = new EngineWorker(join(ROOT, 'dist', 'worker-main.js'));
    try {
      const s = await w.createSession(serializeModel(g), { device: 'cpu' });
      const y = toNumbers((await s.run({ x: tensor('float32', [1, 3], [0, Math.log(2), Math.log(5)]) }))['y']!);
      assert.ok(Math.abs(y[0]! - 0.125) < 1e-6 && Math.abs(y[1]! - 0.25) < 1e-6 && Math.abs(y[2]! - 0.625) < 1e-6, `${y}`);
    } finally {
      await w.terminate();
    }
  });
});

/** The extension manifest, the bundles, and the layout rules (engine without vscode, light activation). */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertWorkerRunsSoftmax } from './helpers.js';

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
    await assertWorkerRunsSoftmax(join(ROOT, 'dist', 'worker-main.js'));
  });
});

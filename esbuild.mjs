// Bundles the extension host entry and the engine worker. onnxruntime-node stays external: its
// native binary is loaded from node_modules at run time, and only by the worker.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  minify: process.argv.includes('--minify'),
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'warning',
};

await Promise.all([
  build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' }),
  build({ ...common, entryPoints: ['src/engine/runtime/worker-main.ts'], outfile: 'dist/worker-main.js' }),
  build({ ...common, entryPoints: ['src/engine/cli.ts'], outfile: 'dist/cli.js' }),
  build({ ...common, entryPoints: ['src/engine/infer/infer-worker.ts'], outfile: 'dist/infer-worker.js' }),
]);

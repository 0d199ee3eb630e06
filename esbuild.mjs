// Bundles the extension host entry, the engine's workers and CLI (Node, CommonJS) and the webviews
// (browser, one IIFE and one stylesheet per panel). onnxruntime-node stays external: its native
// binary is loaded from node_modules at run time, and only by the workers.
import { build } from 'esbuild';
import { resolve } from 'node:path';

const minify = process.argv.includes('--minify');
/** protobufjs's file/URL loader (util/fetch.js, with an XMLHttpRequest path) is never used: bundle a stub that throws. */
const noProtobufFetch = {
  name: 'no-protobuf-fetch',
  setup(b) {
    b.onResolve({ filter: /^\.\/util\/fetch$|^@protobufjs\/fetch$/ }, (a) => (/protobufjs/.test(a.importer) ? { path: resolve('src/engine/ir/no-fetch.cjs') } : undefined));
  },
};
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: true,
  minify,
  external: ['vscode', 'onnxruntime-node'],
  plugins: [noProtobufFetch],
  logLevel: 'warning',
};
/** The webview panels: src/webviews/<name>/main.ts → dist/webviews/<name>.js (+ .css when it imports CSS). */
export const WEBVIEWS = ['curves', 'predictions', 'attention'];

await Promise.all([
  build({ ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js' }),
  build({ ...common, entryPoints: ['src/engine/runtime/worker-main.ts'], outfile: 'dist/worker-main.js' }),
  build({ ...common, entryPoints: ['src/engine/cli.ts'], outfile: 'dist/cli.js' }),
  build({ ...common, entryPoints: ['src/engine/infer/infer-worker.ts'], outfile: 'dist/infer-worker.js' }),
  build({
    entryPoints: Object.fromEntries(WEBVIEWS.map((n) => [n, `src/webviews/${n}/main.ts`])),
    outdir: 'dist/webviews',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome114',
    // Source maps inline nothing and load nothing at run time: the CSP allows only the bundle.
    sourcemap: minify ? false : 'linked',
    minify,
    logLevel: 'warning',
  }),
]);

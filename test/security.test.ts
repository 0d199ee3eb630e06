// What the shipped code may not do, checked on the built bundles (dist/, written by `npm run
// build` before the tests): run code from strings (eval, new Function), open network connections
// anywhere but the Hub module (src/engine/hub/http.ts, which downloads models the user names;
// nothing else is sent off the machine, and a cached model with HF_HUB_OFFLINE=1 sends nothing),
// or unpickle PyTorch files; and webview pages may not load anything from outside the extension.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, mkdirSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { loadWeights, readConfig } from '../src/engine/models/bert/folder.js';
import { BertForMaskedLM } from '../src/engine/models/bert/heads.js';

const ROOT = join(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const FIX = join(ROOT, 'test', 'fixtures');
const bundles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => ({ file: join(dir, f), text: readFileSync(join(dir, f), 'utf8') }));

/** Every match of `re` in `text`, with 40 characters of context, for the failure message. */
const hits = (text: string, re: RegExp) => [...text.matchAll(new RegExp(re.source, 'g'))].map((m) => text.slice(Math.max(0, m.index! - 40), m.index! + m[0].length + 40));

describe('security of the shipped code', () => {
  const node = bundles(DIST), web = bundles(join(DIST, 'webviews'));
  it('finds the bundles to check', () => {
    assert.deepEqual(node.map((b) => b.file.split('/').pop()).sort(), ['cli.js', 'extension.js', 'infer-worker.js', 'worker-main.js']);
    assert.deepEqual(web.map((b) => b.file.split('/').pop()).sort(), ['attention.js', 'curves.js', 'predictions.js']);
  });
  it('never evaluates strings as code', () => {
    for (const b of [...node, ...web]) {
      assert.deepEqual(hits(b.text, /\beval\s*\(|\bnew\s+Function\s*\(|\bFunction\s*\(\s*["'`]/), [], b.file);
      assert.deepEqual(hits(b.text, /\bsetTimeout\s*\(\s*["'`]|\bsetInterval\s*\(\s*["'`]/), [], b.file);
    }
  });
  it('imports no network module (http, https, net, tls, dgram, dns) and no XMLHttpRequest or WebSocket in the Node bundles', () => {
    for (const b of node) {
      assert.deepEqual(hits(b.text, /require\(\s*["'](node:)?(https?|http2|net|tls|dgram|dns|undici)["']\s*\)/), [], b.file);
      assert.deepEqual(hits(b.text, /\bglobalThis\.fetch\b|\bnew\s+WebSocket\b|\bXMLHttpRequest\b/), [], b.file);
    }
  });
  it('the only fetch call site in the Node bundles is the Hub module\'s (src/engine/hub/http.ts); the engine workers have none', () => {
    // esbuild heads each bundled module with a "// src/…" comment: the call site's module is the last such line before it.
    const FETCH_CALL = /(?<![\w$.])(?<!function\s+)fetch\s*\(/g;
    for (const b of node) {
      const sites = [...b.text.matchAll(FETCH_CALL)].map((m) => {
        const before = b.text.slice(0, m.index);
        const module = [...before.matchAll(/^\/\/ ((?:src|node_modules)\/\S+)$/gm)].pop()?.[1];
        return { module, at: b.text.slice(Math.max(0, m.index! - 60), m.index! + 40) };
      });
      for (const s of sites) assert.equal(s.module, 'src/engine/hub/http.ts', `${b.file}: a fetch call outside the Hub module: …${s.at}…`);
      const name = b.file.split('/').pop()!;
      if (name === 'cli.js' || name === 'extension.js') assert.equal(sites.length, 1, `${name}: the Hub module's one fetch call`);
      else assert.equal(sites.length, 0, `${name}: the engine workers never reach the network`);
    }
  });
  it('in the sources of the Node bundles, fetch( and the network modules appear only in src/engine/hub/http.ts', () => {
    const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : /\.(ts|js|cjs|mjs)$/.test(e.name) ? [join(d, e.name)] : []));
    const HUB_HTTP = join('src', 'engine', 'hub', 'http.ts');
    const NETWORK = /(?<![\w$.])(?<!function\s+)fetch\s*\(|\b(?:globalThis|global|self|window)\s*(?:\.\s*fetch|\[\s*["'`]fetch)|from\s+["'](?:node:)?(?:https?|http2|net|tls|dgram|dns|undici)["']|require\(\s*["'](?:node:)?(?:https?|http2|net|tls|dgram|dns|undici)["']\s*\)|\bnew\s+WebSocket\b|\bXMLHttpRequest\b/;
    let hub = 0;
    for (const f of [...files(join(ROOT, 'src', 'engine')), ...files(join(ROOT, 'src', 'extension'))]) {
      const rel = relative(ROOT, f);
      // Comments may name fetch: only code counts.
      const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
      const found = hits(code, NETWORK);
      if (rel === HUB_HTTP) { hub = found.length; continue; }
      assert.deepEqual(found, [], rel);
    }
    assert.ok(hub >= 1, 'the Hub module makes its requests with fetch');
  });
  it('predict of a Hub id in the Hugging Face cache makes no network call (HF_HUB_OFFLINE=1, and without it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bertlab-offline-hub-'));
    try {
      // The cache as huggingface_hub writes it where symlinks are unavailable: plain copies in snapshots/<commit>/, refs/main naming the commit.
      const commit = 'c0ffee'.repeat(6) + 'c0ff';
      const snap = join(dir, 'hub', 'models--org--tiny-bert', 'snapshots', commit);
      mkdirSync(snap, { recursive: true });
      for (const f of ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']) copyFileSync(join(FIX, 'hf-tiny-bert', f), join(snap, f));
      mkdirSync(join(dir, 'hub', 'models--org--tiny-bert', 'refs'));
      writeFileSync(join(dir, 'hub', 'models--org--tiny-bert', 'refs', 'main'), commit);
      const guard = `--require ${join(FIX, 'no-network.cjs')}`;
      const env = (extra: Record<string, string>) => ({ ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HF_'))), NODE_OPTIONS: guard, HF_HOME: join(dir, 'home'), HF_HUB_CACHE: join(dir, 'hub'), HF_ENDPOINT: 'http://127.0.0.1:9', ...extra });
      const predict = (model: string, e: NodeJS.ProcessEnv) => {
        const r = spawnSync(process.execPath, [join(DIST, 'cli.js'), 'predict', model, '--text', 'the [MASK] is strong', '--json'], { env: e, encoding: 'utf8', timeout: 120_000 });
        assert.equal(r.status, 0, `${r.error ? `${r.error.message}\n` : ''}${r.stderr}`);
        assert.doesNotMatch(r.stderr, /NETWORK ATTEMPT/);
        return r.stdout;
      };
      const expected = predict(join(FIX, 'hf-tiny-bert'), env({}));
      assert.equal(predict('org/tiny-bert', env({ HF_HUB_OFFLINE: '1' })), expected);
      assert.equal(predict('org/tiny-bert', env({})), expected, 'a complete snapshot in the cache is used without asking the Hub');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
  it('trains, predicts and exports with every network call made fatal (CLI and its worker threads)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bertlab-offline-'));
    try {
      const env = { ...process.env, NODE_OPTIONS: `--require ${join(FIX, 'no-network.cjs')}` };
      const cli = (...args: string[]) => {
        const r = spawnSync(process.execPath, [join(DIST, 'cli.js'), ...args], { env, encoding: 'utf8', timeout: 120_000 });
        assert.equal(r.status, 0, `bert-lab ${args.join(' ')}: ${r.error ? `${r.error.message} (limit 120 s)\n` : ''}${r.stderr}`);
        assert.doesNotMatch(r.stderr, /NETWORK ATTEMPT/);
        return r.stdout;
      };
      writeFileSync(join(dir, 'train.txt'), Array.from({ length: 60 }, (_, i) => `the state of the union is strong and line ${i} is here`).join('\n'));
      writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ output_dir: join(dir, 'run'), task: 'mlm', train_file: join(dir, 'train.txt'), train_tokenizer: { vocab_size: 120 },
        model_config: { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32 }, max_seq_length: 32, max_steps: 4, save_steps: 4, per_device_train_batch_size: 4, device: 'cpu' }));
      cli('train', join(dir, 'cfg.json'));
      assert.match(cli('predict', join(FIX, 'hf-tiny-bert'), '--text', 'the [MASK] is strong', '--json'), /"token"/);
      cli('export', join(dir, 'run'), join(dir, 'onnx'));
      // The guard itself works: a fetch in the same setting is caught.
      const probe = spawnSync(process.execPath, ['-e', 'fetch("http://127.0.0.1:9")'], { env, encoding: 'utf8', timeout: 120_000 });
      assert.equal(probe.status, 99, `${probe.error?.message ?? ''}\n${probe.stderr}`);
      assert.match(probe.stderr, /NETWORK ATTEMPT: fetch/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
  it('the pages\' own code never assigns innerHTML or outerHTML, nor calls insertAdjacentHTML or document.write', () => {
    const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
    for (const f of files(join(ROOT, 'src', 'webviews'))) assert.deepEqual(hits(readFileSync(f, 'utf8'), /\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write/), [], f);
  });
  it('webview pages load nothing from outside: no fetch, XHR, WebSocket, beacons, remote URLs in DOM sinks', () => {
    for (const b of web) {
      assert.deepEqual(hits(b.text, /\bfetch\s*\(|\bXMLHttpRequest\b|\bnew\s+WebSocket\b|\bEventSource\b|sendBeacon|importScripts/), [], b.file);
    }
  });
  it('refuses PyTorch pickles: a folder with only pytorch_model.bin gets a clear error, nothing is read from it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bertlab-pickle-'));
    try {
      copyFileSync(join(FIX, 'hf-tiny-bert', 'config.json'), join(dir, 'config.json'));
      writeFileSync(join(dir, 'pytorch_model.bin'), Buffer.from('80027d710028580100000061', 'hex'));
      assert.throws(() => loadWeights(dir, new BertForMaskedLM(readConfig(dir)).ps, () => { throw new Error('nothing is initialized: the folder is refused first'); }), /model\.safetensors is missing \(BERT Lab reads safetensors checkpoints; convert pytorch_model\.bin/);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

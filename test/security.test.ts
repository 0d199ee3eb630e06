// What the shipped code may not do, checked on the built bundles (dist/, written by `npm run
// build` before the tests): run code from strings (eval, new Function), open network connections
// (nothing is sent off the machine), or unpickle PyTorch files; and webview pages may not load
// anything from outside the extension.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
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

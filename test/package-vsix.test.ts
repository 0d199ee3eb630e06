/**
 * The platform-specific .vsix (scripts/package.mjs): what it holds, and that the extracted package
 * runs on its own — onnxruntime-node loads from inside it, the CLI predicts, the worker runs a model.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { assertWorkerRunsSoftmax } from './helpers.js';

const ROOT = join(__dirname, '..', '..');
const OS = process.platform;
const ARCH = process.arch;
const TARGET = `${OS}-${ARCH}`;
const BIN = 'extension/node_modules/onnxruntime-node/bin/napi-v6';

interface Entry { name: string; size: number; csize: number; offset: number; method: number }

/** The entries of a zip file, from its central directory (no zip64: a .vsix stays far below 4 GB). */
function zipEntries(buf: Buffer): Entry[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  assert.ok(eocd >= 0, 'no end-of-central-directory record');
  const entries: Entry[] = [];
  let p = buf.readUInt32LE(eocd + 16);
  for (let k = buf.readUInt16LE(eocd + 10); k > 0; k--) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'central directory entry signature');
    const nameLen = buf.readUInt16LE(p + 28);
    entries.push({
      name: buf.toString('utf8', p + 46, p + 46 + nameLen),
      method: buf.readUInt16LE(p + 10),
      csize: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      offset: buf.readUInt32LE(p + 42),
    });
    p += 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return entries;
}

function zipRead(buf: Buffer, e: Entry): Buffer {
  assert.equal(buf.readUInt32LE(e.offset), 0x04034b50, `local header of ${e.name}`);
  const start = e.offset + 30 + buf.readUInt16LE(e.offset + 26) + buf.readUInt16LE(e.offset + 28);
  const raw = buf.subarray(start, start + e.csize);
  const data = e.method === 0 ? raw : e.method === 8 ? inflateRawSync(raw) : assert.fail(`${e.name}: compression method ${e.method}`);
  assert.equal(data.length, e.size, `size of ${e.name}`);
  return data;
}

/** How long one child may run before it is killed and reported (packaging takes seconds to a minute). */
const CHILD_LIMIT_MS = 180_000;

/** Runs node with args; resolves with exit code and output (code null, and why in `err`, when killed at CHILD_LIMIT_MS). */
function node(args: string[], opts: { cwd?: string } = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env['NODE_PATH'];
    const child = spawn(process.execPath, args, { cwd: opts.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let hung = false;
    const limit = setTimeout(() => { hung = true; child.kill('SIGKILL'); }, CHILD_LIMIT_MS);
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { err += String(d); });
    child.on('close', (code) => {
      clearTimeout(limit);
      resolve({ code, out, err: hung ? `node ${args.join(' ')} did not exit within ${CHILD_LIMIT_MS / 1000} s and was killed\n${err}` : err });
    });
  });
}

describe(`package: the ${TARGET} .vsix`, { timeout: 240_000 }, () => {
  let tmp = '';
  let vsix = '';
  let buf: Buffer;
  let names: string[] = [];
  let ext = '';
  let darwinList: Awaited<ReturnType<typeof node>>;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'bert-lab-vsix-'));
    vsix = join(tmp, `bert-lab-${TARGET}.vsix`);
    // Packaging (with the minified build it ships) and the file list for another target, side by side.
    const [pack, list] = await Promise.all([
      node(['scripts/package.mjs', '--target', TARGET, '--out', vsix]),
      node(['scripts/package.mjs', '--list', '--target', 'darwin-arm64']),
    ]);
    darwinList = list;
    assert.equal(pack.code, 0, `scripts/package.mjs failed:\n${pack.out}\n${pack.err}`);
    assert.match(pack.out, new RegExp(`bert-lab-${TARGET}\\.vsix +\\d+\\.\\d+ MB`));
    buf = readFileSync(vsix);
    const entries = zipEntries(buf);
    names = entries.map((e) => e.name);
    // Extract it, far from the repository's node_modules, as VS Code would.
    ext = join(tmp, 'x');
    for (const e of entries) {
      if (e.name.endsWith('/')) continue;
      const f = join(ext, e.name);
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, zipRead(buf, e));
    }
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    // The packaging replaced dist/ with the minified build; put the plain one back for the other tests.
    spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit', timeout: CHILD_LIMIT_MS });
  });

  it('holds the bundles, the manifest, the schema and onnxruntime-node with this platform\'s binaries', () => {
    for (const f of ['extension/dist/extension.js', 'extension/dist/worker-main.js', 'extension/dist/cli.js', 'extension/package.json',
      'extension/schemas/training-config.schema.json', 'extension/node_modules/onnxruntime-node/package.json',
      'extension/node_modules/onnxruntime-node/dist/index.js', 'extension/node_modules/onnxruntime-common/dist/cjs/index.js',
      'extension/node_modules/onnxruntime-common/dist/cjs/package.json', `${BIN}/${OS}/${ARCH}/onnxruntime_binding.node`,
      'extension.vsixmanifest']) {
      assert.ok(names.includes(f), `missing ${f}`);
    }
    assert.ok(names.some((n) => n.toLowerCase() === 'extension/readme.md'), 'missing the README');
    // Every bundle the build writes (infer-worker.js and any added later) and every file the manifest points at.
    for (const f of readdirSync(join(ROOT, 'dist')).filter((x) => x.endsWith('.js'))) assert.ok(names.includes(`extension/dist/${f}`), `missing dist/${f}`);
    // The panels' pages: a script and a stylesheet each, and nothing else of the browser build (no source maps).
    for (const k of ['curves', 'predictions', 'attention']) for (const ext of ['js', 'css']) assert.ok(names.includes(`extension/dist/webviews/${k}.${ext}`), `missing dist/webviews/${k}.${ext}`);
    assert.deepEqual(names.filter((n) => n.startsWith('extension/dist/webviews/') && !/\.(js|css)$/.test(n)), []);
    const pointed = JSON.stringify(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).contributes).match(/"(\.\/)?media\/[^"]+"/g) ?? [];
    for (const m of pointed) {
      const f = JSON.parse(m).replace(/^\.\//, '');
      if (existsSync(join(ROOT, f))) assert.ok(names.includes(`extension/${f}`), `missing ${f}`);
    }
    const manifest = zipRead(buf, zipEntries(buf).find((e) => e.name === 'extension.vsixmanifest')!).toString('utf8');
    assert.match(manifest, new RegExp(`TargetPlatform="${TARGET}"`));
    const pkg = JSON.parse(zipRead(buf, zipEntries(buf).find((e) => e.name === 'extension/package.json')!).toString('utf8'));
    assert.equal(pkg.main, './dist/extension.js');
  });

  it('leaves out other platforms\' binaries, sources, maps, tests and other node_modules', () => {
    const bins = names.filter((n) => n.startsWith(`${BIN}/`));
    assert.ok(bins.length >= 2, bins.join('\n'));
    for (const n of bins) assert.ok(n.startsWith(`${BIN}/${OS}/${ARCH}/`), `another platform's binary: ${n}`);
    for (const n of names) {
      assert.doesNotMatch(n, /\.(ts|map)$/, n);
      assert.doesNotMatch(n, /^extension\/(src|test|out|scripts|bench|demo|\.e2e|\.ci)\//, n);
      if (n.startsWith('extension/node_modules/')) assert.match(n, /^extension\/node_modules\/onnxruntime-(node|common)\//, n);
    }
    assert.ok(buf.length < 40 * 1024 * 1024, `${(buf.length / 2 ** 20).toFixed(1)} MB`);
  });

  it('another target gets only its own binaries (darwin-arm64, without the duplicate dylib)', () => {
    assert.equal(darwinList.code, 0, darwinList.err);
    const bins = darwinList.out.split('\n').filter((l) => l.startsWith('node_modules/onnxruntime-node/bin/')).sort();
    assert.deepEqual(bins, [
      'node_modules/onnxruntime-node/bin/napi-v6/darwin/arm64/libonnxruntime.1.dylib',
      'node_modules/onnxruntime-node/bin/napi-v6/darwin/arm64/onnxruntime_binding.node',
    ]);
  });

  it('extracted: onnxruntime-node loads from inside the package', async () => {
    const ort = join(ext, 'extension', 'node_modules', 'onnxruntime-node');
    const r = await node(['-e', `const o = require(${JSON.stringify(ort)});
      console.log(JSON.stringify({ backends: o.listSupportedBackends(), from: require.resolve(${JSON.stringify(ort)}), common: require.resolve('onnxruntime-common', { paths: [${JSON.stringify(ort)}] }) }));`], { cwd: tmp });
    assert.equal(r.code, 0, r.err);
    const info = JSON.parse(r.out);
    assert.ok(info.backends.some((b: { name: string }) => b.name === 'cpu'), r.out);
    assert.ok(info.from.startsWith(ext) && info.common.startsWith(ext), r.out);
  });

  it('extracted: the CLI runs (--help, and predict on the tiny Hugging Face fixture, as the repository\'s build does)', async () => {
    const cli = join(ext, 'extension', 'dist', 'cli.js');
    const help = await node([cli, '--help'], { cwd: tmp });
    assert.equal(help.code, 0, help.err);
    assert.match(help.out, /bert-lab predict/);
    const args = ['predict', join(ROOT, 'test', 'fixtures', 'hf-tiny-bert'), '--text', 'the [MASK] of the union', '--json'];
    const [packed, here] = await Promise.all([node([cli, ...args], { cwd: tmp }), node([join(ROOT, 'dist', 'cli.js'), ...args])]);
    assert.equal(packed.code, 0, packed.err);
    const res = JSON.parse(packed.out.trim().split('\n')[0]!);
    assert.equal(res.masks.length, 1);
    assert.equal(res.masks[0].predictions.length, 5);
    assert.deepEqual(res, JSON.parse(here.out.trim().split('\n')[0]!));
  });

  it('extracted: the engine worker (dist/worker-main.js) runs a model', async () => {
    await assertWorkerRunsSoftmax(join(ext, 'extension', 'dist', 'worker-main.js'));
  });
});

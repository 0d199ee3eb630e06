/**
 * Hugging Face Hub ids wherever a model or tokenizer is named (issue 13), against the loopback Hub
 * of test/hub-server.ts (no real network): `bert-lab predict org/tiny-bert` downloads into an
 * HF_HUB_CACHE in a temporary folder and predicts what the fixture folder predicts; offline with
 * the server gone it still does; an id not in the cache offline names the id, the revision and
 * the cache folder; --revision picks another commit; a training configuration fine-tunes from a
 * Hub id (and model_revision), keeping the id in what it saves; the configuration's path rule
 * (an existing folder beside the file wins over a Hub id); Ctrl-C during a slow download keeps
 * blobs/<etag>.incomplete, exits 130, and the next run resumes it with Range; `download` and
 * `cache`; sharded safetensors (split from the fixture with the project's own writer) load bit
 * for bit as the unsharded file does, and shard names that leave the folder are refused.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Io, main } from '../src/engine/cli.js';
import { cliProgress } from '../src/engine/cli-hub.js';
import { HubProgress, progressLines } from '../src/engine/hub/progress.js';
import { encodeSafetensors, readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { loadWeights, readConfig } from '../src/engine/models/bert/folder.js';
import { BertForMaskedLM, BertForSequenceClassification } from '../src/engine/models/bert/heads.js';
import { BertPipeline } from '../src/engine/infer/pipeline.js';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { loadTokenizer } from '../src/engine/tokenizer/index.js';
import { HubServer, RepoSpec, commitHash, sha256, startHubServer } from './hub-server.js';
import { sotuLines } from './tiny-mlm.js';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const MLM = join(ROOT, 'test', 'fixtures', 'hf-tiny-bert');
const CLS = join(ROOT, 'test', 'fixtures', 'hf-tiny-bert-cls');
const MODEL_FILES = ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'];
const filesOf = (dir: string): Record<string, Buffer> => Object.fromEntries(MODEL_FILES.map((f) => [f, readFileSync(join(dir, f))]));
const MODEL_SHA = sha256(readFileSync(join(MLM, 'model.safetensors')));
const TEXT = 'the [MASK] of the union is strong';
/** Every wait is bounded by this. */
const LIMIT_MS = 60_000;

/**
 * The fixture's tensors split in two shard files (the first half of the names, then the rest)
 * and an index, as transformers' sharded save_pretrained lays them out.
 */
function shardedFiles(dir: string): Record<string, Buffer> {
  const st = readSafetensors(join(dir, 'model.safetensors'));
  const names = [...st.tensors.keys()].sort();
  const half = Math.ceil(names.length / 2);
  const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
  const weightMap: Record<string, string> = {};
  const out: Record<string, Buffer> = {};
  let total = 0;
  [names.slice(0, half), names.slice(half)].forEach((part, i) => {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const n of part) {
      const t = st.tensors.get(n)!;
      assert.equal(t.dtype, 'F32', `${n}: the fixture's tensors are F32`);
      tensors[n] = { shape: t.shape, data: t.data as Float32Array };
      weightMap[n] = shardNames[i]!;
      total += (t.data as Float32Array).byteLength;
    }
    out[shardNames[i]!] = Buffer.from(encodeSafetensors(tensors, { format: 'pt' }));
  });
  out['model.safetensors.index.json'] = Buffer.from(JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  return out;
}
const withoutWeights = (files: Record<string, Buffer>) => Object.fromEntries(Object.entries(files).filter(([f]) => f !== 'model.safetensors'));

const REPOS = (): RepoSpec[] => [
  // main and v1.0: the masked LM; dev: the classifier (so another revision is plain to see).
  { id: 'org/tiny-bert', commits: [{ files: filesOf(MLM) }, { files: filesOf(CLS) }], refs: { main: 0, 'v1.0': 0, dev: 1 } },
  { id: 'org/tiny-sharded', commits: [{ files: { ...withoutWeights(filesOf(MLM)), ...shardedFiles(MLM) } }], refs: { main: 0 } },
];

let work: string;
let n = 0;
const fresh = (what: string) => join(work, `${what}-${++n}`);
before(() => {
  work = mkdtempSync(join(tmpdir(), 'bertlab-hub-wiring-'));
  const lines = sotuLines(40, 160).filter((_, i) => i % 50 === 0).map((l) => l.text);
  writeFileSync(join(work, 'train.jsonl'), lines.map((text, i) => JSON.stringify({ text, label: i % 2 ? 'old' : 'new' })).join('\n'));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** The HF_* variables a test sets, on top of an environment cleared of the developer's own. */
function hubEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(HF_|HUGGING|TRANSFORMERS_OFFLINE)/.test(k)));
  return { ...env, HF_HOME: join(work, 'hf-home'), ...vars };
}

/** main() in this process with `vars` as its environment's HF_* variables; output captured. */
async function run(vars: Record<string, string>, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const saved = process.env;
  process.env = hubEnv(vars);
  let out = '', err = '';
  const io: Io = { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, tty: false, exit: (c) => { throw new Error(`exit(${c}) called`); } };
  try {
    const code = await main(argv, io);
    return { code, out, err };
  } finally {
    process.env = saved;
  }
}

/** The bundle in a child process, as a shell runs it. */
interface Child { child: ChildProcess; stderr: () => string; stdout: () => string; exited: Promise<number | null>; waitFor(re: RegExp, what: string): Promise<void> }
function spawnCli(vars: Record<string, string>, ...argv: string[]): Child {
  const child = spawn(process.execPath, [CLI, ...argv], { env: hubEnv(vars), cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '', out = '';
  const waiters: { re: RegExp; ok: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) if (w.re.test(err)) { waiters.splice(waiters.indexOf(w), 1); w.ok(); }
  });
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 2 * LIMIT_MS);
  void exited.then(() => clearTimeout(killer));
  return {
    child, stderr: () => err, stdout: () => out, exited,
    waitFor: (re, what) => within(new Promise<void>((ok) => { if (re.test(err)) ok(); else waiters.push({ re, ok }); }), LIMIT_MS, `${what}; stderr so far:\n${err}`),
  };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, no) => { t = setTimeout(() => no(new Error(`timed out after ${ms} ms: ${what}`)), ms); })]).finally(() => clearTimeout(t));
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const repoDir = (cache: string, id: string) => join(cache, `models--${id.replace('/', '--')}`);
const ls = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe('bert-lab predict with a Hugging Face Hub id', { timeout: 5 * LIMIT_MS }, () => {
  let srv: HubServer;
  let cache: string;
  let expected: string;
  before(async () => {
    srv = await startHubServer(REPOS(), { lifetimeMs: 10 * LIMIT_MS });
    cache = fresh('cache');
    const r = await run({}, 'predict', MLM, '--text', TEXT, '--json');
    assert.equal(r.code, 0, r.err);
    expected = r.out;
  });
  after(() => srv.close());

  it('downloads into HF_HUB_CACHE (huggingface_hub\'s layout) and predicts what the fixture folder predicts', async () => {
    const r = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, 'predict', 'org/tiny-bert', '--text', TEXT, '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, expected);
    const commit = commitHash('org/tiny-bert', 0);
    const repo = repoDir(cache, 'org/tiny-bert');
    assert.equal(readFileSync(join(repo, 'refs', 'main'), 'utf8'), commit);
    const weights = join(repo, 'snapshots', commit, 'model.safetensors');
    assert.ok(lstatSync(weights).isSymbolicLink(), 'a relative symlink into blobs/, as huggingface_hub makes');
    assert.ok(existsSync(join(repo, 'blobs', MODEL_SHA)));
    // Progress on stderr (not a terminal): a line as each file starts and one as it ends.
    assert.match(r.err, /org\/tiny-bert: downloading model\.safetensors \(152\.0 kB\)/);
    assert.match(r.err, /org\/tiny-bert: model\.safetensors done/);
    assert.match(r.err, new RegExp(`org/tiny-bert \\(revision "main", commit ${commit}\\): downloaded 6 files into ${repo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('--revision picks another commit (a branch), and a tag', async () => {
    const dev = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, 'predict', 'org/tiny-bert', '--revision', 'dev', '--text', 'a fine day', '--json');
    assert.equal(dev.code, 0, dev.err);
    const cls = await run({}, 'predict', CLS, '--text', 'a fine day', '--json');
    assert.equal(dev.out, cls.out, 'dev is the classifier');
    assert.match(dev.out, /"labels"/);
    assert.equal(readFileSync(join(repoDir(cache, 'org/tiny-bert'), 'refs', 'dev'), 'utf8'), commitHash('org/tiny-bert', 1));
    const tag = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, 'predict', 'org/tiny-bert', '--revision', 'v1.0', '--text', TEXT, '--json');
    assert.equal(tag.code, 0, tag.err);
    assert.equal(tag.out, expected);
  });

  it('a sharded model (model.safetensors.index.json and its shards) downloads and predicts the same', async () => {
    const r = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, 'predict', 'org/tiny-sharded', '--text', TEXT, '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, expected);
  });

  it('a revision the Hub does not know: exit 1, saying which', async () => {
    const r = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, 'predict', 'org/tiny-bert', '--revision', 'nope', '--text', TEXT);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /^bert-lab predict: .*revision.*nope/m);
  });

  it('offline (HF_HUB_OFFLINE=1, and the server closed): the cached model still predicts; an id not cached names the id, the revision and the cache folder', async () => {
    await srv.close();
    const real = globalThis.fetch;
    globalThis.fetch = (() => { throw new Error('NETWORK ATTEMPT in an offline test'); }) as typeof fetch;
    try {
      const r = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' }, 'predict', 'org/tiny-bert', '--text', TEXT, '--json');
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, expected);
      assert.equal(r.err, '', 'nothing downloaded, nothing said');
      const dev = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, 'predict', 'org/tiny-bert', '--revision', 'dev', '--offline', '--text', 'a fine day', '--json');
      assert.equal(dev.code, 0, dev.err);
      assert.match(dev.out, /"labels"/);
      const missing = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' }, 'predict', 'org/not-downloaded', '--revision', 'v2', '--text', TEXT);
      assert.equal(missing.code, 1, missing.err);
      assert.match(missing.err, /^bert-lab predict: org\/not-downloaded \(revision "v2"\) is not in the Hugging Face cache and HF_HUB_OFFLINE .* is set/);
      assert.ok(missing.err.includes(cache), `names the cache folder: ${missing.err}`);
      // eval and export take the id as well.
      const text = join(work, 'eval.txt');
      writeFileSync(text, `${TEXT}\nthe state of the union is strong and the [MASK] is here\n`);
      const ev = await run({ HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' }, 'eval', 'org/tiny-bert', '--data', text, '--json', '--device', 'cpu');
      assert.equal(ev.code, 0, ev.err);
      assert.match(ev.out, /"metrics":\{"eval_loss":/);
      const onnx = fresh('onnx');
      const ex = await run({ HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' }, 'export', 'org/tiny-bert', onnx, '--no-int8');
      assert.equal(ex.code, 0, ex.err);
      assert.ok(existsSync(join(onnx, 'onnx', 'model.onnx')));
      // The synchronous readers (no download ever) read a cached id too.
      const saved = process.env;
      process.env = hubEnv({ HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' });
      try {
        assert.equal(readConfig('org/tiny-bert').vocab_size, readConfig(MLM).vocab_size);
        assert.deepEqual(loadTokenizer('org/tiny-bert').encode(TEXT).ids, loadTokenizer(MLM).encode(TEXT).ids);
        assert.throws(() => readConfig('org/not-downloaded'), (e: Error) => {
          assert.match(e.message, /the model folder "org\/not-downloaded": no such folder .*is not in the Hugging Face cache .*bert-lab download org\/not-downloaded/s);
          assert.ok(e.message.includes(cache), e.message);
          assert.doesNotMatch(e.message, /does not download from the Hub yet/);
          return true;
        });
      } finally { process.env = saved; }
    } finally { globalThis.fetch = real; }
  });
});

describe('bert-lab download and bert-lab cache', { timeout: 5 * LIMIT_MS }, () => {
  let srv: HubServer;
  before(async () => { srv = await startHubServer(REPOS(), { lifetimeMs: 10 * LIMIT_MS }); });
  after(() => srv.close());

  it('download prints the snapshot folder; cache lists it (table and --json); cache rm deletes it', async () => {
    const cache = fresh('cache');
    const env = { HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache };
    const d = await run(env, 'download', 'org/tiny-bert', '--revision', 'dev');
    assert.equal(d.code, 0, d.err);
    const folder = join(repoDir(cache, 'org/tiny-bert'), 'snapshots', commitHash('org/tiny-bert', 1));
    assert.equal(d.out, `${folder}\n`);
    const again = await run(env, 'download', 'org/tiny-bert', '--revision', 'dev');
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /already in the Hugging Face cache/);
    const table = await run(env, 'cache');
    assert.equal(table.code, 0, table.err);
    assert.match(table.out, /^ID\s+REVISIONS\s+SIZE\s+MODEL TYPE/);
    assert.match(table.out, /^org\/tiny-bert\s+dev\s+\d+(\.\d)? kB\s+bert/m);
    const json = await run(env, 'cache', 'ls', '--json');
    const parsed = JSON.parse(json.out) as { cache: string; models: { id: string; revisions: { refs: string[]; modelType?: string }[] }[] };
    assert.equal(parsed.cache, cache);
    assert.deepEqual(parsed.models.map((m) => [m.id, m.revisions[0]!.refs, m.revisions[0]!.modelType]), [['org/tiny-bert', ['dev'], 'bert']]);
    const rm = await run(env, 'cache', 'rm', 'org/tiny-bert');
    assert.equal(rm.code, 0, rm.err);
    assert.match(rm.out, /^deleted org\/tiny-bert/);
    assert.equal(existsSync(repoDir(cache, 'org/tiny-bert')), false);
    const gone = await run(env, 'cache', 'rm', 'org/tiny-bert');
    assert.equal(gone.code, 1);
    assert.match(gone.err, /org\/tiny-bert is not in the Hugging Face cache/);
    for (const [argv, re] of [[['cache', 'rm'], /cache rm needs the id/], [['cache', 'purge'], /no cache command "purge"/], [['download', '../etc'], /is not a Hugging Face Hub model id/], [['cache', 'ls', 'x', 'y'], /unexpected argument "y"/]] as const) {
      const u = await run(env, ...argv);
      assert.equal(u.code, 2, `${argv.join(' ')}: ${u.err}`);
      assert.match(u.err, re);
    }
  });

  it('a local folder named like the id does not stop download; a local folder given to predict ignores --revision with a warning', async () => {
    const cache = fresh('cache');
    const cwd = process.cwd();
    const local = fresh('cwd');
    mkdirSync(join(local, 'org', 'tiny-bert'), { recursive: true });
    process.chdir(local);
    try {
      const d = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, 'download', 'org/tiny-bert');
      assert.equal(d.code, 0, d.err);
      assert.equal(d.out, `${join(repoDir(cache, 'org/tiny-bert'), 'snapshots', commitHash('org/tiny-bert', 0))}\n`);
    } finally { process.chdir(cwd); }
    const p = await run({}, 'predict', MLM, '--revision', 'dev', '--text', TEXT, '--json');
    assert.equal(p.code, 0, p.err);
    assert.match(p.err, /warning: --revision dev is ignored: .* is a local folder/);
  });
});

describe('training from a Hub id', { timeout: 5 * LIMIT_MS }, () => {
  let srv: HubServer;
  before(async () => { srv = await startHubServer(REPOS(), { lifetimeMs: 10 * LIMIT_MS }); });
  after(() => srv.close());

  const config = (name: string, over: Record<string, unknown>) => {
    const file = join(work, `${name}.json`);
    writeFileSync(file, JSON.stringify({ task: 'classification', train_file: 'train.jsonl', output_dir: name, max_seq_length: 32, per_device_train_batch_size: 4, steps_per_run: 2,
      max_steps: 2, save_steps: 2, logging_steps: 1, device: 'cpu', threads: 1, seed: 3, ...over }));
    return file;
  };

  it('"model_name_or_path": "org/tiny-bert" downloads (a line per file in the log), fine-tunes a classifier, and keeps the id in what it saves', async () => {
    const cache = fresh('cache');
    const file = config('from-hub', { model_name_or_path: 'org/tiny-bert' });
    const r = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, 'train', file);
    assert.equal(r.code, 0, r.err);
    const commit = commitHash('org/tiny-bert', 0);
    assert.match(r.err, /org\/tiny-bert: downloading model\.safetensors/);
    assert.match(r.err, /org\/tiny-bert: model\.safetensors done/);
    assert.match(r.err, new RegExp(`model_name_or_path org/tiny-bert \\(revision "main", commit ${commit}\\): downloaded 6 files into `));
    assert.doesNotMatch(r.err, /\d+(\.\d)? kB\/\d+(\.\d)? kB/, 'no per-chunk lines in the training log');
    const args = JSON.parse(readFileSync(join(work, 'from-hub', 'checkpoint-2', 'training_args.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(args['model_name_or_path'], 'org/tiny-bert', 'the id as written, not the cache folder');
    assert.equal(args['model_revision'], 'main');
    // The encoder started from the downloaded weights: its word embeddings moved away from them only by two steps.
    const saved = readSafetensors(join(work, 'from-hub', 'model.safetensors')).tensors.get('bert.embeddings.word_embeddings.weight')!.data as Float32Array;
    const start = readSafetensors(join(MLM, 'model.safetensors')).tensors.get('bert.embeddings.word_embeddings.weight')!.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < start.length; i++) maxDiff = Math.max(maxDiff, Math.abs(saved[i]! - start[i]!));
    assert.ok(maxDiff > 0 && maxDiff < 0.05, `fine-tuned from the Hub model's weights (max change ${maxDiff})`);

    // Again from the cache alone: offline, the server unused.
    const before = srv.log.length;
    const again = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' }, 'train', config('from-cache', { model_name_or_path: 'org/tiny-bert' }));
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, new RegExp(`model_name_or_path org/tiny-bert \\(revision "main", commit ${commit}\\): from `));
    assert.equal(srv.log.length, before, 'no request reached the Hub');
  });

  it('model_revision picks the commit; tokenizer_name may be a Hub id; a bad model_revision is a config error at its line', async () => {
    const cache = fresh('cache');
    const file = config('from-dev', { model_name_or_path: 'org/tiny-bert', model_revision: 'dev', tokenizer_name: 'org/tiny-bert' });
    const r = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, 'train', file);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`model_name_or_path org/tiny-bert \\(revision "dev", commit ${commitHash('org/tiny-bert', 1)}\\)`));
    assert.match(r.err, new RegExp(`tokenizer_name org/tiny-bert \\(revision "dev", commit ${commitHash('org/tiny-bert', 1)}\\): from `));
    const args = JSON.parse(readFileSync(join(work, 'from-dev', 'checkpoint-2', 'training_args.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(args['model_revision'], 'dev');
    const bad = join(work, 'bad-revision.json');
    writeFileSync(bad, '{\n  "task": "classification", "train_file": "train.jsonl", "output_dir": "x",\n  "model_name_or_path": "org/tiny-bert",\n  "model_revision": "../main"\n}\n');
    const b = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, 'train', bad);
    assert.equal(b.code, 1, b.err);
    assert.match(b.err, /bad-revision\.json:4:3: model_revision is "\.\.\/main": /);
  });

  it('the configuration\'s path rule: an existing folder beside the file wins over a Hub id; a missing one stays the id; a non-id stays a path', () => {
    const dir = fresh('cfgdir');
    mkdirSync(join(dir, 'org', 'tiny-bert'), { recursive: true });
    const parse = (over: Record<string, unknown>) => parseTrainingConfig(JSON.stringify({ task: 'mlm', train_file: 't.txt', output_dir: 'o', ...over }), join(dir, 'c.json'));
    assert.equal(parse({ model_name_or_path: 'org/tiny-bert' }).model_name_or_path, join(dir, 'org', 'tiny-bert'));
    assert.equal(parse({ model_name_or_path: 'org/other-bert' }).model_name_or_path, 'org/other-bert');
    assert.equal(parse({ model_name_or_path: 'bert-base-uncased' }).model_name_or_path, 'bert-base-uncased');
    assert.equal(parse({ model_name_or_path: './org/other-bert' }).model_name_or_path, join(dir, 'org', 'other-bert'), '"./" makes it a path');
    assert.equal(parse({ model_name_or_path: 'models/org/x' }).model_name_or_path, join(dir, 'models', 'org', 'x'), 'two "/": a path');
    assert.equal(parse({ model_config: {}, tokenizer_name: 'org/tok' }).tokenizer_name, 'org/tok');
    assert.equal(parse({ model_config: {}, tokenizer_name: 'vocab.txt' }).tokenizer_name, join(dir, 'vocab.txt'), 'a file name is a path');
    assert.equal(parse({ model_name_or_path: 'org/x' }).model_revision, 'main', 'model_revision defaults to "main"');
  });
});

describe('Ctrl-C during a slow download', { timeout: 5 * LIMIT_MS }, () => {
  let srv: HubServer;
  before(async () => { srv = await startHubServer(REPOS(), { lifetimeMs: 10 * LIMIT_MS }); });
  after(() => srv.close());

  /** Starts `argv` with a download paused at 50 kB of model.safetensors, interrupts it there, and checks what stays. */
  async function interrupt(cache: string, argv: string[]): Promise<{ err: string; partial: number }> {
    const pause = srv.pause({ host: 'cdn', method: 'GET' }, 50_000);
    const c = spawnCli({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, ...argv);
    try {
      await within(pause.reached, LIMIT_MS, `the download reaching the pause; stderr:\n${c.stderr()}`);
      await sleep(300); // the paused bytes reach the process
      c.child.kill('SIGINT');
      const code = await within(c.exited, LIMIT_MS, 'the interrupted command exiting');
      assert.equal(code, 130, c.stderr());
    } finally {
      pause.release();
      c.child.kill('SIGKILL');
    }
    const inc = join(repoDir(cache, 'org/tiny-bert'), 'blobs', `${MODEL_SHA}.incomplete`);
    assert.ok(existsSync(inc), `the partial file stays: ${ls(join(repoDir(cache, 'org/tiny-bert'), 'blobs')).join(', ')}\n${c.stderr()}`);
    const partial = statSync(inc).size;
    assert.ok(partial > 0 && partial <= 50_000, `${partial} bytes kept`);
    assert.match(c.stderr(), /download cancelled; .* kept in .*\.incomplete and the next run resumes from there/);
    assert.equal(existsSync(join(repoDir(cache, 'org/tiny-bert'), 'refs', 'main')), false, 'no ref to an incomplete snapshot');
    assert.deepEqual(ls(join(cache, '.locks', 'models--org--tiny-bert')).filter((f) => f.endsWith('.bertlab.lock')), [], 'the lock is released');
    return { err: c.stderr(), partial };
  }

  /** The next run resumes with a Range request from the partial size and completes the blob. */
  async function resumes(cache: string, partial: number): Promise<void> {
    const mark = srv.log.length;
    const d = await run({ HF_ENDPOINT: srv.endpoint, HF_HUB_CACHE: cache }, 'download', 'org/tiny-bert');
    assert.equal(d.code, 0, d.err);
    const gets = srv.log.slice(mark).filter((e) => e.host === 'cdn' && e.method === 'GET');
    assert.deepEqual(gets.map((g) => g.range), [`bytes=${partial}-`]);
    assert.match(d.err, new RegExp(`downloading model\\.safetensors \\(152\\.0 kB; resuming at ${(partial / 1000).toFixed(1)} kB\\)`));
    assert.equal(sha256(readFileSync(join(d.out.trim(), 'model.safetensors'))), MODEL_SHA);
    assert.equal(existsSync(join(repoDir(cache, 'org/tiny-bert'), 'blobs', `${MODEL_SHA}.incomplete`)), false);
  }

  it('predict: exit 130 saying "interrupted", blobs/<etag>.incomplete kept; the next run resumes it and completes', async () => {
    const cache = fresh('cache');
    const { err, partial } = await interrupt(cache, ['predict', 'org/tiny-bert', '--text', TEXT]);
    assert.match(err, /^bert-lab predict: interrupted by Ctrl-C \(SIGINT\): org\/tiny-bert: model\.safetensors: download cancelled/m);
    await resumes(cache, partial);
  });

  it('train: exit 130 before training began, the partial download kept for the next run', async () => {
    const cache = fresh('cache');
    const file = join(work, 'interrupted.json');
    writeFileSync(file, JSON.stringify({ task: 'classification', train_file: 'train.jsonl', output_dir: 'interrupted', model_name_or_path: 'org/tiny-bert', max_steps: 2, device: 'cpu' }));
    const { err, partial } = await interrupt(cache, ['train', file]);
    assert.match(err, /interrupted by Ctrl-C \(SIGINT\) before training began: nothing to save; quitting/);
    assert.equal(existsSync(join(work, 'interrupted')), false, 'output_dir not created');
    await resumes(cache, partial);
  });
});

describe('download progress on stderr', () => {
  const ev = (over: Partial<HubProgress>): HubProgress => ({ id: 'org/m', file: 'model.safetensors', phase: 'download', fileBytes: 0, fileTotal: 400e6, bytes: 0, total: 400e6, bytesPerSecond: 0, ...over });
  it('a terminal gets one redrawn line (file, bytes/total, speed, ETA), ended when the file is done', () => {
    let err = '';
    const p = cliProgress({ stdout: () => undefined, stderr: (s) => { err += s; }, tty: true, exit: () => undefined });
    p.onProgress(ev({ phase: 'check', file: 'config.json' }));
    p.onProgress(ev({}));
    p.onProgress(ev({ fileBytes: 100e6, bytes: 100e6, bytesPerSecond: 50e6, etaSeconds: 6 }));
    p.onProgress(ev({ phase: 'done', fileBytes: 400e6, bytes: 400e6, bytesPerSecond: 50e6 }));
    p.end();
    assert.equal(err, '\rorg/m: model.safetensors 0 B/400.0 MB\x1b[K'
      + '\rorg/m: model.safetensors 100.0 MB/400.0 MB, 50.0 MB/s, ETA 6s\x1b[K'
      + '\rorg/m: model.safetensors 400.0 MB done (50.0 MB/s)\x1b[K\n');
    let open = '';
    const q = cliProgress({ stdout: () => undefined, stderr: (s) => { open += s; }, tty: true, exit: () => undefined });
    q.onProgress(ev({ fileBytes: 5 }));
    q.end();
    assert.ok(open.endsWith('\n'), 'an interrupted line is ended, so the message after it starts on its own line');
  });
  it('a log gets a line as each file starts and ends, and at most one per interval between', () => {
    const lines: string[] = [];
    let t = 0;
    const cb = progressLines((s) => lines.push(s), { everyMs: 5000, now: () => t });
    cb(ev({ fileBytes: 1000 }));
    for (t = 100; t <= 12_000; t += 100) cb(ev({ fileBytes: t * 1000, bytes: t * 1000, bytesPerSecond: 1e6, etaSeconds: 10 }));
    cb(ev({ phase: 'done', fileBytes: 400e6 }));
    cb(ev({ phase: 'done', file: 'vocab.txt', fileBytes: 10 })); // in the cache already: nothing to say
    assert.deepEqual(lines, [
      'org/m: downloading model.safetensors (400.0 MB; resuming at 1.0 kB)',
      'org/m: model.safetensors 5.0 MB/400.0 MB, 1.0 MB/s, ETA 10s',
      'org/m: model.safetensors 10.0 MB/400.0 MB, 1.0 MB/s, ETA 10s',
      'org/m: model.safetensors done (400.0 MB)',
    ]);
  });
});

describe('sharded safetensors and pickles in a local folder', () => {
  /** A copy of `src` with its model.safetensors split into two shards and an index. */
  function shardedCopy(src: string): string {
    const dir = fresh('sharded');
    cpSync(src, dir, { recursive: true });
    rmSync(join(dir, 'model.safetensors'));
    for (const [f, data] of Object.entries(shardedFiles(src))) writeFileSync(join(dir, f), data);
    return dir;
  }
  const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

  it('loads the same tensors bit for bit, and the logits are the unsharded ones bit for bit (masked LM and classifier)', async () => {
    for (const src of [MLM, CLS]) {
      const dir = shardedCopy(src);
      const cfg = readConfig(src);
      const model = src === MLM ? new BertForMaskedLM(cfg) : new BertForSequenceClassification(cfg);
      const never = () => { throw new Error('nothing is initialized: every tensor is in the shards'); };
      const a = loadWeights(src, model.ps, never).weights, b = loadWeights(dir, model.ps, never).weights;
      assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
      for (const k of Object.keys(a)) assert.ok(bits(a[k]!).equals(bits(b[k]!)), k);
      const p = BertPipeline.load(src), q = BertPipeline.load(dir);
      try {
        if (src === MLM) {
          const x = await p.fillMask(TEXT, { topK: 20 }), y = await q.fillMask(TEXT, { topK: 20 });
          assert.deepEqual(y, x);
        } else {
          const x = await p.classify('a fine day'), y = await q.classify('a fine day');
          assert.ok(bits(Float32Array.from(y.logits)).equals(bits(Float32Array.from(x.logits))), 'logits bit for bit');
          assert.deepEqual(y, x);
        }
      } finally { await p.dispose(); await q.dispose(); }
    }
  });

  it('a shard name leaving the folder is refused, naming the index file; a missing shard and an index that disagrees with its shard are named', () => {
    const dir = shardedCopy(MLM);
    const ps = new BertForMaskedLM(readConfig(MLM)).ps;
    const index = join(dir, 'model.safetensors.index.json');
    const good = readFileSync(index, 'utf8');
    const map = (JSON.parse(good) as { weight_map: Record<string, string> }).weight_map;
    const first = Object.keys(map)[0]!;
    for (const evil of ['../evil.safetensors', '/etc/evil.safetensors', 'a/../../evil.safetensors']) {
      writeFileSync(index, JSON.stringify({ weight_map: { ...map, [first]: evil } }));
      assert.throws(() => loadWeights(dir, ps, Math.random), (e: Error) => {
        assert.ok(e.message.includes(`${dir}: model.safetensors.index.json`), e.message);
        assert.match(e.message, new RegExp(`the file name "${evil.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" is refused: .* It would be read from outside `));
        return true;
      });
    }
    writeFileSync(index, JSON.stringify({ weight_map: { ...map, [first]: 'model-00003-of-00002.safetensors' } }));
    assert.throws(() => loadWeights(dir, ps, Math.random), /names the shard model-00003-of-00002\.safetensors, but .* is missing/);
    writeFileSync(index, JSON.stringify({ weight_map: { ...map, 'bert.not.there': 'model-00001-of-00002.safetensors' } }));
    assert.throws(() => loadWeights(dir, ps, Math.random), /maps tensor "bert\.not\.there" to model-00001-of-00002\.safetensors, but .* does not have it/);
  });

  it('a folder with only pytorch_model.bin: the error names the file and how to get safetensors', () => {
    const dir = fresh('pickle');
    mkdirSync(dir);
    cpSync(join(MLM, 'config.json'), join(dir, 'config.json'));
    writeFileSync(join(dir, 'pytorch_model.bin'), Buffer.from('80027d710028580100000061', 'hex'));
    assert.throws(() => loadWeights(dir, new BertForMaskedLM(readConfig(dir)).ps, () => { throw new Error('refused first'); }), (e: Error) => {
      assert.ok(e.message.startsWith(`${dir}: model.safetensors is missing`), e.message);
      assert.match(e.message, /convert pytorch_model\.bin with transformers: .*save_pretrained\(.*safe_serialization=True\)/);
      assert.match(e.message, /pytorch_model\.bin is a PyTorch pickle, which BERT Lab never reads/);
      return true;
    });
  });
});

/**
 * The Hub module (src/engine/hub) against a loopback stand-in for the Hub's resolve endpoints
 * (test/hub-server.ts): downloads into huggingface_hub's cache layout, resumes, retries, errors,
 * integrity, locking, revisions, offline use of caches built the way Python builds them (with
 * symlinks and with copies), and bad input. No real network: every request goes to 127.0.0.1, and
 * the offline cases run with `fetch` replaced by a function that fails the test.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HubError, resolveModel, resolveModelFromCache, scanCache, deleteCachedModel, hubCacheDir, hubToken, hfHome, validateHubId, ResolveOptions, HubProgress } from '../src/engine/hub/index.js';
import { normalizeEtag } from '../src/engine/hub/http.js';
import { acquireLock } from '../src/engine/hub/lock.js';
import { expandPath } from '../src/engine/hub/env.js';
import { readConfig } from '../src/engine/models/bert/folder.js';
import { loadTokenizer } from '../src/engine/tokenizer/index.js';
import { BertPipeline } from '../src/engine/infer/pipeline.js';
import { encodeSafetensors, readSafetensorsHeader } from '../src/engine/checkpoint/safetensors.js';
import { HubServer, RepoSpec, commitHash, gitSha1, sha256, startHubServer } from './hub-server.js';

const ROOT = join(__dirname, '..', '..');
const FIX = join(ROOT, 'test', 'fixtures', 'hf-tiny-bert');
const HUB_JS = join(__dirname, '..', 'src', 'engine', 'hub', 'index.js');
const MODEL_FILES = ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'];
const fixture = (): Record<string, Buffer> => Object.fromEntries(MODEL_FILES.map((f) => [f, readFileSync(join(FIX, f))]));
const withConfig = (files: Record<string, Buffer>, extra: Record<string, unknown>) => ({ ...files, 'config.json': Buffer.from(JSON.stringify({ ...JSON.parse(files['config.json']!.toString()), ...extra }, null, 2)) });
const MODEL_SHA = sha256(readFileSync(join(FIX, 'model.safetensors')));
const TEXT = 'the [MASK] of the union is strong';

const shard = (name: string, n: number) => Buffer.from(encodeSafetensors({ [name]: { shape: [n], data: Float32Array.from({ length: n }, (_, i) => i / 7) } }, { format: 'pt' }));
const tok = () => { const f = fixture(); return { 'tokenizer.json': f['tokenizer.json']!, 'vocab.txt': f['vocab.txt']!, 'tokenizer_config.json': f['tokenizer_config.json']! }; };

const REPOS: RepoSpec[] = [
  {
    id: 'org/tiny-bert',
    commits: [
      { files: withConfig(fixture(), { bertlab_test_commit: 0 }) },
      { files: { ...fixture(), 'README.md': '# tiny\n', 'pytorch_model.bin': Buffer.alloc(4096, 7), 'expected.json': readFileSync(join(FIX, 'expected.json')) } },
      { files: withConfig(fixture(), { bertlab_test_commit: 2 }) },
    ],
    refs: { main: 1, 'v1.0': 0, dev: 2, 'refs/pr/1': 2 },
  },
  { id: 'tiny-bert', commits: [{ files: fixture() }], refs: { main: 0 } },
  { id: 'org/gated', commits: [{ files: fixture() }], refs: { main: 0 }, access: 'gated' },
  { id: 'org/no-config', commits: [{ files: { 'model.safetensors': fixture()['model.safetensors']!, ...tok() } }], refs: { main: 0 } },
  { id: 'org/pickle-only', commits: [{ files: { 'config.json': fixture()['config.json']!, 'pytorch_model.bin': Buffer.alloc(1000, 1), ...tok() } }], refs: { main: 0 } },
  { id: 'org/no-weights', commits: [{ files: { 'config.json': fixture()['config.json']!, ...tok() } }], refs: { main: 0 } },
  {
    id: 'org/sharded',
    commits: [{ files: {
      'config.json': fixture()['config.json']!, ...tok(),
      'model.safetensors.index.json': JSON.stringify({ metadata: { total_size: 60 }, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' } }),
      'model-00001-of-00002.safetensors': shard('a', 5), 'model-00002-of-00002.safetensors': shard('b', 9),
    } }],
    refs: { main: 0 },
  },
  {
    id: 'org/evil-index',
    commits: [{ files: {
      'config.json': fixture()['config.json']!, ...tok(),
      'model.safetensors.index.json': JSON.stringify({ weight_map: { a: 'model-00001.safetensors', b: '../../../../evil.safetensors' } }),
      'model-00001.safetensors': shard('a', 5),
    } }],
    refs: { main: 0 },
  },
];
const C = (id: string, i: number) => commitHash(id, i);

let srv: HubServer;
let work: string;
let n = 0;
const freshCache = () => join(work, `cache-${++n}`);
before(async () => {
  srv = await startHubServer(REPOS, { renamed: { 'old-org/tiny-bert': 'org/tiny-bert' } });
  work = mkdtempSync(join(tmpdir(), 'bertlab-hub-'));
});
after(async () => {
  await srv.close();
  rmSync(work, { recursive: true, force: true });
});

/** Options for the loopback Hub: no inherited HF_* environment, fast bounded retries. */
const online = (cacheDir: string, extra: ResolveOptions = {}): ResolveOptions => ({ cacheDir, endpoint: srv.endpoint, env: {}, token: false, retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 4 }, ...extra });
const repoDir = (cacheDir: string, id: string) => join(cacheDir, `models--${id.replace('/', '--')}`);

/** Rejects when `p` takes longer than `ms` (every wait in these tests is bounded). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, no) => { t = setTimeout(() => no(new Error(`timed out after ${ms} ms: ${what}`)), ms); })]).finally(() => clearTimeout(t));
}

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<HubError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HubError, `expected a HubError, got ${(e as Error)?.stack ?? String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected a rejection with code ${code}`);
}

/** Runs `fn` with fetch made fatal: proves the offline paths never try the network. */
async function noNetwork<T>(fn: () => Promise<T>): Promise<T> {
  const real = globalThis.fetch;
  globalThis.fetch = (() => { throw new Error('NETWORK ATTEMPT in an offline test'); }) as typeof fetch;
  try { return await fn(); } finally { globalThis.fetch = real; }
}

const ls = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);

async function top5(folder: string): Promise<{ id: number; score: number }[]> {
  const pipe = BertPipeline.load(folder);
  try {
    const r = await pipe.fillMask(TEXT, { topK: 5 });
    return r.masks[0]!.predictions.map((p) => ({ id: p.tokenId, score: p.score }));
  } finally { await pipe.dispose(); }
}

/** A cache tree exactly as huggingface_hub writes it, built by hand: symlinks to blobs, or plain copies (no blobs), refs without newline. */
function buildCache(cacheDir: string, id: string, commits: { sha: string; files: Record<string, Buffer>; refs: string[] }[], mode: 'symlink' | 'copy'): string {
  const repo = repoDir(cacheDir, id);
  for (const c of commits) {
    for (const [f, data] of Object.entries(c.files)) {
      const etag = f.endsWith('.safetensors') ? sha256(data) : gitSha1(data);
      const pointer = join(repo, 'snapshots', c.sha, f);
      mkdirSync(dirname(pointer), { recursive: true });
      if (mode === 'symlink') {
        const blob = join(repo, 'blobs', etag);
        mkdirSync(dirname(blob), { recursive: true });
        writeFileSync(blob, data);
        symlinkSync(relative(dirname(pointer), blob), pointer);
      } else writeFileSync(pointer, data);
    }
    for (const r of c.refs) { mkdirSync(dirname(join(repo, 'refs', r)), { recursive: true }); writeFileSync(join(repo, 'refs', r), c.sha); }
  }
  return repo;
}

describe('Hub: download into the huggingface_hub cache', () => {
  it('downloads a tiny BERT into blobs/refs/snapshots; the snapshot loads and fill-mask matches the fixture folder', async () => {
    const cache = freshCache(), mark = srv.log.length;
    const events: HubProgress[] = [];
    const r = await resolveModel('org/tiny-bert', online(cache, { token: 'hf_public', onProgress: (p) => events.push(p) }));
    const commit = C('org/tiny-bert', 1), repo = repoDir(cache, 'org/tiny-bert');
    assert.deepEqual({ ...r, downloaded: [...r.downloaded].sort() }, { folder: join(repo, 'snapshots', commit), id: 'org/tiny-bert', revision: 'main', commit, fromCache: false, downloaded: [...MODEL_FILES].sort() });
    // Layout: refs/main holds the commit without a newline; every snapshot file is a relative symlink to blobs/<etag>.
    assert.equal(readFileSync(join(repo, 'refs', 'main'), 'utf8'), commit);
    assert.deepEqual(ls(r.folder), [...MODEL_FILES].sort());
    for (const f of MODEL_FILES) {
      const data = readFileSync(join(FIX, f));
      const etag = f === 'model.safetensors' ? sha256(data) : gitSha1(data);
      assert.ok(lstatSync(join(r.folder, f)).isSymbolicLink(), f);
      assert.equal(readlinkSync(join(r.folder, f)), join('..', '..', 'blobs', etag));
      assert.deepEqual(readFileSync(join(r.folder, f)), data);
    }
    assert.deepEqual(ls(join(repo, 'blobs')).filter((b) => b.includes('.')), [], 'no .incomplete left');
    // Absent optional files are recorded the way huggingface_hub records them.
    assert.deepEqual(ls(join(repo, '.no_exist', commit)), ['merges.txt', 'sentencepiece.bpe.model', 'spiece.model', 'vocab.json']);
    assert.ok(readFileSync(join(cache, 'CACHEDIR.TAG'), 'utf8').startsWith('Signature: 8a477f597d28d172789f06886806bc55'));
    assert.deepEqual(ls(join(cache, '.locks', 'models--org--tiny-bert')), [], 'locks released');
    // Only what a model needs: no README, pickle or other files; HEAD before GET; the token goes to the Hub, never to the CDN.
    const mine = srv.log.slice(mark);
    assert.deepEqual(mine.filter((e) => /README|pytorch_model|expected/.test(e.path)), []);
    assert.ok(mine.filter((e) => e.host === 'hub').every((e) => e.auth === 'Bearer hf_public'));
    const cdn = mine.filter((e) => e.host === 'cdn');
    assert.deepEqual(cdn.map((e) => [e.method, e.path, e.auth]), [['GET', `/lfs/${MODEL_SHA}`, undefined]]);
    assert.ok(mine.filter((e) => e.method === 'GET' && e.host === 'hub').every((e) => e.path.includes(`/resolve/${commit}/`)), 'every GET pinned to the commit');
    // Progress: per file and in total, ending at the total.
    const total = MODEL_FILES.reduce((a, f) => a + statSync(join(FIX, f)).size, 0);
    const last = events[events.length - 1]!;
    assert.equal(last.phase, 'done');
    assert.equal(last.bytes, total);
    assert.equal(last.total, total);
    assert.ok(events.some((e) => e.phase === 'check') && events.some((e) => e.phase === 'download' && e.file === 'model.safetensors'));
    assert.ok(events.filter((e) => e.phase === 'done').every((e) => e.fileBytes === e.fileTotal));
    assert.ok(last.bytesPerSecond > 0);
    // The project's readers load the snapshot; fill-mask gives the fixture folder's top-5.
    assert.equal(readConfig(r.folder).hidden_size, readConfig(FIX).hidden_size);
    assert.deepEqual(loadTokenizer(r.folder).encode(TEXT).ids, loadTokenizer(FIX).encode(TEXT).ids);
    assert.deepEqual(await top5(r.folder), await top5(FIX));
    // Second time: from the cache, no request at all.
    const again = srv.log.length;
    const r2 = await noNetwork(() => resolveModel('org/tiny-bert', online(cache)));
    assert.deepEqual(r2, { ...r, fromCache: true, downloaded: [] });
    assert.equal(srv.log.length, again);
    // The cache listing sees it.
    const [m] = scanCache(cache);
    assert.equal(m!.id, 'org/tiny-bert');
    assert.deepEqual(m!.revisions.map((x) => [x.commit, x.refs, x.modelType, x.problems]), [[commit, ['main'], 'bert', []]]);
    assert.equal(m!.sizeOnDisk, total);
    deleteCachedModel(cache, 'org/tiny-bert');
    assert.equal(existsSync(repo), false);
  });

  it('a name without org works too, and with symlinks off the snapshot holds plain files (blobs moved, as Python does)', async () => {
    const cache = freshCache();
    const r = await resolveModel('tiny-bert', online(cache, { symlinks: false }));
    assert.equal(r.folder, join(repoDir(cache, 'tiny-bert'), 'snapshots', C('tiny-bert', 0)));
    for (const f of MODEL_FILES) assert.ok(lstatSync(join(r.folder, f)).isFile(), f);
    assert.deepEqual(ls(join(repoDir(cache, 'tiny-bert'), 'blobs')), []);
    assert.equal(readConfig(r.folder).vocab_size, 500);
    assert.deepEqual((await noNetwork(() => resolveModel('tiny-bert', online(cache, { offline: true })))).folder, r.folder);
  });

  it('follows a renamed repo (relative redirect on the Hub), caching it under the name asked for', async () => {
    const cache = freshCache();
    const r = await resolveModel('old-org/tiny-bert', online(cache));
    assert.equal(r.folder, join(repoDir(cache, 'old-org/tiny-bert'), 'snapshots', C('org/tiny-bert', 1)));
    assert.equal(readConfig(r.folder).vocab_size, 500);
  });

  it('purpose "tokenizer" fetches the tokenizer files only (config.json optional)', async () => {
    const cache = freshCache(), mark = srv.log.length;
    const r = await resolveModel('org/no-config', online(cache, { purpose: 'tokenizer' }));
    assert.deepEqual(ls(r.folder), ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
    assert.deepEqual(srv.log.slice(mark).filter((e) => e.path.includes('safetensors')), []);
    assert.deepEqual(loadTokenizer(r.folder).encode(TEXT).ids, loadTokenizer(FIX).encode(TEXT).ids);
  });

  it('answers from the cache while a branch moves upstream; refresh asks the Hub and follows it', async () => {
    const cache = freshCache();
    const spec = REPOS.find((x) => x.id === 'tiny-bert')!;
    const first = await resolveModel('tiny-bert', online(cache));
    spec.commits.push({ files: withConfig(fixture(), { bertlab_test_commit: 1 }) });
    spec.refs['main'] = 1;
    try {
      assert.equal((await noNetwork(() => resolveModel('tiny-bert', online(cache)))).commit, first.commit);
      const moved = await resolveModel('tiny-bert', online(cache, { refresh: true }));
      assert.equal(moved.commit, C('tiny-bert', 1));
      assert.deepEqual(moved.downloaded, ['config.json'], 'only the changed file is downloaded');
      assert.equal(readFileSync(join(repoDir(cache, 'tiny-bert'), 'refs', 'main'), 'utf8'), C('tiny-bert', 1));
    } finally { spec.refs['main'] = 0; }
  });

  it('a local folder comes first and is returned as is', async () => {
    const r = await noNetwork(() => resolveModel(FIX));
    assert.deepEqual(r, { folder: FIX, fromCache: true, downloaded: [] });
  });
});

describe('Hub: resume, retries and cancel', () => {
  it('resumes with Range after the connection drops mid-file', async () => {
    const cache = freshCache(), mark = srv.log.length;
    srv.faults.push({ kind: 'drop', match: { host: 'cdn', method: 'GET' }, afterBytes: 60_000 });
    const r = await resolveModel('org/tiny-bert', online(cache));
    const gets = srv.log.slice(mark).filter((e) => e.host === 'cdn' && e.method === 'GET');
    assert.equal(gets.length, 2, JSON.stringify(gets));
    assert.equal(gets[0]!.range, undefined);
    const from = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? '')?.[1]);
    assert.ok(from > 0 && from <= 60_000, `resumed from ${gets[1]!.range}`);
    assert.equal(sha256(readFileSync(join(r.folder, 'model.safetensors'))), MODEL_SHA);
  });

  it('cancelling leaves blobs/<etag>.incomplete, which the next run resumes with Range', async () => {
    const cache = freshCache(), mark = srv.log.length;
    const pause = srv.pause({ host: 'cdn', method: 'GET' }, 50_000);
    const ac = new AbortController();
    const run = resolveModel('org/tiny-bert', online(cache, { signal: ac.signal, onProgress: (p) => { if (p.file === 'model.safetensors' && p.fileBytes >= 50_000) ac.abort(); } }));
    await rejectsWith(within(run, 30_000, 'the cancelled download'), 'aborted', /cancelled; .* kept in .*\.incomplete and the next run resumes/);
    pause.release();
    const inc = join(repoDir(cache, 'org/tiny-bert'), 'blobs', `${MODEL_SHA}.incomplete`);
    assert.ok(statSync(inc).size >= 50_000, 'the partial file is kept');
    assert.deepEqual(ls(join(cache, '.locks', 'models--org--tiny-bert')), [], 'the lock is released');
    assert.equal(existsSync(join(repoDir(cache, 'org/tiny-bert'), 'refs', 'main')), false);
    const partial = statSync(inc).size;
    const r = await resolveModel('org/tiny-bert', online(cache));
    const gets = srv.log.slice(mark).filter((e) => e.host === 'cdn' && e.method === 'GET');
    assert.equal(gets.length, 2);
    assert.equal(gets[1]!.range, `bytes=${partial}-`);
    assert.equal(sha256(readFileSync(join(r.folder, 'model.safetensors'))), MODEL_SHA);
    assert.equal(existsSync(inc), false);
  });

  it('retries 5xx with backoff, then succeeds; gives up after the bounded retries', async () => {
    const cache = freshCache(), mark = srv.log.length;
    srv.faults.push({ kind: 'status', match: { host: 'hub', method: 'HEAD', path: '/config.json' }, status: 503, times: 2, retryAfter: '0' });
    srv.faults.push({ kind: 'status', match: { host: 'cdn', method: 'GET' }, status: 500, times: 1 });
    const r = await resolveModel('org/tiny-bert', online(cache));
    assert.equal(readConfig(r.folder).vocab_size, 500);
    const mine = srv.log.slice(mark);
    assert.deepEqual(mine.filter((e) => e.path.endsWith('/config.json') && e.method === 'HEAD').map((e) => e.status), [503, 503, 200]);
    assert.deepEqual(mine.filter((e) => e.host === 'cdn').map((e) => e.status), [500, 200]);
    srv.faults.push({ kind: 'status', match: { host: 'hub', path: '/config.json' }, status: 502, times: 10 });
    await rejectsWith(resolveModel('org/tiny-bert', online(freshCache(), { retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 2 } })), 'server', /502 .*gave up after 3 attempts/);
    srv.faults.length = 0;
  });

  it('an unreachable endpoint is a network error after the retries', async () => {
    await rejectsWith(resolveModel('org/tiny-bert', online(freshCache(), { endpoint: 'http://127.0.0.1:9', retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } })), 'network', /config\.json: .*gave up after 2 attempts/);
  });
});

describe('Hub: errors the user can act on', () => {
  it('a Hub host that does not resolve fails at once (no retries) and says what to do', async () => {
    // .invalid never resolves (RFC 6761); with a retry budget of 3, a retried failure would say "gave up after 4 attempts".
    await rejectsWith(resolveModel('org/tiny-bert', { ...online(freshCache()), endpoint: 'http://bertlab-no-such-host.invalid', timeouts: { metadataMs: 60_000 } }), 'network',
      /cannot reach bertlab-no-such-host\.invalid \(.*(ENOTFOUND|EAI_AGAIN).*\)\. Check the network connection, set HF_ENDPOINT to use a mirror, or set HF_HUB_OFFLINE=1/);
    await assert.rejects(resolveModel('org/tiny-bert', { ...online(freshCache()), endpoint: 'http://bertlab-no-such-host.invalid', timeouts: { metadataMs: 60_000 } }), (e: HubError) => !/gave up after/.test(e.message));
  });
  it('401 and 403 on a gated model say to set HF_TOKEN or accept the terms on the model page; the right token works', async () => {
    await rejectsWith(resolveModel('org/gated', online(freshCache())), 'unauthorized', new RegExp(`gated model: no token was sent: set HF_TOKEN.*Accept the model's terms on its page ${srv.endpoint}/org/gated`));
    srv.tokens.add('hf_granted');
    await rejectsWith(resolveModel('org/gated', online(freshCache(), { token: 'hf_other' })), 'forbidden', /not been granted access.*Accept the model's terms on its page .*\/org\/gated.*HF_TOKEN/);
    // The token from the token file under HF_HOME, as `hf auth login` writes it.
    const home = join(work, 'hf-home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'token'), 'hf_granted\n');
    const r = await resolveModel('org/gated', { ...online(freshCache()), token: undefined, env: { HF_HOME: home } });
    assert.equal(readConfig(r.folder).vocab_size, 500);
  });

  it('404 says whether the repository, the revision or the file is missing', async () => {
    await rejectsWith(resolveModel('org/nope', online(freshCache())), 'repo-not-found', /org\/nope: no such model repository on http:\/\/127\.0\.0\.1:\d+ \(the Hub says: Repository not found\)/);
    await rejectsWith(resolveModel('org/tiny-bert', online(freshCache(), { revision: 'nope' })), 'revision-not-found', /revision "nope" does not exist/);
    const cache = freshCache();
    await rejectsWith(resolveModel('org/no-config', online(cache)), 'entry-not-found', /org\/no-config at revision "main" \(commit [0-9a-f]{40}\) has no config\.json/);
    assert.ok(existsSync(join(repoDir(cache, 'org/no-config'), '.no_exist', C('org/no-config', 0), 'config.json')), '.no_exist records it');
  });

  it('refuses a repo with only pytorch_model.bin, naming it and how to get safetensors; no weights at all is its own error', async () => {
    const cache = freshCache();
    await rejectsWith(resolveModel('org/pickle-only', online(cache)), 'pickle-only', /has pytorch_model\.bin but no model\.safetensors: a PyTorch pickle.*--revision refs\/pr\/1.*save_pretrained\("<folder>", safe_serialization=True\)/);
    assert.equal(existsSync(join(repoDir(cache, 'org/pickle-only'), 'blobs')), false, 'nothing downloaded');
    await rejectsWith(resolveModel('org/no-weights', online(freshCache())), 'no-weights', /neither model\.safetensors nor model\.safetensors\.index\.json/);
  });

  it('a sha256 mismatch refuses the file and leaves the cache as it was', async () => {
    const cache = freshCache(), repo = repoDir(cache, 'org/tiny-bert');
    srv.faults.push({ kind: 'corrupt', match: { host: 'cdn', method: 'GET' } });
    await rejectsWith(resolveModel('org/tiny-bert', online(cache)), 'integrity', new RegExp(`model\\.safetensors: the downloaded file's sha256 is [0-9a-f]{64}, but the Hub says ${MODEL_SHA}; the file was refused and the cache left as it was`));
    assert.deepEqual(ls(join(repo, 'blobs')).filter((b) => b.startsWith(MODEL_SHA)), [], 'no blob, no .incomplete');
    assert.equal(existsSync(join(repo, 'snapshots')), false, 'no snapshot');
    assert.equal(existsSync(join(repo, 'refs', 'main')), false, 'no ref');
    const r = await resolveModel('org/tiny-bert', online(cache));
    assert.equal(sha256(readFileSync(join(r.folder, 'model.safetensors'))), MODEL_SHA);
  });

  it('a truncated blob is named, with what to do (offline: from the safetensors header; online: from X-Linked-Size)', async () => {
    const cache = freshCache();
    const repo = buildCache(cache, 'org/tiny-bert', [{ sha: C('org/tiny-bert', 1), files: fixture(), refs: ['main'] }], 'symlink');
    const blob = join(repo, 'blobs', MODEL_SHA);
    truncateSync(blob, 100_000);
    await noNetwork(() => rejectsWith(resolveModel('org/tiny-bert', online(cache, { offline: true })), 'truncated', new RegExp(`model\\.safetensors in the Hugging Face cache is truncated: its safetensors header describes \\d+ bytes but the file has 100000 \\(${blob}\\)\\. Delete it and .* download it anew`)));
    // Online, with the snapshot incomplete: the blob's size disagrees with the Hub's X-Linked-Size.
    rmSync(join(repo, 'snapshots', C('org/tiny-bert', 1), 'model.safetensors'));
    await rejectsWith(resolveModel('org/tiny-bert', online(cache)), 'truncated', /model\.safetensors in the Hugging Face cache has 100000 bytes where the Hub says \d+: truncated or damaged .*Delete that file/);
  });

  it('disk full: a clear error, the partial file kept for resuming', { skip: !existsSync('/dev/full') && 'needs /dev/full' }, async () => {
    const cache = freshCache(), blobs = join(repoDir(cache, 'org/tiny-bert'), 'blobs');
    mkdirSync(blobs, { recursive: true });
    symlinkSync('/dev/full', join(blobs, `${MODEL_SHA}.incomplete`)); // every write there fails with ENOSPC
    await rejectsWith(resolveModel('org/tiny-bert', online(cache)), 'disk-full', /the disk holding the Hugging Face cache .* is full; .* kept in .*\.incomplete and the next run resumes from there\. Free at least/);
    assert.ok(lstatSync(join(blobs, `${MODEL_SHA}.incomplete`)).isSymbolicLink());
    assert.deepEqual(ls(join(cache, '.locks', 'models--org--tiny-bert')), []);
  });
});

describe('Hub: revisions', () => {
  it('a branch, a tag, a full commit and refs/pr/N each resolve to their snapshot; refs record branches and tags only', async () => {
    const cache = freshCache(), repo = repoDir(cache, 'org/tiny-bert'), mark = srv.log.length;
    const dev = await resolveModel('org/tiny-bert', online(cache, { revision: 'dev' }));
    const tag = await resolveModel('org/tiny-bert', online(cache, { revision: 'v1.0' }));
    const full = await resolveModel('org/tiny-bert', online(cache, { revision: C('org/tiny-bert', 1) }));
    const pr = await resolveModel('org/tiny-bert', online(cache, { revision: 'refs/pr/1' }));
    assert.deepEqual([dev.commit, tag.commit, full.commit, pr.commit], [C('org/tiny-bert', 2), C('org/tiny-bert', 0), C('org/tiny-bert', 1), C('org/tiny-bert', 2)]);
    assert.equal(JSON.parse(readFileSync(join(dev.folder, 'config.json'), 'utf8')).bertlab_test_commit, 2);
    assert.equal(JSON.parse(readFileSync(join(tag.folder, 'config.json'), 'utf8')).bertlab_test_commit, 0);
    assert.equal(readFileSync(join(repo, 'refs', 'dev'), 'utf8'), C('org/tiny-bert', 2));
    assert.equal(readFileSync(join(repo, 'refs', 'v1.0'), 'utf8'), C('org/tiny-bert', 0));
    assert.equal(readFileSync(join(repo, 'refs', 'refs', 'pr', '1'), 'utf8'), C('org/tiny-bert', 2));
    assert.deepEqual(ls(join(repo, 'refs')), ['dev', 'refs', 'v1.0'], 'no ref for a commit hash');
    assert.ok(srv.log.slice(mark).some((e) => e.path.includes('/resolve/refs%2Fpr%2F1/config.json')), 'the revision is URL-encoded like hf_hub_url does');
    // One blob for the weights shared by the three commits, fetched once.
    assert.equal(srv.log.slice(mark).filter((e) => e.host === 'cdn' && e.method === 'GET').length, 1);
    assert.deepEqual(ls(join(repo, 'snapshots')), [C('org/tiny-bert', 0), C('org/tiny-bert', 1), C('org/tiny-bert', 2)].sort());
    // A full commit hash is used straight from snapshots/, without a ref and without the network.
    assert.equal((await noNetwork(() => resolveModel('org/tiny-bert', online(cache, { revision: C('org/tiny-bert', 1), offline: true })))).folder, full.folder);
  });
});

describe('Hub: offline, from a cache laid out like huggingface_hub', () => {
  const commits = () => [
    { sha: C('org/tiny-bert', 1), files: fixture(), refs: ['main'] },
    { sha: C('org/tiny-bert', 2), files: withConfig(fixture(), { bertlab_test_commit: 2 }), refs: ['dev'] },
  ];
  for (const mode of ['symlink', 'copy'] as const) {
    it(`resolves main and a non-main revision from a cache with ${mode === 'symlink' ? 'symlinks to blobs' : 'plain copies (no symlinks)'}, without the network`, async () => {
      const cache = freshCache();
      buildCache(cache, 'org/tiny-bert', commits(), mode);
      const main = await noNetwork(() => resolveModel('org/tiny-bert', { env: { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' } }));
      assert.deepEqual(main, { folder: join(repoDir(cache, 'org/tiny-bert'), 'snapshots', C('org/tiny-bert', 1)), id: 'org/tiny-bert', revision: 'main', commit: C('org/tiny-bert', 1), fromCache: true, downloaded: [] });
      const dev = await noNetwork(() => resolveModel('org/tiny-bert', { revision: 'dev', env: { HF_HOME: join(cache, '..', 'unused'), HF_HUB_CACHE: cache, HF_HUB_OFFLINE: 'true' } }));
      assert.equal(dev.commit, C('org/tiny-bert', 2));
      assert.equal(JSON.parse(readFileSync(join(dev.folder, 'config.json'), 'utf8')).bertlab_test_commit, 2);
      assert.equal(readConfig(main.folder).num_hidden_layers, 2);
      assert.deepEqual(loadTokenizer(dev.folder).encode(TEXT).ids, loadTokenizer(FIX).encode(TEXT).ids);
      // The synchronous cache-only lookup agrees.
      assert.deepEqual(resolveModelFromCache('org/tiny-bert', { revision: 'dev', cacheDir: cache, env: {} }).folder, dev.folder);
    });
  }

  it('offline and not cached: the error names the id, the revision and the cache folder looked in', async () => {
    const cache = freshCache();
    await noNetwork(() => rejectsWith(resolveModel('org/tiny-bert', { revision: 'dev', env: { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' } }),
      'offline', new RegExp(`org/tiny-bert \\(revision "dev"\\) is not in the Hugging Face cache and HF_HUB_OFFLINE .* Looked in ${cache}: ${join(cache, 'models--org--tiny-bert')} does not exist`)));
    // A snapshot without the weights (what AutoConfig alone leaves behind) is not enough either.
    buildCache(cache, 'org/tiny-bert', [{ sha: C('org/tiny-bert', 1), files: { 'config.json': fixture()['config.json']! }, refs: ['main'] }], 'symlink');
    await noNetwork(() => rejectsWith(resolveModel('org/tiny-bert', online(cache, { offline: true })), 'offline', /the offline option is set.* lacks model\.safetensors, tokenizer files/));
    assert.throws(() => resolveModelFromCache('org/tiny-bert', { cacheDir: cache }), (e: HubError) => e.code === 'not-cached' && /lacks model\.safetensors/.test(e.message));
  });
});

describe('Hub: bad input', () => {
  it('refuses ids with "..", absolute paths, shell characters or too many parts, saying why, before any request', async () => {
    const cases: [string, RegExp][] = [
      ['../models/x', /"\.\." and "\." are path components/],
      ['org/..', /"\.\." and "\." are path components/],
      ['/nonexistent/abs/model', /an absolute path, and no such folder exists/],
      ['C:\\models\\x', /an absolute path/],
      ['~/models/x', /an absolute path/],
      ['bert; rm -rf ~', /contains ";"|contains " "/],
      ['$(touch pwned)', /contains "\$"/],
      ['org/name`id`', /contains "`"/],
      ['a/b/c', /has 2 "\/" \(a folder path\?\)/],
      ['org/-name', /starts or ends with "-" or "\."/],
      ['org--name', /"--" is not allowed/],
      ['name.git', /ends in "\.git"/],
      [`org/${'x'.repeat(97)}`, /longer than 96 characters/],
    ];
    const mark = srv.log.length;
    for (const [id, re] of cases) {
      const e = await noNetwork(() => rejectsWith(resolveModel(id, online(freshCache())), 'bad-id', re));
      assert.match(e.message, /no such folder/);
    }
    await rejectsWith(resolveModel('org/tiny-bert', online(freshCache(), { revision: '../../etc' })), 'bad-revision', /"\.\."|empty, "\." or "\.\."/);
    await rejectsWith(resolveModel('org/tiny-bert', online(freshCache(), { revision: 'main; ls' })), 'bad-revision', /only letters, digits/);
    assert.equal(srv.log.length, mark, 'nothing was asked of the server');
    assert.equal(validateHubId('google/electra-small-discriminator'), 'google/electra-small-discriminator');
  });

  it('downloads a sharded model (index json + shards) and refuses an index whose shard escapes the snapshot', async () => {
    const cache = freshCache();
    const r = await resolveModel('org/sharded', online(cache));
    assert.deepEqual(ls(r.folder), ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
    assert.deepEqual([...readSafetensorsHeader(join(r.folder, 'model-00002-of-00002.safetensors')).tensors.keys()], ['b']);
    assert.ok(existsSync(join(repoDir(cache, 'org/sharded'), '.no_exist', C('org/sharded', 0), 'model.safetensors')));
    assert.equal((await noNetwork(() => resolveModel('org/sharded', online(cache, { offline: true })))).folder, r.folder);
    const evil = freshCache();
    await rejectsWith(resolveModel('org/evil-index', online(evil)), 'bad-index', /model\.safetensors\.index\.json: the file name "\.\.\/\.\.\/\.\.\/\.\.\/evil\.safetensors" is refused: it has a "\.\." segment/);
    const written = (d: string): string[] => (existsSync(d) ? readdirSync(d, { recursive: true }).map(String) : []);
    assert.deepEqual([...written(work), ...written(evil)].filter((f) => f.includes('evil.safetensors')), []);
  });
});

describe('Hub: two downloaders, one blob', () => {
  it('a second process waits on the lock while the first downloads; both succeed and the blob is written once', async () => {
    const cache = freshCache(), mark = srv.log.length;
    const pause = srv.pause({ host: 'cdn', method: 'GET' }, 40_000);
    const first = resolveModel('org/tiny-bert', online(cache));
    await within(pause.reached, 30_000, 'the first download reaching the pause');
    const script = `const { resolveModel } = require(${JSON.stringify(HUB_JS)});
resolveModel('org/tiny-bert', { cacheDir: ${JSON.stringify(cache)}, endpoint: ${JSON.stringify(srv.endpoint)}, env: {}, token: false, retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 4 },
  onProgress: (p) => { if (p.phase === 'wait') console.log(JSON.stringify({ wait: p.file })); } })
  .then((r) => console.log(JSON.stringify({ ok: r })), (e) => { console.log(JSON.stringify({ err: e.message })); process.exitCode = 1; });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const waiting = new Promise<void>((ok) => {
      let buf = '';
      child.stdout.on('data', (d) => {
        buf += d;
        for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
          const j = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
          lines.push(j);
          if (j['wait'] === 'model.safetensors') ok();
        }
      });
    });
    const exited = new Promise<number | null>((ok) => child.on('exit', ok));
    try {
      await within(Promise.race([waiting, exited.then((c) => { throw new Error(`child exited (${c}) before waiting: ${stderr} ${JSON.stringify(lines)}`); })]), 60_000, 'the second process waiting on the lock');
      const lockDir = join(cache, '.locks', 'models--org--tiny-bert');
      const held = JSON.parse(readFileSync(join(lockDir, `${MODEL_SHA}.bertlab.lock`), 'utf8'));
      assert.deepEqual([held.pid, held.hostname], [process.pid, hostname()]);
      assert.throws(() => deleteCachedModel(cache, 'org/tiny-bert'), (e: HubError) => e.code === 'cache' && /being downloaded right now \(process \d+/.test(e.message));
      pause.release();
      const a = await within(first, 30_000, 'the first download');
      assert.equal(await within(exited, 60_000, 'the second process'), 0, stderr);
      const b = (lines.find((l) => l['ok']) as { ok: { folder: string; downloaded: string[] } }).ok;
      assert.equal(b.folder, a.folder);
      assert.ok(!b.downloaded.includes('model.safetensors'));
      const gets = srv.log.slice(mark).filter((e) => e.method === 'GET');
      const perFile = new Map<string, number>();
      for (const g of gets) perFile.set(g.path, (perFile.get(g.path) ?? 0) + 1);
      assert.deepEqual([...perFile.values()].filter((c) => c !== 1), [], `each blob fetched once: ${JSON.stringify([...perFile])}`);
      assert.equal(sha256(readFileSync(join(a.folder, 'model.safetensors'))), MODEL_SHA);
      assert.deepEqual(ls(lockDir), []);
    } finally {
      pause.release();
      if (child.exitCode === null) child.kill();
    }
  });

  it('in one process too: concurrent calls share the work', async () => {
    const cache = freshCache(), mark = srv.log.length;
    const [a, b] = await within(Promise.all([resolveModel('org/tiny-bert', online(cache)), resolveModel('org/tiny-bert', online(cache))]), 30_000, 'two concurrent resolves');
    assert.equal(a.folder, b.folder);
    assert.equal(srv.log.slice(mark).filter((e) => e.host === 'cdn' && e.method === 'GET').length, 1);
  });
});

describe('Hub: the lock', () => {
  it('takes over a lock whose process is gone, and times out (bounded) on a live one', async () => {
    const dir = join(work, 'locks');
    mkdirSync(dir, { recursive: true });
    // A pid that is certainly not running: a child that has exited.
    const gone = spawn(process.execPath, ['-e', '']);
    const deadPid = await within(new Promise<number>((ok) => gone.on('exit', () => ok(gone.pid!))), 30_000, 'a short-lived process');
    const file = join(dir, 'x.bertlab.lock');
    writeFileSync(file, JSON.stringify({ pid: deadPid, hostname: hostname(), created: new Date().toISOString(), nonce: 'dead' }));
    const lock = await within(acquireLock(file, { timeoutMs: 5_000 }), 10_000, 'taking over a stale lock');
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).pid, process.pid);
    let told = 0;
    await rejectsWith(acquireLock(file, { timeoutMs: 50, onWait: () => told++ }), 'lock-timeout', new RegExp(`process ${process.pid} on .* has been downloading .*lock ${file}.*delete the lock file`));
    assert.equal(told, 1);
    lock.release();
    assert.equal(existsSync(file), false);
    // Another host's lock with an old heartbeat is stale too.
    writeFileSync(file, JSON.stringify({ pid: 1, hostname: 'elsewhere', created: '2020-01-01T00:00:00Z', nonce: 'old' }));
    const { utimesSync } = await import('node:fs');
    utimesSync(file, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    (await within(acquireLock(file, { timeoutMs: 5_000, staleMs: 60_000 }), 10_000, 'stale by age')).release();
  });
});

describe('Hub: where things are (huggingface_hub constants.py and _auth.py)', () => {
  it('cache folder, HF_HOME, token and ETag normalisation follow huggingface_hub', () => {
    assert.equal(hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }), '/c');
    assert.equal(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/legacy', HF_HOME: '/h' }), '/legacy');
    assert.equal(hubCacheDir({ HF_HOME: '/h' }), join('/h', 'hub'));
    assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/home/u' }), join('/x', 'huggingface', 'hub'));
    assert.equal(hfHome({ HOME: '/home/u' }), join('/home/u', '.cache', 'huggingface'));
    assert.equal(hubCacheDir({ HF_HUB_CACHE: '~/hfc', HOME: '/home/u' }), '/home/u/hfc');
    assert.equal(expandPath('$BASE/${SUB}/x/$UNKNOWN', { BASE: '/b', SUB: 's' }, 'linux'), '/b/s/x/$UNKNOWN');
    assert.equal(expandPath('%LOCALAPPDATA%\\hf', { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32'), 'C:\\Users\\u\\AppData\\Local\\hf');
    const home = join(work, 'tok-home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'token'), '  hf_file\r\n');
    assert.equal(hubToken({ HF_HOME: home }), 'hf_file');
    assert.equal(hubToken({ HF_HOME: home, HF_TOKEN: 'hf_env' }), 'hf_env');
    assert.equal(hubToken({ HF_HOME: home, HF_TOKEN: '' }), 'hf_file');
    assert.equal(hubToken({ HF_HOME: home, HF_HUB_DISABLE_IMPLICIT_TOKEN: '1', HF_TOKEN: 'x' }), undefined);
    writeFileSync(join(home, 'other-token'), 'hf_path');
    assert.equal(hubToken({ HF_HOME: home, HF_TOKEN_PATH: join(home, 'other-token') }), 'hf_path');
    assert.equal(hubToken({ HF_HOME: join(work, 'nobody') }), undefined);
    assert.equal(normalizeEtag('W/"abc"'), 'abc');
    assert.equal(normalizeEtag('"abc"'), 'abc');
    assert.equal(normalizeEtag('abc'), 'abc');
    assert.equal(normalizeEtag(null), undefined);
  });
});

/**
 * resolveModel: a model named by the user becomes a folder on disk.
 *
 *  1. An existing local folder wins (as in transformers).
 *  2. Else a Hub id ("name" or "org/name", validated) is looked up in the Hugging Face cache:
 *     refs/<revision> gives the commit (a full commit hash is used directly), and
 *     snapshots/<commit>/ is used when it has what a model needs. No network then.
 *  3. Else, unless offline (HF_HUB_OFFLINE=1 or the option), the files a model needs are
 *     downloaded into that cache, in huggingface_hub's layout, so Python sees them too:
 *     config.json; model.safetensors, or model.safetensors.index.json and its shards; the
 *     tokenizer files that exist (a 404 is recorded under .no_exist/ as Python does). The
 *     revision is pinned to the commit the first answer reports, so every file comes from one
 *     commit even if the branch moves meanwhile. refs/<revision> is written last, once the
 *     snapshot is complete.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HubError } from './errors.js';
import { Env, expandPath, hubCacheDir, hubEndpoint, hubOffline, hubTimeouts, hubToken, symlinksDisabled } from './env.js';
import { DEFAULT_REVISION, isCommitHash, resolveUrl, validateHubId, validateRepoFilename, validateRevision } from './ids.js';
import { RepoCache, TOKENIZER_MAIN, blobPath, checkSnapshotFile, isRecordedMissing, linkPointer, pointerPath, readRef, recordMissing, repoCache, snapshotDir, snapshotHas, symlinksWork, writeRef } from './cache.js';
import { FileMeta, NetOptions, headFile } from './http.js';
import { fetchBlob } from './download.js';
import { ProgressCallback, ProgressTracker } from './progress.js';
import { existingModelPath } from './local.js';

/** Tokenizer files fetched when the repo has them (BERT's and the other families' of issue 14). */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json', 'merges.txt', 'vocab.json', 'sentencepiece.bpe.model', 'spiece.model'] as const;
export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX = 'model.safetensors.index.json';
const PICKLES = ['pytorch_model.bin', 'pytorch_model.bin.index.json'];

export interface ResolveOptions {
  /** Branch, tag or full commit hash (default "main"); config `model_revision`, CLI `--revision`. */
  revision?: string;
  /** Never touch the network (default: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE). */
  offline?: boolean;
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Bearer token; false sends none. Default: HF_TOKEN, else the token file under HF_HOME. */
  token?: string | false;
  /** Default: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  onProgress?: ProgressCallback;
  /** Cancels the download; the partial file stays as blobs/<etag>.incomplete and resumes next time. */
  signal?: AbortSignal;
  /** "model" (default): config, weights, tokenizer. "tokenizer": the tokenizer files (config.json if present). */
  purpose?: 'model' | 'tokenizer';
  /** Ask the Hub where the revision points now even when the cache has it (ignored offline). */
  refresh?: boolean;
  /** The setting's name for messages ("model_name_or_path", "the checkpoint"). */
  what?: string;
  /** Always a Hub id, even when a local folder of that name exists (`bert-lab download`). */
  hubOnly?: boolean;
  /** Environment to read HF_* variables from (default process.env). */
  env?: Env;
  /** Retry policy on 5xx / 429 / dropped connections (defaults: 5 retries, 1 s doubling to 8 s). */
  retry?: { retries?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Download lock across processes (defaults: wait up to 10 min; stale after 60 s without heartbeat). */
  lock?: { timeoutMs?: number; staleMs?: number };
  /** Symlinks in snapshots/ (default: unless HF_HUB_DISABLE_SYMLINKS, where the file system allows). */
  symlinks?: boolean;
  /** Metadata (HEAD) and read-inactivity timeouts (defaults: HF_HUB_ETAG_TIMEOUT, HF_HUB_DOWNLOAD_TIMEOUT, 10 s). */
  timeouts?: { metadataMs?: number; readMs?: number };
}

export interface ResolvedModel {
  /** The folder to load: the local folder, or snapshots/<commit>/ in the cache. */
  folder: string;
  /** The Hub id (absent for a local folder). */
  id?: string;
  revision?: string;
  commit?: string;
  /** Whether no network was used (a local folder, or a complete cached snapshot). */
  fromCache: boolean;
  /** Repo files this call downloaded (empty when none). */
  downloaded: string[];
}

interface Target { id: string; revision: string; rc: RepoCache; purpose: 'model' | 'tokenizer'; env: Env }

function target(idOrPath: string, options: ResolveOptions): Target | { folder: string } {
  const what = options.what ?? 'the model';
  const p = resolve(idOrPath);
  // Exists as written (the kernel resolves "x/.." only when x exists; path.resolve would not ask).
  if (!options.hubOnly && idOrPath !== '' && existsSync(idOrPath)) return { folder: existingModelPath(idOrPath, what)! };
  try {
    validateHubId(idOrPath);
  } catch (e) {
    if (options.hubOnly) throw e;
    throw new HubError('bad-id', `${what} "${idOrPath}": no such folder (${p}), and ${(e as Error).message}`);
  }
  const env = options.env ?? process.env;
  const revision = validateRevision(options.revision ?? DEFAULT_REVISION);
  const cacheDir = resolve(expandPath(options.cacheDir ?? hubCacheDir(env), env));
  return { id: idOrPath, revision, rc: repoCache(cacheDir, idOrPath), purpose: options.purpose ?? 'model', env };
}

/**
 * The shard names of an index json, validated (refusing names that would leave the snapshot).
 * `id` prefixes the messages (a Hub id, or the folder of a local index); `outside` says where a
 * refused name would land.
 */
export function shardsOfIndex(file: string, id: string, outside?: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HubError('bad-index', `${id}: ${SAFETENSORS_INDEX} is not valid JSON (${(e as Error).message}) (${file})`);
  }
  const map = (json as { weight_map?: unknown })?.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new HubError('bad-index', `${id}: ${SAFETENSORS_INDEX} has no "weight_map" object (${file})`);
  const shards = [...new Set(Object.values(map as Record<string, unknown>))];
  if (shards.length === 0) throw new HubError('bad-index', `${id}: ${SAFETENSORS_INDEX} maps no tensors (${file})`);
  for (const s of shards) {
    if (typeof s !== 'string') throw new HubError('bad-index', `${id}: ${SAFETENSORS_INDEX}: weight_map has a non-string value ${JSON.stringify(s)} (${file})`);
    validateRepoFilename(s, `${id}: ${SAFETENSORS_INDEX}`, outside);
    if (!s.endsWith('.safetensors')) throw new HubError('bad-index', `${id}: ${SAFETENSORS_INDEX}: shard "${s}" is not a .safetensors file; refused (${file})`);
  }
  return shards as string[];
}

/** What snapshots/<commit> lacks for `purpose` (empty: usable). */
function missingInSnapshot(t: Target, commit: string): string[] {
  const { rc } = t;
  const has = (f: string) => snapshotHas(rc, commit, f);
  const missing: string[] = [];
  if (t.purpose === 'model') {
    if (!has('config.json')) missing.push('config.json');
    if (has(SAFETENSORS_FILE)) { /* weights there */ } else if (has(SAFETENSORS_INDEX)) {
      for (const s of shardsOfIndex(pointerPath(rc, commit, SAFETENSORS_INDEX), t.id)) if (!has(s)) missing.push(s);
    } else missing.push(SAFETENSORS_FILE);
  }
  if (!TOKENIZER_MAIN.some(has) && !TOKENIZER_MAIN.every((f) => isRecordedMissing(rc, commit, f))) missing.push('tokenizer files (tokenizer.json or vocab.txt)');
  return missing;
}

/** Checks every file of a usable snapshot that BERT Lab reads (truncation, dangling links). */
function checkSnapshot(t: Target, commit: string, sizes: Map<string, number> = new Map()): void {
  const { rc } = t;
  const files: string[] = ['config.json', ...TOKENIZER_FILES];
  if (t.purpose === 'model') {
    if (snapshotHas(rc, commit, SAFETENSORS_FILE)) files.push(SAFETENSORS_FILE);
    else if (snapshotHas(rc, commit, SAFETENSORS_INDEX)) files.push(SAFETENSORS_INDEX, ...shardsOfIndex(pointerPath(rc, commit, SAFETENSORS_INDEX), t.id));
  }
  for (const f of files) {
    if (snapshotHas(rc, commit, f) || sizes.has(f)) checkSnapshotFile(rc, commit, f, sizes.get(f));
  }
}

/** The commit a revision names in the cache, if any. */
function cachedCommit(t: Target): string | undefined {
  return isCommitHash(t.revision) ? t.revision : readRef(t.rc, t.revision);
}

function notInCacheDetail(t: Target): string {
  const { rc } = t;
  if (!existsSync(rc.repoDir)) return `${rc.repoDir} does not exist`;
  const commit = cachedCommit(t);
  if (!commit) return `${rc.repoDir} has no refs/${t.revision}`;
  if (!existsSync(snapshotDir(rc, commit))) return `snapshot ${commit} is not there`;
  const snap = snapshotDir(rc, commit);
  if (PICKLES.some((f) => snapshotHas(rc, commit, f)) && !snapshotHas(rc, commit, SAFETENSORS_FILE) && !snapshotHas(rc, commit, SAFETENSORS_INDEX)) {
    return `${snap} has only pytorch_model.bin (a PyTorch pickle, which BERT Lab does not load)`;
  }
  return `${snap} lacks ${missingInSnapshot(t, commit).join(', ')}`;
}

/**
 * The model from the local disk only: a local folder, or a complete snapshot in the cache.
 * Synchronous and never on the network (for code that cannot wait, e.g. a hover).
 */
export function resolveModelFromCache(idOrPath: string, options: Omit<ResolveOptions, 'onProgress' | 'signal' | 'offline'> = {}): ResolvedModel {
  const t = target(idOrPath, options);
  if ('folder' in t) return { folder: t.folder, fromCache: true, downloaded: [] };
  const hit = fromCache(t);
  if (hit) return hit;
  throw new HubError('not-cached', `${t.id} (revision "${t.revision}") is not in the Hugging Face cache: ${notInCacheDetail(t)}.`);
}

function fromCache(t: Target): ResolvedModel | undefined {
  const commit = cachedCommit(t);
  if (!commit || !existsSync(snapshotDir(t.rc, commit))) return undefined;
  if (missingInSnapshot(t, commit).length) return undefined;
  checkSnapshot(t, commit);
  return { folder: snapshotDir(t.rc, commit), id: t.id, revision: t.revision, commit, fromCache: true, downloaded: [] };
}

const symlinkSupport = new Map<string, boolean>();

/** Runs `fn` over `items`, at most `limit` at a time, in order of the results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]!); }
  }));
  return out;
}

export async function resolveModel(idOrPath: string, options: ResolveOptions = {}): Promise<ResolvedModel> {
  const t = target(idOrPath, options);
  if ('folder' in t) return { folder: t.folder, fromCache: true, downloaded: [] };
  const { rc, id, revision, env } = t;
  const offline = options.offline ?? hubOffline(env);
  if (!(options.refresh && !offline) || isCommitHash(revision)) {
    const hit = fromCache(t);
    if (hit) return hit;
  }
  if (offline) {
    const why = options.offline !== undefined ? 'the offline option is set' : 'HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set';
    throw new HubError('offline', `${id} (revision "${revision}") is not in the Hugging Face cache and ${why}, so nothing is downloaded. Looked in ${rc.cacheDir}: ${notInCacheDetail(t)}. Run once online to download it, or point HF_HUB_CACHE at a cache that has it.`);
  }
  if (options.signal?.aborted) throw new HubError('aborted', `${id}: cancelled`);

  const endpoint = (options.endpoint ?? hubEndpoint(env)).replace(/\/+$/, '');
  const timeouts = hubTimeouts(env);
  const net: NetOptions = {
    endpoint,
    token: options.token === false ? undefined : options.token ?? hubToken(env),
    signal: options.signal,
    retries: options.retry?.retries ?? 5,
    baseDelayMs: options.retry?.baseDelayMs ?? 1000,
    maxDelayMs: options.retry?.maxDelayMs ?? 8000,
    metadataTimeoutMs: options.timeouts?.metadataMs ?? timeouts.metadataMs,
    readTimeoutMs: options.timeouts?.readMs ?? timeouts.readMs,
  };
  const progress = new ProgressTracker(id, options.onProgress);
  try {
    return await download(t, options, net, progress);
  } catch (e) {
    // refresh could not reach the Hub: what the cache has still serves (as huggingface_hub falls back).
    if (options.refresh && (e instanceof HubError) && (e.code === 'network' || e.code === 'server')) {
      const hit = fromCache(t);
      if (hit) return hit;
    }
    throw e;
  } finally {
    progress.stop();
  }
}

async function download(t: Target, options: ResolveOptions, net: NetOptions, progress: ProgressTracker): Promise<ResolvedModel> {
  const { rc, id, revision, env } = t;
  const { endpoint } = net;

  // 1. config.json at the revision: pins the commit for every other file.
  progress.check('config.json');
  const first = await headFile(net, id, revision, 'config.json');
  const commit = first.found ? first.meta.commit : first.commit;
  if (!commit) throw new HubError('protocol', `${id}: ${endpoint} reported config.json missing without saying at which commit (no X-Repo-Commit); check HF_ENDPOINT`);
  const metas = new Map<string, FileMeta>();
  if (first.found) {
    // A file served by the Hub itself is fetched by commit too, so it cannot change under us.
    const m = first.meta;
    metas.set('config.json', m.location === resolveUrl(endpoint, id, revision, 'config.json') ? { ...m, location: resolveUrl(endpoint, id, commit, 'config.json') } : m);
  }
  else {
    recordMissing(rc, commit, 'config.json');
    if (t.purpose === 'model') throw new HubError('entry-not-found', `${id} at revision "${revision}" (commit ${commit}) has no config.json, so it is not a transformers model repository BERT Lab can load (see ${endpoint}/${id}/tree/${revision}).`);
  }

  /** HEAD of an optional file at the pinned commit; undefined when absent (recorded in .no_exist) or already in the snapshot. */
  const look = async (f: string): Promise<FileMeta | 'cached' | undefined> => {
    if (snapshotHas(rc, commit, f)) return 'cached';
    if (isRecordedMissing(rc, commit, f)) return undefined;
    progress.check(f);
    const r = await headFile(net, id, commit, f);
    if (!r.found) { recordMissing(rc, r.commit ?? commit, f); return undefined; }
    metas.set(f, r.meta);
    return r.meta;
  };

  // 2. Weights: model.safetensors, else the sharded index and its shards; pickles are refused.
  if (t.purpose === 'model') {
    if (!(await look(SAFETENSORS_FILE))) {
      const idx = await look(SAFETENSORS_INDEX);
      if (!idx) {
        for (const p of PICKLES) {
          if (await look(p)) {
            throw new HubError('pickle-only', `${id} (revision "${revision}") has ${p} but no model.safetensors: a PyTorch pickle, which BERT Lab does not load because unpickling can run arbitrary code. `
              + `Ways to get safetensors: look on ${endpoint}/${id}/discussions for a pull request adding model.safetensors (the Hub's conversion bot opens them) and pass its revision, e.g. --revision refs/pr/1; `
              + `or convert it yourself with transformers: AutoModel.from_pretrained("${id}").save_pretrained("<folder>", safe_serialization=True), then give that folder.`);
          }
        }
        throw new HubError('no-weights', `${id} (revision "${revision}") has neither model.safetensors nor ${SAFETENSORS_INDEX} (nor pytorch_model.bin); BERT Lab needs safetensors weights (see ${endpoint}/${id}/tree/${revision}).`);
      }
      const ctx0 = { rc, net, progress, lock: options.lock ?? {} };
      const indexFile = idx === 'cached' ? pointerPath(rc, commit, SAFETENSORS_INDEX) : (await fetchBlob(ctx0, idx)).blob;
      const shards = shardsOfIndex(indexFile, id);
      await mapLimit(shards, 4, async (s) => {
        if (!(await look(s))) throw new HubError('entry-not-found', `${id} (commit ${commit}): ${SAFETENSORS_INDEX} names the shard ${s}, which the repository does not have.`);
      });
    }
  }

  // 3. Tokenizer files that exist.
  await mapLimit(TOKENIZER_FILES, 4, look);

  // 4. Download what is not in the cache yet, one file at a time.
  const ctx = { rc, net, progress, lock: options.lock ?? {} };
  const todo = [...metas.values()].filter((m) => !existsSync(blobPath(rc, m.etag)));
  progress.total = todo.reduce((a, m) => a + m.size, 0);
  const downloaded = new Set<string>();
  for (const m of [...metas.values()]) {
    const r = await fetchBlob(ctx, m);
    if (r.downloaded) downloaded.add(m.filename);
    progress.done(m.filename, m.size);
  }

  // 5. Snapshot pointers (symlinks, or the files themselves where symlinks fail), then the ref.
  let symlinks = options.symlinks ?? !symlinksDisabled(env);
  if (symlinks && options.symlinks === undefined) {
    if (!symlinkSupport.has(rc.cacheDir)) symlinkSupport.set(rc.cacheDir, symlinksWork(rc.cacheDir));
    symlinks = symlinkSupport.get(rc.cacheDir)!;
  }
  const byEtag = new Map<string, FileMeta[]>();
  for (const m of metas.values()) byEtag.set(m.etag, [...(byEtag.get(m.etag) ?? []), m]);
  for (const [etag, ms] of byEtag) {
    const blob = blobPath(rc, etag);
    ms.forEach((m, i) => {
      if (snapshotHas(rc, commit, m.filename)) return;
      // Without symlinks a blob downloaded now moves into the snapshot (its last user), as Python does.
      linkPointer(blob, pointerPath(rc, commit, m.filename), { symlinks, moveIfNoSymlink: downloaded.has(m.filename) && i === ms.length - 1 });
    });
  }
  const sizes = new Map([...metas.values()].map((m) => [m.filename, m.size]));
  checkSnapshot(t, commit, sizes);
  const missing = missingInSnapshot(t, commit);
  if (missing.length) throw new HubError('entry-not-found', `${id} (revision "${revision}", commit ${commit}) lacks ${missing.join(', ')}, which BERT Lab needs to load it (see ${endpoint}/${id}/tree/${revision}).`);
  writeRef(rc, revision, commit);
  return { folder: snapshotDir(rc, commit), id, revision, commit, fromCache: false, downloaded: [...downloaded] };
}

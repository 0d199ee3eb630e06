/**
 * huggingface_hub's cache layout, read and written exactly as its file_download.py does
 * (checked against huggingface_hub 1.28: `_hf_hub_download_to_cache_dir`, `try_to_load_from_cache`,
 * `_create_symlink`, `_cache_commit_hash_for_specific_revision`, `_get_pointer_path`, and
 * `_get_metadata_or_catch_error` for `.no_exist`):
 *
 *   <cache>/models--org--name/
 *     blobs/<etag>                 file contents, named by the normalised ETag: the sha256 for LFS
 *                                  files (X-Linked-Etag), the git blob sha1 for the others
 *     blobs/<etag>.incomplete      a download in progress (BERT Lab resumes it with Range)
 *     refs/<revision>              the commit hash a branch or tag pointed to, no newline
 *                                  ("refs/pr/1" nests: refs/refs/pr/1); none for a commit hash
 *     snapshots/<commit>/<file>    relative symlink ../../blobs/<etag> (one more ../ per folder
 *                                  level of <file>), or the file itself where symlinks fail
 *                                  (Windows without developer mode, HF_HUB_DISABLE_SYMLINKS)
 *     .no_exist/<commit>/<file>    empty file: the Hub said this file does not exist at <commit>
 *   <cache>/.locks/models--org--name/<etag>.lock   Python's filelock (see lock.ts)
 *   <cache>/CACHEDIR.TAG           written on the first download, as huggingface_hub does
 *
 * Everything here is synchronous and local; nothing touches the network.
 */
import { closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { HubError } from './errors.js';
import { idFromRepoFolder, isCommitHash, repoFolderName, validateRepoFilename } from './ids.js';
import { liveLockIn } from './lock.js';

export interface RepoCache {
  cacheDir: string;
  id: string;
  /** <cache>/models--org--name */
  repoDir: string;
  blobsDir: string;
  /** <cache>/.locks/models--org--name */
  locksDir: string;
}

export function repoCache(cacheDir: string, id: string): RepoCache {
  const folder = repoFolderName(id);
  const repoDir = join(cacheDir, folder);
  return { cacheDir, id, repoDir, blobsDir: join(repoDir, 'blobs'), locksDir: join(cacheDir, '.locks', folder) };
}

export const blobPath = (rc: RepoCache, etag: string): string => join(rc.blobsDir, etag);
export const snapshotDir = (rc: RepoCache, commit: string): string => join(rc.repoDir, 'snapshots', commit);

/** snapshots/<commit>/<file>, refusing a name that would land outside snapshots/ (as `_get_pointer_path` does). */
export function pointerPath(rc: RepoCache, commit: string, filename: string): string {
  validateRepoFilename(filename, `${rc.id}`);
  const snaps = resolve(rc.repoDir, 'snapshots');
  const p = resolve(snaps, commit, ...filename.split('/'));
  if (!p.startsWith(snaps + sep)) throw new HubError('bad-index', `${rc.id}: the file name "${filename}" would be written outside ${snaps}; refused`);
  return p;
}

const CACHEDIR_TAG = 'Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by huggingface_hub.\n# For information about cache directory tags, see:\n#\thttps://bford.info/cachedir/\n';

/** CACHEDIR.TAG so backup tools skip the cache (huggingface_hub's `_create_cachedir_tag`; same text). */
export function tagCacheDir(cacheDir: string): void {
  const tag = join(cacheDir, 'CACHEDIR.TAG');
  try {
    if (!existsSync(tag)) writeFileSync(tag, CACHEDIR_TAG);
  } catch { /* best effort, as in Python */ }
}

/** The commit refs/<revision> names, or undefined when there is no such ref file. */
export function readRef(rc: RepoCache, revision: string): string | undefined {
  const file = join(rc.repoDir, 'refs', ...revision.split('/'));
  let text: string;
  try {
    if (!statSync(file).isFile()) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const commit = text.trim();
  if (!isCommitHash(commit)) throw new HubError('cache', `${file} should hold a 40-character commit hash but holds ${JSON.stringify(text.slice(0, 60))}; delete it (the next online run writes it again)`);
  return commit;
}

/** Writes refs/<revision> = commit atomically, only when it changes and the revision is not the commit itself. */
export function writeRef(rc: RepoCache, revision: string, commit: string): void {
  if (revision === commit) return;
  const file = join(rc.repoDir, 'refs', ...revision.split('/'));
  try {
    if (readFileSync(file, 'utf8') === commit) return;
  } catch { /* absent */ }
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, commit);
  renameSync(tmp, file);
}

const noExistPath = (rc: RepoCache, commit: string, filename: string) => join(rc.repoDir, '.no_exist', commit, ...filename.split('/'));

/** Whether the Hub said `filename` does not exist at `commit` (a .no_exist marker, as Python records it). */
export function isRecordedMissing(rc: RepoCache, commit: string, filename: string): boolean {
  try {
    return statSync(noExistPath(rc, commit, filename)).isFile();
  } catch {
    return false;
  }
}

/** Records that `filename` does not exist at `commit` (an empty file, like huggingface_hub's touch). Best effort. */
export function recordMissing(rc: RepoCache, commit: string, filename: string): void {
  try {
    validateRepoFilename(filename, rc.id);
    const p = noExistPath(rc, commit, filename);
    if (existsSync(p)) return;
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, '');
  } catch { /* Python logs and ignores too */ }
}

/** Whether a snapshot file is there and readable through its link (a broken symlink is not). */
export function snapshotHas(rc: RepoCache, commit: string, filename: string): boolean {
  try {
    return statSync(pointerPath(rc, commit, filename)).isFile();
  } catch {
    return false;
  }
}

/**
 * Makes snapshots/<commit>/<file> point at `blob`: a relative symlink where the file system
 * allows it; otherwise the blob itself is moved there (`moveIfNoSymlink`, when no other pointer
 * needs this blob — what Python does for a new blob) or copied.
 */
export function linkPointer(blob: string, pointer: string, opts: { symlinks: boolean; moveIfNoSymlink: boolean }): 'symlink' | 'copy' | 'move' {
  mkdirSync(dirname(pointer), { recursive: true });
  const target = relative(dirname(pointer), blob);
  if (opts.symlinks) {
    try {
      try { unlinkSync(pointer); } catch { /* absent */ }
      symlinkSync(target, pointer, 'file');
      return 'symlink';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        // Another process made it between our unlink and symlink: fine if it points at the same blob.
        try {
          if (resolve(dirname(pointer), readlinkSync(pointer)) === resolve(blob)) return 'symlink';
        } catch { /* not a link */ }
        throw e;
      }
      if (!['EPERM', 'EACCES', 'ENOTSUP', 'EOPNOTSUPP', 'EINVAL', 'ENOSYS', 'EXDEV'].includes(code ?? '')) throw e;
      // Symlinks unavailable here (Windows without developer mode, some network drives): copy.
    }
  }
  if (opts.moveIfNoSymlink) {
    renameSync(blob, pointer);
    return 'move';
  }
  const tmp = `${pointer}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    copyFileSync(blob, tmp);
  } catch (e) {
    // Another process moved this blob into place meanwhile (no-symlink caches): its copy is ours too.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(pointer)) return 'copy';
    throw e;
  }
  renameSync(tmp, pointer);
  return 'copy';
}

/** Whether symlinks can be made in `dir` (huggingface_hub's `are_symlinks_supported`, same probe). */
export function symlinksWork(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  const probe = join(dir, `.bertlab-symlink-probe-${randomBytes(4).toString('hex')}`);
  mkdirSync(probe);
  try {
    writeFileSync(join(probe, 'src'), '');
    symlinkSync('src', join(probe, 'dst'), 'file');
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** Size of the bytes of a safetensors file its header accounts for (8 + header + data), or undefined if unreadable. */
export function safetensorsNeededBytes(file: string): { needed: number; size: number } | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = statSync(file).size;
    if (size < 8) return { needed: 8, size };
    const prefix = Buffer.alloc(8);
    readSync(fd, prefix, 0, 8, 0);
    const n = Number(prefix.readBigUInt64LE(0));
    if (n > 100_000_000) return undefined; // not a header length: leave the diagnosis to the reader
    if (8 + n > size) return { needed: 8 + n, size };
    const head = Buffer.alloc(n);
    readSync(fd, head, 0, n, 8);
    let json: Record<string, { data_offsets?: unknown }>;
    try {
      json = JSON.parse(head.toString('utf8')) as typeof json;
    } catch {
      return undefined;
    }
    let end = 0;
    for (const [k, v] of Object.entries(json)) {
      if (k === '__metadata__' || !v || !Array.isArray(v.data_offsets)) continue;
      const e = Number(v.data_offsets[1]);
      if (Number.isFinite(e) && e > end) end = e;
    }
    return { needed: 8 + n + end, size };
  } finally {
    closeSync(fd);
  }
}

/** Where a snapshot file's bytes live: the blob its symlink names, or the file itself (copy). */
export function blobOf(file: string): string {
  try {
    if (lstatSync(file).isSymbolicLink()) return resolve(dirname(file), readlinkSync(file));
  } catch { /* fall through */ }
  return file;
}

/**
 * A snapshot file is usable: present through its link, and (for .safetensors) as long as its
 * header says; `expectedSize` (the Hub's X-Linked-Size / Content-Length) is checked when known.
 * A truncated or dangling file is an error that names it and says to delete and re-download.
 */
export function checkSnapshotFile(rc: RepoCache, commit: string, filename: string, expectedSize?: number): void {
  const p = pointerPath(rc, commit, filename);
  const blob = blobOf(p);
  const redo = (what: string) => new HubError('truncated', `${rc.id}: ${filename} in the Hugging Face cache is ${what} (${blob}). Delete ${blob === p ? 'it' : `it and ${p}`} and resolve the model again (online) to download it anew.`);
  let size: number;
  try {
    size = statSync(p).size;
  } catch {
    if (existsSync(blob) || blob === p) throw redo('missing');
    throw redo('a link to a blob that is missing');
  }
  if (expectedSize !== undefined && size !== expectedSize) throw redo(`${size} bytes where the Hub says ${expectedSize}: truncated or damaged`);
  if (filename.endsWith('.safetensors')) {
    const st = safetensorsNeededBytes(p);
    if (st && st.needed > st.size) throw redo(`truncated: its safetensors header describes ${st.needed} bytes but the file has ${st.size}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Listing and deleting (the extension's Models view).

export interface CachedRevision {
  commit: string;
  /** Branches and tags (refs/) that point at this commit. */
  refs: string[];
  folder: string;
  files: string[];
  modelType?: string;
  architectures?: string[];
  /** Why BERT Lab cannot load this snapshot as a model (empty: the files it needs are there; the model family is checked by the loader). */
  problems: string[];
  modified: number;
}
export interface CachedModel {
  id: string;
  repoDir: string;
  /** Bytes on disk: blobs plus plain (copied) snapshot files, each counted once. */
  sizeOnDisk: number;
  revisions: CachedRevision[];
}

function walkFiles(dir: string, base = ''): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) return walkFiles(join(dir, e.name), rel);
    return [rel];
  });
}

/** What a snapshot folder lacks to be loaded as a model (config, safetensors weights, a tokenizer). */
export function snapshotProblems(folder: string): string[] {
  const has = (f: string) => { try { return statSync(join(folder, f)).isFile(); } catch { return false; } };
  const problems: string[] = [];
  if (!has('config.json')) problems.push('no config.json');
  if (!has('model.safetensors') && !has('model.safetensors.index.json')) {
    problems.push(has('pytorch_model.bin') || has('pytorch_model.bin.index.json') ? 'only pytorch_model.bin (a PyTorch pickle, not loaded; safetensors needed)' : 'no model.safetensors');
  }
  if (!TOKENIZER_MAIN.some((f) => has(f))) problems.push('no tokenizer files');
  return problems;
}

/** Files that make a tokenizer on their own (one is enough). */
export const TOKENIZER_MAIN = ['tokenizer.json', 'vocab.txt', 'vocab.json', 'sentencepiece.bpe.model', 'spiece.model'] as const;

/** Every model in the cache, with its snapshots and the branches/tags pointing at them. */
export function scanCache(cacheDir: string): CachedModel[] {
  let folders: string[];
  try {
    folders = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const out: CachedModel[] = [];
  for (const folder of folders.sort()) {
    const id = idFromRepoFolder(folder);
    if (!id) continue;
    const rc = repoCache(cacheDir, id);
    const refs = new Map<string, string[]>();
    for (const r of walkFiles(join(rc.repoDir, 'refs'))) {
      try {
        const c = readFileSync(join(rc.repoDir, 'refs', r), 'utf8').trim();
        refs.set(c, [...(refs.get(c) ?? []), r]);
      } catch { /* unreadable ref */ }
    }
    const seen = new Set<string>();
    let size = 0;
    const count = (p: string) => {
      try {
        const st = statSync(p);
        const key = `${st.dev}:${st.ino}`;
        if (!seen.has(key)) { seen.add(key); size += st.size; }
      } catch { /* dangling */ }
    };
    for (const b of walkFiles(rc.blobsDir)) count(join(rc.blobsDir, b));
    const revisions: CachedRevision[] = [];
    let commits: string[] = [];
    try { commits = readdirSync(join(rc.repoDir, 'snapshots')); } catch { /* none */ }
    for (const commit of commits) {
      const dir = join(rc.repoDir, 'snapshots', commit);
      const files = walkFiles(dir);
      for (const f of files) count(join(dir, f));
      let modelType: string | undefined, architectures: string[] | undefined;
      try {
        const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model_type?: unknown; architectures?: unknown };
        if (typeof cfg.model_type === 'string') modelType = cfg.model_type;
        if (Array.isArray(cfg.architectures)) architectures = cfg.architectures.filter((a): a is string => typeof a === 'string');
      } catch { /* no or bad config */ }
      let modified = 0;
      try { modified = statSync(dir).mtimeMs; } catch { /* gone */ }
      revisions.push({ commit, refs: refs.get(commit) ?? [], folder: dir, files, modelType, architectures, problems: snapshotProblems(dir), modified });
    }
    revisions.sort((a, b) => b.modified - a.modified);
    out.push({ id, repoDir: rc.repoDir, sizeOnDisk: size, revisions });
  }
  return out;
}

/**
 * Deletes one model from the cache: its models--org--name folder (blobs, refs, snapshots: blobs
 * are per repo, so no other model loses anything) and its lock folder. Refused while a BERT Lab
 * process is downloading into it.
 */
export function deleteCachedModel(cacheDir: string, id: string): void {
  const rc = repoCache(cacheDir, id);
  for (const f of walkFiles(rc.locksDir).filter((n) => n.endsWith('.bertlab.lock'))) {
    const h = liveLockIn(join(rc.locksDir, f));
    if (h) throw new HubError('cache', `${id} is being downloaded right now (process ${h.pid} on ${h.hostname}); delete it once that download ends`);
  }
  rmSync(rc.repoDir, { recursive: true, force: true });
  rmSync(rc.locksDir, { recursive: true, force: true });
}

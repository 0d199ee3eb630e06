/**
 * One writer per blob across processes: an exclusive-create (O_EXCL) lock file next to the one
 * huggingface_hub uses, `<cache>/.locks/models--org--name/<etag>.bertlab.lock`, holding
 * `{ pid, hostname, created, nonce }` and touched (mtime) every `heartbeatMs` while held.
 *
 * A lock is taken over when it is stale: its holder ran on this host and that pid is gone, or its
 * mtime is older than `staleMs` (holder on another host, or frozen), or it is unreadable and old.
 * The take-over renames the file away first and checks that what it renamed is the lock it judged
 * stale (two waiters cannot both break one lock, nor break a fresh one), then retries the create.
 * Waiting polls with a growing interval, is bounded by `timeoutMs`, and stops on `signal`.
 *
 * Python interoperability: huggingface_hub locks `<etag>.lock` in the same folder with the
 * `filelock` package, an advisory flock(2) (LockFileEx on Windows) on that file. An O_EXCL file
 * and an flock do not see each other, so the two DO NOT exclude each other, and this lock uses its
 * own name on purpose: on the same name, Python's lock files, which stay behind after release on
 * older filelock versions, would look held forever, while Python would truncate and finally unlink
 * a lock BERT Lab holds (newer filelock unlinks on release), letting a second BERT Lab writer in.
 * The cache stays correct anyway when both write one blob at once: huggingface_hub >= 1.18 writes
 * to a private `<etag>.<random>.incomplete` and renames it into place; BERT Lab writes
 * `<etag>.incomplete` only under this lock, checks the sha256 (or git sha1) and size before its
 * atomic rename, and a blob renamed into place by either side has the same verified contents.
 * Older huggingface_hub (< 1.18) appends to `<etag>.incomplete` under its flock; a BERT Lab writer
 * at that very moment would garble that partial file, which the hash check then refuses (it is
 * deleted and downloaded again), so a race costs a retry, never a wrong blob.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync, linkSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { HubError } from './errors.js';

export interface LockHolder { pid: number; hostname: string; created: string; nonce: string }
export interface LockOptions {
  /** Give up waiting after this long (default 10 minutes). */
  timeoutMs?: number;
  /** A lock whose mtime is older than this is stale (default 60 s; the holder touches it every staleMs / 4). */
  staleMs?: number;
  signal?: AbortSignal;
  /** Called once when the lock is found held by someone else, before waiting. */
  onWait?: (holder: LockHolder | undefined, lockFile: string) => void;
}
export interface HeldLock { readonly file: string; release(): void }

const lockName = (etag: string) => `${etag}.bertlab.lock`;
export const lockFileFor = (locksDir: string, etag: string): string => join(locksDir, lockName(etag));

function readHolder(file: string): LockHolder | undefined {
  try {
    const j = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof j.pid === 'number' && typeof j.hostname === 'string' && typeof j.nonce === 'string') return j as LockHolder;
  } catch { /* empty, partial or not ours */ }
  return undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Whether the lock at `file` is stale, given what it held when read. */
function isStale(file: string, holder: LockHolder | undefined, staleMs: number): boolean {
  let age: number;
  try {
    age = Date.now() - statSync(file).mtimeMs;
  } catch {
    return false; // gone: not stale, just retry the create
  }
  if (holder && holder.hostname === hostname() && !pidAlive(holder.pid)) return true;
  return age > staleMs;
}

/** Renames a stale lock away, restoring it if what was renamed turns out to be a newer lock. */
function breakLock(file: string, judged: LockHolder | undefined): void {
  const aside = `${file}.stale-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else broke or released it
  }
  const got = readHolder(aside);
  if (got && judged && got.nonce !== judged.nonce) {
    try { linkSync(aside, file); } catch { /* a third lock took the name: it wins */ }
  }
  try { unlinkSync(aside); } catch { /* gone */ }
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((res, rej) => {
  if (signal?.aborted) return rej(signal.reason);
  const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); res(); }, ms);
  const onAbort = () => { clearTimeout(t); rej(signal!.reason); };
  signal?.addEventListener('abort', onAbort, { once: true });
});

export async function acquireLock(file: string, opts: LockOptions = {}): Promise<HeldLock> {
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000, staleMs = opts.staleMs ?? 60_000;
  mkdirSync(dirname(file), { recursive: true });
  const me: LockHolder = { pid: process.pid, hostname: hostname(), created: new Date().toISOString(), nonce: randomBytes(8).toString('hex') };
  const start = Date.now();
  let interval = 10, told = false;
  for (;;) {
    if (opts.signal?.aborted) throw new HubError('aborted', `cancelled while waiting for the download lock ${file}`);
    try {
      const fd = openSync(file, 'wx', 0o664);
      try { writeSync(fd, JSON.stringify(me)); } finally { closeSync(fd); }
      return held(file, me, staleMs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readHolder(file);
    if (isStale(file, holder, staleMs)) { breakLock(file, holder); continue; }
    if (!told) { told = true; opts.onWait?.(holder, file); }
    if (Date.now() - start > timeoutMs) {
      const who = holder ? `process ${holder.pid} on ${holder.hostname} (since ${holder.created})` : 'another process';
      throw new HubError('lock-timeout', `${who} has been downloading this file into the cache for over ${Math.round(timeoutMs / 1000)} s (lock ${file}). Wait for it to finish; if no download is running, delete the lock file.`);
    }
    try {
      await sleep(interval, opts.signal);
    } catch {
      throw new HubError('aborted', `cancelled while waiting for the download lock ${file}`);
    }
    interval = Math.min(500, interval * 2);
  }
}

function held(file: string, me: LockHolder, staleMs: number): HeldLock {
  const beat = setInterval(() => {
    const now = new Date();
    try { utimesSync(file, now, now); } catch { /* broken by someone: release() will notice */ }
  }, Math.max(50, Math.floor(staleMs / 4)));
  beat.unref();
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      if (readHolder(file)?.nonce === me.nonce) {
        try { unlinkSync(file); } catch { /* already gone */ }
      }
    },
  };
}

/** Whether a live BERT Lab process holds a lock in `locksDir` (deleting a model then is refused). */
export function liveLockIn(file: string, staleMs = 60_000): LockHolder | undefined {
  const h = readHolder(file);
  return h && !isStale(file, h, staleMs) ? h : undefined;
}

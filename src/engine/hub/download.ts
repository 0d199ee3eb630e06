/**
 * One blob into the cache: `blobs/<etag>` appears complete and verified, or not at all.
 *
 * Under the blob's lock (lock.ts) the bytes go to `blobs/<etag>.incomplete`, which a later run
 * resumes with `Range: bytes=<size>-` (a 200 answer restarts it from zero; a 416 too). Dropped
 * connections and 5xx answers are retried with backoff, the count starting over whenever bytes
 * arrived (as huggingface_hub's `http_get` does). Before the rename into place the size must be
 * the Hub's and the hash the ETag: sha256 for LFS files (X-Linked-Etag), git's blob sha1
 * ("blob <size>\0" + bytes) for the others when the ETag is 40 hex. A mismatch deletes the
 * partial file and leaves the cache as it was. Out of disk space (checked before, and ENOSPC /
 * EDQUOT while writing) keeps the partial file for resuming; so does cancelling (AbortSignal).
 */
import { createHash, Hash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { open, statfs, FileHandle } from 'node:fs/promises';
import { HubError, isHubError } from './errors.js';
import { FileMeta, NetOptions, Transient, backoffMs, delay, getBody, giveUp } from './http.js';
import { RepoCache, blobPath, tagCacheDir } from './cache.js';
import { acquireLock, lockFileFor } from './lock.js';
import { ProgressTracker, fmtBytes } from './progress.js';

export interface BlobContext {
  rc: RepoCache;
  net: NetOptions;
  progress: ProgressTracker;
  lock: { timeoutMs?: number; staleMs?: number };
}

const WRITE_BATCH = 1 << 20;

export { fmtBytes };

interface Verifier { kind: 'sha256' | 'git-sha1'; hash: Hash; expected: string }
function verifierFor(meta: FileMeta): Verifier | undefined {
  if (meta.lfs && /^[0-9a-f]{64}$/.test(meta.etag)) return { kind: 'sha256', hash: createHash('sha256'), expected: meta.etag };
  if (!meta.lfs && /^[0-9a-f]{40}$/.test(meta.etag)) {
    const hash = createHash('sha1');
    hash.update(`blob ${meta.size}\0`);
    return { kind: 'git-sha1', hash, expected: meta.etag };
  }
  return undefined; // an ETag that is neither: only the size is checked
}

const isDiskFull = (e: unknown) => ['ENOSPC', 'EDQUOT'].includes((e as NodeJS.ErrnoException)?.code ?? '');

/** Ensures blobs/<etag> holds the file `meta` describes. `downloaded` is false when it was already there (or another process wrote it meanwhile). */
export async function fetchBlob(ctx: BlobContext, meta: FileMeta): Promise<{ blob: string; downloaded: boolean }> {
  const { rc, progress } = ctx;
  const blob = blobPath(rc, meta.etag);
  const ready = (): boolean => {
    if (!existsSync(blob)) return false;
    const size = statSync(blob).size;
    if (size !== meta.size) {
      throw new HubError('truncated', `${rc.id}: ${meta.filename} in the Hugging Face cache has ${size} bytes where the Hub says ${meta.size}: truncated or damaged (${blob}). Delete that file and resolve the model again to download it anew.`);
    }
    return true;
  };
  if (ready()) return { blob, downloaded: false };
  mkdirSync(rc.blobsDir, { recursive: true });
  tagCacheDir(rc.cacheDir);
  const lock = await acquireLock(lockFileFor(rc.locksDir, meta.etag), { ...ctx.lock, signal: ctx.net.signal, onWait: () => progress.wait(meta.filename) });
  try {
    if (ready()) return { blob, downloaded: false };
    await downloadIncomplete(ctx, meta, `${blob}.incomplete`);
    renameSync(`${blob}.incomplete`, blob);
    return { blob, downloaded: true };
  } finally {
    lock.release();
  }
}

async function freeBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined; // unknown: let the writes tell
  }
}

async function downloadIncomplete(ctx: BlobContext, meta: FileMeta, inc: string): Promise<void> {
  const { rc, net, progress } = ctx;
  const what = `${rc.id}: ${meta.filename}`;
  let have = 0;
  try { have = statSync(inc).size; } catch { /* none */ }
  let fh: FileHandle = await open(inc, have > 0 && have <= meta.size ? 'r+' : 'w');
  if (have > meta.size) have = 0; // opened with 'w': truncated
  const verifier = verifierFor(meta);
  // Feed the bytes already on disk to the hash.
  if (have > 0 && verifier) {
    const buf = Buffer.alloc(Math.min(have, 4 << 20));
    for (let pos = 0; pos < have;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, have - pos), pos);
      if (bytesRead === 0) { have = pos; break; }
      verifier.hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  }
  const restart = async () => {
    await fh.truncate(0);
    have = 0;
    progress.reset(meta.filename);
    if (verifier) {
      verifier.hash = createHash(verifier.kind === 'sha256' ? 'sha256' : 'sha1');
      if (verifier.kind === 'git-sha1') verifier.hash.update(`blob ${meta.size}\0`);
    }
  };
  const onDisk = () => { try { return statSync(inc).size; } catch { return 0; } };
  const kept = () => `${fmtBytes(onDisk())} of ${fmtBytes(meta.size)} are kept in ${inc} and the next run resumes from there`;
  const diskFull = (cause?: unknown) => new HubError('disk-full', `${what}: the disk holding the Hugging Face cache (${rc.blobsDir}) is full; ${kept()}. Free at least ${fmtBytes(meta.size - onDisk())} (or point HF_HUB_CACHE elsewhere) and run again.`, { cause });

  let closed = false;
  const close = async () => { if (!closed) { closed = true; await fh.close(); } };
  try {
    const free = await freeBytes(rc.blobsDir);
    if (free !== undefined && free < meta.size - have) throw diskFull();
    progress.start(meta.filename, meta.size, have);
    let failures = 0;
    while (have < meta.size) {
      // Writes run one at a time but overlap the next reads (at most one batch in flight).
      let pending: Buffer[] = [], pendingBytes = 0, written = have;
      let inflight: Promise<void> | undefined;
      const flush = async (wait: boolean) => {
        if (inflight) { const w = inflight; inflight = undefined; await w; }
        if (pendingBytes) {
          const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
          pending = []; pendingBytes = 0;
          const at = written;
          written += data.length;
          inflight = fh.write(data, 0, data.length, at).then(() => undefined, (e: unknown) => { throw isDiskFull(e) ? diskFull(e) : e; });
          inflight.catch(() => undefined); // handled when awaited; never an unhandled rejection meanwhile
        }
        if (wait && inflight) { const w = inflight; inflight = undefined; await w; }
      };
      try {
        const body = await getBody(net, meta, rc.id, have);
        if (body.start === 0 && have > 0) { await restart(); written = 0; }
        for await (const chunk of body.chunks) {
          if (have + chunk.length > meta.size) {
            body.cancel();
            throw new HubError('integrity', `${what}: the server sent more than the ${meta.size} bytes the Hub announced; the file was refused and the cache left as it was. Run again; if it happens again, a proxy alters the download.`);
          }
          verifier?.hash.update(chunk);
          pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          pendingBytes += chunk.length;
          have += chunk.length;
          failures = 0; // bytes arrived: the retry budget starts over
          progress.add(meta.filename, chunk.length);
          if (pendingBytes >= WRITE_BATCH) await flush(false);
        }
        await flush(true);
        if (have < meta.size) throw new Transient(`${what}: the server closed the connection after ${have} of ${meta.size} bytes`, 'network');
      } catch (e) {
        await flush(true); // what arrived before the failure is good: keep it for the resume
        if (!(e instanceof Transient)) throw e;
        if (e.opts.restart) await restart();
        if (++failures > net.retries) throw giveUp(e, failures);
        await delay(backoffMs(net, failures, e.opts.retryAfterMs), net.signal, what);
      }
    }
    await fh.sync();
    await close();
    if (verifier) {
      const got = verifier.hash.digest('hex');
      if (got !== verifier.expected) {
        unlinkSync(inc);
        progress.reset(meta.filename);
        throw new HubError('integrity', `${what}: the downloaded file's ${verifier.kind} is ${got}, but the Hub says ${verifier.expected}; the file was refused and the cache left as it was. Run again to download it anew; if it happens again, something between you and ${net.endpoint} alters downloads.`);
      }
    }
  } catch (e) {
    await close().catch(() => undefined);
    if (isHubError(e, 'aborted')) throw new HubError('aborted', `${what}: download cancelled; ${kept()}.`, { cause: e });
    if (isDiskFull(e)) throw diskFull(e);
    if (isHubError(e, 'integrity')) { try { unlinkSync(inc); } catch { /* already gone */ } }
    throw e;
  }
}

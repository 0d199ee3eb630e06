/**
 * Durable file writes for checkpoints and final models: each file goes into a temporary sibling,
 * is flushed to disk (fsync) and renamed into place, and the folder is flushed so the rename
 * itself survives a power loss. A crash therefore leaves the old file or the new one, never half.
 *
 * Fault injection for the crash and full-disk tests: the environment variable BERT_LAB_FAULT
 * (never set in normal use) makes the N-th file write of this process fail or stop half-way:
 *   enospc:N      the N-th write throws ENOSPC (a full disk) after writing half of its bytes
 *   kill:N        the N-th write SIGKILLs the process after writing half of its bytes
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let writes = 0;
type Fault = { kind: 'enospc' | 'kill'; at: number };
let parsed: { env: string; fault: Fault | null } = { env: '', fault: null };
function fault(): Fault | null {
  const env = process.env['BERT_LAB_FAULT'] ?? '';
  if (env !== parsed.env) {
    const m = /^(enospc|kill):(\d+)$/.exec(env);
    parsed = { env, fault: m ? { kind: m[1] as Fault['kind'], at: Number(m[2]) } : null };
    writes = 0; // a new fault setting counts writes afresh (tests set it per case)
  }
  return parsed.fault;
}

/** Called half-way through every durable write; acts only when BERT_LAB_FAULT names this write. */
export function faultPoint(path: string): void {
  const f = fault();
  writes++;
  if (!f || writes !== f.at) return;
  if (f.kind === 'kill') process.kill(process.pid, 'SIGKILL');
  if (f.kind === 'enospc') throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', syscall: 'write', path });
}

/** Writes all of `bytes` at `position` (a single write may be partial); returns the end position. */
export function writeAll(fd: number, bytes: Uint8Array, position: number): number {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  return position + done;
}

/** Writes `content` into a fresh temporary sibling of `path` and fsyncs it; returns the temporary's path. */
export function stageFile(path: string, content: string | Uint8Array | readonly Uint8Array[]): string {
  const chunks = typeof content === 'string' ? [Buffer.from(content, 'utf8')] : content instanceof Uint8Array ? [content] : content;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  const total = chunks.reduce((a, c) => a + c.length, 0);
  try {
    const fd = openSync(tmp, 'wx');
    try {
      let at = 0, faulted = false;
      for (const c of chunks) {
        // The fault point sits in the middle of the file's bytes: a kill there leaves a torn temporary file.
        if (!faulted && at + c.length >= total / 2) {
          const half = Math.max(0, Math.min(c.length, Math.floor(total / 2) - at));
          at = writeAll(fd, c.subarray(0, half), at);
          faultPoint(path);
          faulted = true;
          at = writeAll(fd, c.subarray(half), at);
        } else at = writeAll(fd, c, at);
      }
      if (!faulted) faultPoint(path);
      fsyncSync(fd);
    } finally { closeSync(fd); }
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* never created */ }
    throw e;
  }
  return tmp;
}

/** A temporary file of stageFile's naming (removed when found after a crash). */
export const isStagedName = (name: string): boolean => /^\..+\.\d+\.[a-z0-9]+\.tmp$/.test(name);

/** stageFile, then a rename over `path` and an fsync of its folder: `path` is old or new after a crash, never half. */
export function writeFileDurable(path: string, content: string | Uint8Array | readonly Uint8Array[]): void {
  const tmp = stageFile(path, content);
  try { renameSync(tmp, path); } catch (e) {
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw e;
  }
  syncFolder(dirname(path));
}

/** Makes renames in `dir` durable. Folders cannot be opened for fsync on Windows; that is fine to skip. */
export function syncFolder(dir: string): void {
  let fd: number;
  try { fd = openSync(dir, 'r'); } catch { return; }
  try { fsyncSync(fd); } catch { /* best effort (Windows, some network filesystems) */ } finally { closeSync(fd); }
}

/** Flushes an existing file (the run log at a checkpoint) to disk. */
export function syncFile(path: string): void {
  let fd: number;
  try { fd = openSync(path, 'r+'); } catch { return; }
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

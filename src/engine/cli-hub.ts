/**
 * The Hugging Face Hub on the command line: a checkpoint argument that is a Hub id (looked up in
 * the Hugging Face cache, downloaded into it when missing, at --revision; never downloaded with
 * --offline or HF_HUB_OFFLINE=1), download progress on stderr, Ctrl-C during a download, and the
 * `download` and `cache` commands (huggingface-cli's `download` and `scan-cache` / `delete-cache`).
 *
 * Progress: on a terminal one redrawn line (file, bytes/total, speed, ETA); otherwise a line when
 * each file starts and ends, and at most one every 5 s between (a log stays short).
 * Interrupts: Ctrl-C (SIGINT) or SIGTERM during a download aborts it through an AbortController;
 * the partial file stays as blobs/<etag>.incomplete, the next run resumes it with a Range request,
 * and the command exits 130 (143 for SIGTERM) saying "interrupted". A second signal ends the
 * process at once by the signal itself.
 */
import { existsSync } from 'node:fs';
import { InterruptedError, Io, UsageError, Values, str } from './cli-io.js';
import { deleteCachedModel, scanCache } from './hub/cache.js';
import { hubCacheDir } from './hub/env.js';
import { HubError, isHubError } from './hub/errors.js';
import { validateHubId } from './hub/ids.js';
import { ResolveOptions, ResolvedModel, resolveModel } from './hub/model.js';
import { HubProgress, ProgressCallback, fmtBytes, progressLine, progressLines } from './hub/progress.js';
import { localModelPath, looksLikeHubId } from './hub/resolve.js';

/** How often a log (stderr not a terminal) gets a line of bytes so far, between a file's start and end. */
const LOG_EVERY_MS = 5000;

/** Download progress on stderr. `end()` finishes a redrawn line that is still open. */
export function cliProgress(io: Io): { onProgress: ProgressCallback; end(): void } {
  if (!io.tty) return { onProgress: progressLines((s) => io.stderr(`${s}\n`), { everyMs: LOG_EVERY_MS }), end: () => undefined };
  let open = false; // a line is drawn without its newline
  const started = new Set<string>();
  const onProgress = (p: HubProgress) => {
    if (p.phase === 'download') {
      started.add(p.file);
      io.stderr(`\r${progressLine(p)}\x1b[K`);
      open = true;
    } else if (p.phase === 'done' && started.delete(p.file)) {
      io.stderr(`\r${p.id}: ${p.file} ${fmtBytes(p.fileTotal ?? p.fileBytes)} done${p.bytesPerSecond > 0 ? ` (${fmtBytes(p.bytesPerSecond)}/s)` : ''}\x1b[K\n`);
      open = false;
    } else if (p.phase === 'wait') {
      io.stderr(`\r${p.id}: ${p.file}: waiting for another process that is downloading it\x1b[K`);
      open = true;
    }
  };
  return { onProgress, end: () => { if (open) io.stderr('\n'); open = false; } };
}

type Sig = 'SIGINT' | 'SIGTERM';
const SIGNAL_EXIT: Record<Sig, number> = { SIGINT: 130, SIGTERM: 143 };
const signalName = (s: Sig) => (s === 'SIGINT' ? 'Ctrl-C (SIGINT)' : 'SIGTERM');

/**
 * Runs `f` with an AbortSignal that the first Ctrl-C or SIGTERM fires; a download cancelled that
 * way becomes an InterruptedError (exit 130 or 143). A second signal ends the process by itself.
 */
export async function interruptible<T>(f: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let by: Sig | null = null;
  const handler = (sig: Sig) => () => {
    if (by) {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.kill(process.pid, sig);
      return;
    }
    by = sig;
    ac.abort(new Error(signalName(sig)));
  };
  const onInt = handler('SIGINT'), onTerm = handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await f(ac.signal);
  } catch (e) {
    if (by && isHubError(e, 'aborted')) throw new InterruptedError(SIGNAL_EXIT[by], `interrupted by ${signalName(by)}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

/** A Hub id resolved with progress on stderr and Ctrl-C cancelling the download. */
async function resolveWithProgress(id: string, options: ResolveOptions, io: Io): Promise<ResolvedModel> {
  const progress = cliProgress(io);
  try {
    return await interruptible((signal) => resolveModel(id, { ...options, onProgress: progress.onProgress, signal }));
  } finally {
    progress.end();
  }
}

const commitOf = (r: ResolvedModel) => `revision "${r.revision}"${r.commit && r.commit !== r.revision ? `, commit ${r.commit}` : ''}`;

/** The --revision and --offline flags of a command that takes a checkpoint. */
export interface HubFlags { revision?: string; offline: boolean }
/** --revision and --offline of a command line. */
export const hubFlags = (v: Values): HubFlags => ({ revision: str(v, 'revision'), offline: v['offline'] === true });

/**
 * A command's checkpoint argument as a folder: a path that exists (or any name that cannot be a
 * Hub id) is the local folder, as before; a Hub id is its snapshot in the Hugging Face cache,
 * downloaded when missing.
 */
export async function checkpointFolder(value: string, flags: HubFlags, io: Io): Promise<string> {
  if (existsSync(value) || !looksLikeHubId(value)) {
    const folder = localModelPath(value, 'the checkpoint');
    if (flags.revision !== undefined) io.stderr(`warning: --revision ${flags.revision} is ignored: ${value} is a local folder, not a Hugging Face Hub id\n`);
    return folder;
  }
  const r = await resolveWithProgress(value, { revision: flags.revision, ...(flags.offline ? { offline: true } : {}), purpose: 'model', what: 'the checkpoint' }, io);
  if (r.downloaded.length) io.stderr(`${value} (${commitOf(r)}): downloaded ${r.downloaded.length} ${r.downloaded.length === 1 ? 'file' : 'files'} into ${r.folder}\n`);
  return r.folder;
}

/** `bert-lab download ID`: the model's files into the Hugging Face cache; prints the snapshot folder. */
export async function downloadCommand(id: string, flags: HubFlags, io: Io): Promise<number> {
  try {
    validateHubId(id);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  // Like huggingface-cli download: ask the Hub where the revision points now (the cache serves offline).
  const r = await resolveWithProgress(id, { revision: flags.revision, ...(flags.offline ? { offline: true } : {}), purpose: 'model', what: id, refresh: true, hubOnly: true }, io);
  io.stderr(`${id} (${commitOf(r)}): ${r.downloaded.length ? `downloaded ${r.downloaded.join(', ')}` : 'already in the Hugging Face cache'}\n`);
  io.stdout(`${r.folder}\n`);
  return 0;
}

const CACHE_COMMANDS = ['ls', 'rm'] as const;

/** `bert-lab cache [ls]` lists the models of the Hugging Face cache; `bert-lab cache rm ID` deletes one. */
export function cacheCommand(sub: string | undefined, id: string | undefined, json: boolean, io: Io): number {
  const dir = hubCacheDir();
  switch (sub ?? 'ls') {
    case 'ls': {
      if (id !== undefined) throw new UsageError(`cache ls takes no model id (got "${id}"); to delete one: bert-lab cache rm ${id}`);
      const models = scanCache(dir);
      if (json) { io.stdout(`${JSON.stringify({ cache: dir, models })}\n`); return 0; }
      if (!models.length) { io.stdout(`no models in the Hugging Face cache (${dir})\n`); return 0; }
      const rows = models.map((m) => {
        const types = [...new Set(m.revisions.map((r) => r.modelType ?? '?'))].join(', ');
        const problems = [...new Set(m.revisions.flatMap((r) => r.problems))];
        return [m.id, m.revisions.map((r) => (r.refs.length ? r.refs.join(',') : r.commit.slice(0, 12))).join(' ') || '(none)', fmtBytes(m.sizeOnDisk), types || '?', problems.length ? `cannot load: ${problems.join('; ')}` : ''];
      });
      const head = ['ID', 'REVISIONS', 'SIZE', 'MODEL TYPE', 'NOTES'];
      const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (r: string[]) => r.map((c, i) => (i === 2 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd();
      io.stdout(`${[head, ...rows].map(line).join('\n')}\n`);
      io.stdout(`${models.length} ${models.length === 1 ? 'model' : 'models'}, ${fmtBytes(models.reduce((a, m) => a + m.sizeOnDisk, 0))} in ${dir}\n`);
      return 0;
    }
    case 'rm': {
      if (id === undefined) throw new UsageError('cache rm needs the id of the model to delete (bert-lab cache rm org/name; bert-lab cache ls lists them)');
      try {
        validateHubId(id);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const m = scanCache(dir).find((x) => x.id === id);
      if (!m) throw new HubError('not-cached', `${id} is not in the Hugging Face cache (${dir}); bert-lab cache ls lists what is`);
      deleteCachedModel(dir, id);
      if (json) io.stdout(`${JSON.stringify({ deleted: id, bytes: m.sizeOnDisk, folder: m.repoDir })}\n`);
      else io.stdout(`deleted ${id} (${fmtBytes(m.sizeOnDisk)}, ${m.revisions.length} ${m.revisions.length === 1 ? 'revision' : 'revisions'}) from ${dir}\n`);
      return 0;
    }
    default:
      throw new UsageError(`no cache command "${sub}"; the cache commands are ${CACHE_COMMANDS.join(' and ')}`);
  }
}

/**
 * The only place in BERT Lab that opens network connections: Node's global `fetch` (undici) to
 * the Hub's resolve endpoint and to where it redirects LFS files. Everything else in the engine
 * and the extension stays offline; test/security.test.ts makes network calls fatal there.
 *
 * Behaviour follows huggingface_hub 1.28 (file_download.py `get_hf_file_metadata`,
 * `_get_metadata_or_catch_error`, `http_get`; utils/_http.py `_httpx_follow_relative_redirects`,
 * `http_backoff`, `hf_raise_for_status`):
 * - metadata: `HEAD {endpoint}/{id}/resolve/{revision}/{file}` with `Accept-Encoding: identity`,
 *   redirects followed only while they stay on the Hub (a renamed repo; 1.x followed relative
 *   ones only, 2.0 any to the same or a Hub host), never to a CDN; commit = X-Repo-Commit;
 *   etag = X-Linked-Etag, else ETag, with a leading "W/" and the quotes stripped; size =
 *   X-Linked-Size, else Content-Length unless the answer is a redirect; download location = the
 *   Location header, else the URL itself. The Authorization header is dropped when that location
 *   is on another host (a signed CDN URL).
 * - errors by X-Error-Code first (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo), then
 *   by status (401, 403, 404, 416, 5xx).
 * - retries: 408, 429, 500, 502, 503, 504 and dropped / timed-out connections, at most `retries`
 *   more times, waiting base, 2·base, 4·base … up to `maxDelayMs` (Retry-After when the server
 *   sends one, bounded by the same cap). Python: 5 retries, 1 s doubling to 8 s.
 * - timeouts: HF_HUB_ETAG_TIMEOUT for the HEAD, HF_HUB_DOWNLOAD_TIMEOUT of silence while reading.
 */
import { HubError } from './errors.js';
import { resolveUrl } from './ids.js';

export interface NetOptions {
  endpoint: string;
  token?: string;
  signal?: AbortSignal;
  /** Extra attempts after the first on 408/429/5xx and dropped connections (default 5). */
  retries: number;
  /** First wait between attempts (default 1000 ms), doubled each time up to maxDelayMs (default 8000 ms). */
  baseDelayMs: number;
  maxDelayMs: number;
  metadataTimeoutMs: number;
  readTimeoutMs: number;
}

export interface FileMeta {
  filename: string;
  commit: string;
  /** Normalised ETag: the blob's name in the cache (sha256 for LFS files, git blob sha1 otherwise). */
  etag: string;
  size: number;
  /** Where to GET the bytes (the CDN URL for LFS files). */
  location: string;
  /** Whether to send the token with the GET (not to another host). */
  sendToken: boolean;
  /** An LFS file (X-Linked-Etag present): the etag is its sha256. */
  lfs: boolean;
}
export type HeadResult = { found: true; meta: FileMeta } | { found: false; commit?: string };

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const USER_AGENT = `bert-lab; node/${process.versions.node}`;

/** A condition worth another attempt (5xx, 429, dropped connection, timeout). */
export class Transient extends Error {
  override name = 'Transient';
  constructor(message: string, readonly kind: 'status' | 'network', readonly opts: { retryAfterMs?: number; restart?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
  }
}

/** huggingface_hub's `_normalize_etag`: `W/"abc"` and `"abc"` both become `abc`. */
export function normalizeEtag(etag: string | null | undefined): string | undefined {
  if (etag === null || etag === undefined) return undefined;
  return etag.replace(/^[W/]+/, '').replace(/^"+|"+$/g, '');
}

export const abortedError = (what: string) => new HubError('aborted', `${what}: cancelled`);

/** Waits `ms`, or throws HubError('aborted') when `signal` fires first. */
export function delay(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((res, rej) => {
    if (signal?.aborted) return rej(abortedError(what));
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); res(); }, ms);
    const onAbort = () => { clearTimeout(t); rej(abortedError(what)); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The wait before attempt `n` (1-based retry number). */
export function backoffMs(opts: NetOptions, n: number, retryAfterMs?: number): number {
  const exp = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (n - 1));
  return retryAfterMs !== undefined ? Math.min(opts.maxDelayMs, retryAfterMs) : exp;
}

function retryAfter(res: Response): number | undefined {
  const v = res.headers.get('retry-after');
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

/** A fetch whose signal is the caller's and a timer's; `arm()` restarts the timer (activity). */
export interface Timed { res: Response; arm(): void; done(): void; timedOut(): boolean }

async function timedFetch(url: string, init: RequestInit, timeoutMs: number, signal: AbortSignal | undefined, what: string): Promise<Timed> {
  const ac = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { timedOut = true; ac.abort(new Error('timeout')); }, timeoutMs);
    timer.unref?.();
  };
  const onAbort = () => ac.abort(signal!.reason);
  if (signal?.aborted) throw abortedError(what);
  signal?.addEventListener('abort', onAbort, { once: true });
  const done = () => { if (timer) clearTimeout(timer); signal?.removeEventListener('abort', onAbort); };
  arm();
  try {
    const res = await fetch(url, { ...init, signal: ac.signal });
    return { res, arm, done, timedOut: () => timedOut };
  } catch (e) {
    done();
    if (signal?.aborted) throw abortedError(what);
    if (timedOut) throw new Transient(`${what}: no answer within ${Math.round(timeoutMs / 1000)} s`, 'network', { cause: e });
    const desc = describeNetworkError(e);
    // A host name that does not resolve will not resolve in a few seconds either: no retries, say what to do.
    if (/\b(ENOTFOUND|EAI_AGAIN)\b/.test(desc)) throw new HubError('network', `${what}: cannot reach ${new URL(url).host} (${desc}). ${NO_NETWORK_HINT}`, { cause: e });
    throw new Transient(`${what}: ${desc}`, 'network', { cause: e });
  }
}

const NO_NETWORK_HINT = 'Check the network connection, set HF_ENDPOINT to use a mirror, or set HF_HUB_OFFLINE=1 to use only models already in the Hugging Face cache';

/** "connection refused (ECONNREFUSED)", "other side closed", … from undici's error chain. */
export function describeNetworkError(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; cur && i < 4; i++) {
    const err = cur as { message?: string; code?: string; errors?: unknown[]; cause?: unknown };
    const msg = [err.message, err.code ? `(${err.code})` : ''].filter(Boolean).join(' ');
    if (msg && !parts.includes(msg)) parts.push(msg);
    cur = err.cause ?? err.errors?.[0];
  }
  return parts.join(': ') || String(e);
}

const HUB_HOSTS = new Set(['hf.co', 'huggingface.co', 'hub-ci.huggingface.co']);

/**
 * Whether `target` is served by the Hub itself: the same host (and port) as `url`, the endpoint's,
 * or a known Hub host (huggingface_hub 2.0's `_is_same_or_hub_host`, which compares host names;
 * the port is compared here too so a loopback CDN on another port counts as another host).
 */
export function onHub(url: string, target: string, endpoint: string): boolean {
  const t = new URL(target);
  if (t.host === new URL(url).host || t.host === new URL(endpoint).host) return true;
  return HUB_HOSTS.has(t.hostname.toLowerCase()) && (t.port === '' || t.port === '443');
}

export interface ErrorContext { id: string; revision: string; filename: string; endpoint: string; tokenSent: boolean }

/** The HubError an unsuccessful answer means, worded for the user. */
export function statusError(res: Response, ctx: ErrorContext): HubError {
  const code = res.headers.get('x-error-code');
  const serverMsg = res.headers.get('x-error-message');
  const page = `${ctx.endpoint}/${ctx.id}`;
  const said = serverMsg ? ` (the Hub says: ${serverMsg})` : '';
  const tokenHint = ctx.tokenSent
    ? 'the token sent (HF_TOKEN or the token file of `hf auth login`) was refused or has no access'
    : 'no token was sent: set HF_TOKEN (a read token from https://huggingface.co/settings/tokens) or log in with `hf auth login`';
  if (code === 'RevisionNotFound') return new HubError('revision-not-found', `${ctx.id}: revision "${ctx.revision}" does not exist (no such branch, tag or commit)${said}. See the branches and tags at ${page}/tree/main.`);
  if (code === 'EntryNotFound') return new HubError('entry-not-found', `${ctx.id} at revision "${ctx.revision}" has no file ${ctx.filename}${said}.`);
  if (code === 'GatedRepo') {
    return new HubError(res.status === 403 ? 'forbidden' : 'unauthorized', `${ctx.id} is a gated model: ${res.status === 403 ? 'your account has not been granted access' : tokenHint}${said}. Accept the model's terms on its page ${page} (logged in), then set HF_TOKEN to a token of that account.`);
  }
  if (code === 'RepoNotFound') return new HubError('repo-not-found', `${ctx.id}: no such model repository on ${ctx.endpoint}${said}. Check the id; if it is private or gated, ${tokenHint}.`);
  if (res.status === 401) return new HubError('unauthorized', `${ctx.id}: authentication required (401)${said}; ${tokenHint}. If the model is gated, accept its terms on ${page}.`);
  if (res.status === 403) return new HubError('forbidden', `${ctx.id}: access denied (403)${said}. Accept the model's terms on its page ${page} and make sure HF_TOKEN is a token of that account with read access.`);
  if (res.status === 404) return new HubError('repo-not-found', `${ctx.id}: ${ctx.filename} at revision "${ctx.revision}" was not found (404) on ${ctx.endpoint}${said}; check the id and revision.`);
  if (res.status === 416) return new HubError('server', `${ctx.id}: ${ctx.filename}: the server refused the byte range asked for (416)${said}`);
  return new HubError('server', `${ctx.id}: ${ctx.filename}: the server answered ${res.status} ${res.statusText}${said} (${ctx.endpoint})`);
}

function baseHeaders(token: string | undefined): Record<string, string> {
  const h: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity' };
  if (token) h['authorization'] = `Bearer ${token}`;
  return h;
}

/** The HubError after the last attempt failed transiently. */
export function giveUp(e: Transient, attempts: number): HubError {
  return new HubError(e.kind === 'status' ? 'server' : 'network', `${e.message} (gave up after ${attempts} attempts)${e.kind === 'network' ? `. ${NO_NETWORK_HINT}` : ''}`, { cause: e });
}

/** Runs `attempt` with the retry policy: Transient failures are retried with backoff. */
export async function withRetries<T>(opts: NetOptions, what: string, attempt: () => Promise<T>, onRetry?: (n: number, err: Transient, waitMs: number) => void): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof Transient)) throw e;
      if (n >= opts.retries) throw giveUp(e, n + 1);
      const wait = backoffMs(opts, n + 1, e.opts.retryAfterMs);
      onRetry?.(n + 1, e, wait);
      await delay(wait, opts.signal, what);
    }
  }
}

/**
 * HEAD of one file. `{ found: false }` for EntryNotFound (with the commit the Hub reported, for
 * .no_exist); other errors throw HubError after the retries.
 */
export async function headFile(opts: NetOptions, id: string, revision: string, filename: string): Promise<HeadResult> {
  const ctx: ErrorContext = { id, revision, filename, endpoint: opts.endpoint, tokenSent: !!opts.token };
  const what = `${id}: ${filename}`;
  return withRetries(opts, what, async () => {
    let url = resolveUrl(opts.endpoint, id, revision, filename);
    for (let hops = 0; ; hops++) {
      const { res, done } = await timedFetch(url, { method: 'HEAD', redirect: 'manual', headers: baseHeaders(opts.token) }, opts.metadataTimeoutMs, opts.signal, what);
      done();
      if (RETRY_STATUS.has(res.status)) throw new Transient(`${what}: the Hub answered ${res.status} ${res.statusText}`, 'status', { retryAfterMs: retryAfter(res) });
      const loc = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && loc) {
        // Followed when it stays on the Hub (a renamed repo); a CDN's signed URL is not (its metadata is on this answer).
        const next = new URL(loc, url).toString();
        if (onHub(url, next, opts.endpoint)) {
          if (hops >= 20) throw new HubError('server', `${what}: too many redirects (${url})`);
          url = next;
          continue;
        }
      }
      if (res.status === 404 && res.headers.get('x-error-code') === 'EntryNotFound') {
        return { found: false, commit: res.headers.get('x-repo-commit') ?? undefined };
      }
      if (!(res.status >= 200 && res.status < 400)) throw statusError(res, ctx);
      const commit = res.headers.get('x-repo-commit');
      const linked = res.headers.get('x-linked-etag');
      const etag = normalizeEtag(linked ?? res.headers.get('etag'));
      const redirect = res.status >= 300;
      const sizeText = res.headers.get('x-linked-size') ?? (redirect ? null : res.headers.get('content-length'));
      const size = sizeText !== null && /^\d+$/.test(sizeText) ? Number(sizeText) : undefined;
      const notHub = `${opts.endpoint} does not answer like the Hugging Face Hub (check HF_ENDPOINT and any proxy)`;
      if (!commit || !/^[0-9a-f]{40}$/.test(commit)) throw new HubError('protocol', `${what}: no valid X-Repo-Commit header in the answer; ${notHub}`);
      if (!etag || !/^[A-Za-z0-9_.-]+$/.test(etag) || /^\.+$/.test(etag)) throw new HubError('protocol', `${what}: no usable ETag (${JSON.stringify(etag)}); ${notHub}`);
      if (size === undefined) throw new HubError('protocol', `${what}: no file size (X-Linked-Size / Content-Length); ${notHub}`);
      const location = loc ? new URL(loc, url).toString() : url;
      const sendToken = onHub(url, location, opts.endpoint);
      return { found: true, meta: { filename, commit, etag, size, location, sendToken, lfs: linked !== null } };
    }
  });
}

/** The body of one GET attempt: status, where it starts, and its chunks (read timeout armed per chunk). */
export interface Body { start: number; chunks: AsyncIterable<Uint8Array>; cancel(): void }

/**
 * One GET of `meta.location` from byte `from` (a `Range: bytes=from-` when > 0). A 206 resumes
 * at `from`; a 200 restarts at 0 (the server ignored the range); 416 restarts too. Transient
 * failures throw Transient (the caller retries keeping its bytes); others throw HubError.
 */
export async function getBody(opts: NetOptions, meta: FileMeta, id: string, from: number): Promise<Body> {
  const ctx: ErrorContext = { id, revision: meta.commit, filename: meta.filename, endpoint: opts.endpoint, tokenSent: meta.sendToken && !!opts.token };
  const what = `${id}: ${meta.filename}`;
  const headers = baseHeaders(meta.sendToken ? opts.token : undefined);
  if (from > 0) headers['range'] = `bytes=${from}-`;
  const t = await timedFetch(meta.location, { method: 'GET', redirect: 'follow', headers }, opts.readTimeoutMs, opts.signal, what);
  const { res } = t;
  const fail = (err: Error): never => { t.done(); void res.body?.cancel().catch(() => undefined); throw err; };
  if (RETRY_STATUS.has(res.status)) fail(new Transient(`${what}: the server answered ${res.status} ${res.statusText}`, 'status', { retryAfterMs: retryAfter(res) }));
  if (res.status === 416 && from > 0) fail(new Transient(`${what}: range from ${from} refused (416); starting over`, 'status', { restart: true }));
  if (res.status !== 200 && res.status !== 206) fail(statusError(res, ctx));
  let start = 0;
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)?\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== from) fail(new HubError('server', `${what}: asked for bytes from ${from}, got Content-Range ${JSON.stringify(res.headers.get('content-range'))}`));
    start = from;
  }
  const body = res.body;
  if (!body) fail(new HubError('server', `${what}: the answer has no body`));
  const signal = opts.signal;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const reader = body!.getReader();
    try {
      for (;;) {
        let r: { done: boolean; value?: Uint8Array };
        try {
          r = await reader.read();
        } catch (e) {
          if (signal?.aborted) throw abortedError(what);
          throw new Transient(t.timedOut() ? `${what}: no data for ${Math.round(opts.readTimeoutMs / 1000)} s` : `${what}: the connection dropped (${describeNetworkError(e)})`, 'network', { cause: e });
        }
        if (r.done) return;
        t.arm();
        if (r.value) yield r.value;
      }
    } finally {
      t.done();
      reader.releaseLock();
      void body!.cancel().catch(() => undefined);
    }
  }
  return { start, chunks: chunks(), cancel: () => { t.done(); void body!.cancel().catch(() => undefined); } };
}

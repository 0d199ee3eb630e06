/**
 * A loopback stand-in for the Hugging Face Hub's resolve endpoints, for test/hub.test.ts and
 * bench/hub.ts. Two HTTP servers on loopback only: the "Hub" on 127.0.0.1 and a "CDN" on
 * 127.0.0.2 (or, where that address is missing, another port of 127.0.0.1).
 *
 * `HEAD|GET /{id}/resolve/{revision}/{file}` on the Hub answers like huggingface.co:
 * - a plain (git) file: 200 with `ETag: "<git blob sha1>"`, `X-Repo-Commit`, `Content-Length`;
 * - an LFS file: 302 to `{cdn}/lfs/<sha256>?X-Amz-Signature=…` with `X-Repo-Commit`,
 *   `X-Linked-Etag: "<sha256>"`, `X-Linked-Size`, a weak `ETag: W/"…"` and the Content-Length
 *   of the redirect's own body (which a client must not take for the file's size);
 * - errors with `X-Error-Code`: RepoNotFound (404), RevisionNotFound (404), EntryNotFound
 *   (404, with X-Repo-Commit), GatedRepo (401 without a token, 403 with one not granted).
 * The revision may be a branch, a tag (refs), a full commit hash, or "refs/pr/N" URL-encoded.
 * A renamed repo answers with a relative 307 to its new name.
 * The CDN serves `GET|HEAD /lfs/<sha256>` and honours `Range: bytes=N-` (206 + Content-Range).
 *
 * Faults, each consumed as it fires: a status (e.g. 503) `times` times, a connection dropped
 * after N body bytes, a body with one byte flipped, a body paused after N bytes until the test
 * releases it. Every request is logged (host, method, path, Range, Authorization, status).
 * Bounded: the servers close themselves after `lifetimeMs` (default 120 s) and a paused body
 * resumes on its own after `pauseLimitMs` (default 30 s); close() ends every connection.
 */
import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export interface RepoCommit { files: Record<string, Buffer | string> }
export interface RepoSpec {
  id: string;
  /** Oldest first. Commit i's hash is sha1("commit <i> <id>"). */
  commits: RepoCommit[];
  /** Branch and tag names → commit index. */
  refs: Record<string, number>;
  /** Which files are LFS (default: *.safetensors, *.bin, *.model, *.onnx). */
  lfs?: (file: string) => boolean;
  /** gated: 401 without a token, 403 with a token not in `tokens`. */
  access?: 'public' | 'gated';
}

export interface LogEntry { host: 'hub' | 'cdn'; method: string; path: string; range?: string; auth?: string; status: number }

export interface FaultMatch { host?: 'hub' | 'cdn'; method?: string; /** substring of the path */ path?: string }
export type Fault =
  | { kind: 'status'; match: FaultMatch; status: number; times: number; retryAfter?: string }
  | { kind: 'drop'; match: FaultMatch; afterBytes: number }
  | { kind: 'corrupt'; match: FaultMatch }
  | { kind: 'pause'; match: FaultMatch; afterBytes: number; reached: () => void; until: Promise<void> };

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
export const commitHash = (id: string, i: number): string => createHash('sha1').update(`commit ${i} ${id}`).digest('hex');
const defaultLfs = (f: string) => /\.(safetensors|bin|model|onnx)$/.test(f);

export interface HubServer {
  endpoint: string;
  cdn: string;
  log: LogEntry[];
  faults: Fault[];
  /** Tokens a gated repo accepts. */
  tokens: Set<string>;
  /** Adds a pause fault; `reached` resolves when the body has stopped, `release()` lets it go on. */
  pause(match: FaultMatch, afterBytes: number): { reached: Promise<void>; release: () => void };
  /** Requests of the log that match. */
  requests(match: FaultMatch): LogEntry[];
  close(): Promise<void>;
}

const matches = (m: FaultMatch, host: 'hub' | 'cdn', method: string, path: string) =>
  (!m.host || m.host === host) && (!m.method || m.method === method) && (!m.path || path.includes(m.path));

export async function startHubServer(repos: RepoSpec[], opts: { lifetimeMs?: number; pauseLimitMs?: number; /** old id → new id: a renamed repo, answered with a relative 307 like the Hub's */ renamed?: Record<string, string> } = {}): Promise<HubServer> {
  const byId = new Map(repos.map((r) => [r.id, r]));
  const blobs = new Map<string, Buffer>();
  // Every file's bytes and hashes, computed once per commit (not per request); commits added
  // to a spec later (a branch moving) are picked up when first asked for.
  type Stored = Map<string, { data: Buffer; sha: string; git: string }>;
  const stored = new WeakMap<RepoCommit, Stored>();
  const filesOf = (r: RepoSpec, c: RepoCommit): Stored => {
    let m = stored.get(c);
    if (m) return m;
    m = new Map();
    for (const [f, raw] of Object.entries(c.files)) {
      const data = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
      const lfs = (r.lfs ?? defaultLfs)(f);
      const e = { data, sha: lfs ? sha256(data) : '', git: lfs ? '' : gitSha1(data) };
      m.set(f, e);
      if (lfs) blobs.set(e.sha, data);
    }
    stored.set(c, m);
    return m;
  };
  for (const r of repos) for (const c of r.commits) filesOf(r, c);
  const log: LogEntry[] = [];
  const faults: Fault[] = [];
  const tokens = new Set<string>();
  const pauseLimitMs = opts.pauseLimitMs ?? 30_000;

  const fault = (host: 'hub' | 'cdn', method: string, path: string): Fault | undefined => {
    const i = faults.findIndex((f) => matches(f.match, host, method, path));
    if (i < 0) return undefined;
    const f = faults[i]!;
    if (f.kind === 'status') { if (--f.times <= 0) faults.splice(i, 1); } else faults.splice(i, 1);
    return f;
  };

  /** Sends `data` (from byte `start`) honouring the body faults. */
  async function sendBody(req: IncomingMessage, res: ServerResponse, data: Buffer, f: Fault | undefined): Promise<void> {
    if (req.method === 'HEAD') { res.end(); return; }
    if (f?.kind === 'corrupt') {
      const bad = Buffer.from(data);
      bad[bad.length >> 1] = bad[bad.length >> 1]! ^ 0xff;
      res.end(bad);
      return;
    }
    if (f?.kind === 'drop') {
      res.write(data.subarray(0, f.afterBytes), () => res.socket?.destroy());
      return;
    }
    if (f?.kind === 'pause') {
      await new Promise<void>((ok) => res.write(data.subarray(0, f.afterBytes), () => ok()));
      f.reached();
      await Promise.race([f.until, new Promise((ok) => setTimeout(ok, pauseLimitMs).unref())]);
      if (!res.destroyed) res.end(data.subarray(f.afterBytes));
      return;
    }
    res.end(data);
  }

  /** 200 or 206 for `data` according to the Range header. */
  function ranged(req: IncomingMessage, res: ServerResponse, data: Buffer, headers: Record<string, string>): Buffer | undefined {
    const range = req.headers.range;
    const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
    if (range && !m) { res.writeHead(400).end(); return undefined; }
    const start = m ? Number(m[1]) : 0;
    if (start > 0 && start >= data.length) { res.writeHead(416, { 'Content-Range': `bytes */${data.length}` }).end(); return undefined; }
    if (start > 0) {
      res.writeHead(206, { ...headers, 'Content-Length': String(data.length - start), 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}`, 'Accept-Ranges': 'bytes' });
      return data.subarray(start);
    }
    res.writeHead(200, { ...headers, 'Content-Length': String(data.length), 'Accept-Ranges': 'bytes' });
    return data;
  }

  const handle = (host: 'hub' | 'cdn') => async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const entry: LogEntry = { host, method: req.method ?? '', path, range: req.headers.range, auth: req.headers.authorization, status: 0 };
    log.push(entry);
    res.on('finish', () => { entry.status = res.statusCode; });
    res.on('close', () => { if (!entry.status) entry.status = res.statusCode; });
    const f = fault(host, entry.method, path);
    if (f?.kind === 'status') {
      res.writeHead(f.status, f.retryAfter ? { 'Retry-After': f.retryAfter } : {}).end(`status ${f.status}`);
      return;
    }
    if (host === 'cdn') {
      const m = /^\/lfs\/([0-9a-f]{64})$/.exec(path);
      const data = m ? blobs.get(m[1]!) : undefined;
      if (!data || !url.searchParams.get('X-Amz-Signature')) { res.writeHead(404).end(); return; }
      const body = ranged(req, res, data, { 'Content-Type': 'application/octet-stream', ETag: `"${m![1]}"` });
      if (body) await sendBody(req, res, body, f);
      return;
    }
    const parts = path.split('/').slice(1);
    const k = parts[1] === 'resolve' ? 1 : parts[2] === 'resolve' ? 2 : -1;
    if (k < 0 || parts.length < k + 3) { res.writeHead(404).end(); return; }
    const id = parts.slice(0, k).join('/');
    const rev = decodeURIComponent(parts[k + 1]!);
    const file = parts.slice(k + 2).map(decodeURIComponent).join('/');
    const err = (status: number, code: string, message: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'X-Error-Code': code, 'X-Error-Message': message, 'Content-Type': 'application/json', ...extra }).end(req.method === 'HEAD' ? undefined : JSON.stringify({ error: message }));
    };
    const moved = opts.renamed?.[id];
    if (moved) {
      res.writeHead(307, { Location: `/${moved}/resolve/${parts[k + 1]}/${parts.slice(k + 2).join('/')}`, 'Content-Length': '0' }).end();
      return;
    }
    const repo = byId.get(id);
    if (!repo) return err(404, 'RepoNotFound', 'Repository not found');
    if (repo.access === 'gated') {
      const auth = req.headers.authorization;
      if (!auth) return err(401, 'GatedRepo', `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      if (!tokens.has(auth.replace(/^Bearer /, ''))) return err(403, 'GatedRepo', `Access to model ${id} is restricted and you are not in the authorized list. Visit ${endpoint}/${id} to ask for access.`);
    }
    let ci = repo.refs[rev];
    if (ci === undefined) ci = repo.commits.findIndex((_, i) => commitHash(id, i) === rev);
    if (ci === undefined || ci < 0) return err(404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    const commit = commitHash(id, ci);
    const stored1 = filesOf(repo, repo.commits[ci]!).get(file);
    if (stored1 === undefined) return err(404, 'EntryNotFound', `${file} does not exist on "${rev}"`, { 'X-Repo-Commit': commit });
    const { data, sha, git } = stored1;
    if (sha) {
      const redirectBody = `Found. Redirecting to ${cdn}/lfs/${sha}`;
      res.writeHead(302, {
        Location: `${cdn}/lfs/${sha}?X-Amz-Signature=loopback`, 'X-Repo-Commit': commit, 'X-Linked-Etag': `"${sha}"`, 'X-Linked-Size': String(data.length),
        ETag: `W/"${gitSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize ${data.length}\n`))}"`, 'Content-Length': String(redirectBody.length),
      }).end(req.method === 'HEAD' ? undefined : redirectBody);
      return;
    }
    const body = ranged(req, res, data, { 'X-Repo-Commit': commit, ETag: `"${git}"`, 'Content-Type': 'text/plain; charset=utf-8' });
    if (body) await sendBody(req, res, body, f);
  };

  const listen = (s: Server, host: string) => new Promise<number>((ok, fail) => { s.once('error', fail); s.listen(0, host, () => { s.removeListener('error', fail); ok((s.address() as AddressInfo).port); }); });
  const hubServer = createServer((q, r) => { void handle('hub')(q, r).catch(() => r.destroy()); });
  const cdnServer = createServer((q, r) => { void handle('cdn')(q, r).catch(() => r.destroy()); });
  hubServer.maxConnections = cdnServer.maxConnections = 64;
  const endpoint = `http://127.0.0.1:${await listen(hubServer, '127.0.0.1')}`;
  // The CDN on another loopback address where the system has one (Linux: all of 127/8), as a
  // real CDN is another host; else on another port of 127.0.0.1.
  let cdnHost = '127.0.0.2', cdnPort: number;
  try { cdnPort = await listen(cdnServer, cdnHost); } catch { cdnHost = '127.0.0.1'; cdnPort = await listen(cdnServer, cdnHost); }
  const cdn = `http://${cdnHost}:${cdnPort}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    clearTimeout(life);
    for (const s of [hubServer, cdnServer]) { s.closeAllConnections(); await new Promise<void>((ok) => s.close(() => ok())); }
  };
  const life = setTimeout(() => { void close(); }, opts.lifetimeMs ?? 120_000);
  life.unref();
  return {
    endpoint, cdn, log, faults, tokens, close,
    pause(match, afterBytes) {
      let reached!: () => void, release!: () => void;
      const r = new Promise<void>((ok) => { reached = ok; });
      const until = new Promise<void>((ok) => { release = ok; });
      faults.push({ kind: 'pause', match, afterBytes, reached, until });
      return { reached: r, release };
    },
    requests: (m) => log.filter((e) => matches(m, e.host, e.method, e.path)),
  };
}

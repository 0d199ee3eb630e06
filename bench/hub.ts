/**
 * node out/bench/hub.js — download throughput of the Hub module (src/engine/hub) from the
 * loopback Hub of test/hub-server.ts, next to a plain copy of the same bytes on this disk:
 * fs.copyFileSync (kernel copy) and a streamed copy (read + write in 1 MiB pieces, like the
 * downloader's writes), plus sha256 alone (the downloader checks it on every LFS file).
 * The model is a BENCH_MB (default 256) MB safetensors file with the fixture's config and
 * tokenizer; the server runs in a worker thread; every round downloads into a fresh cache. Best of BENCH_ROUNDS (default 3).
 * Asserts nothing.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModel } from '../src/engine/hub/index.js';
import { encodeSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { isMainThread, parentPort, workerData, Worker } from 'node:worker_threads';
import { LogEntry, startHubServer } from '../test/hub-server.js';

/** The loopback Hub runs in a worker thread, so serving does not compete with the download for one event loop. */
interface ServerHandle { endpoint: string; cdn: string; log(): Promise<LogEntry[]>; close(): Promise<void> }
async function serverInWorker(files: Record<string, Buffer>): Promise<ServerHandle> {
  const w = new Worker(__filename, { workerData: { files } });
  const ask = <T>(cmd: string) => new Promise<T>((ok) => { w.once('message', (m: T) => ok(m)); w.postMessage(cmd); });
  const { endpoint, cdn } = await new Promise<{ endpoint: string; cdn: string }>((ok, fail) => { w.once('message', ok); w.once('error', fail); });
  return { endpoint, cdn, log: () => ask<LogEntry[]>('log'), close: async () => { await ask('close'); await w.terminate(); } };
}
if (!isMainThread) {
  void (async () => {
    const files = Object.fromEntries(Object.entries(workerData.files as Record<string, Uint8Array>).map(([k, v]) => [k, Buffer.from(v)]));
    const srv = await startHubServer([{ id: 'bench/model', commits: [{ files }], refs: { main: 0 } }], { lifetimeMs: 30 * 60_000 });
    parentPort!.on('message', async (cmd: string) => {
      if (cmd === 'log') parentPort!.postMessage(srv.log);
      if (cmd === 'close') { await srv.close(); parentPort!.postMessage('closed'); }
    });
    parentPort!.postMessage({ endpoint: srv.endpoint, cdn: srv.cdn });
  })();
}

const MB = Number(process.env['BENCH_MB'] ?? 256), ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const FIX = join(__dirname, '..', '..', 'test', 'fixtures', 'hf-tiny-bert');
const rate = (bytes: number, ms: number) => `${(bytes / 1e6 / (ms / 1000)).toFixed(0).padStart(6)} MB/s`;

async function main(): Promise<void> {
  const n = Math.floor((MB * 1e6) / 4);
  const values = new Float32Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; values[i] = x / 2 ** 32 - 0.5; }
  const model = Buffer.from(encodeSafetensors({ w: { shape: [n], data: values } }, { format: 'pt' }));
  const files: Record<string, Buffer> = { 'model.safetensors': model };
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json']) files[f] = readFileSync(join(FIX, f));
  const srv = await serverInWorker(files);
  const work = mkdtempSync(join(tmpdir(), 'bertlab-bench-hub-'));
  const best = { resolve: Infinity, file: Infinity, fetch: Infinity, copy: Infinity, stream: Infinity, sha: Infinity };
  let heads = 0, gets = 0;
  try {
    const src = join(work, 'src.bin');
    writeFileSync(src, model);
    for (let r = 0; r < ROUNDS; r++) {
      const cache = join(work, `cache-${r}`);
      let fileStart = 0, fileEnd = 0;
      const mark = (await srv.log()).length;
      const t0 = performance.now();
      await resolveModel('bench/model', {
        cacheDir: cache, endpoint: srv.endpoint, env: {}, token: false,
        onProgress: (p) => {
          if (p.file !== 'model.safetensors') return;
          if (p.phase === 'download' && !fileStart) fileStart = performance.now();
          if (p.phase === 'done') fileEnd = performance.now();
        },
      });
      best.resolve = Math.min(best.resolve, performance.now() - t0);
      const log = (await srv.log()).slice(mark);
      heads = log.filter((e) => e.method === 'HEAD').length;
      gets = log.filter((e) => e.method === 'GET').length;
      best.file = Math.min(best.file, fileEnd - fileStart);
      rmSync(cache, { recursive: true, force: true });

      // The transport alone: the same GET from the loopback CDN, bytes read and dropped.
      let t = performance.now();
      const res = await fetch(`${srv.cdn}/lfs/${createHash('sha256').update(model).digest('hex')}?X-Amz-Signature=bench`);
      const t1 = performance.now();
      const reader = res.body!.getReader();
      while (!(await reader.read()).done) { /* drop */ }
      best.fetch = Math.min(best.fetch, performance.now() - t1);

      const dst = join(work, `copy-${r}.bin`);
      t = performance.now();
      copyFileSync(src, dst);
      best.copy = Math.min(best.copy, performance.now() - t);
      rmSync(dst);

      t = performance.now();
      const fin = openSync(src, 'r'), fout = openSync(dst, 'w');
      const buf = Buffer.alloc(1 << 20);
      for (let pos = 0, k; (k = readSync(fin, buf, 0, buf.length, pos)) > 0; pos += k) writeSync(fout, buf, 0, k, pos);
      fsyncSync(fout);
      closeSync(fin); closeSync(fout);
      best.stream = Math.min(best.stream, performance.now() - t);
      rmSync(dst);

      t = performance.now();
      createHash('sha256').update(model).digest('hex');
      best.sha = Math.min(best.sha, performance.now() - t);
    }
  } finally {
    await srv.close();
    rmSync(work, { recursive: true, force: true });
  }
  const total = Object.values(files).reduce((a, b) => a + b.length, 0);
  console.log(`Hub download from the loopback server vs a local copy of the same bytes (${(model.length / 1e6).toFixed(0)} MB safetensors, best of ${ROUNDS}, Node ${process.versions.node})`);
  const line = (what: string, bytes: number, ms: number) => console.log(`  ${what.padEnd(66)} ${rate(bytes, ms)}  (${ms.toFixed(0)} ms)`);
  line(`resolveModel, whole model (${heads} HEAD + ${gets} GET, ${(total / 1e6).toFixed(1)} MB)`, total, best.resolve);
  line('  model.safetensors: GET via the CDN redirect, sha256, write, fsync', model.length, best.file);
  line('fetch alone of the same bytes from the loopback CDN (read, dropped)', model.length, best.fetch);
  line('fs.copyFileSync of the same file', model.length, best.copy);
  line('streamed copy, 1 MiB read + write, fsync', model.length, best.stream);
  line('sha256 alone (in memory)', model.length, best.sha);
}

if (isMainThread) main().catch((e) => { console.error(e); process.exitCode = 1; });

/**
 * Development-only cross-check (never in CI: it needs Python): BERT Lab's Hub cache and Python's
 * huggingface_hub read each other's caches, both downloading from the loopback Hub of
 * test/hub-server.ts (nothing leaves the machine).
 *
 *   python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install huggingface_hub
 *   npm run build:test && PYTHON=/tmp/hfvenv/bin/python node out/scripts/check-hub-python.js
 *
 * 1. Python's `hf_hub_download` fills cache A (main and dev); BERT Lab resolves both offline from
 *    it, to the folders Python returned; the same with HF_HUB_DISABLE_SYMLINKS=1 (plain files).
 * 2. BERT Lab fills cache B; Python finds every file with `local_files_only=True`, sees the
 *    `.no_exist` markers through `try_to_load_from_cache`, lists it with `scan_cache_dir`, and an
 *    online `hf_hub_download` on B makes HEAD requests only (no GET: nothing downloaded again);
 *    blob names and the size on disk agree; a symlink-free cache of BERT Lab reads in Python too.
 * 3. With transformers installed too (pip install torch transformers): HF_HUB_OFFLINE=1 and
 *    HF_HUB_CACHE at Python's cache, `bert-lab predict org/tiny-bert` gives transformers' fill-mask
 *    top-5 (tokens, and scores within 1e-5), and a config naming org/tiny-bert fine-tunes from it.
 * Prints one line per check and exits 1 if any fails.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { resolveModel, scanCache } from '../src/engine/hub/index.js';
import { commitHash, startHubServer } from '../test/hub-server.js';

const FIX = join(__dirname, '..', '..', 'test', 'fixtures', 'hf-tiny-bert');
const FILES = ['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt'];
const PY = process.env['PYTHON'] ?? 'python3';
const ID = 'org/tiny-bert';

async function main(): Promise<void> {
  const files = Object.fromEntries(FILES.map((f) => [f, readFileSync(join(FIX, f))]));
  const devConfig = Buffer.from(JSON.stringify({ ...JSON.parse(files['config.json']!.toString()), bertlab_dev: true }));
  const srv = await startHubServer([{ id: ID, commits: [{ files }, { files: { ...files, 'config.json': devConfig } }], refs: { main: 0, dev: 1 } }]);
  const work = mkdtempSync(join(tmpdir(), 'bertlab-hubpy-'));
  let failed = 0;
  const check = (ok: boolean, what: string, detail = '') => { console.log(`${ok ? 'PASS' : 'FAIL'} ${what}${detail ? ` — ${detail}` : ''}`); if (!ok) failed++; };
  // Asynchronous: the loopback Hub runs in this process and must keep answering.
  const py = (code: string, env: Record<string, string> = {}) => new Promise<unknown>((ok, fail) => {
    const child = spawn(PY, ['-c', code], { env: { ...process.env, HF_ENDPOINT: srv.endpoint, HF_HUB_DISABLE_TELEMETRY: '1', HF_HUB_DISABLE_XET: '1', HF_TOKEN: '', ...env } });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill(), 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status !== 0) fail(new Error(`python failed (${status}): ${err}`));
      else ok(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
  try {
    const version = await py('import json, huggingface_hub; print(json.dumps(huggingface_hub.__version__))');
    console.log(`huggingface_hub ${String(version)}, loopback Hub ${srv.endpoint}`);

    // 1. Python writes, BERT Lab reads offline.
    const A = join(work, 'A');
    const paths = await py(`import json
from huggingface_hub import hf_hub_download
out = {}
for rev in ['main', 'dev']:
    out[rev] = [hf_hub_download(${JSON.stringify(ID)}, f, revision=rev, cache_dir=${JSON.stringify(A)}) for f in ${JSON.stringify(FILES)}]
print(json.dumps(out))`) as Record<string, string[]>;
    for (const rev of ['main', 'dev']) {
      const r = await resolveModel(ID, { cacheDir: A, revision: rev, offline: true, env: {} });
      check(r.folder === dirname(paths[rev]![0]!), `BERT Lab resolves Python's cache offline at ${rev}`, r.folder);
      check(r.commit === commitHash(ID, rev === 'main' ? 0 : 1), `  commit of ${rev} from refs/${rev}`);
    }

    // 1b. Python without symlinks (as on Windows without developer mode): plain files in snapshots/.
    const A2 = join(work, 'A2');
    const copies = await py(`import json
from huggingface_hub import hf_hub_download
print(json.dumps([hf_hub_download(${JSON.stringify(ID)}, f, revision='dev', cache_dir=${JSON.stringify(A2)}) for f in ${JSON.stringify(FILES)}]))`, { HF_HUB_DISABLE_SYMLINKS: '1' }) as string[];
    const r2 = await resolveModel(ID, { cacheDir: A2, revision: 'dev', offline: true, env: {} });
    check(r2.folder === dirname(copies[0]!) && !lstatSync(copies[0]!).isSymbolicLink(), 'BERT Lab resolves Python\'s symlink-free cache offline (plain files)', r2.folder);

    // 2. BERT Lab writes, Python reads.
    const B = join(work, 'B');
    const ours = { main: await resolveModel(ID, { cacheDir: B, endpoint: srv.endpoint, env: {}, token: false }), dev: await resolveModel(ID, { cacheDir: B, endpoint: srv.endpoint, env: {}, token: false, revision: 'dev' }) };
    const seen = await py(`import json
from huggingface_hub import hf_hub_download, try_to_load_from_cache, scan_cache_dir, _CACHED_NO_EXIST
out = {'local': {}, 'no_exist': {}}
for rev in ['main', 'dev']:
    out['local'][rev] = [hf_hub_download(${JSON.stringify(ID)}, f, revision=rev, cache_dir=${JSON.stringify(B)}, local_files_only=True) for f in ${JSON.stringify(FILES)}]
    out['no_exist'][rev] = try_to_load_from_cache(${JSON.stringify(ID)}, 'merges.txt', cache_dir=${JSON.stringify(B)}, revision=rev) is _CACHED_NO_EXIST
info = scan_cache_dir(${JSON.stringify(B)})
out['scan'] = [{'id': r.repo_id, 'size': r.size_on_disk, 'refs': sorted(ref for rev in r.revisions for ref in rev.refs), 'revisions': len(r.revisions), 'files': sorted(f.file_name for rev in r.revisions for f in rev.files)} for r in info.repos]
out['warnings'] = [str(w) for w in info.warnings]
print(json.dumps(out))`) as { local: Record<string, string[]>; no_exist: Record<string, boolean>; scan: { id: string; size: number; refs: string[]; revisions: number; files: string[] }[]; warnings: string[] };
    for (const rev of ['main', 'dev'] as const) {
      const got = seen.local[rev]!;
      check(got.every((p, i) => p === join(ours[rev].folder, FILES[i]!)), `Python finds BERT Lab's files offline at ${rev}`, got[0]);
      check(got.every((p, i) => readFileSync(p).equals(rev === 'dev' && FILES[i] === 'config.json' ? devConfig : files[FILES[i]!]!)), `  with the right contents at ${rev}`);
      check(seen.no_exist[rev] === true, `  try_to_load_from_cache sees BERT Lab's .no_exist marker for merges.txt at ${rev}`);
    }
    const blobsOf = (c: string) => readdirSync(join(c, 'models--org--tiny-bert', 'blobs')).sort().join();
    check(blobsOf(A) === blobsOf(B), 'the same blob names (normalised ETags) in Python\'s cache and in BERT Lab\'s');
    const repo = seen.scan[0];
    check(repo?.size === scanCache(B)[0]?.sizeOnDisk, 'size on disk: scan_cache_dir and BERT Lab\'s scanCache agree', `${repo?.size} / ${scanCache(B)[0]?.sizeOnDisk}`);
    check(seen.scan.length === 1 && repo!.id === ID && repo!.revisions === 2 && repo!.refs.join() === 'dev,main', 'scan_cache_dir lists the repo, both revisions and their refs', JSON.stringify(repo));
    check(seen.warnings.length === 0, 'scan_cache_dir reports no corrupted cache', seen.warnings.join('; '));
    // BERT Lab without symlinks; Python reads the plain files.
    const B2 = join(work, 'B2');
    const ours2 = await resolveModel(ID, { cacheDir: B2, endpoint: srv.endpoint, env: {}, token: false, symlinks: false });
    const seen2 = await py(`import json
from huggingface_hub import hf_hub_download
print(json.dumps([hf_hub_download(${JSON.stringify(ID)}, f, cache_dir=${JSON.stringify(B2)}, local_files_only=True) for f in ${JSON.stringify(FILES)}]))`) as string[];
    check(seen2.every((p, i) => p === join(ours2.folder, FILES[i]!) && readFileSync(p).equals(files[FILES[i]!]!)), 'Python reads BERT Lab\'s symlink-free cache offline');
    const mark = srv.log.length;
    await py(`import json
from huggingface_hub import hf_hub_download
print(json.dumps([hf_hub_download(${JSON.stringify(ID)}, f, cache_dir=${JSON.stringify(B)}) for f in ${JSON.stringify(FILES)}]))`);
    const gets = srv.log.slice(mark).filter((e) => e.method === 'GET');
    check(gets.length === 0, 'Python online on BERT Lab\'s cache: HEAD only, nothing downloaded again', `${srv.log.length - mark} requests, ${gets.length} GET`);

    // 3. Issue 13's "done when": with HF_HUB_OFFLINE=1 and HF_HUB_CACHE at Python's cache, the CLI
    //    predicts org/name with transformers' top-5, and a config naming org/name fine-tunes from it.
    const hasTransformers = await py('import json, importlib.util; print(json.dumps(importlib.util.find_spec("transformers") is not None))');
    if (!hasTransformers) console.log('SKIP transformers is not installed in this Python: no fill-mask comparison');
    else {
      const text = 'the cat sat on the [MASK] .';
      const offline = { HF_HUB_CACHE: A, HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9' };
      const theirs = await py(`import json
from transformers import pipeline
fm = pipeline('fill-mask', model=${JSON.stringify(ID)}, device='cpu')
print(json.dumps([{'token': p['token_str'], 'score': p['score']} for p in fm(${JSON.stringify(text)}, top_k=5)]))`, offline) as { token: string; score: number }[];
      const mark3 = srv.log.length;
      const cli = join(__dirname, '..', '..', 'dist', 'cli.js');
      const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...offline }, timeout: 300_000 });
      const p = run(['predict', ID, '--text', text, '--top-k', '5', '--json']);
      const ours3 = p.status === 0 ? (JSON.parse(p.stdout.trim()) as { masks: { predictions: { token: string; score: number }[] }[] }).masks[0]!.predictions : [];
      console.log(`  transformers: ${theirs.map((t) => `${t.token} ${t.score.toFixed(6)}`).join(', ')}`);
      console.log(`  bert-lab:     ${ours3.map((t) => `${t.token} ${t.score.toFixed(6)}`).join(', ')}`);
      const maxDiff = Math.max(...theirs.map((t, i) => Math.abs(t.score - (ours3[i]?.score ?? Infinity))));
      check(p.status === 0 && ours3.map((t) => t.token).join() === theirs.map((t) => t.token).join(), 'bert-lab predict org/name offline from Python\'s cache: transformers\' top-5 tokens', p.stderr.trim());
      check(maxDiff < 1e-5, '  and scores within 1e-5', `max |Δscore| ${maxDiff.toExponential(2)}`);
      const cfgDir = join(work, 'ft');
      mkdirSync(cfgDir, { recursive: true });
      writeFileSync(join(cfgDir, 'data.jsonl'), ['the cat sat on the mat', 'a dog ran in the park', 'the cat slept all day', 'a dog barked at night'].map((t, i) => JSON.stringify({ text: t, label: i % 2 ? 'dog' : 'cat' })).join('\n'));
      writeFileSync(join(cfgDir, 'ft.bertlab.json'), JSON.stringify({ output_dir: 'out', task: 'classification', train_file: 'data.jsonl', model_name_or_path: ID, max_seq_length: 16, per_device_train_batch_size: 2, max_steps: 4, device: 'cpu' }));
      const t = run(['train', join(cfgDir, 'ft.bertlab.json')]);
      check(t.status === 0 && existsSync(join(cfgDir, 'out', 'model.safetensors')), 'a config with "model_name_or_path": org/name fine-tunes from the cache offline', (t.stderr || t.stdout).trim().split('\n').slice(-3).join(' | '));
      check(srv.log.length === mark3, '  with no request to the Hub', `${srv.log.length - mark3} requests`);
    }
  } finally {
    await srv.close();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(failed ? `${failed} check(s) failed` : 'all checks passed');
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => { console.error(e); process.exitCode = 1; });

/**
 * BERT Lab: Download Model… in plain Node (the vscode stub) against the loopback Hub
 * (test/hub-server.ts): the quick pick (well-known ids, free text with `@revision`), the
 * cancellable progress notification and its messages, Cancel in the middle of a file (the partial
 * file stays; the next download resumes it with Range), offline mode (no request at all), the
 * follow-up buttons, and the errors people see.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SUPPORTED_MODEL_TYPES } from '../src/engine/models/registry.js';
import { TINY_FILES, tinyBert } from './hf-cache.js';
import { HubServer, commitHash, sha256, startHubServer } from './hub-server.js';
import { answers, executed, messages, progresses, settings, useVscodeStub, window as stubWindow } from './vscode-stub.js';

useVscodeStub();

const files = tinyBert();
const MODEL_BYTES = files['model.safetensors']!.length;
const v1 = { ...files, 'config.json': Buffer.from(JSON.stringify({ ...JSON.parse(files['config.json']!.toString()), bertlab_test: 'v1' })) };
const roberta = { ...files, 'config.json': Buffer.from(JSON.stringify({ ...JSON.parse(files['config.json']!.toString()), model_type: 'deberta-v2' })) };
let srv: HubServer;
let work: string;
let n = 0;
const saved: Record<string, string | undefined> = {};
const ENV = ['HF_ENDPOINT', 'HF_TOKEN', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'HF_HUB_DISABLE_IMPLICIT_TOKEN', 'HF_HUB_CACHE'];

before(async () => {
  srv = await startHubServer([
    { id: 'org/tiny-bert', commits: [{ files }, { files: v1 }], refs: { main: 0, 'v1.0': 1 } },
    { id: 'org/roberta-like', commits: [{ files: roberta }], refs: { main: 0 } },
  ]);
  work = mkdtempSync(join(tmpdir(), 'bertlab-download-'));
  for (const k of ENV) saved[k] = process.env[k];
  for (const k of ENV) delete process.env[k];
  process.env['HF_ENDPOINT'] = srv.endpoint; // the extension reads HF_ENDPOINT like huggingface_hub
  process.env['HF_HUB_DISABLE_IMPLICIT_TOKEN'] = '1';
});
after(async () => {
  await srv.close();
  rmSync(work, { recursive: true, force: true });
  for (const k of ENV) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; }
});
let cache: string;
beforeEach(() => {
  cache = join(work, `hub-${++n}`);
  for (const k of Object.keys(settings)) delete settings[k];
  settings['bertLab.hub.cacheDir'] = cache;
  messages.length = 0;
  executed.length = 0;
  answers.answer = () => undefined;
});

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, no) => { t = setTimeout(() => no(new Error(`timed out after ${ms} ms: ${what}`)), ms); })]).finally(() => clearTimeout(t));
}
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) assert.fail(`timed out waiting for ${what}`); await new Promise((r) => setTimeout(r, 10)); }
}
const repo = (id: string) => join(cache, `models--${id.replace('/', '--')}`);

describe('Download Model…', async () => {
  const { downloadModel, progressMessage, WELL_KNOWN, wellKnownDescription } = await import('../src/extension/download.js');
  let changed = 0;
  const deps = { changed: () => { changed++; } };

  it('offers well-known ids (which load today) and any id typed in; downloads it with a cancellable progress notification; then offers what to do with it', async () => {
    let shown: { label: string; description?: string; id: string }[] = [];
    stubWindow.showQuickPick = async (items: unknown) => { shown = items as typeof shown; return shown.find((i) => i.label.includes('Another model id')); };
    let validate: ((v: string) => string | undefined) | undefined;
    stubWindow.showInputBox = async (opts?: unknown) => { validate = (opts as { validateInput: typeof validate }).validateInput; return ' org/tiny-bert '; };
    answers.answer = (_k, _t, options) => (options.includes('Open Predictions') ? 'Open Predictions' : undefined);
    const before = changed;

    const r = await within(downloadModel(deps), 60_000, 'download');
    assert.ok(r);
    // The pick: every well-known id with its family and whether it loads today.
    for (const m of WELL_KNOWN) assert.ok(shown.some((i) => i.label === m.id && i.description === `${m.family} · ${SUPPORTED_MODEL_TYPES.includes(m.modelType) ? 'loads' : 'not supported yet'}`), m.id);
    assert.equal(shown.find((i) => i.label === 'bert-base-uncased')?.description, 'BERT · loads');
    assert.equal(shown.find((i) => i.label === 'roberta-base')?.description, 'RoBERTa · loads');
    assert.equal(wellKnownDescription({ id: 'microsoft/deberta-v3-small', family: 'DeBERTa-v2', modelType: 'deberta-v2', note: '' }), 'DeBERTa-v2 · not supported yet');
    assert.equal(validate!('org/name@refs/pr/1'), undefined);
    assert.match(validate!('../etc/passwd') ?? '', /a Hub id is/);
    assert.match(validate!('org/name@bad rev') ?? '', /a Hub id is/);

    // The download: into the cache's layout, at main's commit.
    const commit = commitHash('org/tiny-bert', 0);
    assert.equal(r.folder, join(repo('org/tiny-bert'), 'snapshots', commit));
    assert.deepEqual([...r.downloaded].sort(), [...TINY_FILES].sort());
    assert.equal(readFileSync(join(repo('org/tiny-bert'), 'refs', 'main'), 'utf8'), commit);
    assert.deepEqual(readFileSync(join(r.folder, 'model.safetensors')), files['model.safetensors']);

    // The notification: cancellable, named, with file, bytes of total and speed; it fills to 100 %.
    const p = progresses[progresses.length - 1]!;
    assert.deepEqual([p.options.title, p.options.cancellable], ['BERT Lab: downloading org/tiny-bert', true]);
    const msgs = p.reports.map((x) => x.message ?? '');
    assert.ok(msgs.some((m) => /^model\.safetensors [\d.]+ kB\/152\.0 kB · [\d.]+ kB\/[\d.]+ kB in all/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /\/s\b/.test(m)), 'a speed is shown');
    assert.ok(msgs.some((m) => m.startsWith('checking ')));
    const filled = p.reports.reduce((a, x) => a + (x.increment ?? 0), 0);
    assert.ok(Math.abs(filled - 100) < 1e-6, `increments add up to ${filled}`);

    // Then: the view refreshed, and the chosen button opened predictions with the id.
    assert.ok(changed > before);
    await until(() => executed.length > 0, 'the follow-up command');
    assert.deepEqual(executed[0], ['bertLab.openPredictions', 'org/tiny-bert']);
    const info = messages.find((m) => m.kind === 'info')!;
    assert.match(info.text, /org\/tiny-bert downloaded 6 files/);
    assert.deepEqual(info.options, ['Fine-tune from It', 'Open Predictions']);
  });

  it('Cancel in the middle of a file stops the transfer; the partial file stays and the next download resumes it', async () => {
    const pause = srv.pause({ host: 'cdn', method: 'GET', path: '/lfs/' }, 60_000);
    const first = downloadModel(deps, 'org/tiny-bert');
    await within(pause.reached, 30_000, 'the body to pause');
    // Cancel once the notification shows bytes of the file (they are written out on the way out).
    const blobs = join(repo('org/tiny-bert'), 'blobs');
    const partial = () => (existsSync(blobs) ? readdirSync(blobs).filter((f) => f.endsWith('.incomplete')) : []);
    const note = progresses[progresses.length - 1]!;
    await until(() => note.reports.some((x) => /^model\.safetensors [1-9][\d.]* kB\//.test(x.message ?? '')), 'bytes of model.safetensors in the notification');
    note.cancel();
    const r = await within(first, 30_000, 'the cancelled download to end');
    pause.release();
    assert.equal(r, undefined);
    assert.match(messages.find((m) => m.kind === 'info')?.text ?? '', /download of org\/tiny-bert cancelled; what arrived stays in the cache/);
    assert.deepEqual(messages.filter((m) => m.kind === 'error'), []);
    const kept = partial();
    assert.equal(kept.length, 1, 'the partial file stays');
    const had = statSync(join(blobs, kept[0]!)).size;
    assert.ok(had > 0 && had < MODEL_BYTES, `${had} of ${MODEL_BYTES} bytes kept`);
    assert.equal(existsSync(join(repo('org/tiny-bert'), 'refs', 'main')), false, 'no ref to an incomplete snapshot');

    const mark = srv.log.length;
    const again = await within(downloadModel(deps, 'org/tiny-bert'), 60_000, 'the resumed download');
    assert.ok(again);
    const cdn = srv.log.slice(mark).filter((e) => e.host === 'cdn' && e.method === 'GET');
    assert.equal(cdn.length, 1);
    assert.equal(cdn[0]!.range, `bytes=${had}-`, 'resumed from the partial file');
    assert.equal(sha256(readFileSync(join(again.folder, 'model.safetensors'))), sha256(files['model.safetensors']!));
    assert.deepEqual(partial(), []);
  });

  it('offline (the setting): a cached model resolves with no request; another is an error naming the id and the cache, and the Hub is not asked', async () => {
    await within(downloadModel(deps, 'org/tiny-bert'), 60_000, 'download');
    settings['bertLab.hub.offline'] = true;
    messages.length = 0;
    const mark = srv.log.length;
    const cached = await downloadModel(deps, 'org/tiny-bert');
    assert.equal(cached?.fromCache, true);
    assert.match(messages.find((m) => m.kind === 'info')!.text, /org\/tiny-bert already in the cache/);
    assert.equal(await downloadModel(deps, 'org/roberta-like'), undefined);
    const err = messages.find((m) => m.kind === 'error')!.text;
    assert.ok(err.includes('org/roberta-like (revision "main") is not in the Hugging Face cache and the offline option is set'), err);
    assert.ok(err.includes(cache), err);
    assert.equal(srv.log.length, mark, 'no request reached the Hub');
  });

  it('`id@revision` downloads that revision; a model BERT Lab cannot load yet is kept but said so; a missing repo is an error', async () => {
    const r = await within(downloadModel(deps, 'org/tiny-bert@v1.0'), 60_000, 'download');
    assert.equal(r?.commit, commitHash('org/tiny-bert', 1));
    assert.equal(readFileSync(join(repo('org/tiny-bert'), 'refs', 'v1.0'), 'utf8'), commitHash('org/tiny-bert', 1));
    assert.equal(existsSync(join(repo('org/tiny-bert'), 'refs', 'main')), false);

    messages.length = 0;
    await within(downloadModel(deps, 'org/roberta-like'), 60_000, 'download');
    const warn = messages.find((m) => m.kind === 'warning')!;
    assert.match(warn.text, /org\/roberta-like downloaded 6 files, but BERT Lab cannot load it yet: model_type deberta-v2: not supported yet/);
    assert.deepEqual(warn.options, [], 'no Fine-tune / Predictions buttons');

    messages.length = 0;
    assert.equal(await within(downloadModel(deps, 'org/missing'), 60_000, 'download'), undefined);
    assert.match(messages.find((m) => m.kind === 'error')!.text, /org\/missing/);
    assert.equal(await downloadModel(deps, 'a/b/c'), undefined);
    assert.match(messages[messages.length - 1]!.text, /"a\/b\/c" is not a Hugging Face Hub model id/);
  });

  it('progress messages: checking, waiting on another download, bytes of the file and in all, speed, time left', () => {
    const base = { id: 'x', file: 'model.safetensors', bytes: 0, total: 0, fileBytes: 0, bytesPerSecond: 0 };
    assert.equal(progressMessage({ ...base, phase: 'check' }), 'checking model.safetensors');
    assert.equal(progressMessage({ ...base, phase: 'wait' }), 'model.safetensors: waiting for another download of it to finish');
    assert.equal(progressMessage({ ...base, phase: 'download', fileBytes: 1.5e6, fileTotal: 4.2e8, bytes: 2e6, total: 4.3e8, bytesPerSecond: 3.5e7, etaSeconds: 12.2 }),
      'model.safetensors 1.5 MB/420.0 MB · 2.0 MB/430.0 MB in all · 35.0 MB/s · 13 s left');
  });
});

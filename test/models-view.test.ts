/**
 * The Models view and what hangs off it, in plain Node (the vscode stub) against a Hugging Face
 * cache built by the test in huggingface_hub's layout (test/hf-cache.ts): the listing (ids,
 * revisions, size on disk, model_type, whether BERT Lab loads it and why not), the pickers' Hub
 * entries and their resolution from the cache only, the environment of spawned processes, Delete
 * from Cache (confirmation, only that model), Fine-tune from It (the new-config wizard), and the
 * predictions panel run on a Hub id.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { BertPipeline } from '../src/engine/infer/pipeline.js';
import { SUPPORTED_MODEL_TYPES } from '../src/engine/models/registry.js';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { FIXTURE, TINY_FILES, addSnapshot, commitOf, tinyBert } from './hf-cache.js';
import { Uri, answers, created, messages, settings, useVscodeStub, window as stubWindow, workspace as stubWorkspace, workspaceSettings } from './vscode-stub.js';
import { exchange, testWorker } from './panel-harness.js';

useVscodeStub();

const work = mkdtempSync(join(tmpdir(), 'bertlab-models-'));
const cache = join(work, 'hub');
const files = tinyBert();
const config = JSON.parse(files['config.json']!.toString()) as Record<string, unknown>;
const cfgWith = (extra: Record<string, unknown>) => Buffer.from(JSON.stringify({ ...config, ...extra }, null, 2));
const v1Config = cfgWith({ bertlab_test: 'v1' });
let snapMain: string, snapV1: string, snapNoOrg: string;
/** The bytes huggingface_hub would report for org/tiny-bert: every distinct blob once (the v1 snapshot shares all but config.json). */
const tinySize = TINY_FILES.reduce((a, f) => a + files[f]!.length, 0) + v1Config.length;

before(() => {
  snapMain = addSnapshot(cache, 'org/tiny-bert', files, { commit: commitOf('main'), refs: ['main'] });
  snapV1 = addSnapshot(cache, 'org/tiny-bert', { ...files, 'config.json': v1Config }, { commit: commitOf('v1'), refs: ['v1.0'] });
  addSnapshot(cache, 'org/roberta-like', { ...files, 'config.json': cfgWith({ model_type: 'deberta-v2', architectures: ['DebertaV2ForMaskedLM'] }) });
  addSnapshot(cache, 'org/pickle-only', { 'config.json': files['config.json']!, 'pytorch_model.bin': Buffer.alloc(1000, 1), 'vocab.txt': files['vocab.txt']! });
  snapNoOrg = addSnapshot(cache, 'tiny-bert', files);
});
beforeEach(() => {
  for (const k of Object.keys(settings)) delete settings[k];
  for (const k of Object.keys(workspaceSettings)) delete workspaceSettings[k];
  settings['bertLab.hub.cacheDir'] = cache;
  messages.length = 0;
  answers.answer = () => undefined;
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs `fn` with fetch made fatal: proves a path reads the cache only. */
function noNetwork<T>(fn: () => T): T {
  const real = globalThis.fetch;
  globalThis.fetch = (() => { throw new Error('NETWORK ATTEMPT'); }) as typeof fetch;
  try { return fn(); } finally { globalThis.fetch = real; }
}
const unescapeMd = (s: string) => s.replace(/\\(.)/g, '$1');

describe('Models view', async () => {
  const { ModelsProvider } = await import('../src/extension/models-view.js');
  const { fmtBytes } = await import('../src/engine/hub/index.js');

  it('lists the cache\'s models with revisions, size on disk, model_type and whether BERT Lab loads them', () => {
    const items = noNetwork(() => new ModelsProvider().getChildren());
    assert.deepEqual(items.map((i) => i.label), ['org/pickle-only', 'org/roberta-like', 'org/tiny-bert', 'tiny-bert']);
    const [pickle, roberta, tiny, noOrg] = items;

    // Both revisions, the size of the distinct blobs, loadable.
    assert.equal(tiny!.contextValue, 'bertLab.model');
    assert.equal(tiny!.whyNot, undefined);
    assert.deepEqual(String(tiny!.description).split(' · ').slice(0, 1)[0]!.split(', ').sort(), ['main', 'v1.0']);
    assert.equal(String(tiny!.description).split(' · ')[1], fmtBytes(tinySize));
    assert.equal(tiny!.ref, 'org/tiny-bert');
    assert.equal(tiny!.folder, snapMain);
    const tip = unescapeMd((tiny!.tooltip as { value: string }).value);
    for (const s of ['model_type bert', 'BertForMaskedLM', commitOf('main'), commitOf('v1'), snapMain, snapV1, 'BERT Lab loads it']) assert.ok(tip.includes(s), `tooltip lacks ${s}:\n${tip}`);

    // Why not: the family, or pickle-only weights.
    assert.equal(roberta!.contextValue, 'bertLab.model.unsupported');
    assert.equal(roberta!.whyNot, `model_type deberta-v2: not supported yet (BERT Lab loads ${SUPPORTED_MODEL_TYPES.join(', ')})`);
    assert.match(String(roberta!.description), /cannot load$/);
    assert.match(unescapeMd((roberta!.tooltip as { value: string }).value), /DebertaV2ForMaskedLM[\s\S]*cannot load it: model_type deberta-v2/);
    assert.equal(pickle!.contextValue, 'bertLab.model.unsupported');
    assert.match(pickle!.whyNot!, /only pytorch_model\.bin \(a PyTorch pickle/);
    assert.equal(noOrg!.ref, 'tiny-bert');
    assert.equal(noOrg!.folder, snapNoOrg);
  });

  it('an absent or empty cache lists nothing (the welcome view shows); refresh tells the tree', () => {
    settings['bertLab.hub.cacheDir'] = join(work, 'no-such-cache');
    const p = new ModelsProvider();
    assert.deepEqual(p.getChildren(), []);
    let fired = 0;
    p.onDidChangeTreeData(() => fired++);
    p.refresh();
    assert.equal(fired, 1);
    settings['bertLab.hub.cacheDir'] = cache;
    assert.equal(p.getChildren().length, 4, 'the setting is read on each refresh');
  });
});

describe('Hub ids in pickers, panels and spawned processes', async () => {
  const { cachedCheckpoints, checkpointFolder, childEnv, offline } = await import('../src/extension/hub.js');
  const { pickCheckpoint } = await import('../src/extension/commands.js');

  it('the pickers offer the loadable cached models by id (other revisions as id@revision) in a "Hugging Face cache" group', async () => {
    assert.deepEqual(cachedCheckpoints().map((c) => c.path).sort(), ['org/tiny-bert', 'org/tiny-bert@v1.0', 'tiny-bert']);
    let shown: { label: string; kind?: number; path?: string }[] = [];
    stubWindow.showQuickPick = async (items: unknown) => { shown = items as typeof shown; return shown.find((i) => i.path === 'org/tiny-bert@v1.0'); };
    assert.equal(await pickCheckpoint('Checkpoint'), 'org/tiny-bert@v1.0');
    const sep = shown.findIndex((i) => i.label === 'Hugging Face cache');
    assert.ok(sep >= 0 && shown[sep]!.kind === -1, 'a separator names the group');
    assert.deepEqual(shown.slice(sep + 1, -1).map((i) => i.path).sort(), ['org/tiny-bert', 'org/tiny-bert@v1.0', 'tiny-bert']);
    assert.match(shown[shown.length - 1]!.label, /Choose a folder/);
  });

  it('a Hub id resolves to its snapshot from the cache only; one not cached says how to download it; paths stay paths', () => {
    noNetwork(() => {
      assert.equal(checkpointFolder('org/tiny-bert'), snapMain);
      assert.equal(checkpointFolder('org/tiny-bert@v1.0'), snapV1);
      assert.equal(checkpointFolder(`org/tiny-bert@${commitOf('v1')}`), snapV1);
      assert.equal(checkpointFolder(FIXTURE), FIXTURE);
      assert.equal(checkpointFolder('/no/such/folder'), '/no/such/folder', 'left for the loader\'s own error');
      assert.throws(() => checkpointFolder('org/absent'), /org\/absent \(revision "main"\) is not in the Hugging Face cache: .*models--org--absent does not exist.*Download Model/);
      assert.throws(() => checkpointFolder('org/pickle-only'), /only pytorch_model\.bin/);
    });
  });

  it('offline and the cache folder reach spawned processes; a workspace can turn offline on but not off', () => {
    assert.equal(offline(), false);
    assert.deepEqual(childEnv({ PATH: '/bin' }), { PATH: '/bin', HF_HUB_CACHE: cache });
    settings['bertLab.hub.offline'] = true;
    workspaceSettings['bertLab.hub.offline'] = false;
    assert.equal(offline(), true);
    assert.deepEqual(childEnv({ PATH: '/bin' }), { PATH: '/bin', HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cache });
    delete settings['bertLab.hub.offline'];
    workspaceSettings['bertLab.hub.offline'] = true;
    assert.equal(offline(), true);
    delete workspaceSettings['bertLab.hub.offline'];
    settings['bertLab.hub.cacheDir'] = '';
    assert.deepEqual(childEnv({ PATH: '/bin' }), { PATH: '/bin' }, 'nothing added: the child reads HF_* itself');
    assert.equal(childEnv({ HF_HUB_OFFLINE: '1' })['HF_HUB_OFFLINE'], '1');
  });
});

describe('Models view actions', async () => {
  const { ModelsProvider } = await import('../src/extension/models-view.js');
  const { commandTable } = await import('../src/extension/commands.js');
  const { checkpointFolder } = await import('../src/extension/hub.js');
  const { fmtBytes } = await import('../src/engine/hub/index.js');
  const models = new ModelsProvider();
  let refreshed = 0;
  models.onDidChangeTreeData(() => refreshed++);
  const table = commandTable({ extensionPath: '/ext', state: { get: () => undefined }, models, output: { appendLine: () => undefined } } as never);
  const item = (id: string) => models.getChildren().find((i) => i.label === id)!;

  it('every command of the manifest has a handler, and the Models view\'s menus name only those', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const declared = (pkg.contributes.commands as { command: string }[]).map((c) => c.command).sort();
    assert.deepEqual(Object.keys(table).sort(), declared);
    const menus = pkg.contributes.menus as Record<string, { command: string; when: string }[]>;
    const forModels = [...menus['view/title']!, ...menus['view/item/context']!].filter((m) => /bertLab\.models|bertLab\\?\.model\b/.test(m.when)).map((m) => m.command);
    assert.deepEqual(forModels.sort(), ['bertLab.deleteModel', 'bertLab.downloadModel', 'bertLab.fineTuneFromModel', 'bertLab.openPredictions', 'bertLab.refreshModels', 'bertLab.revealModel', 'bertLab.setActiveCheckpoint', 'bertLab.showAttention']);
    assert.ok((pkg.contributes.viewsWelcome as { view: string; contents: string }[]).some((w) => w.view === 'bertLab.models' && w.contents.includes('(command:bertLab.downloadModel)')));
    assert.equal(pkg.contributes.configuration.properties['bertLab.hub.offline'].default, false);
    assert.equal(pkg.contributes.configuration.properties['bertLab.hub.cacheDir'].scope, 'machine');
  });

  it('Delete from Cache asks first, naming the id and size; then removes that model only', async () => {
    const extra = join(work, 'hub-delete');
    settings['bertLab.hub.cacheDir'] = extra;
    addSnapshot(extra, 'org/a', files);
    addSnapshot(extra, 'org/b', files); // the same bytes: blobs are per model, so b keeps its own
    const a = item('org/a');
    await table['bertLab.deleteModel']!(a);
    assert.equal(messages.length, 1);
    assert.equal(messages[0]!.kind, 'warning');
    assert.equal(messages[0]!.text, `Delete org/a (${fmtBytes(TINY_FILES.reduce((s, f) => s + files[f]!.length, 0))}) from the Hugging Face cache?`);
    assert.equal((messages[0]!.options[0] as { modal?: boolean }).modal, true);
    assert.ok(existsSync(join(extra, 'models--org--a')), 'not deleted without a yes');

    answers.answer = (_k, _t, options) => (options.includes('Delete') ? 'Delete' : undefined);
    const before = refreshed;
    await table['bertLab.deleteModel']!(a);
    assert.equal(existsSync(join(extra, 'models--org--a')), false);
    assert.deepEqual(readdirSync(extra).filter((f) => f.startsWith('models--')), ['models--org--b']);
    const b = checkpointFolder('org/b');
    assert.deepEqual(readFileSync(join(b, 'model.safetensors')), files['model.safetensors']);
    assert.equal(refreshed, before + 1, 'the view refreshes');
    assert.deepEqual(models.getChildren().map((i) => i.label), ['org/b']);
  });

  it('Fine-tune from It writes a training configuration that starts from the Hub id (the new-config wizard)', async () => {
    const ws = join(work, 'ws');
    mkdirSync(ws, { recursive: true });
    writeFileSync(join(ws, 'labels.jsonl'), '{"text": "good", "label": "pos"}\n{"text": "bad", "label": "neg"}\n');
    stubWorkspace.workspaceFolders = [{ uri: Uri.file(ws) }];
    stubWorkspace.findFiles = async () => [Uri.file(join(ws, 'labels.jsonl'))];
    const asked: string[] = [];
    stubWindow.showQuickPick = async (items: unknown, opts?: unknown) => {
      const ph = (opts as { placeHolder: string }).placeHolder;
      asked.push(ph);
      const list = items as { label: string }[];
      return ph === 'What to train' ? list.find((i) => i.label === 'classification') : list[0];
    };
    let n = 0;
    stubWindow.showInputBox = async () => `from-hub-${++n}`;
    try {
      const out = await table['bertLab.fineTuneFromModel']!(item('org/tiny-bert')) as string;
      assert.equal(out, join(ws, 'from-hub-1.bertlab.json'));
      assert.ok(!asked.includes('Start from'), `the wizard did not ask where to start (asked: ${asked.join(' | ')})`);
      const cfg = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
      assert.equal(cfg['model_name_or_path'], 'org/tiny-bert');
      assert.equal(cfg['model_revision'], undefined);
      assert.equal(cfg['train_tokenizer'], undefined);
      assert.equal(cfg['model_config'], undefined);
      assert.equal(cfg['learning_rate'], 5e-5);
      assert.equal(cfg['train_file'], 'labels.jsonl');
      assert.equal(parseTrainingConfig(readFileSync(out, 'utf8'), out).model_name_or_path, 'org/tiny-bert');

      // Another revision: the id and model_revision.
      const v1 = await table['bertLab.fineTuneFromModel']!('org/tiny-bert@v1.0') as string;
      const cfg1 = JSON.parse(readFileSync(v1, 'utf8')) as Record<string, unknown>;
      assert.deepEqual([cfg1['model_name_or_path'], cfg1['model_revision']], ['org/tiny-bert', 'v1.0']);
    } finally {
      stubWorkspace.workspaceFolders = undefined;
      stubWorkspace.findFiles = async () => [];
    }
  });
});

describe('predictions panel on a Hub id', async () => {
  const { PredictionsPanel } = await import('../src/extension/panels/predictions.js');
  const { cachedCheckpoints } = await import('../src/extension/hub.js');
  const worker = testWorker();
  after(() => worker.dispose());

  it('offers the cached model by its id and runs it from its snapshot, like the same files in a folder', async () => {
    const ctx = {
      extensionUri: Uri.file('/ext'), output: { appendLine: () => undefined }, infer: () => worker,
      checkpoints: () => cachedCheckpoints(), activeCheckpoint: () => undefined, pickCheckpoint: async () => undefined, trusted: () => true,
    };
    const p = PredictionsPanel.create(ctx as never, { checkpoint: 'org/tiny-bert' });
    const fake = created[created.length - 1]!;
    const [list] = await exchange(fake, { type: 'ready' });
    const items = list!['items'] as { label: string; path: string }[];
    assert.ok(items.some((i) => i.label === 'org/tiny-bert' && i.path === 'org/tiny-bert'), JSON.stringify(items));
    assert.deepEqual(list!['selected'], ['org/tiny-bert']);
    const text = 'the congress of the [MASK] states met today.';
    const [res] = await exchange(fake, { type: 'predictions/run', requestId: 1, text, checkpoints: ['org/tiny-bert'], topK: 5 });
    const [col] = res!['columns'] as { checkpoint: string; error?: string; masks: { predictions: { token: string; score: number }[] }[] }[];
    assert.equal(col!.error, undefined);
    assert.equal(col!.checkpoint, 'org/tiny-bert');
    const direct = (await BertPipeline.load(FIXTURE).fillMask(text, { topK: 5 })).masks[0]!.predictions;
    assert.deepEqual(col!.masks[0]!.predictions.map((x) => x.token), direct.map((x) => x.token));
    col!.masks[0]!.predictions.forEach((x, j) => assert.ok(Math.abs(x.score - direct[j]!.score) < 1e-6));

    // Not in the cache: the column says so and how to get it, and nothing is downloaded.
    p.show({ checkpoint: 'org/absent' });
    await exchange(fake, { type: 'ready' });
    const [res2] = await exchange(fake, { type: 'predictions/run', requestId: 2, text, checkpoints: ['org/absent'], topK: 5 });
    const [col2] = res2!['columns'] as { error?: string }[];
    assert.match(col2!.error ?? '', /org\/absent .* not in the Hugging Face cache.*Download Model/);
    p.dispose();
  });
});

/**
 * The Training Curves panel's host side in plain Node (a stub of the vscode API, run folders
 * written in a temp dir): what it offers on `ready`, what it sends for a selection and refuses
 * (a folder it never offered), how it follows a live run, the "Add run…" dialog, and opening a
 * checkpoint by its step.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Uri, created, useVscodeStub, window as stubWindow } from './vscode-stub.js';
import { exchange, follow, type Msg } from './panel-harness.js';

useVscodeStub();
const line = (o: object) => `${JSON.stringify(o)}\n`;
const T0 = 1_700_000_000_000;
const step = (s: number, loss: number) => line({ type: 'step', step: s, epoch: s / 10, loss, learning_rate: 1e-3, grad_norm: 1, tokens_per_second: 100, time: T0 + s * 1000 });

let dir: string, runA: string, runLive: string, hf: string;
/** A run folder whose log has begun (start, step 1): a run still training. */
function startedRun(name: string): string {
  const run = join(dir, 'runs', name);
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'run_log.jsonl'), line({ type: 'start', time: T0, run_name: name, output_dir: run, max_steps: 9, num_train_epochs: 1 }) + step(1, 3));
  return run;
}
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-curves-panel-'));
  runA = join(dir, 'runs', 'a');
  mkdirSync(join(runA, 'checkpoint-2'), { recursive: true });
  writeFileSync(join(runA, 'run_log.jsonl'), line({ type: 'start', time: T0, run_name: 'a', output_dir: runA, max_steps: 2, num_train_epochs: 1 }) + step(1, 2) + step(2, 1)
    + line({ type: 'checkpoint', step: 2, path: join(runA, 'checkpoint-2'), metrics: {} }) + line({ type: 'done', step: 2, time: T0 + 3000, reason: 'completed' }));
  runLive = startedRun('live');
  hf = join(dir, 'elsewhere', 'hf');
  mkdirSync(join(hf, 'checkpoint-4'), { recursive: true });
  writeFileSync(join(hf, 'trainer_state.json'), JSON.stringify({ global_step: 4, log_history: [{ loss: 0.5, learning_rate: 1e-3, epoch: 1, step: 4 }] }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function setup(live?: () => string | undefined) {
  const log: string[] = [], opened: [string, string][] = [];
  const ctx = {
    extensionUri: Uri.file('/ext'), output: { appendLine: (s: string) => log.push(s) },
    workspaceRuns: () => [runA, runLive],
    liveRun: live ?? (() => undefined),
    openCheckpoint: (path: string, view: string) => { opened.push([path, view]); },
  };
  return { ctx, log, opened };
}

describe('curves panel (host)', async () => {
  const { CurvesPanel } = await import('../src/extension/panels/curves.js');

  it('offers the workspace runs and a given folder; sends the selected runs; refuses a folder it never offered', async () => {
    const { ctx } = setup();
    const p = CurvesPanel.create(ctx as never, [hf]);
    const fake = created[created.length - 1]!;
    assert.equal(fake.viewType, 'bertLab.curves');
    const [runs] = await exchange(fake, { type: 'ready' });
    assert.deepEqual(runs, { type: 'curves/runs', runs: [
      { id: runA, name: 'a', source: 'bertlab', status: 'completed', live: false, shown: false },
      { id: runLive, name: 'live', source: 'bertlab', status: 'incomplete', live: false, shown: false },
      { id: hf, name: 'hf', source: 'hf', status: 'incomplete', live: false, shown: true },
    ] });
    const [a, h] = await exchange(fake, { type: 'curves/select', ids: [runA, hf] }, 2);
    assert.equal(a!.type, 'curves/data');
    const ra = a!['run'] as { id: string; rows: { step: number; values: Record<string, number> }[]; checkpoints: unknown[]; live: boolean };
    assert.equal(ra.id, runA);
    assert.deepEqual(ra.rows.map((r) => [r.step, r.values['loss']]), [[1, 2], [2, 1]]);
    assert.deepEqual(ra.checkpoints, [{ step: 2, path: join(runA, 'checkpoint-2'), best: false }]);
    assert.equal(ra.live, false);
    assert.equal((h!['run'] as { source: string }).source, 'hf');
    // Already shown runs are not sent again; a path the panel never offered is refused by name.
    const [err] = await exchange(fake, { type: 'curves/select', ids: [runA, hf, '/etc'] });
    assert.equal(err!.type, 'error');
    assert.match(err!['message'] as string, /not a run of this workspace nor a folder added with "Add run…": \/etc/);
    p.dispose();
  });

  it('opens a shown run\'s checkpoint by its step; a step without one is an error', async () => {
    const { ctx, opened } = setup();
    const p = CurvesPanel.create(ctx as never);
    const fake = created[created.length - 1]!;
    const handled = follow(p, fake);
    await exchange(fake, { type: 'ready' });
    await exchange(fake, { type: 'curves/select', ids: [runA] });
    await exchange(fake, { type: 'curves/openCheckpoint', id: runA, step: 2, view: 'attention' }, 0);
    await handled.settled();
    assert.deepEqual(opened, [[join(runA, 'checkpoint-2'), 'attention']]);
    const [err] = await exchange(fake, { type: 'curves/openCheckpoint', id: runA, step: 1, view: 'predictions' });
    assert.match(err!['message'] as string, /a has no checkpoint at step 1/);
    const [err2] = await exchange(fake, { type: 'curves/openCheckpoint', id: runLive, step: 1, view: 'predictions' });
    assert.match(err2!['message'] as string, /is not a shown run/);
    p.dispose();
  });

  it('follows a shown live run: appends what the log gains, then says it ended', async () => {
    // A run of its own, since this test appends to its log (the shared one stays as the other tests expect it).
    const followed = startedRun('followed');
    let live: string | undefined = followed;
    const { ctx } = setup(() => live);
    const p = CurvesPanel.create(ctx as never);
    const fake = created[created.length - 1]!;
    const [runs] = await exchange(fake, { type: 'ready' });
    assert.deepEqual((runs!['runs'] as { id: string; live: boolean; status: string }[]).filter((r) => r.live).map((r) => [r.id, r.status]), [[followed, 'training']]);
    const [data] = await exchange(fake, { type: 'curves/select', ids: [followed] });
    assert.equal((data!['run'] as { live: boolean }).live, true);
    const tick = () => (p as unknown as { tick(): void }).tick();
    const from = fake.posted.length;
    tick();
    assert.equal(fake.posted.length, from, 'nothing new: nothing sent');
    mkdirSync(join(followed, 'checkpoint-2'));
    appendFileSync(join(followed, 'run_log.jsonl'), step(2, 2.5) + line({ type: 'checkpoint', step: 2, path: join(followed, 'checkpoint-2'), metrics: {} }));
    tick();
    assert.deepEqual(fake.posted.slice(from), [{ type: 'curves/append', id: followed, rows: [{ step: 2, epoch: 0.2, time: 2, values: { loss: 2.5, learning_rate: 1e-3, grad_norm: 1, tokens_per_second: 100 } }], checkpoints: [{ step: 2, path: join(followed, 'checkpoint-2'), best: false }], live: true }]);
    appendFileSync(join(followed, 'run_log.jsonl'), line({ type: 'done', step: 2, time: T0 + 3000, reason: 'completed', best_model_checkpoint: null }));
    live = undefined;
    tick();
    const [end, relist] = fake.posted.slice(from + 1) as Msg[];
    assert.deepEqual(end, { type: 'curves/append', id: followed, rows: [], checkpoints: [], live: false });
    assert.equal(relist!.type, 'curves/runs');
    p.dispose();
  });

  it('adds a folder through the dialog, or says why a folder holds no run', async () => {
    const { ctx } = setup();
    const p = CurvesPanel.create(ctx as never);
    const fake = created[created.length - 1]!;
    const handled = follow(p, fake);
    await exchange(fake, { type: 'ready' });
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const dialog = stubWindow as unknown as { showOpenDialog: () => Promise<Uri[] | undefined> };
    dialog.showOpenDialog = async () => [Uri.file(empty)];
    const [err] = await exchange(fake, { type: 'curves/addRun' });
    assert.match(err!['message'] as string, /empty holds no run: choose a folder with a run_log\.jsonl/);
    dialog.showOpenDialog = async () => [Uri.file(hf)];
    const [runs] = await exchange(fake, { type: 'curves/addRun' });
    assert.deepEqual((runs!['runs'] as { id: string; shown: boolean }[]).map((r) => [r.id, r.shown]), [[runA, false], [runLive, false], [hf, true]]);
    const [data] = await exchange(fake, { type: 'curves/select', ids: [hf] });
    assert.deepEqual((data!['run'] as { rows: unknown[] }).rows, [{ step: 4, epoch: 1, time: null, values: { loss: 0.5, learning_rate: 1e-3 } }]);
    dialog.showOpenDialog = async () => undefined;
    const from = fake.posted.length;
    fake.fromPage({ type: 'curves/addRun' });
    await handled.settled(); // the dialog was answered (cancelled) and the handler returned
    assert.deepEqual(fake.posted.slice(from), [], 'cancelled: nothing');
    p.dispose();
  });

  it('saves what the page exports through the save dialog: CSV as text, PNG decoded from its data URL; a fake PNG is refused', async () => {
    const { ctx, log } = setup();
    const p = CurvesPanel.create(ctx as never);
    const fake = created[created.length - 1]!;
    const handled = follow(p, fake);
    try {
    const dialog = stubWindow as unknown as { showSaveDialog: (o: { defaultUri?: Uri }) => Promise<Uri | undefined> };
    const target = join(dir, 'export');
    let asked = '';
    dialog.showSaveDialog = async () => Uri.file(target);
    await exchange(fake, { type: 'saveFile', kind: 'csv', suggestedName: 'curves.csv', data: 'run,step,loss\na,1,2\n' }, 0);
    await handled.settled(); // the save dialog was answered and the file written
    assert.equal(readFileSync(target, 'utf8'), 'run,step,loss\na,1,2\n');
    // The smallest PNG: the 8-byte signature and an IHDR chunk header, enough for the check.
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    dialog.showSaveDialog = async (o) => { asked = o.defaultUri?.fsPath ?? ''; return Uri.file(`${target}.png`); };
    await exchange(fake, { type: 'saveFile', kind: 'png', suggestedName: '../../evil name.png', data: `data:image/png;base64,${png.toString('base64')}` }, 0);
    await handled.settled();
    assert.deepEqual(readFileSync(`${target}.png`), png);
    assert.equal(asked, '', 'without a workspace folder, no default location');
    const [err] = await exchange(fake, { type: 'saveFile', kind: 'png', suggestedName: 'x.png', data: `data:image/png;base64,${Buffer.from('GIF89a').toString('base64')}` });
    assert.deepEqual(err, { type: 'error', message: 'the PNG to save is not a PNG image' });
    assert.ok(log.some((l) => /saved .*export \(20 bytes\)/.test(l)), log.join('\n'));
    } finally { p.dispose(); }
  });

  it('remembers added folders across a reload (workspace state), forgetting those that no longer hold a run', async () => {
    const store = new Map<string, unknown>();
    const memento = { get: <T>(k: string) => store.get(k) as T | undefined, update: async (k: string, v: unknown) => { store.set(k, v); } };
    const gone = join(dir, 'gone');
    store.set('bertLab.curves.addedRuns', [gone]);
    const { ctx } = setup();
    const first = CurvesPanel.create({ ...ctx, memento } as never, [hf]);
    assert.deepEqual(store.get('bertLab.curves.addedRuns'), [hf], 'the folder that holds no run is dropped, the new one kept');
    first.dispose();
    const revived = CurvesPanel.revive(created[created.length - 1]! as never, { ...ctx, memento } as never);
    const fake = created[created.length - 1]!;
    const [runs] = await exchange(fake, { type: 'ready' });
    assert.ok((runs!['runs'] as { id: string }[]).some((r) => r.id === hf), 'offered after the reload');
    const [data] = await exchange(fake, { type: 'curves/select', ids: [hf] });
    assert.equal(data!.type, 'curves/data');
    revived.dispose();
  });
});

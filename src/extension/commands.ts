/**
 * The commands of the palette (category "BERT Lab"), as data: id → handler. Each handler is thin:
 * it asks what it needs through quick picks and hands the work to the training manager, the
 * inference worker or the bundled CLI.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { containedPath } from '../engine/workspace/contain.js';
import * as vscode from 'vscode';
import { RECIPES } from '../engine/train/recipes.js';
import type { InferenceWorker } from '../engine/infer/infer-client.js';
import { findMasks } from '../engine/infer/mask-context.js';
import { findRuns, scanRun } from '../engine/workspace/runs.js';
import { parseRunLog } from '../engine/train/state.js';
import { CheckpointItem, DatasetItem, DatasetsProvider, RunItem, RunsProvider } from './trees.js';
import { TrainingManager } from './training.js';
import { requireTrust, settings, workspaceRoot } from './settings.js';
import type { PanelServices } from './panels/index.js';
import { deleteCachedModel, fmtBytes } from '../engine/hub/index.js';
import { cachedCheckpoints, checkpointFolder, childEnv, parseModelRef } from './hub.js';
import { downloadModel } from './download.js';
import { ModelItem, type ModelsProvider } from './models-view.js';

export interface CommandDeps {
  extensionPath: string;
  state: vscode.Memento;
  training: TrainingManager;
  infer: () => InferenceWorker;
  datasets: DatasetsProvider;
  runs: RunsProvider;
  models: ModelsProvider;
  output: vscode.OutputChannel;
  panels: PanelServices;
}

export const ACTIVE_KEY = 'bertLab.activeCheckpoint';

export function runsRoot(): string | undefined {
  const root = workspaceRoot();
  return root ? join(root, settings.runsFolder) : undefined;
}

/** Every checkpoint under the runs folder, for quick picks. */
export function allCheckpoints(): { label: string; description: string; path: string }[] {
  const base = runsRoot();
  if (!base || !existsSync(base)) return [];
  return findRuns(base).flatMap((d) => {
    const r = scanRun(d);
    const items = r.checkpoints.map((c) => ({ label: `${r.name} · step ${c.step}`, description: `${c.best ? '★ ' : ''}${Object.entries(c.metrics).slice(0, 2).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(' ')}`, path: c.path }));
    if (existsSync(join(d, 'model.safetensors'))) items.push({ label: `${r.name} · final`, description: r.status, path: d });
    return items;
  });
}

/** A quick-pick separator between the workspace's checkpoints and the Hugging Face cache's models. */
const HF_GROUP = { label: 'Hugging Face cache', kind: vscode.QuickPickItemKind.Separator, path: '' };

/** The workspace's checkpoints and the cache's loadable models (by Hub id), for the panels' lists. */
export function checkpointsAndModels(): { label: string; description: string; path: string }[] {
  return [...allCheckpoints(), ...cachedCheckpoints()];
}

/** A checkpoint (a path) or a cached model (a Hub id), picked from a list, or a folder chosen in a dialog. */
export async function pickCheckpoint(placeHolder: string): Promise<string | undefined> {
  const models = cachedCheckpoints();
  const items = [...allCheckpoints(), ...(models.length ? [HF_GROUP, ...models] : [])];
  const browse = { label: '$(folder) Choose a folder…', description: 'a Hugging Face or BERT Lab checkpoint folder', path: '' };
  const pick = await vscode.window.showQuickPick([...items, browse], { placeHolder });
  if (!pick) return undefined;
  if (pick.path) return pick.path;
  const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use checkpoint' });
  return uri?.[0]?.fsPath;
}

/** A path from a tree item or message, resolved and required to lie inside the runs folder (no `..` or symlink escapes). */
function insideRuns(p: string): string {
  const base = runsRoot();
  if (!base) throw new Error('open a workspace folder first');
  return containedPath(base, p, 'the runs folder', { allowRoot: false });
}

function cli(extensionPath: string, args: string[], output: vscode.OutputChannel): Promise<string> {
  return new Promise((res, rej) => {
    execFile(process.execPath, [join(extensionPath, 'dist', 'cli.js'), ...args], { env: childEnv({ ...process.env, ELECTRON_RUN_AS_NODE: '1' }), maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      if (stderr) output.append(stderr);
      if (err) rej(new Error(stderr.trim().split('\n').pop() || err.message)); else res(stdout);
    });
  });
}

/** The wizard's time budgets for pretraining from scratch (max_time; none: num_train_epochs ends the run). */
const TIME_BUDGETS: readonly { label: string; description: string; max_time?: string; recipe?: string }[] = [
  { label: 'Quick pretraining (≈10 min)', description: `recipe "quick-pretraining": ${RECIPES['quick-pretraining']!.description}; its values are written out`, max_time: '10m', recipe: 'quick-pretraining' },
  { label: '10 minutes', description: 'max_time "10m"', max_time: '10m' },
  { label: '30 minutes', description: 'max_time "30m"', max_time: '30m' },
  { label: '1 hour', description: 'max_time "1h"', max_time: '1h' },
  { label: 'no limit — use num_train_epochs', description: 'one pass over the text' },
];

/**
 * The wizard that writes a training configuration. `from` (a Hub id, or `id@revision`) starts it
 * from a model of the Hugging Face cache instead of asking where to start from.
 */
export async function newTrainingConfig(deps: CommandDeps, preset?: 'mlm' | 'classification', from?: string): Promise<string | undefined> {
  const root = workspaceRoot();
  if (!root) { void vscode.window.showWarningMessage('BERT Lab: open a folder first; configurations and runs live in the workspace.'); return undefined; }
  const task = preset ?? (await vscode.window.showQuickPick([{ label: 'mlm', description: 'Pretrain with masked-language modelling' }, { label: 'classification', description: 'Fine-tune a classifier on labelled text' }], { placeHolder: 'What to train' }))?.label as 'mlm' | 'classification' | undefined;
  if (!task) return undefined;
  const files = await vscode.workspace.findFiles(`{${settings.datasetGlobs.join(',')}}`, `**/{node_modules,${settings.runsFolder}}/**`, 200);
  const file = await vscode.window.showQuickPick(files.map((f) => ({ label: vscode.workspace.asRelativePath(f), path: f.fsPath })), { placeHolder: task === 'mlm' ? 'Training text (one example per line)' : 'Labelled data (JSONL/CSV/TSV with text and label)' });
  if (!file) return undefined;
  const models = cachedCheckpoints();
  const base: { path: string; model?: string } | undefined = from !== undefined ? { path: '', model: from }
    : await vscode.window.showQuickPick([{ label: 'From scratch', description: 'a new small BERT and a vocabulary trained on this text', path: '' }, ...allCheckpoints(),
      ...(models.length ? [HF_GROUP, ...models.map((m) => ({ ...m, path: '', model: m.path }))] : [])], { placeHolder: 'Start from' });
  if (!base) return undefined;
  const hub = base.model !== undefined ? parseModelRef(base.model) : undefined;
  if (base.model !== undefined && !hub) { void vscode.window.showErrorMessage(`BERT Lab: "${base.model}" is not a Hugging Face Hub model id.`); return undefined; }
  const pretrained = Boolean(base.path || hub);
  // Pretraining from scratch is sized by time: max_time ends it with the model saved, and the schedule decays to the budget.
  let maxTime: string | undefined, recipe: string | undefined;
  if (task === 'mlm' && !pretrained) {
    const budget = await vscode.window.showQuickPick([...TIME_BUDGETS], { placeHolder: 'Time budget' });
    if (!budget) return undefined;
    maxTime = budget.max_time;
    recipe = budget.recipe;
  }
  const name = await vscode.window.showInputBox({ prompt: 'Run name', value: `${task}-${basename(file.path).replace(/\.[^.]+$/, '')}`, validateInput: (v) => (/^[\w.-]+$/.test(v) ? undefined : 'letters, digits, ".", "_" and "-"') });
  if (!name) return undefined;
  const rel = (p: string) => relative(root, p).split(sep).join('/');
  const cfg: Record<string, unknown> = {
    $schema: `${vscode.Uri.file(join(deps.extensionPath, 'schemas', 'training-config.schema.json'))}`,
    output_dir: `${settings.runsFolder}/${name}`, task, train_file: rel(file.path),
    ...(hub ? { model_name_or_path: hub.id, ...(hub.revision ? { model_revision: hub.revision } : {}) }
      : base.path ? { model_name_or_path: rel(base.path) } : { train_tokenizer: { vocab_size: 8000 }, model_config: { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024, max_position_embeddings: 128 } }),
    max_seq_length: 128, learning_rate: task === 'mlm' ? 5e-4 : 5e-5 * (pretrained ? 1 : 10), warmup_ratio: 0.06, weight_decay: 0.01,
    ...(maxTime ? { max_time: maxTime } : { num_train_epochs: task === 'mlm' ? 1 : 3 }), per_device_train_batch_size: 32, logging_steps: 20, eval_strategy: 'steps', eval_steps: 200, save_steps: 200, save_total_limit: 3,
    ...(task === 'classification' ? { metric_for_best_model: 'eval_f1' } : {}), device: settings.device,
  };
  // A recipe: its name (so the run says what it is) and every value written out, each overridable here.
  if (recipe) Object.assign(cfg, { recipe, ...RECIPES[recipe]!.values }, { device: settings.device });
  const out = join(root, `${name}.bertlab.json`);
  if (existsSync(out) && (await vscode.window.showWarningMessage(`${basename(out)} exists. Replace it?`, { modal: true }, 'Replace')) !== 'Replace') return undefined;
  writeFileSync(out, JSON.stringify(cfg, null, 2) + '\n');
  await vscode.window.showTextDocument(vscode.Uri.file(out));
  return out;
}

async function pickConfig(deps: CommandDeps, task: 'mlm' | 'classification'): Promise<string | undefined> {
  const configs = await vscode.workspace.findFiles('**/*.bertlab.{json,yaml,yml}', '**/node_modules/**', 100);
  const items = configs.map((c) => ({ label: vscode.workspace.asRelativePath(c), path: c.fsPath }));
  const pick = await vscode.window.showQuickPick([...items, { label: '$(add) New Training Config…', path: '' }], { placeHolder: `Configuration to ${task === 'mlm' ? 'pretrain' : 'fine-tune'} with` });
  if (!pick) return undefined;
  return pick.path || newTrainingConfig(deps, task);
}

/** The checkpoint a command was given: a Runs view checkpoint (its path), a Models view model (its Hub id), or a string. */
function checkpointArg(item: unknown): string | undefined {
  return item instanceof CheckpointItem ? item.checkpoint.path : item instanceof ModelItem ? item.ref : typeof item === 'string' ? item : undefined;
}

/** The folder of a checkpoint reference (Hub ids from the cache), or undefined after telling the user why not. */
function folderOrSay(ref: string): string | undefined {
  try { return checkpointFolder(ref); } catch (e) { void vscode.window.showErrorMessage(`BERT Lab: ${(e as Error).message}`); return undefined; }
}

export function commandTable(deps: CommandDeps): Record<string, (...args: unknown[]) => unknown> {
  const active = () => deps.state.get<string>(ACTIVE_KEY);
  const setActive = async (p: string) => {
    const folder = folderOrSay(p);
    if (!folder) return;
    const missing = ['config.json', 'model.safetensors'].filter((f) => !existsSync(join(folder, f)));
    if (missing.length) { void vscode.window.showErrorMessage(`BERT Lab: ${p} is not a checkpoint folder: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing.`); return; }
    await deps.state.update(ACTIVE_KEY, p); deps.runs.refresh(); void vscode.window.showInformationMessage(`BERT Lab: active checkpoint ${p}`); };
  const train = async (task: 'mlm' | 'classification', arg?: unknown) => {
    if (!requireTrust('training')) return;
    const file = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : await pickConfig(deps, task);
    if (file) await deps.training.start(file);
  };
  return {
    'bertLab.showEngineInfo': () => vscode.window.showInformationMessage(`BERT Lab: device "${settings.device}", ${settings.threads || 'automatic'} threads; training runs in a child process, inference in a worker thread.`),
    'bertLab.newTrainingConfig': () => newTrainingConfig(deps),
    'bertLab.pretrain': (a?: unknown) => train('mlm', a),
    'bertLab.fineTune': (a?: unknown) => train('classification', a),
    'bertLab.stopTraining': () => deps.training.stop(),
    'bertLab.resumeTraining': async (item?: unknown) => {
      if (!requireTrust('training')) return;
      const dir = item instanceof RunItem ? item.run.outputDir : (await vscode.window.showQuickPick(findRuns(runsRoot() ?? '').map((d) => ({ label: basename(d), path: d })), { placeHolder: 'Run to resume' }))?.path;
      if (!dir) return;
      const log = join(dir, 'run_log.jsonl');
      const start = existsSync(log) ? parseRunLog(readFileSync(log, 'utf8'), log).records.find((r) => r.type === 'start') : undefined;
      const cfg = start && start.type === 'start' ? start.config_file : undefined;
      if (!cfg || !existsSync(cfg)) { void vscode.window.showErrorMessage(`BERT Lab: the configuration of ${basename(dir)} is not known (${cfg ?? 'no start record'}); start it with Pretrain or Fine-tune and "resume_from_checkpoint": true`); return; }
      // The run log names the configuration: only one inside the workspace is run from here.
      let inside: string;
      try { inside = containedPath(workspaceRoot() ?? dir, cfg, 'the workspace folder'); } catch (e) { void vscode.window.showErrorMessage(`BERT Lab: not resuming ${basename(dir)}: ${(e as Error).message}`); return; }
      await deps.training.start(inside, { resume: true });
    },
    'bertLab.setActiveCheckpoint': async (item?: unknown) => {
      if (!requireTrust('loading checkpoints')) return;
      const p = checkpointArg(item) ?? await pickCheckpoint('Checkpoint for hovers and predictions');
      if (p) await setActive(p);
    },
    'bertLab.evaluateCheckpoint': async (item?: unknown) => {
      if (!requireTrust('loading checkpoints')) return;
      const ref = checkpointArg(item) ?? await pickCheckpoint('Checkpoint to evaluate');
      const ckpt = ref && folderOrSay(ref);
      if (!ckpt) return;
      const files = await vscode.workspace.findFiles(`{${settings.datasetGlobs.join(',')}}`, `**/{node_modules,${settings.runsFolder}}/**`, 200);
      const data = await vscode.window.showQuickPick(files.map((f) => ({ label: vscode.workspace.asRelativePath(f), path: f.fsPath })), { placeHolder: 'Evaluation data' });
      if (!data) return;
      // The same code as `bert-lab eval`: labels go through the checkpoint's own id2label; labels
      // it does not know are refused, and the user may choose to skip them.
      const run = (extra: string[]) => vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `BERT Lab: evaluating ${basename(ckpt)}` },
        async () => JSON.parse(await cli(deps.extensionPath, ['eval', ckpt, '--data', data.path, '--json', ...extra], deps.output)) as { metrics?: Record<string, number> } & Record<string, unknown>);
      let out;
      try { out = await run([]); } catch (e) {
        const msg = (e as Error).message;
        if (!msg.includes('--ignore-unknown-labels')) { void vscode.window.showErrorMessage(`BERT Lab: ${msg}`); return; }
        const skip = await vscode.window.showErrorMessage(`BERT Lab: ${msg}`, 'Evaluate Without Them');
        if (skip !== 'Evaluate Without Them') return;
        try { out = await run(['--ignore-unknown-labels']); } catch (e2) { void vscode.window.showErrorMessage(`BERT Lab: ${(e2 as Error).message}`); return; }
      }
      const m = (out.metrics ?? out) as Record<string, number>;
      deps.output.appendLine(`eval ${ckpt} on ${data.path}: ${JSON.stringify(out)}`);
      void vscode.window.showInformationMessage(`BERT Lab: ${Object.entries(m).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
    },
    'bertLab.predictMasks': async () => {
      const ed = vscode.window.activeTextEditor;
      if (!ed) return;
      if (!requireTrust('loading checkpoints')) return;
      const ref = active() ?? (await pickCheckpoint('Checkpoint to predict with'));
      const folder = ref && folderOrSay(ref);
      if (!folder) return;
      const sel = ed.selection.isEmpty ? new vscode.Range(ed.document.lineAt(ed.selection.active.line).range.start, ed.document.lineAt(ed.selection.active.line).range.end) : ed.selection;
      const text = ed.document.getText(sel), base = ed.document.offsetAt(sel.start);
      const masks = findMasks(text);
      if (!masks.length) { void vscode.window.showInformationMessage('BERT Lab: no [MASK] in the selection.'); return; }
      try {
        const r = await deps.infer().fillMask(folder, text, settings.hoverTopK);
        for (const m of [...r.masks].reverse()) {
          const pick = await vscode.window.showQuickPick(m.predictions.map((p) => ({ label: p.token, description: `${(100 * p.score).toFixed(1)}%`, detail: p.sequence })), { placeHolder: `Fill the [MASK] at ${m.offset[0]}` });
          if (!pick) continue;
          await ed.edit((e) => e.replace(new vscode.Range(ed.document.positionAt(base + m.offset[0]), ed.document.positionAt(base + m.offset[1])), pick.label));
        }
      } catch (e) { void vscode.window.showErrorMessage(`BERT Lab: ${(e as Error).message}`); }
    },
    'bertLab.replaceMask': async (uri: unknown, start: unknown, end: unknown, token: unknown) => {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(String(uri)));
      const range = new vscode.Range(doc.positionAt(Number(start)), doc.positionAt(Number(end)));
      if (doc.getText(range) !== '[MASK]') { void vscode.window.showWarningMessage('BERT Lab: the text changed; hover the mask again.'); return; }
      const edit = new vscode.WorkspaceEdit();
      edit.replace(doc.uri, range, String(token));
      await vscode.workspace.applyEdit(edit);
    },
    'bertLab.showAttention': (item?: unknown) => {
      if (!requireTrust('loading checkpoints')) return;
      const ed = vscode.window.activeTextEditor;
      const text = ed && ed.document.uri.scheme !== 'output' ? ed.document.getText(ed.selection.isEmpty ? ed.document.lineAt(ed.selection.active.line).range : ed.selection).trim() : '';
      deps.panels.attention({ checkpoint: checkpointArg(item) ?? active(), ...(text ? { text: text.slice(0, 20_000) } : {}) });
    },
    'bertLab.openPredictions': (item?: unknown) => {
      if (!requireTrust('loading checkpoints')) return;
      const ed = vscode.window.activeTextEditor;
      const sel = ed && !ed.selection.isEmpty ? ed.document.getText(ed.selection) : ed ? ed.document.lineAt(ed.selection.active.line).text : '';
      deps.panels.predictions({ checkpoint: checkpointArg(item) ?? active(), ...(findMasks(sel).length ? { text: sel.slice(0, 20_000) } : {}) });
    },
    'bertLab.showTrainingCurves': (item?: unknown) => {
      deps.panels.curves(item instanceof RunItem ? item.run.outputDir : typeof item === 'string' ? item : undefined);
    },
    'bertLab.export': async (item?: unknown) => {
      if (!requireTrust('loading checkpoints')) return;
      const ref = checkpointArg(item) ?? await pickCheckpoint('Checkpoint to export');
      const ckpt = ref && folderOrSay(ref);
      if (!ref || !ckpt) return;
      const kind = await vscode.window.showQuickPick([{ label: 'ONNX + int8 (transformers.js folder)', id: 'onnx' }, { label: 'ONNX fp32 only', id: 'fp32' }], { placeHolder: 'Export as' });
      if (!kind) return;
      // A cached model's snapshot folder belongs to the cache: export next to the workspace instead.
      const hub = ckpt !== ref && parseModelRef(ref);
      const suggested = hub ? join(workspaceRoot() ?? join(ckpt, '..', '..', '..', '..'), `${hub.id.split('/').pop()}-onnx`) : `${ckpt}-onnx`;
      const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(suggested), saveLabel: 'Export here' });
      if (!target) return;
      try {
        await cli(deps.extensionPath, ['export', ckpt, target.fsPath, ...(kind.id === 'fp32' ? ['--no-int8'] : [])], deps.output);
        void vscode.window.showInformationMessage(`BERT Lab: exported to ${target.fsPath}`);
      } catch (e) { void vscode.window.showErrorMessage(`BERT Lab: ${(e as Error).message}`); }
    },
    'bertLab.selectDevice': async () => {
      const pick = await vscode.window.showQuickPick(['auto', 'cpu', 'cuda', 'webgpu'].map((d) => ({ label: d, description: d === settings.device ? 'current' : '' })), { placeHolder: 'Execution provider for training and inference' });
      if (pick) await vscode.workspace.getConfiguration('bertLab').update('device', pick.label, vscode.ConfigurationTarget.Workspace);
    },
    'bertLab.refreshRuns': () => { deps.runs.refresh(); deps.datasets.refresh(); },
    // The Hugging Face Hub and its cache (Models view). Downloading reads and runs nothing of the
    // workspace, so it works in an untrusted one too; loading the model then asks for trust.
    'bertLab.downloadModel': (ref?: unknown) => downloadModel({ changed: () => deps.models.refresh() }, typeof ref === 'string' ? ref : undefined),
    'bertLab.refreshModels': () => deps.models.refresh(),
    'bertLab.fineTuneFromModel': async (item?: unknown) => {
      const cached = checkpointArg(item) === undefined ? cachedCheckpoints() : [];
      if (checkpointArg(item) === undefined && !cached.length) {
        if ((await vscode.window.showInformationMessage('BERT Lab: no model in the Hugging Face cache that BERT Lab loads yet.', 'Download Model…')) === 'Download Model…') await vscode.commands.executeCommand('bertLab.downloadModel');
        return undefined;
      }
      const ref = checkpointArg(item) ?? (await vscode.window.showQuickPick(cached, { placeHolder: 'Model of the Hugging Face cache to start from' }))?.path;
      return ref ? newTrainingConfig(deps, undefined, ref) : undefined;
    },
    'bertLab.revealModel': async (item?: unknown) => {
      if (item instanceof ModelItem) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(item.folder));
    },
    'bertLab.deleteModel': async (item?: unknown) => {
      if (!(item instanceof ModelItem)) return;
      const { id, sizeOnDisk } = item.model;
      const ok = await vscode.window.showWarningMessage(`Delete ${id} (${fmtBytes(sizeOnDisk)}) from the Hugging Face cache?`, { modal: true, detail: `Removes ${item.model.repoDir}: this model's files only. Python's transformers shares this cache and would download it again.` }, 'Delete');
      if (ok !== 'Delete') return;
      try { deleteCachedModel(item.cacheDir, id); } catch (e) { void vscode.window.showErrorMessage(`BERT Lab: ${(e as Error).message}`); }
      deps.models.refresh();
    },
    'bertLab.scanDataset': async (item?: unknown) => {
      if (!(item instanceof DatasetItem)) return;
      try { await deps.datasets.scan(item.uri); } catch (e) { void vscode.window.showErrorMessage(`BERT Lab: ${(e as Error).message}`); }
    },
    'bertLab.delete': async (item?: unknown) => {
      const p = item instanceof CheckpointItem ? item.checkpoint.path : item instanceof RunItem ? item.run.outputDir : undefined;
      if (!p) return;
      if (deps.training.active && resolve(deps.training.active.outputDir) === resolve(item instanceof CheckpointItem ? item.run.outputDir : p)) { void vscode.window.showWarningMessage('BERT Lab: this run is training; stop it first.'); return; }
      let real: string;
      try { real = insideRuns(p); } catch (e) { void vscode.window.showErrorMessage(`BERT Lab: refusing to delete: ${(e as Error).message}`); return; }
      if ((await vscode.window.showWarningMessage(`Delete ${real}? This cannot be undone.`, { modal: true }, 'Delete')) !== 'Delete') return;
      rmSync(real, { recursive: true, force: true });
      deps.runs.refresh();
    },
  };
}

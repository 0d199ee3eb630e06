/**
 * Activation only wires things: the sidebar trees (Datasets, Runs, Models), the hover and code-action providers, the
 * commands (commands.ts), the training manager. Nothing here loads onnxruntime-node: training
 * runs in a child process and inference in a worker thread, both started on first use.
 */
import * as vscode from 'vscode';
import { InferenceWorker } from '../engine/infer/infer-client.js';
import { ACTIVE_KEY, checkpointsAndModels, commandTable, pickCheckpoint, runsRoot } from './commands.js';
import { registerPanels, type PanelServices } from './panels/index.js';
import { findRuns } from '../engine/workspace/runs.js';
import { FillMaskCodeActions, MaskHoverProvider } from './hover.js';
import { registerConfigDiagnostics } from './diagnostics.js';
import { settings } from './settings.js';
import { TrainingManager } from './training.js';
import { DatasetsProvider, RunsProvider } from './trees.js';
import { ModelsProvider } from './models-view.js';
import { join } from 'node:path';

/** What activate returns: the views' providers and the training manager (for tests and other extensions). */
export interface BertLabApi { runs: RunsProvider; datasets: DatasetsProvider; models: ModelsProvider; training: TrainingManager; panels: PanelServices }

export function activate(context: vscode.ExtensionContext): BertLabApi {
  const output = vscode.window.createOutputChannel('BERT Lab');
  const training = new TrainingManager(context.extensionPath, output);
  let worker: InferenceWorker | null = null;
  const infer = () => (worker ??= new InferenceWorker(join(context.extensionPath, 'dist', 'infer-worker.js')));
  const activeCheckpoint = () => context.workspaceState.get<string>(ACTIVE_KEY);
  const datasets = new DatasetsProvider();
  const runs = new RunsProvider(activeCheckpoint, () => training.active?.outputDir);
  const models = new ModelsProvider();

  context.subscriptions.push(
    output, training,
    vscode.window.registerTreeDataProvider('bertLab.datasets', datasets),
    vscode.window.registerTreeDataProvider('bertLab.runs', runs),
    vscode.window.registerTreeDataProvider('bertLab.models', models), models,
    training.onDidChange(() => runs.refresh()),
    { dispose: () => { void worker?.dispose(); } },
  );
  registerConfigDiagnostics(context);
  const panels = registerPanels(context, {
    extensionUri: context.extensionUri, output, infer,
    workspaceRuns: () => { const r = runsRoot(); return r ? findRuns(r) : []; },
    liveRun: () => training.active?.outputDir,
    checkpoints: checkpointsAndModels, activeCheckpoint, pickCheckpoint,
    trusted: () => vscode.workspace.isTrusted,
    memento: context.workspaceState,
  });
  const deps = { extensionPath: context.extensionPath, state: context.workspaceState, training, infer, datasets, runs, models, output, panels };
  for (const [id, fn] of Object.entries(commandTable(deps))) context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  // Hover and code actions in the configured languages, re-registered when the setting changes.
  let providers: vscode.Disposable[] = [];
  const registerProviders = () => {
    for (const d of providers) d.dispose();
    const selector = settings.hoverLanguages.map((language) => ({ language }));
    const hd = { infer, activeCheckpoint };
    providers = [
      vscode.languages.registerHoverProvider(selector, new MaskHoverProvider(hd)),
      vscode.languages.registerCodeActionsProvider(selector, new FillMaskCodeActions(hd), { providedCodeActionKinds: FillMaskCodeActions.kinds }),
    ];
  };
  registerProviders();
  context.subscriptions.push({ dispose: () => providers.forEach((d) => d.dispose()) });
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('bertLab.hover.languages')) registerProviders();
    if (e.affectsConfiguration('bertLab')) { runs.refresh(); datasets.refresh(); }
    if (e.affectsConfiguration('bertLab.hub')) models.refresh();
  }));
  // Runs appear and change on disk (also from the CLI): refresh the tree when files change.
  const watcher = vscode.workspace.createFileSystemWatcher(`**/${settings.runsFolder}/**/{run_log.jsonl,trainer_state.json}`);
  let pending: NodeJS.Timeout | null = null;
  const soon = () => { if (!pending) pending = setTimeout(() => { pending = null; runs.refresh(); }, 1000); };
  context.subscriptions.push(watcher, watcher.onDidChange(soon), watcher.onDidCreate(soon), watcher.onDidDelete(soon));
  void vscode.commands.executeCommand('setContext', 'bertLab.trusted', vscode.workspace.isTrusted);
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void vscode.commands.executeCommand('setContext', 'bertLab.trusted', true)));
  return { runs, datasets, models, training, panels };
}

export function deactivate(): void {}

/**
 * The sidebar's tree views: Datasets (workspace files matching bertLab.datasets.globs, with line
 * count, size and — once scanned — label distribution) and Runs (each run with status, step,
 * loss and device; under it its checkpoints with step, metrics, size, best ★ and active ●).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CheckpointInfo, RunInfo, findRuns, scanRun } from '../engine/workspace/runs.js';
import { DatasetScan, scanDataset, summarizeDataset } from '../engine/workspace/datasets.js';
import { settings, workspaceRoot } from './settings.js';

const size = (b: number) => (b >= 1e9 ? `${(b / 1e9).toFixed(1)} GB` : b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(0)} kB` : `${b} B`);

export class DatasetItem extends vscode.TreeItem {
  constructor(readonly uri: vscode.Uri, summary: string, scan?: DatasetScan) {
    super(vscode.workspace.asRelativePath(uri), vscode.TreeItemCollapsibleState.None);
    this.resourceUri = uri;
    this.description = summary;
    this.contextValue = 'bertLab.dataset';
    this.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
    if (scan) {
      const labels = Object.entries(scan.labels).sort((a, b) => b[1] - a[1]);
      this.tooltip = new vscode.MarkdownString(`**${scan.examples}** examples${labels.length ? `\n\n| label | count |\n|---|---:|\n${labels.map(([l, n]) => `| ${l} | ${n} |`).join('\n')}` : ''}${scan.unlabelled ? `\n\n${scan.unlabelled} without a label` : ''}`);
    }
  }
}

export class DatasetsProvider implements vscode.TreeDataProvider<DatasetItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly scans = new Map<string, DatasetScan>();
  refresh(): void { this.changed.fire(); }
  getTreeItem(e: DatasetItem): vscode.TreeItem { return e; }
  async getChildren(): Promise<DatasetItem[]> {
    const seen = new Set<string>();
    const items: DatasetItem[] = [];
    for (const glob of settings.datasetGlobs) {
      for (const uri of await vscode.workspace.findFiles(glob, `{**/node_modules/**,**/${settings.runsFolder}/**,**/.*/**}`, 500)) {
        if (seen.has(uri.fsPath)) continue;
        seen.add(uri.fsPath);
        try {
          const s = await summarizeDataset(uri.fsPath);
          items.push(new DatasetItem(uri, `${s.lines.toLocaleString()} lines · ${size(s.bytes)}`, this.scans.get(uri.fsPath)));
        } catch { /* unreadable: skip */ }
      }
    }
    return items.sort((a, b) => String(a.label).localeCompare(String(b.label)));
  }
  /** Reads a dataset through (streaming) to count examples and labels. */
  async scan(uri: vscode.Uri): Promise<DatasetScan> {
    const s = await scanDataset(uri.fsPath);
    this.scans.set(uri.fsPath, s);
    this.refresh();
    return s;
  }
}

export type RunNode = RunItem | CheckpointItem;

export class RunItem extends vscode.TreeItem {
  constructor(readonly run: RunInfo, training: boolean) {
    super(run.name, vscode.TreeItemCollapsibleState.Collapsed);
    const status = training ? 'training' : run.status;
    this.description = `${status} · step ${run.step}${run.maxSteps ? `/${run.maxSteps}` : ''}${run.loss !== null ? ` · loss ${run.loss.toFixed(3)}` : ''}${run.device ? ` · ${run.device}` : ''}`;
    this.iconPath = new vscode.ThemeIcon(training ? 'sync~spin' : run.status === 'completed' || run.status === 'max_time' ? 'pass' : run.status === 'failed' ? 'error' : 'debug-pause');
    this.contextValue = training ? 'bertLab.run.training' : 'bertLab.run';
    this.tooltip = new vscode.MarkdownString(`${run.outputDir}${run.lastEval ? `\n\n${Object.entries(run.lastEval).map(([k, v]) => `- ${k}: ${v.toFixed(4)}`).join('\n')}` : ''}${run.warnings.length ? `\n\n⚠ ${run.warnings.join('\n\n⚠ ')}` : ''}`);
    this.resourceUri = vscode.Uri.file(run.outputDir);
  }
}

export class CheckpointItem extends vscode.TreeItem {
  constructor(readonly run: RunInfo, readonly checkpoint: CheckpointInfo, active: boolean) {
    super(`step ${checkpoint.step}`, vscode.TreeItemCollapsibleState.None);
    const main = Object.entries(checkpoint.metrics).filter(([k]) => /eval_(loss|accuracy|f1)$/.test(k)).map(([k, v]) => `${k.slice(5)} ${v.toFixed(3)}`).join(' · ');
    this.description = [checkpoint.best ? '★ best' : '', active ? '● active' : '', main, size(checkpoint.bytes)].filter(Boolean).join(' · ');
    this.contextValue = `bertLab.checkpoint${active ? '.active' : ''}`;
    this.iconPath = new vscode.ThemeIcon(active ? 'circle-filled' : checkpoint.best ? 'star-full' : 'package');
    this.resourceUri = vscode.Uri.file(checkpoint.path);
    this.tooltip = new vscode.MarkdownString(`${checkpoint.path}\n\n${Object.entries(checkpoint.metrics).map(([k, v]) => `- ${k}: ${v.toFixed(4)}`).join('\n')}`);
  }
}

export class RunsProvider implements vscode.TreeDataProvider<RunNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  constructor(private readonly activeCheckpoint: () => string | undefined, private readonly trainingDir: () => string | undefined) {}
  refresh(): void { this.changed.fire(); }
  getTreeItem(e: RunNode): vscode.TreeItem { return e; }
  getChildren(e?: RunNode): RunNode[] {
    const root = workspaceRoot();
    if (!root) return [];
    if (!e) {
      const base = join(root, settings.runsFolder);
      try { statSync(base); } catch { return []; }
      return findRuns(base).map((d) => new RunItem(scanRun(d), this.trainingDir() === d));
    }
    if (e instanceof RunItem) {
      const items: RunNode[] = e.run.checkpoints.map((c) => new CheckpointItem(e.run, c, this.activeCheckpoint() === c.path));
      if ((e.run.status === 'completed' || e.run.status === 'max_time') && !items.some((i) => i instanceof CheckpointItem && i.checkpoint.path === e.run.outputDir)) {
        // The final model in output_dir itself is a checkpoint too.
        const final: CheckpointInfo = { path: e.run.outputDir, step: e.run.step, metrics: e.run.lastEval ?? {}, bytes: 0, best: false };
        const item = new CheckpointItem(e.run, final, this.activeCheckpoint() === e.run.outputDir);
        item.label = `final (step ${e.run.step})`;
        items.push(item);
      }
      return items;
    }
    return [];
  }
}

/**
 * The Models view: the Hugging Face cache's models (huggingface_hub's layout, shared with Python),
 * each with its revisions, size on disk, model_type and whether BERT Lab loads it (and why not).
 * A partial download (blobs but no snapshot) is listed too, so it can be deleted.
 * Read when the view asks (on refresh: the button, a download, a delete, a settings change); no
 * file watcher on the cache.
 */
import * as vscode from 'vscode';
import { type CachedModel, type CachedRevision, fmtBytes, scanCache } from '../engine/hub/index.js';
import { cacheDir, mainRevision, refOf, revisionLabel, whyNotLoadable } from './hub.js';

/** Markdown text with its special characters escaped (ids and paths come from the file system). */
const md = (s: string) => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');

export class ModelItem extends vscode.TreeItem {
  /** The snapshot actions use: main's, else the newest. */
  readonly revision: CachedRevision | undefined;
  /** Why BERT Lab cannot load it; undefined when it can. */
  readonly whyNot: string | undefined;

  constructor(readonly model: CachedModel, readonly cacheDir: string) {
    super(model.id, vscode.TreeItemCollapsibleState.None);
    this.revision = mainRevision(model);
    this.whyNot = this.revision ? whyNotLoadable(this.revision) : 'no snapshot (a download that never finished?)';
    const revs = model.revisions.map(revisionLabel);
    this.description = [revs.join(', ') || 'no snapshot', fmtBytes(model.sizeOnDisk), this.whyNot ? 'cannot load' : ''].filter(Boolean).join(' · ');
    this.contextValue = this.whyNot ? 'bertLab.model.unsupported' : 'bertLab.model';
    this.iconPath = new vscode.ThemeIcon(this.whyNot ? 'warning' : 'package');
    const lines = [`**${md(model.id)}** · ${fmtBytes(model.sizeOnDisk)} on disk`, ''];
    for (const r of model.revisions) {
      lines.push(`- ${r.refs.length ? `${md(r.refs.join(', '))}: ` : ''}commit \`${r.commit}\``);
      lines.push(`  - model_type ${md(r.modelType ?? '(none)')}${r.architectures?.length ? ` · ${md(r.architectures.join(', '))}` : ''}`);
      lines.push(`  - ${md(r.folder)}`);
    }
    lines.push('', this.whyNot ? `$(warning) BERT Lab cannot load it: ${md(this.whyNot)}` : '$(check) BERT Lab loads it');
    this.tooltip = new vscode.MarkdownString(lines.join('\n'), true);
  }

  /** The snapshot folder (the model's cache folder when it has no snapshot). */
  get folder(): string { return this.revision?.folder ?? this.model.repoDir; }

  /** The reference commands take: "org/name" (main), else "org/name@revision". */
  get ref(): string | undefined { return this.revision && refOf(this.model, this.revision); }
}

export class ModelsProvider implements vscode.TreeDataProvider<ModelItem> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  refresh(): void { this.changed.fire(); }
  getTreeItem(e: ModelItem): vscode.TreeItem { return e; }
  getChildren(e?: ModelItem): ModelItem[] {
    if (e) return [];
    const dir = cacheDir();
    return scanCache(dir).map((m) => new ModelItem(m, dir));
  }
  dispose(): void { this.changed.dispose(); }
}

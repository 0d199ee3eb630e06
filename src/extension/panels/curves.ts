/**
 * The Training Curves panel's host side: offers the workspace's runs and folders the user added,
 * sends the runs the page selects (only those: a page cannot name an arbitrary folder), follows
 * shown live runs about once a second and sends what they append, and opens a clicked
 * checkpoint in the predictions or attention panel.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { containedPath } from '../../engine/workspace/contain.js';
import { type CurveTail, isCurveRunFolder, openCurveRun } from '../../engine/workspace/curves.js';
import { scanRun } from '../../engine/workspace/runs.js';
import type { RunRefMsg } from '../../shared/messages/curves.js';
import type { ToHost } from '../../shared/messages/index.js';
import { Panel, type PanelContext, viewType, webviewOptions } from './panel.js';

export interface CurvesContext extends PanelContext {
  /** Run folders under the workspace's runs folder (absolute). */
  workspaceRuns(): string[];
  /** Output folder of the run training now. */
  liveRun(): string | undefined;
  openCheckpoint(path: string, view: 'predictions' | 'attention'): void;
  /** Where the folders added with "Add run…" are remembered (across window reloads). */
  memento?: vscode.Memento;
}

const ADDED_KEY = 'bertLab.curves.addedRuns';

const TITLE = 'BERT Lab: Training Curves';
const POLL_MS = 1000;
/** Every how many polls the runs list is checked for new runs (findRuns walks folders). */
const RESCAN_EVERY = 5;

export class CurvesPanel extends Panel {
  static readonly viewType = viewType('curves');
  /** Folders the user added (dialog, or a command's showRun) beside the workspace's runs. */
  private readonly added = new Set<string>();
  /** Runs the host wants shown (the page merges them into its selection). */
  private shown = new Set<string>();
  /** Runs whose data the page has: id → checkpoint paths by step (to open one by its step). */
  private readonly loaded = new Map<string, Map<number, string>>();
  /** Shown runs that are training: their log tails. */
  private readonly tails = new Map<string, CurveTail>();
  private ticks = 0;
  private lastLive: string | undefined;
  private lastRuns = '';

  private constructor(panel: vscode.WebviewPanel, private readonly cx: CurvesContext, runs: string[]) {
    super('curves', panel, cx, TITLE);
    // Folders added earlier (a reload revives the panel): those that still hold a run.
    for (const d of cx.memento?.get<string[]>(ADDED_KEY) ?? []) if (typeof d === 'string' && isCurveRunFolder(d)) this.added.add(d);
    for (const r of runs) this.include(r);
    this.lastLive = cx.liveRun();
    const timer = setInterval(() => { try { this.tick(); } catch (e) { this.logLine(`polling runs failed: ${(e as Error).message}`); } }, POLL_MS);
    this.disposables.push({ dispose: () => clearInterval(timer) });
  }

  static create(ctx: CurvesContext, runs: string[] = []): CurvesPanel {
    const panel = vscode.window.createWebviewPanel(CurvesPanel.viewType, TITLE, vscode.ViewColumn.Active, webviewOptions(ctx.extensionUri));
    return new CurvesPanel(panel, ctx, runs);
  }

  static revive(panel: vscode.WebviewPanel, ctx: CurvesContext): CurvesPanel { return new CurvesPanel(panel, ctx, []); }

  /** Adds the folder if new, shows it, reveals the panel. */
  showRun(dir: string): void {
    this.include(dir);
    this.panel.reveal();
    if (this.pageReady) this.postRuns();
  }

  private include(dir: string): void {
    const d = resolve(dir);
    if (!this.cx.workspaceRuns().includes(d) && !this.added.has(d)) {
      this.added.add(d);
      void this.cx.memento?.update(ADDED_KEY, [...this.added]);
    }
    this.shown.add(d);
  }

  /** Every run the page may name: the workspace's, the live one, and added folders. */
  private known(): string[] {
    const live = this.cx.liveRun();
    return [...new Set([...this.cx.workspaceRuns(), ...(live ? [resolve(live)] : []), ...this.added])];
  }

  private refs(): RunRefMsg[] {
    const live = this.cx.liveRun();
    return this.known().map((id) => {
      const isLive = !!live && resolve(live) === id;
      let status: string = isLive ? 'training' : 'incomplete';
      const source = existsSync(join(id, 'run_log.jsonl')) ? 'bertlab' as const : 'hf' as const;
      if (!isLive) { try { status = scanRun(id).status; } catch { /* unreadable: shown as incomplete */ } }
      return { id, name: basename(id), source, status, live: isLive, shown: this.shown.has(id) };
    });
  }

  private postRuns(): void {
    const refs = this.refs();
    this.lastRuns = refs.map((r) => `${r.id}\n${r.live}`).join('\n');
    void this.post({ type: 'curves/runs', runs: refs });
  }

  protected handle(m: ToHost): void | Promise<void> {
    switch (m.type) {
      case 'ready':
        this.loaded.clear(); this.tails.clear(); // a new page has nothing yet
        this.postRuns();
        return;
      case 'curves/select': return this.select(m.ids);
      case 'curves/addRun': return this.addRun();
      case 'curves/openCheckpoint': {
        const marks = this.loaded.get(m.id);
        if (!marks) throw new Error(`${m.id} is not a shown run; select it first`);
        const path = marks.get(m.step) ?? join(m.id, `checkpoint-${m.step}`);
        if (!existsSync(path)) throw new Error(`${basename(m.id)} has no checkpoint at step ${m.step} any more (${path} is gone; save_total_limit may have deleted it)`);
        // The run log names the path; a link or `..` must not lead outside the run's folder.
        this.cx.openCheckpoint(containedPath(m.id, path, `the run folder of ${basename(m.id)}`, { allowRoot: false }), m.view);
        return;
      }
      default: return; // other panels' messages
    }
  }

  private select(ids: string[]): void {
    const known = new Set(this.known());
    const unknown = ids.filter((id) => !known.has(id));
    const ok = ids.filter((id) => known.has(id));
    this.shown = new Set(ok);
    for (const id of [...this.loaded.keys()]) if (!this.shown.has(id)) { this.loaded.delete(id); this.tails.delete(id); }
    for (const id of ok) if (!this.loaded.has(id)) this.load(id);
    if (unknown.length) throw new Error(`not a run of this workspace nor a folder added with "Add run…": ${unknown.join(', ')}; add the folder first`);
  }

  private load(id: string): void {
    const live = this.cx.liveRun();
    const { run, tail } = openCurveRun(id, { live: !!live && resolve(live) === id });
    for (const w of run.warnings) this.logLine(w);
    this.loaded.set(id, new Map(run.checkpoints.map((c) => [c.step, c.path])));
    if (run.live && tail) this.tails.set(id, tail); else this.tails.delete(id);
    void this.post({ type: 'curves/data', run });
  }

  private async addRun(): Promise<void> {
    const base = vscode.workspace.workspaceFolders?.[0]?.uri;
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Add run', title: 'A BERT Lab run folder, or a Hugging Face Trainer output folder', ...(base ? { defaultUri: base } : {}) });
    const dir = picked?.[0]?.fsPath;
    if (!dir) return;
    if (!isCurveRunFolder(dir)) throw new Error(`${dir} holds no run: choose a folder with a run_log.jsonl (BERT Lab), a trainer_state.json or checkpoint-N folders (Hugging Face Trainer)`);
    this.include(dir);
    this.postRuns();
  }

  /** Once a second: appends of shown live runs; the runs list when a run starts or ends or a folder appears. */
  private tick(): void {
    if (!this.pageReady) return;
    const live = this.cx.liveRun();
    const liveId = live ? resolve(live) : undefined;
    const started = live !== this.lastLive;
    let relist = started;
    if (started && liveId) this.shown.add(liveId); // a run that starts is shown at once
    this.lastLive = live;
    for (const id of this.loaded.keys()) {
      const tail = this.tails.get(id);
      if (started && id === liveId && !tail) { this.load(id); continue; } // resumed after it was loaded finished
      if (!tail) continue;
      const { rows, checkpoints, warnings } = tail.poll();
      for (const w of warnings) this.logLine(w);
      const marks = this.loaded.get(id)!;
      for (const c of checkpoints) marks.set(c.step, c.path);
      const stillLive = id === liveId && !tail.finished;
      if (rows.length || checkpoints.length || !stillLive) void this.post({ type: 'curves/append', id, rows, checkpoints, live: stillLive });
      if (!stillLive) { this.tails.delete(id); relist = true; }
    }
    if (!relist && ++this.ticks % RESCAN_EVERY === 0) relist = this.refsSignature() !== this.lastRuns;
    if (relist) this.postRuns();
  }

  private refsSignature(): string {
    const live = this.cx.liveRun();
    return this.known().map((id) => `${id}\n${!!live && resolve(live) === id}`).join('\n');
  }
}

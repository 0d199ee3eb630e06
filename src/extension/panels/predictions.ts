/**
 * The predictions panel's host side: lists the checkpoints the page may choose (the workspace's,
 * the active one, any given by a command or picked by the user; all allow-listed), runs the
 * page's text through fill-mask in the inference worker for one checkpoint or two side by side,
 * and answers with each one's tokens and top-k per mask. A checkpoint that fails (a classifier,
 * a broken folder) gets its error in its own column; an untrusted workspace loads nothing.
 */
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { ToHost, ToHostOf } from '../../shared/messages/index.js';
import type { PredictionColumnMsg } from '../../shared/messages/predictions.js';
import { type InferContext, checkpointOffer } from './infer-context.js';
import { Panel, viewType, webviewOptions } from './panel.js';
import { checkpointFolder } from '../hub.js';

export interface PredictionsOptions { checkpoint?: string; text?: string }
const TITLE = 'BERT Lab: Predictions';
export const UNTRUSTED = 'BERT Lab loads no checkpoint in an untrusted workspace: trust this workspace (Manage Workspace Trust) to see predictions.';

export class PredictionsPanel extends Panel {
  static readonly viewType = viewType('predictions');
  /** Checkpoints given by a command or picked by the user, offered beside the workspace's. */
  private readonly extra = new Set<string>();
  /**
   * What the page should select (slot 0, slot 1): the last run's checkpoints, or one given or
   * picked. Empty after a window reload, so the page keeps its own saved choice.
   */
  private selected: string[] = [];
  /** Text to load once the page is ready (a hidden panel's page reloads when shown). */
  private pendingText: string | undefined;
  /** The newest run's id: an older run still computing stops between checkpoints and is not answered. */
  private latestRun = -1;

  private constructor(panel: vscode.WebviewPanel, private readonly ictx: InferContext, opts?: PredictionsOptions) {
    super('predictions', panel, ictx, TITLE);
    if (opts) this.queue(opts);
  }

  static create(ctx: InferContext, opts: PredictionsOptions = {}): PredictionsPanel {
    const panel = vscode.window.createWebviewPanel(PredictionsPanel.viewType, TITLE, vscode.ViewColumn.Active, webviewOptions(ctx.extensionUri));
    const active = ctx.activeCheckpoint();
    return new PredictionsPanel(panel, ctx, { ...opts, checkpoint: opts.checkpoint ?? active });
  }

  static revive(panel: vscode.WebviewPanel, ctx: InferContext): PredictionsPanel { return new PredictionsPanel(panel, ctx); }

  /** Reveals the panel; selects `checkpoint` (allow-listing it) and loads `text`, which the page then runs. */
  show(opts: PredictionsOptions): void {
    this.panel.reveal();
    this.queue(opts);
    if (this.pageReady) this.flush();
  }

  private queue(opts: PredictionsOptions): void {
    if (opts.checkpoint) { this.extra.add(opts.checkpoint); this.selected = [opts.checkpoint, ...this.selected.slice(1)]; }
    if (opts.text !== undefined) this.pendingText = opts.text;
  }

  /** Sends the checkpoint list, then the pending text. */
  private flush(): void {
    this.sendCheckpoints();
    if (this.pendingText !== undefined) { void this.post({ type: 'predictions/text', text: this.pendingText.slice(0, 100_000) }); this.pendingText = undefined; }
  }

  /** The offered checkpoints (all allow-listed) and the host's choice for the two slots. */
  private sendCheckpoints(): void {
    const items = checkpointOffer(this.ictx, this.extra);
    for (const c of items) this.allowed.add(c.path);
    void this.post({ type: 'checkpoints', items, selected: this.selected.filter((p) => this.allowed.has(p)).slice(0, 2) });
  }

  protected async handle(m: ToHost): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.flush();
        if (!this.ictx.trusted()) void this.post({ type: 'error', message: UNTRUSTED });
        return;
      case 'predictions/run': return this.run(m);
      case 'predictions/pickCheckpoint': return this.pick(m.slot);
      default: this.logLine(`ignored a ${m.type} message (not a predictions message)`);
    }
  }

  private async run(m: ToHostOf<'predictions/run'>): Promise<void> {
    if (!this.ictx.trusted()) throw new Error(UNTRUSTED);
    if (m.checkpoints.length === 0) throw new Error('no checkpoint chosen: choose one in the Checkpoint list (or "Choose a folder…")');
    const paths = m.checkpoints.map((p) => this.allowedPath(p));
    this.selected = [...paths];
    this.latestRun = m.requestId;
    // One worker serves both checkpoints, one request after the other; a failure stays in its column.
    const columns: PredictionColumnMsg[] = [];
    for (const checkpoint of paths) {
      if (m.requestId !== this.latestRun) return; // superseded: the page has moved on
      columns.push(await this.column(checkpoint, m.text, m.topK));
    }
    if (m.requestId === this.latestRun) void this.post({ type: 'predictions/result', requestId: m.requestId, columns });
  }

  private async column(checkpoint: string, text: string, topK: number): Promise<PredictionColumnMsg> {
    const t0 = performance.now();
    try {
      // A Hub id resolves from the cache only (a panel never downloads).
      const r = await this.ictx.infer().fillMask(checkpointFolder(checkpoint), text, topK);
      const warnings = [...r.warnings];
      // A non-finite score (a diverged checkpoint) would fail the page's message check: show it as 0 and say so.
      let bad = 0;
      const masks = r.masks.map((x) => ({
        start: x.offset[0], end: x.offset[1],
        predictions: x.predictions.map(({ token, score }) => ({ token: token.slice(0, 1000), score: Number.isFinite(score) ? score : (bad++, 0) })),
      }));
      if (bad) warnings.push(`${bad} scores were not finite numbers (NaN or Infinity) and are shown as 0: the checkpoint's weights may have diverged`);
      const tokens = r.tokens.map((t) => ({ ...t, text: t.text.slice(0, 1000) }));
      return { checkpoint, tokens, masks, warnings, ms: performance.now() - t0 };
    } catch (e) {
      const message = (e as Error).message;
      this.logLine(`fill-mask with ${checkpoint} failed: ${message}`);
      return { checkpoint, tokens: [], masks: [], warnings: [], ms: performance.now() - t0, error: message };
    }
  }

  private async pick(slot: number): Promise<void> {
    const p = await this.ictx.pickCheckpoint(slot === 0 ? 'Checkpoint for predictions' : 'Checkpoint to compare with');
    if (p) {
      this.extra.add(p);
      const sel = [...this.selected];
      if (slot === 1 && sel[0]) sel[1] = p; else sel[0] = p;
      this.selected = sel.slice(0, 2);
    }
    // Sent when cancelled too: the page puts its select back on a real checkpoint.
    this.sendCheckpoints();
  }
}

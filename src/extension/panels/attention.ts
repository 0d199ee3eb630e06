/**
 * The attention panel's host side: runs a checkpoint on the page's text in the inference worker,
 * keeps the full result (L × H × T × T probabilities; 151 MB for BERT-base at 512 tokens) here, and
 * answers the page's requests for thumbnails and single heads from it. Stale requests are
 * dropped: a run superseded by a newer one is not shown, and thumbnails (the slow request) stop
 * between layers when a newer request arrives.
 */
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { AttentionResult } from '../../engine/infer/pipeline.js';
import { checkKeep, headMatrix, seqLength, thumbSize, thumbnailsOfLayer, viewTokens } from '../../engine/infer/attention-view.js';
import type { ToHost, ToHostOf } from '../../shared/messages/index.js';
import { type CheckpointRef, type InferContext, checkpointOffer } from './infer-context.js';
import { Panel, viewType, webviewOptions } from './panel.js';
import { checkpointFolder } from '../hub.js';

export interface AttentionOptions { checkpoint?: string; text?: string; pair?: string }
export const UNTRUSTED = 'this workspace is not trusted, so BERT Lab loads no checkpoint here (Restricted Mode). Trust the workspace (Workspaces: Manage Workspace Trust) to see attention.';
const TITLE = 'BERT Lab: Attention';

export class AttentionPanel extends Panel {
  static readonly viewType = viewType('attention');
  /** The last run's result and the checkpoint it came from. */
  private result: { r: AttentionResult; checkpoint: string; requestId: number; ms: number } | null = null;
  /** The newest request of each kind (older answers are dropped). */
  private latest = { run: -1, thumbs: -1 };
  /** Input to load once the page is ready. */
  private pending: AttentionOptions | undefined;
  /** Checkpoints given by a command or picked by the user, offered beside the workspace's. */
  private readonly extra = new Set<string>();
  private selected: string | undefined;
  /** The last few thumbnail sets of the current result, by request (mean, size, kept positions). */
  private readonly thumbCache = new Map<string, { r: AttentionResult; t: { size: number; count: number; data: Uint8Array; scale: number[] } }>();

  private constructor(panel: vscode.WebviewPanel, private readonly ictx: InferContext, opts?: AttentionOptions) {
    super('attention', panel, ictx, TITLE);
    if (opts) this.queue(opts);
  }

  static create(ctx: InferContext, opts?: AttentionOptions): AttentionPanel {
    const panel = vscode.window.createWebviewPanel(AttentionPanel.viewType, TITLE, vscode.ViewColumn.Active, webviewOptions(ctx.extensionUri));
    return new AttentionPanel(panel, ctx, opts);
  }

  static revive(panel: vscode.WebviewPanel, ctx: InferContext): AttentionPanel { return new AttentionPanel(panel, ctx); }

  /** Reveals the panel, offers `checkpoint`, loads the text into the page and runs it. */
  show(opts: AttentionOptions): void {
    this.panel.reveal();
    this.queue(opts);
    if (this.pageReady) this.flush();
  }

  private queue(opts: AttentionOptions): void {
    if (opts.checkpoint) { this.extra.add(opts.checkpoint); this.selected = opts.checkpoint; }
    if (opts.checkpoint !== undefined || opts.text !== undefined || opts.pair !== undefined) this.pending = { ...this.pending, ...opts };
  }

  /** Sends the pending input, then the checkpoint list (the page runs the input once the list offers its checkpoint). */
  private flush(): void {
    if (this.pending) { void this.post({ type: 'attention/load', ...this.pending }); this.pending = undefined; }
    void this.post({ type: 'checkpoints', ...this.offer() });
  }

  /**
   * The offered checkpoints, all allow-listed. `selected` names the host's choice (a command's, a
   * pick, the last run), none before that: the page keeps its own saved choice then.
   */
  private offer(): { items: CheckpointRef[]; selected: string[] } {
    const items = checkpointOffer(this.ictx, this.extra);
    for (const c of items) this.allowed.add(c.path);
    return { items, selected: this.selected ? [this.selected] : [] };
  }

  private need(): AttentionResult {
    if (!this.result) throw new Error('no attention to show yet: press Run');
    return this.result.r;
  }

  protected async handle(m: ToHost): Promise<void> {
    switch (m.type) {
      case 'ready': {
        this.latest = { run: -1, thumbs: -1 };  // a reloaded page numbers its requests afresh
        const res = this.result;
        // The page was hidden or reloaded: give it back the result it showed (no rerun).
        if (res && !this.pending) void this.post({ type: 'attention/meta', requestId: res.requestId, checkpoint: res.checkpoint, tokens: viewTokens(res.r), layers: res.r.layers.length, heads: res.r.heads, warnings: res.r.warnings, ms: res.ms });
        this.flush();
        if (!this.ictx.trusted()) void this.post({ type: 'error', message: UNTRUSTED });
        return;
      }
      case 'attention/pickCheckpoint': {
        const p = await this.ictx.pickCheckpoint('Checkpoint folder whose attention to show');
        if (!p) return;
        this.extra.add(p);
        this.selected = p;
        void this.post({ type: 'checkpoints', ...this.offer() });
        return;
      }
      case 'attention/run': return this.run(m);
      case 'attention/thumbs': return this.thumbs(m);
      case 'attention/head': {
        const r = this.need();
        const data = headMatrix(r, m.layer, m.head, m.keep);
        void this.post({ type: 'attention/head', requestId: m.requestId, layer: m.layer, head: m.head, n: m.keep.length, data });
        return;
      }
      default: return;
    }
  }

  private async run(m: ToHostOf<'attention/run'>): Promise<void> {
    if (!this.ictx.trusted()) throw new Error(UNTRUSTED);
    const folder = this.allowedPath(m.checkpoint);
    if (!m.text.trim()) throw new Error('the text is empty: type a sentence to see its attention');
    this.latest.run = m.requestId;
    this.selected = folder;
    const t0 = performance.now();
    const r = await this.ictx.infer().attention(checkpointFolder(folder), m.text, m.pair?.trim() ? m.pair : undefined);
    if (this.latest.run !== m.requestId) return;  // a newer run was asked for meanwhile
    seqLength(r);
    const ms = performance.now() - t0;
    this.result = { r, checkpoint: folder, requestId: m.requestId, ms };
    this.thumbCache.clear();
    this.logLine(`attention of ${folder}: ${r.tokens.length} tokens, ${r.layers.length} layers × ${r.heads} heads in ${ms.toFixed(0)} ms`);
    void this.post({ type: 'attention/meta', requestId: m.requestId, checkpoint: folder, tokens: viewTokens(r), layers: r.layers.length, heads: r.heads, warnings: r.warnings, ms });
  }

  /** Thumbnails layer by layer, yielding between layers so a newer request (or run) supersedes this one. */
  private async thumbs(m: ToHostOf<'attention/thumbs'>): Promise<void> {
    const r = this.need();
    const key = `${m.mean ? 'mean' : 'heads'}/${m.size}/${m.keep.join(',')}`, hit = this.thumbCache.get(key);
    if (hit && hit.r === r) { this.latest.thumbs = m.requestId; void this.post({ type: 'attention/thumbs', requestId: m.requestId, ...hit.t }); return; }
    const K = checkKeep(m.keep, seqLength(r));
    const s = thumbSize(K.length, m.size), per = m.mean ? 1 : r.heads, count = r.layers.length * per;
    const data = new Uint8Array(count * s * s), scale = new Array<number>(count).fill(0);
    this.latest.thumbs = m.requestId;
    for (let l = 0; l < r.layers.length; l++) {
      thumbnailsOfLayer(r, l, K, s, m.mean, data, scale, l * per);
      await new Promise((done) => setImmediate(done));
      if (this.latest.thumbs !== m.requestId || this.result?.r !== r) return;
    }
    // Toggling "hide special" or "average heads" back asks for the same thumbnails again.
    if (this.thumbCache.size >= 4) this.thumbCache.delete(this.thumbCache.keys().next().value!);
    this.thumbCache.set(key, { r, t: { size: s, count, data, scale } });
    void this.post({ type: 'attention/thumbs', requestId: m.requestId, size: s, count, data, scale });
  }

  override dispose(): void {
    this.result = null;
    this.thumbCache.clear();
    super.dispose();
  }
}

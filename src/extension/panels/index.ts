/**
 * The three webview panels as one service: one panel of each kind at a time (reused and
 * revealed), revived after a window reload by VS Code's panel serializers (the page keeps its
 * own UI state; the host re-sends data on `ready`), and the contexts they get from the rest of
 * the extension. Commands and tree items call `curves`, `predictions` and `attention`.
 */
import { statSync } from 'node:fs';
import * as vscode from 'vscode';
import { CurvesPanel, type CurvesContext } from './curves.js';
import { PredictionsPanel } from './predictions.js';
import { AttentionPanel } from './attention.js';
import type { InferContext } from './infer-context.js';

export interface PanelServices {
  curves(runDir?: string): void;
  predictions(opts?: { checkpoint?: string; text?: string }): void;
  attention(opts?: { checkpoint?: string; text?: string; pair?: string }): void;
  /** The open panels (tests). */
  readonly open: { curves?: CurvesPanel; predictions?: PredictionsPanel; attention?: AttentionPanel };
}

export function registerPanels(context: vscode.ExtensionContext, base: Omit<InferContext & CurvesContext, 'openCheckpoint'>): PanelServices {
  const open: PanelServices['open'] = {};
  const ctx: InferContext & CurvesContext = {
    ...base,
    openCheckpoint: (path, view) => (view === 'predictions' ? services.predictions({ checkpoint: path }) : services.attention({ checkpoint: path })),
  };
  const track = <K extends keyof PanelServices['open']>(kind: K, p: NonNullable<PanelServices['open'][K]>) => {
    open[kind] = p as PanelServices['open'][K];
    p.onDidDispose(() => { if (open[kind] === p) delete open[kind]; });
    context.subscriptions.push(p);
    return p;
  };
  const services: PanelServices = {
    open,
    curves(runDir) {
      if (open.curves) { if (runDir) open.curves.showRun(runDir); else open.curves.panel.reveal(); return; }
      // A new panel shows the given run, else the one training now, else the latest.
      const first = runDir ?? base.liveRun() ?? latest(base.workspaceRuns());
      track('curves', CurvesPanel.create(ctx, first ? [first] : []));
    },
    predictions(opts = {}) {
      if (open.predictions) open.predictions.show(opts);
      else track('predictions', PredictionsPanel.create(ctx, opts));
    },
    attention(opts = {}) {
      if (open.attention) open.attention.show(opts);
      else track('attention', AttentionPanel.create(ctx, opts));
    },
  };
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(CurvesPanel.viewType, { deserializeWebviewPanel: async (panel) => { track('curves', CurvesPanel.revive(panel, ctx)); } }),
    vscode.window.registerWebviewPanelSerializer(PredictionsPanel.viewType, { deserializeWebviewPanel: async (panel) => { track('predictions', PredictionsPanel.revive(panel, ctx)); } }),
    vscode.window.registerWebviewPanelSerializer(AttentionPanel.viewType, { deserializeWebviewPanel: async (panel) => { track('attention', AttentionPanel.revive(panel, ctx)); } }),
  );
  return services;
}

/** The run folder changed last (its own mtime changes when files are added). */
function latest(dirs: string[]): string | undefined {
  let best: string | undefined, t = -Infinity;
  for (const d of dirs) {
    try { const m = statSync(d).mtimeMs; if (m > t) { t = m; best = d; } } catch { /* gone */ }
  }
  return best;
}

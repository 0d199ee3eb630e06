/**
 * Hover-to-predict: over a [MASK] in the configured languages, the active checkpoint's top-k
 * tokens with probabilities, computed in the inference worker from the paragraph around the
 * mask; each token is a command link that replaces the mask. Also a code action that fills it.
 */
import * as vscode from 'vscode';
import type { InferenceWorker } from '../engine/infer/infer-client.js';
import type { MaskAtResult } from '../engine/infer/infer-protocol.js';
import { maskAt, paragraphAround } from '../engine/infer/mask-context.js';
import { settings } from './settings.js';
import { checkpointFolder } from './hub.js';

export interface HoverDeps { infer: () => InferenceWorker; activeCheckpoint: () => string | undefined }

async function predict(deps: HoverDeps, doc: vscode.TextDocument, offset: number): Promise<{ range: vscode.Range; result: MaskAtResult } | { range: vscode.Range; message: string } | undefined> {
  const text = doc.getText();
  const span = maskAt(text, offset);
  if (!span) return undefined;
  const range = new vscode.Range(doc.positionAt(span.start), doc.positionAt(span.end));
  if (!vscode.workspace.isTrusted) return { range, message: 'BERT Lab predictions are off in an untrusted workspace (they load model files from it).' };
  const active = deps.activeCheckpoint();
  if (!active) return { range, message: 'No active checkpoint: run **BERT Lab: Set Active Checkpoint** (or pick one in the Runs view).' };
  const para = paragraphAround(text, span);
  try {
    // A Hub id comes from the cache only: a hover never downloads.
    const folder = checkpointFolder(active);
    const result = await deps.infer().fillMaskAt(folder, text.slice(para.start, para.end), span.start - para.start, span.end - para.start, settings.hoverTopK);
    return { range, result: { ...result, start: span.start, end: span.end } };
  } catch (e) {
    return { range, message: `BERT Lab: ${(e as Error).message}` };
  }
}

export class MaskHoverProvider implements vscode.HoverProvider {
  constructor(private readonly deps: HoverDeps) {}
  async provideHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    const p = await predict(this.deps, doc, doc.offsetAt(pos));
    if (!p) return undefined;
    if ('message' in p) return new vscode.Hover(new vscode.MarkdownString(p.message), p.range);
    const md = new vscode.MarkdownString('', true);
    md.isTrusted = { enabledCommands: ['bertLab.replaceMask'] };
    md.appendMarkdown(`**BERT Lab** · ${this.deps.activeCheckpoint()!.split(/[\\/]/).slice(-2).join('/')}\n\n`);
    for (const q of p.result.predictions) {
      const args = encodeURIComponent(JSON.stringify([doc.uri.toString(), p.result.start, p.result.end, q.token]));
      const bar = '█'.repeat(Math.max(1, Math.round(q.score * 20)));
      md.appendMarkdown(`[\`${q.token.replace(/`/g, "'")}\`](command:bertLab.replaceMask?${args} "Replace the mask") ${bar} ${(100 * q.score).toFixed(1)}%  \n`);
    }
    for (const w of p.result.warnings) md.appendMarkdown(`\n\n⚠ ${w}`);
    return new vscode.Hover(md, p.range);
  }
}

export class FillMaskCodeActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  constructor(private readonly deps: HoverDeps) {}
  async provideCodeActions(doc: vscode.TextDocument, range: vscode.Range): Promise<vscode.CodeAction[]> {
    const p = await predict(this.deps, doc, doc.offsetAt(range.start));
    if (!p || 'message' in p) return [];
    return p.result.predictions.slice(0, 3).map((q, i) => {
      const a = new vscode.CodeAction(`Fill [MASK] with "${q.token}" (${(100 * q.score).toFixed(0)}%)`, vscode.CodeActionKind.QuickFix);
      a.edit = new vscode.WorkspaceEdit();
      a.edit.replace(doc.uri, p.range, q.token);
      a.isPreferred = i === 0;
      return a;
    });
  }
}

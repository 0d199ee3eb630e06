/**
 * Problems in training configurations (*.bertlab.json / .yaml), shown as diagnostics in the file
 * as it is edited: the same checks the trainer runs (field types and ranges, unknown fields with
 * "did you mean", cross-field rules), at the line and column of the field.
 */
import * as vscode from 'vscode';
import { checkTrainingConfig } from '../engine/train/config.js';

export const isTrainingConfig = (doc: vscode.TextDocument): boolean => /\.bertlab\.(json|ya?ml)$/.test(doc.fileName);

export function registerConfigDiagnostics(context: vscode.ExtensionContext): void {
  const collection = vscode.languages.createDiagnosticCollection('bertLab');
  const timers = new Map<string, NodeJS.Timeout>();
  const check = (doc: vscode.TextDocument) => {
    if (!isTrainingConfig(doc)) return;
    const { diagnostics } = checkTrainingConfig(doc.getText(), doc.fileName);
    collection.set(doc.uri, diagnostics.map((d) => {
      const line = Math.max(0, d.line - 1), col = Math.max(0, d.column - 1);
      const end = doc.lineAt(Math.min(line, doc.lineCount - 1)).range.end;
      const diag = new vscode.Diagnostic(new vscode.Range(line, col, line, Math.max(col + 1, end.character)), d.message,
        d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      diag.source = 'BERT Lab';
      if (d.field) diag.code = d.field;
      return diag;
    }));
  };
  const soon = (doc: vscode.TextDocument) => {
    const k = doc.uri.toString();
    clearTimeout(timers.get(k));
    timers.set(k, setTimeout(() => { timers.delete(k); check(doc); }, 300));
  };
  context.subscriptions.push(
    collection,
    vscode.workspace.onDidOpenTextDocument(check),
    vscode.workspace.onDidChangeTextDocument((e) => soon(e.document)),
    vscode.workspace.onDidCloseTextDocument((d) => collection.delete(d.uri)),
  );
  for (const d of vscode.workspace.textDocuments) check(d);
}

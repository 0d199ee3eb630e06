/**
 * Activation only wires commands; it never loads onnxruntime-node (sessions live in worker
 * threads started on demand), so VS Code starts as fast with BERT Lab as without it.
 */
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('bertLab.showEngineInfo', () => {
      const cfg = vscode.workspace.getConfiguration('bertLab');
      const device = cfg.get<string>('device', 'auto');
      const threads = cfg.get<number>('threads', 0);
      void vscode.window.showInformationMessage(
        `BERT Lab ${context.extension.packageJSON.version}: device "${device}", ${threads || 'automatic'} threads. `
        + 'Training runs on ONNX Runtime in a worker thread.');
    }),
  );
}

export function deactivate(): void {}

/** The bertLab.* settings, read fresh each time (they may change while the extension runs). */
import * as vscode from 'vscode';

export const settings = {
  get device(): 'auto' | 'cpu' | 'cuda' | 'webgpu' { return vscode.workspace.getConfiguration('bertLab').get('device', 'auto'); },
  get threads(): number { return vscode.workspace.getConfiguration('bertLab').get('threads', 0); },
  get hoverLanguages(): string[] { return vscode.workspace.getConfiguration('bertLab').get('hover.languages', ['plaintext', 'markdown']); },
  get hoverTopK(): number { return vscode.workspace.getConfiguration('bertLab').get('hover.topK', 5); },
  get datasetGlobs(): string[] { return vscode.workspace.getConfiguration('bertLab').get('datasets.globs', ['**/*.{txt,jsonl,csv,tsv}']); },
  get runsFolder(): string { return vscode.workspace.getConfiguration('bertLab').get('runsFolder', 'runs'); },
  /** bertLab.hub.cacheDir as written ('' = huggingface_hub's default); machine-scoped, so no workspace sets it. */
  get hubCacheDir(): string { return vscode.workspace.getConfiguration('bertLab').get('hub.cacheDir', '').trim(); },
  /**
   * bertLab.hub.offline at any level (user, workspace, folder): a workspace may turn offline mode
   * on, never off again behind the user's back. HF_HUB_OFFLINE is read separately (hub.ts).
   */
  get hubOffline(): boolean {
    const i = vscode.workspace.getConfiguration('bertLab').inspect<boolean>('hub.offline');
    return [i?.globalValue, i?.workspaceValue, i?.workspaceFolderValue].some((v) => v === true);
  },
};

/** The workspace folder's path, or undefined without a folder. */
export const workspaceRoot = (): string | undefined => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;

/** Refuses (with an explanation) what an untrusted workspace may not do: train or load checkpoints. */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`BERT Lab: ${what} is disabled in an untrusted workspace, because it reads and runs files from this folder. Trust the workspace (Manage Workspace Trust) to enable it.`);
  return false;
}

/**
 * What every BERT Lab webview panel shares: the page (strict CSP with a nonce; scripts, styles
 * and fonts only from the extension's dist/webviews), messages checked against the typed union
 * on receipt (unknown or malformed ones are dropped and logged), the common messages (log, save
 * a file), and which checkpoint paths the page may name (only those offered to it or picked by
 * the user: a page cannot make the host open an arbitrary path).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { toHost, type PanelKind, type ToHost, type ToView } from '../../shared/messages/index.js';
import { validate } from '../../shared/validate.js';

export interface PanelContext {
  extensionUri: vscode.Uri;
  output: vscode.OutputChannel;
}

export const viewType = (kind: PanelKind): string => `bertLab.${kind}`;

/** The page of a panel: its bundle and stylesheet from dist/webviews, nothing else may load. */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, kind: PanelKind, title: string): string {
  const nonce = randomBytes(18).toString('base64');
  const asset = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webviews', f)).toString();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    "connect-src 'none'", "frame-src 'none'", "form-action 'none'", "base-uri 'none'",
  ].join('; ');
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" nonce="${nonce}" href="${asset(`${kind}.css`)}">
<title>${esc(title)}</title>
</head>
<body data-panel="${kind}">
<div id="app"></div>
<script nonce="${nonce}" src="${asset(`${kind}.js`)}"></script>
</body>
</html>`;
}

/** Webview options for every panel: scripts on, resources only from dist/webviews, no command links. */
export const webviewOptions = (extensionUri: vscode.Uri): vscode.WebviewOptions => ({
  enableScripts: true, enableCommandUris: false, enableForms: false,
  localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webviews')],
});

export abstract class Panel implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  /** Checkpoint folders the page may name in a message: offered to it, or picked by the user. */
  protected readonly allowed = new Set<string>();
  private disposed = false;
  /**
   * Whether the page has said `ready` and is still there: without retainContextWhenHidden the page
   * is discarded while hidden and says `ready` again when shown, so messages wait until then.
   */
  protected pageReady = false;
  readonly onDidDispose: vscode.Event<void>;

  protected constructor(readonly kind: PanelKind, readonly panel: vscode.WebviewPanel, protected readonly ctx: PanelContext, title: string) {
    panel.webview.options = webviewOptions(ctx.extensionUri);
    panel.webview.html = panelHtml(panel.webview, ctx.extensionUri, kind, title);
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'bert-lab.svg');
    const emitter = new vscode.EventEmitter<void>();
    this.onDidDispose = emitter.event;
    this.disposables.push(emitter, panel.webview.onDidReceiveMessage((raw: unknown) => { void this.receive(raw); }), panel.onDidDispose(() => { emitter.fire(); this.dispose(); }),
      panel.onDidChangeViewState(() => { if (!panel.visible) this.pageReady = false; }));
  }

  /** Sends a message to the page (dropped when the panel is gone). */
  post(m: ToView): Thenable<boolean> { return this.disposed ? Promise.resolve(false) : this.panel.webview.postMessage(m); }

  protected logLine(text: string): void { this.ctx.output.appendLine(`[${this.kind} panel] ${text}`); }

  /** Checks a path named by the page against the allow-list; throws a clear error otherwise. */
  protected allowedPath(p: string): string {
    if (!this.allowed.has(p)) throw new Error(`${p} was not offered to this panel; choose a checkpoint from the list`);
    return p;
  }

  private async receive(raw: unknown): Promise<void> {
    const r = validate(toHost, raw);
    if (!r.ok) { this.logLine(`dropped a message: ${r.error}`); return; }
    const m = r.value;
    try {
      switch (m.type) {
        case 'log': this.logLine(`${m.level}: ${m.message}`); return;
        case 'saveFile': await this.saveFile(m.kind, m.suggestedName, m.data); return;
        case 'ready': this.pageReady = true; await this.handle(m); return;
        default: await this.handle(m);
      }
    } catch (e) {
      this.logLine(`${m.type} failed: ${(e as Error).message}`);
      void this.post({ type: 'error', ...('requestId' in m && typeof m.requestId === 'number' ? { requestId: m.requestId } : {}), message: (e as Error).message });
    }
  }

  /** The panel's own messages (`ready` included). Throwing reports the error to the page. */
  protected abstract handle(m: ToHost): void | Promise<void>;

  private async saveFile(kind: 'csv' | 'png', name: string, data: string): Promise<void> {
    let bytes: Buffer;
    if (kind === 'png') {
      const prefix = 'data:image/png;base64,';
      if (!data.startsWith(prefix)) throw new Error('the PNG to save is not a data:image/png;base64 URL');
      bytes = Buffer.from(data.slice(prefix.length), 'base64');
      if (bytes.length < 8 || bytes.readUInt32BE(0) !== 0x89504e47) throw new Error('the PNG to save is not a PNG image');
    } else bytes = Buffer.from(data, 'utf8');
    const safe = name.replace(/[^\w.-]+/g, '_').slice(0, 100) || `bert-lab.${kind}`;
    const base = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({ defaultUri: base ? vscode.Uri.joinPath(base, safe) : undefined, filters: kind === 'csv' ? { CSV: ['csv'] } : { PNG: ['png'] }, saveLabel: 'Save' });
    if (!target) return;
    writeFileSync(target.fsPath, bytes);
    this.logLine(`saved ${target.fsPath} (${bytes.length} bytes)`);
    void vscode.window.showInformationMessage(`BERT Lab: saved ${vscode.workspace.asRelativePath(target)}`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

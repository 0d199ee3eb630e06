/**
 * The few pieces of the `vscode` API a webview panel's host side uses, for running a panel in
 * plain Node: a fake WebviewPanel records what the host posts and delivers what a test sends as
 * the page. `useVscodeStub()` makes `require('vscode')` resolve here (call it before importing
 * the panel).
 */
import Module from 'node:module';

type Listener<T> = (e: T) => unknown;
export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (l: Listener<T>) => { this.listeners.push(l); return { dispose: () => { this.listeners = this.listeners.filter((x) => x !== l); } }; };
  fire(e: T): void { for (const l of [...this.listeners]) l(e); }
  dispose(): void { this.listeners = []; }
}

export class Uri {
  private constructor(readonly fsPath: string) {}
  static file(p: string): Uri { return new Uri(p); }
  static joinPath(base: Uri, ...parts: string[]): Uri { return new Uri([base.fsPath, ...parts].join('/')); }
  toString(): string { return `file://${this.fsPath}`; }
}

export const ViewColumn = { Active: -1, One: 1 };

/** A webview panel without a page: `posted` holds what the host sent, `fromPage` delivers a message (`delivered` counts them). */
export class FakeWebviewPanel {
  readonly posted: unknown[] = [];
  delivered = 0;
  visible = true;
  revealed = 0;
  iconPath: unknown;
  private readonly received = new EventEmitter<unknown>();
  private readonly disposed = new EventEmitter<void>();
  private readonly viewState = new EventEmitter<{ webviewPanel: FakeWebviewPanel }>();
  readonly onDidDispose = this.disposed.event;
  readonly onDidChangeViewState = this.viewState.event;
  readonly webview = {
    options: {} as unknown, html: '', cspSource: 'stub:',
    asWebviewUri: (u: Uri) => u,
    postMessage: async (m: unknown) => { this.posted.push(JSON.parse(JSON.stringify(m))); return true; },
    onDidReceiveMessage: this.received.event,
  };
  constructor(readonly viewType: string, readonly title: string) {}
  fromPage(m: unknown): void { this.delivered++; this.received.fire(m); }
  setVisible(v: boolean): void { this.visible = v; this.viewState.fire({ webviewPanel: this }); }
  reveal(): void { this.revealed++; if (!this.visible) this.setVisible(true); }
  dispose(): void { this.disposed.fire(); }
}

export const created: FakeWebviewPanel[] = [];
export const window = {
  createWebviewPanel: (viewType: string, title: string) => { const p = new FakeWebviewPanel(viewType, title); created.push(p); return p; },
  showSaveDialog: async () => undefined,
  showInformationMessage: async () => undefined,
};
export const workspace = { workspaceFolders: undefined, asRelativePath: (u: Uri) => u.fsPath };

/** Makes `require('vscode')` load this module. */
export function useVscodeStub(): void {
  const M = Module as unknown as { _resolveFilename: (req: string, ...rest: unknown[]) => string };
  const orig = M._resolveFilename;
  M._resolveFilename = function (this: unknown, req: string, ...rest: unknown[]) { return req === 'vscode' ? __filename : orig.call(this, req, ...rest); };
}

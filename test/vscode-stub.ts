/**
 * The few pieces of the `vscode` API a webview panel's host side, a tree view and a command use,
 * for running them in plain Node: a fake WebviewPanel records what the host posts and delivers
 * what a test sends as the page; messages, progress notifications and executed commands are
 * recorded, and a test scripts the answers (quick picks, buttons, settings). `useVscodeStub()` makes `require('vscode')` resolve here (call it before importing
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

// Tree views, progress and settings (the Models view and the Download Model command's tests).
export const TreeItemCollapsibleState = { None: 0, Collapsed: 1, Expanded: 2 };
export class TreeItem {
  description?: string; tooltip?: unknown; contextValue?: string; iconPath?: unknown; resourceUri?: Uri; command?: unknown;
  constructor(public label: string, public collapsibleState = TreeItemCollapsibleState.None) {}
}
export class ThemeIcon { constructor(readonly id: string) {} }
export class MarkdownString { constructor(public value = '', readonly supportThemeIcons = false) {} }
export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 };
export const QuickPickItemKind = { Separator: -1, Default: 0 };
export const ConfigurationTarget = { Global: 1, Workspace: 2, WorkspaceFolder: 3 };

/** One withProgress call: what it reported, and a Cancel button a test can press. */
export class FakeProgress {
  readonly reports: { message?: string; increment?: number }[] = [];
  private readonly cancelled = new EventEmitter<void>();
  readonly token = { isCancellationRequested: false, onCancellationRequested: this.cancelled.event };
  constructor(readonly options: { title?: string; cancellable?: boolean; location?: number }) {}
  /** The user pressed Cancel. */
  cancel(): void { this.token.isCancellationRequested = true; this.cancelled.fire(); }
}
export const progresses: FakeProgress[] = [];

/** Messages shown (kind, text, buttons); `answer` chooses the button a message gets (default none). */
export const messages: { kind: 'info' | 'warning' | 'error'; text: string; options: unknown[] }[] = [];
export const answers: { answer: (kind: string, text: string, options: unknown[]) => string | undefined } = { answer: () => undefined };
const message = (kind: 'info' | 'warning' | 'error') => async (text: string, ...options: unknown[]) => {
  messages.push({ kind, text, options });
  return answers.answer(kind, text, options);
};

export const window = {
  createWebviewPanel: (viewType: string, title: string) => { const p = new FakeWebviewPanel(viewType, title); created.push(p); return p; },
  showSaveDialog: async () => undefined,
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  showQuickPick: async (_items: unknown, _options?: unknown): Promise<unknown> => undefined,
  showInputBox: async (_options?: unknown): Promise<string | undefined> => undefined,
  showTextDocument: async () => undefined,
  withProgress: async <T>(options: { title?: string; cancellable?: boolean; location?: number }, task: (p: { report(v: { message?: string; increment?: number }): void }, token: FakeProgress['token']) => Promise<T>): Promise<T> => {
    const p = new FakeProgress(options);
    progresses.push(p);
    return task({ report: (v) => { p.reports.push(v); } }, p.token);
  },
};

/** Settings by full key ("bertLab.hub.cacheDir"), at user level; `workspaceSettings` at workspace level. */
export const settings: Record<string, unknown> = {};
export const workspaceSettings: Record<string, unknown> = {};
export const workspace = {
  workspaceFolders: undefined as { uri: Uri }[] | undefined,
  isTrusted: true,
  asRelativePath: (u: Uri) => u.fsPath,
  findFiles: async (): Promise<Uri[]> => [],
  getConfiguration: (section: string) => ({
    get: <T>(key: string, def?: T): T | undefined => {
      const k = `${section}.${key}`;
      return (k in workspaceSettings ? workspaceSettings[k] : k in settings ? settings[k] : def) as T | undefined;
    },
    inspect: <T>(key: string) => ({ key: `${section}.${key}`, globalValue: settings[`${section}.${key}`] as T | undefined, workspaceValue: workspaceSettings[`${section}.${key}`] as T | undefined, workspaceFolderValue: undefined as T | undefined }),
  }),
};

/** Commands executed (id and arguments). */
export const executed: unknown[][] = [];
export const commands = { executeCommand: async (...args: unknown[]) => { executed.push(args); return undefined; } };

/** Makes `require('vscode')` load this module. */
export function useVscodeStub(): void {
  const M = Module as unknown as { _resolveFilename: (req: string, ...rest: unknown[]) => string };
  const orig = M._resolveFilename;
  M._resolveFilename = function (this: unknown, req: string, ...rest: unknown[]) { return req === 'vscode' ? __filename : orig.call(this, req, ...rest); };
}

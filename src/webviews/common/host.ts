/**
 * The page's side of the message channel, shared by every panel: typed posting, validation of
 * what arrives (malformed messages are dropped and reported to the host's log), persisted UI
 * state (kept across hide/show and window reloads through the panel serializer), errors and CSP
 * violations reported to the host, and theme colours read from VS Code's CSS variables.
 */
import { toView, type ToHost, type ToView } from '../../shared/messages/index.js';
import { validate } from '../../shared/validate.js';

interface VsCodeApi { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

const api: VsCodeApi = typeof acquireVsCodeApi === 'function'
  ? acquireVsCodeApi()
  : { postMessage: (m) => console.log('post', m), getState: () => undefined, setState: () => {} };

export function post(m: ToHost): void { api.postMessage(m); }
export function log(level: 'info' | 'warn' | 'error', message: string): void { post({ type: 'log', level, message }); }

/** Calls `handler` with each valid message from the host; others are dropped and logged. */
export function onMessage(handler: (m: ToView) => void): void {
  window.addEventListener('message', (e: MessageEvent) => {
    const r = validate(toView, e.data);
    if (!r.ok) { console.warn(`BERT Lab: dropped a message: ${r.error}`); log('warn', `dropped a message from the host: ${r.error}`); return; }
    try { handler(r.value); } catch (err) { log('error', `handling ${r.value.type}: ${(err as Error).stack ?? String(err)}`); }
  });
}

/** The panel's saved UI state, merged over `defaults` (fields of the wrong type fall back). */
export function loadState<S extends object>(defaults: S): S {
  const s = api.getState();
  if (typeof s !== 'object' || s === null) return { ...defaults };
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(defaults)) {
    const got = (s as Record<string, unknown>)[k];
    if (got !== undefined && typeof got === typeof v && Array.isArray(got) === Array.isArray(v)) out[k] = got;
  }
  return out as S;
}
export function saveState<S extends object>(s: S): void { api.setState(s); }

/** A VS Code theme colour (e.g. `--vscode-editor-foreground`), with a fallback. */
export function cssVar(name: string, fallback = '#888'): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}
export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
export function themeKind(): ThemeKind {
  const c = document.body.classList;
  return c.contains('vscode-high-contrast-light') ? 'high-contrast-light' : c.contains('vscode-high-contrast') ? 'high-contrast' : c.contains('vscode-light') ? 'light' : 'dark';
}
/** Calls `cb` when VS Code switches colour theme (it changes the body's classes and variables). */
export function onThemeChange(cb: () => void): void {
  new MutationObserver(() => cb()).observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
}

/** Builds an element without innerHTML: text is always text, never markup. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string | number | boolean | undefined>, ...children: (Node | string | null | undefined)[]): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Record<string, string | number | boolean | undefined>, ...children: (Node | string | null | undefined)[]): HTMLElement;
export function h(tag: string, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: (Node | string | null | undefined)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** Reports uncaught errors and CSP violations to the host's log (call once per page). */
export function installErrorReporting(panel: string): void {
  window.addEventListener('error', (e) => log('error', `${panel}: ${e.message} (${e.filename}:${e.lineno})`));
  window.addEventListener('unhandledrejection', (e) => log('error', `${panel}: unhandled rejection: ${String((e as PromiseRejectionEvent).reason)}`));
  document.addEventListener('securitypolicyviolation', (e) => {
    // Counted on the body too, where the end-to-end tests read it.
    document.body.dataset.cspViolations = String(Number(document.body.dataset.cspViolations ?? 0) + 1);
    log('error', `${panel}: CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
  });
}

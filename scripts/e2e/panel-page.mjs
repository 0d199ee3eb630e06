// A webview panel's bundle in plain Chromium, outside VS Code: for benchmarks and quick page
// checks. Serves dist/webviews over 127.0.0.1 with the same CSP as the extension's panels, stubs
// acquireVsCodeApi (what the page posts is recorded) and delivers host messages the way VS Code
// does (window 'message' events). Needs `bash scripts/e2e/setup.sh` (Chromium, playwright-core)
// and `npm run build`.
//
//   const p = await openPanelPage('curves', { theme: 'dark' });
//   await p.send({ type: 'curves/runs', runs: [] });   // or p.page.evaluate(...) for big data
//   p.posted() → messages the page sent; await p.close();
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { randomBytes } from 'node:crypto';
import { REPO_ROOT, launchBrowser, closeBrowser } from './run.mjs';

const DIST = join(REPO_ROOT, 'dist', 'webviews');
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.html': 'text/html', '.ttf': 'font/ttf' };

/** Dark and light colours of the variables the panels use (a subset of VS Code's Default Dark/Light Modern). */
export const THEMES = {
  dark: { cls: 'vscode-dark', vars: { 'foreground': '#cccccc', 'editor-background': '#1f1f1f', 'editor-foreground': '#cccccc', 'descriptionForeground': '#9d9d9d', 'panel-border': '#2b2b2b', 'errorForeground': '#f85149', 'focusBorder': '#0078d4', 'button-background': '#0078d4', 'button-foreground': '#ffffff', 'input-background': '#313131', 'input-foreground': '#cccccc', 'charts-red': '#f14c4c', 'charts-blue': '#3794ff', 'charts-yellow': '#cca700', 'charts-orange': '#d18616', 'charts-green': '#89d185', 'charts-purple': '#b180d7', 'editorHoverWidget-background': '#202020', 'editorHoverWidget-border': '#454545', 'dropdown-background': '#313131', 'dropdown-foreground': '#cccccc', 'dropdown-border': '#3c3c3c', 'settings-dropdownBackground': '#313131', 'settings-dropdownForeground': '#cccccc', 'settings-dropdownBorder': '#3c3c3c', 'settings-textInputBackground': '#313131', 'settings-textInputForeground': '#cccccc', 'settings-textInputBorder': '#3c3c3c', 'input-border': '#3c3c3c', 'checkbox-background': '#313131', 'checkbox-border': '#3c3c3c', 'button-secondaryBackground': '#313131', 'settings-checkboxBackground': '#313131', 'settings-checkboxBorder': '#3c3c3c', 'settings-checkboxForeground': '#cccccc', 'settings-dropdownListBorder': '#454545', 'list-activeSelectionBackground': '#04395e', 'list-activeSelectionForeground': '#ffffff', 'list-hoverBackground': '#2a2d2e', 'input-placeholderForeground': '#989898', 'button-hoverBackground': '#026ec1', 'widget-shadow': '#0000005c', 'button-secondaryForeground': '#cccccc', 'font-family': 'sans-serif', 'font-size': '13px', 'editor-font-family': 'monospace' } },
  light: { cls: 'vscode-light', vars: { 'foreground': '#3b3b3b', 'editor-background': '#ffffff', 'editor-foreground': '#3b3b3b', 'descriptionForeground': '#3b3b3b', 'panel-border': '#e5e5e5', 'errorForeground': '#f85149', 'focusBorder': '#005fb8', 'button-background': '#005fb8', 'button-foreground': '#ffffff', 'input-background': '#ffffff', 'input-foreground': '#3b3b3b', 'charts-red': '#e51400', 'charts-blue': '#1a85ff', 'charts-yellow': '#bf8803', 'charts-orange': '#d18616', 'charts-green': '#388a34', 'charts-purple': '#652d90', 'editorHoverWidget-background': '#f8f8f8', 'editorHoverWidget-border': '#c8c8c8', 'dropdown-background': '#ffffff', 'dropdown-foreground': '#3b3b3b', 'dropdown-border': '#cecece', 'settings-dropdownBackground': '#ffffff', 'settings-dropdownForeground': '#3b3b3b', 'settings-dropdownBorder': '#cecece', 'settings-textInputBackground': '#ffffff', 'settings-textInputForeground': '#3b3b3b', 'settings-textInputBorder': '#cecece', 'input-border': '#cecece', 'checkbox-background': '#f8f8f8', 'checkbox-border': '#cecece', 'button-secondaryBackground': '#e5e5e5', 'settings-checkboxBackground': '#f8f8f8', 'settings-checkboxBorder': '#cecece', 'settings-checkboxForeground': '#3b3b3b', 'settings-dropdownListBorder': '#c8c8c8', 'list-activeSelectionBackground': '#e8e8e8', 'list-activeSelectionForeground': '#000000', 'list-hoverBackground': '#f2f2f2', 'input-placeholderForeground': '#767676', 'button-hoverBackground': '#0258a8', 'widget-shadow': '#00000029', 'button-secondaryForeground': '#3b3b3b', 'font-family': 'sans-serif', 'font-size': '13px', 'editor-font-family': 'monospace' } },
};

function page(kind, theme, nonce, origin) {
  const t = THEMES[theme];
  const vars = Object.entries(t.vars).map(([k, v]) => `--vscode-${k}: ${v};`).join(' ');
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${origin} 'nonce-${nonce}'; font-src ${origin}; img-src ${origin} data:; connect-src 'none'`;
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<style nonce="${nonce}">html { ${vars} }</style>
<link rel="stylesheet" nonce="${nonce}" href="/${kind}.css"></head>
<body class="${t.cls}" data-panel="${kind}"><div id="app"></div>
<script nonce="${nonce}">window.__posted = []; let __state; window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => __state, setState: (s) => { __state = s; } });</script>
<script nonce="${nonce}" src="/${kind}.js"></script></body></html>`;
}

export async function openPanelPage(kind, { theme = 'dark', width = 1200, height = 800 } = {}) {
  if (!existsSync(join(DIST, `${kind}.js`))) throw new Error(`dist/webviews/${kind}.js is missing: run npm run build`);
  const nonce = randomBytes(12).toString('base64');
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/favicon.ico') { res.writeHead(204); res.end(); return; }
    if (url.pathname === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page(kind, theme, nonce, `http://${req.headers.host}`)); return; }
    const file = normalize(join(DIST, url.pathname));
    if (!file.startsWith(DIST) || !existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const browser = await launchBrowser({});
  const ctx = await browser.newContext({ viewport: { width, height } });
  const p = await ctx.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await p.goto(`http://127.0.0.1:${server.address().port}/`);
  return {
    page: p,
    errors,
    /** Delivers a host message (JSON-serialisable; typed arrays: build them in page.evaluate). */
    send: (msg) => p.evaluate((m) => window.postMessage(m, '*'), msg),
    posted: () => p.evaluate(() => window.__posted),
    close: async () => { await closeBrowser(browser); server.close(); },
  };
}

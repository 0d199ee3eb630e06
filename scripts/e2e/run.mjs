#!/usr/bin/env node
// End-to-end harness: a real VS Code (code-server, the VS Code server build) with the workbench in
// Debian's Chromium driven by playwright-core. Everything comes from scripts/e2e/setup.sh (.e2e/).
//
// CLI (plain Node ESM, runs on the project's Node 20):
//   node scripts/e2e/run.mjs [options] <compiled test index.js>
//       Runs the tests INSIDE the extension host (like @vscode/test-electron / test-web): the
//       workbench is opened with extensionDevelopmentPath = the repository root and
//       extensionTestsPath = the index, whose `run(): Promise<void>` is called. Output of the
//       extension host is streamed to stdout; the process exits with the host's exit code
//       (0 = run() resolved, 1 = it threw).
//   node scripts/e2e/run.mjs --screenshot <file.png> [options]
//       Opens the workbench with the extension under development, shows the command palette
//       filtered to "BERT Lab" (or --palette <text>), takes a screenshot; exits 0, or 1
//       when no palette entry matched (the picture is taken anyway).
//
// Options:
//   --folder <dir>        workspace folder to open (default: a fresh empty temporary folder)
//   --trust               keep Workspace Trust ON and open the folder untrusted (restricted mode);
//                         by default the server runs with --disable-workspace-trust
//   --vsix <file>         install this .vsix into the temporary extensions folder and do NOT pass
//                         extensionDevelopmentPath (test the packaged extension)
//   --no-dev              do not pass extensionDevelopmentPath (only installed extensions)
//   --artifacts <dir>     where screenshots and, on failure, the workbench logs go
//                         (default .e2e/artifacts)
//   --palette <text>      text typed into the command palette before --screenshot (default "BERT Lab")
//   --timeout <s>         total time limit in seconds (default 300, env E2E_TIMEOUT_S)
//   --keep                keep the temporary folder (user data, logs) and print its path
//   --verbose             also print code-server's own output and the browser console
//
// Environment:
//   E2E_DIR               install folder of setup.sh (default <repo>/.e2e)
//   E2E_TIMEOUT_S         total limit (default 300)
//   E2E_LAUNCH_TIMEOUT_S  limit for starting code-server and the browser, each (default 60)
//   E2E_LOAD_TIMEOUT_S    limit for the workbench to appear (default 90)
//   E2E_CHROMIUM          browser binary (default: `chromium` on PATH)
//   E2E_VERBOSE=1         same as --verbose
//   E2E_KEEP=1            same as --keep
//
// Exit codes: the extension host's code (0/1) for tests; 2 = harness error (setup missing, launch
// or load failed); 124 = a time limit was hit; 130/143 = interrupted (SIGINT/SIGTERM). The
// code-server process group and the browser are killed on every path.
//
// Library (import { ... } from './scripts/e2e/run.mjs'):
//   withWorkbench(opts, async (page, ctx) => ...)   open a workbench, run steps, always clean up
//   runExtensionTests(opts) -> exit code            what the CLI does for a test index
//   startCodeServer(opts), launchBrowser(opts)      the two halves, each with a stop()/close()
//   runCommand(page, title), openPalette(page, text), screenshot(page, file)
//   See the JSDoc on each below.

import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const E2E_DIR = resolve(process.env.E2E_DIR || join(REPO_ROOT, '.e2e'));
const num = (v, d) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);
export const DEFAULTS = {
  totalTimeoutS: num(process.env.E2E_TIMEOUT_S, 300),
  launchTimeoutS: num(process.env.E2E_LAUNCH_TIMEOUT_S, 60),
  loadTimeoutS: num(process.env.E2E_LOAD_TIMEOUT_S, 90),
  verbose: process.env.E2E_VERBOSE === '1',
  keep: process.env.E2E_KEEP === '1',
  artifactsDir: join(E2E_DIR, 'artifacts'),
};

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'git.enabled': false,
  'window.restoreWindows': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.reduceMotion': 'on', // no half-faded toasts in screenshots
};

// The workbench's own log reaches codeAutomationLog too. These routine lines (connection set-up,
// offline marketplace look-ups) are dropped unless --verbose; everything else is printed.
const WORKBENCH_NOISE = new RegExp([
  '^Resolving connection token', '^Resolved connection token', '^Creating a socket',
  '\\[reconnection-grace-time\\]', '^Updating additional builtin extensions cache', '\\[Service Worker\\]',
  '\\[AgentHost', '\\[AccountPolicyGate\\]', 'ENOTFOUND', 'EAI_AGAIN', 'open-vsx\\.org', 'marketplace\\.visualstudio\\.com',
  '^Creation of workbench contribution .* took \\d+ms', '^Canceled: Canceled',
].join('|'));

export class TimeoutError extends Error {
  constructor(what, ms) { super(`timed out after ${Math.round(ms / 1000)} s: ${what}`); this.name = 'TimeoutError'; }
}

/** Races `promise` against a timer; the timer never keeps the process alive. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms); timer.unref?.(); }),
  ]).finally(() => clearTimeout(timer));
}

const log = (...a) => process.stdout.write(`[e2e] ${format(...a)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function paths() {
  const codeServer = join(E2E_DIR, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const node24 = join(E2E_DIR, 'node', 'bin', 'node');
  const pwDir = join(E2E_DIR, 'playwright');
  const which = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' });
  const chromium = process.env.E2E_CHROMIUM || which.stdout.trim().split('\n')[0] || '';
  const missing = [];
  if (!existsSync(codeServer)) missing.push(codeServer);
  if (!existsSync(node24)) missing.push(node24);
  if (!existsSync(join(pwDir, 'node_modules', 'playwright-core', 'package.json'))) missing.push(join(pwDir, 'node_modules', 'playwright-core'));
  if (!chromium || !existsSync(chromium)) missing.push('chromium (Debian package)');
  if (missing.length) {
    throw Object.assign(new Error(`e2e tools missing (run: bash scripts/e2e/setup.sh):\n  ${missing.join('\n  ')}`), { exitCode: 2 });
  }
  return { codeServer, node24, pwDir, chromium };
}

function loadPlaywright() {
  const req = createRequire(join(paths().pwDir, 'package.json'));
  return req('playwright-core');
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolvePort(port)); });
  });
}

// ------------------------------------------------------------------------------------------------
// Cleanup registry: every started process registers a synchronous "kill now" and an async "stop".
const cleanups = new Set();
let signalsInstalled = false;
let interrupted = null; // the signal being handled, if any
function installSignalHandlers() {
  if (signalsInstalled) return;
  signalsInstalled = true;
  process.on('exit', () => { for (const c of cleanups) { try { c.killNow(); c.removeFiles?.(); } catch { /* gone */ } } });
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(sig, () => {
      if (interrupted) return;
      interrupted = sig;
      log(`${sig}: stopping`);
      const stops = [...cleanups].map((c) => c.stop().catch(() => {}).then(() => c.removeFiles?.()));
      withTimeout(Promise.all(stops), 5000, 'cleanup').catch(() => {}).finally(() => process.exit(code));
    });
  }
}

/**
 * Starts code-server in its own process group (setsid), bound to 127.0.0.1 on a free port.
 * opts: { folder?, trust?: boolean, smokeTestDriver?: boolean (default true), settings?: object,
 *         vsix?: string, dataDir?: string, verbose?, launchTimeoutS? }
 * Returns { url, origin, port, dataDir, folder, proc, stop() }.
 */
export async function startCodeServer(opts = {}) {
  installSignalHandlers();
  const { codeServer, node24 } = paths();
  const launchMs = (opts.launchTimeoutS ?? DEFAULTS.launchTimeoutS) * 1000;
  const dataDir = opts.dataDir || mkdtempSync(join(tmpdir(), 'bert-lab-e2e-'));
  const userDir = join(dataDir, 'user');
  const extDir = join(dataDir, 'ext');
  const folder = resolve(opts.folder || join(dataDir, 'workspace'));
  for (const d of [join(userDir, 'User'), extDir, folder, join(dataDir, 'xdg', 'data'), join(dataDir, 'xdg', 'config'), join(dataDir, 'xdg', 'cache')]) mkdirSync(d, { recursive: true });

  const settings = { ...BASE_SETTINGS };
  if (opts.trust) {
    settings['security.workspace.trust.enabled'] = true;
    settings['security.workspace.trust.startupPrompt'] = 'never'; // stay untrusted, no modal
    settings['security.workspace.trust.banner'] = 'always';
  }
  Object.assign(settings, opts.settings || {});
  writeFileSync(join(userDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));

  // A clean environment: no VS Code variables leaking in from a surrounding VS Code terminal, and
  // XDG folders inside the temporary folder so nothing is written to the home folder.
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k.startsWith('ELECTRON_')) delete env[k];
  delete env.PORT; delete env.PASSWORD; delete env.HASHED_PASSWORD; delete env.GITHUB_TOKEN;
  Object.assign(env, {
    XDG_DATA_HOME: join(dataDir, 'xdg', 'data'),
    XDG_CONFIG_HOME: join(dataDir, 'xdg', 'config'),
    XDG_CACHE_HOME: join(dataDir, 'xdg', 'cache'),
    PATH: `${dirname(node24)}:${env.PATH || '/usr/bin:/bin'}`,
  });

  if (opts.vsix) {
    const vsix = resolve(opts.vsix);
    const r = spawnSync(node24, [codeServer, '--config', '/dev/null', '--user-data-dir', userDir, '--extensions-dir', extDir, '--force', '--install-extension', vsix],
      { env, encoding: 'utf8', timeout: launchMs, killSignal: 'SIGKILL' });
    if (r.status !== 0) throw Object.assign(new Error(`installing ${vsix} failed (status ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`), { exitCode: 2 });
    if (opts.verbose) process.stdout.write(r.stdout + r.stderr);
  }

  const totalS = Math.ceil(opts.totalTimeoutS ?? DEFAULTS.totalTimeoutS);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const args = [
      codeServer, '--config', '/dev/null', '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
      '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override',
      '--user-data-dir', userDir, '--extensions-dir', extDir,
      '--vscode-option', 'reconnection-grace-time=5',
      // Failsafe: if this harness is killed with SIGKILL, the orphaned server still exits.
      '--idle-timeout-seconds', String(totalS + 120),
    ];
    if (opts.smokeTestDriver !== false) args.push('--vscode-option', 'enable-smoke-test-driver');
    if (!opts.trust) args.push('--disable-workspace-trust');
    args.push(folder);

    const proc = spawn(node24, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env, cwd: dataDir });
    const pgid = proc.pid;
    let output = '';
    let exited = null;
    const exitP = new Promise((r) => proc.on('exit', (code, sig) => { exited = { code, sig }; r(exited); }));
    proc.on('error', () => {});
    const listening = new Promise((resolveL, rejectL) => {
      const onData = (chunk) => {
        const s = chunk.toString();
        output += s;
        if (output.length > 200_000) output = output.slice(-100_000);
        if (opts.verbose) process.stdout.write(s.replace(/^/gm, '[code-server] '));
        if (/HTTP server listening on/.test(output)) resolveL();
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      exitP.then((e) => rejectL(new Error(`code-server exited early (${e.code ?? e.sig}):\n${output.slice(-4000)}`)));
    });
    let killed = false;
    // Kill the whole group even when the main process already exited: its children (extension
    // host, pty host) may still be running in the group.
    const killNow = () => { if (!killed) { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } } killed = true; };
    const cleanup = {
      killNow,
      // Only used on a signal or a sudden exit; withWorkbench removes the folder itself otherwise.
      removeFiles() { if (!opts.dataDir && !(opts.keep ?? DEFAULTS.keep)) rmSync(dataDir, { recursive: true, force: true }); },
      async stop() {
        if (killed) return; // once only: never signal a process group id that may be reused
        cleanups.delete(cleanup);
        if (exited === null) {
          try { process.kill(-pgid, 'SIGTERM'); } catch { /* gone */ }
          await withTimeout(exitP, 3000, 'code-server exit').catch(() => {});
        }
        // Children (extension host, pty host) may outlive the main process: kill the whole group.
        try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
        killed = true;
      },
    };
    cleanups.add(cleanup);
    try {
      await withTimeout(listening, launchMs, 'code-server to listen');
      const origin = `http://127.0.0.1:${port}`;
      await withTimeout(waitHttp(`${origin}/healthz`), launchMs, 'code-server /healthz');
      return { url: `${origin}/`, origin, port, dataDir, folder, userDir, extDir, proc, output: () => output, stop: () => cleanup.stop() };
    } catch (e) {
      await cleanup.stop();
      // A port taken between freePort() and bind: try again with another.
      if (attempt < 3 && /EADDRINUSE/.test(output)) continue;
      throw Object.assign(e, { exitCode: e instanceof TimeoutError ? 124 : 2 });
    }
  }
}

async function waitHttp(url) {
  for (;;) {
    try { const r = await fetch(url); if (r.ok) return; } catch { /* not yet */ }
    await sleep(100);
  }
}

/**
 * Launches Debian's Chromium through playwright-core (headless, no sandbox: CI runs as root).
 * Returns the playwright Browser; close it with closeBrowser(browser).
 */
export async function launchBrowser(opts = {}) {
  installSignalHandlers();
  const { chromium: executablePath } = paths();
  const { chromium } = loadPlaywright();
  const launchMs = (opts.launchTimeoutS ?? DEFAULTS.launchTimeoutS) * 1000;
  const launching = chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: launchMs, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
  let browser;
  try {
    browser = await withTimeout(launching, launchMs + 5000, 'chromium to launch');
  } catch (e) {
    launching.then((b) => b.close()).catch(() => {});
    throw Object.assign(e, { exitCode: e instanceof TimeoutError ? 124 : 2 });
  }
  const cleanup = {
    // On a sudden exit playwright-core itself kills the browsers it launched (own process group).
    killNow() {},
    async stop() {
      if (!cleanups.has(cleanup)) return;
      cleanups.delete(cleanup);
      await withTimeout(browser.close(), 5000, 'browser close').catch(() => {});
    },
  };
  cleanups.add(cleanup);
  browser.__e2eStop = () => cleanup.stop();
  return browser;
}

export async function closeBrowser(browser) {
  if (!browser) return;
  if (browser.__e2eStop) await browser.__e2eStop();
  else await withTimeout(browser.close(), 5000, 'browser close').catch(() => {});
}

/** Builds the workbench URL: ?folder=...&payload=[[extensionDevelopmentPath,..],[extensionTestsPath,..]] */
export function workbenchUrl(server, { folder, extensionDevelopmentPath, extensionTestsPath } = {}) {
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${resolve(p)}`;
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
  const q = new URLSearchParams({ folder: resolve(folder || server.folder) });
  if (payload.length) q.set('payload', JSON.stringify(payload));
  return `${server.url}?${q}`;
}

/**
 * Opens a real workbench and runs `fn(page, ctx)`; code-server and the browser are always stopped.
 * opts:
 *   folder                    workspace folder (default: empty temporary folder)
 *   extensionDevelopmentPath  default: the repository root; null/false = none (use with vsix)
 *   vsix                      .vsix to install first (then extensionDevelopmentPath defaults to none)
 *   extensionTestsPath        compiled test index (for runExtensionTests)
 *   trust                     true = Workspace Trust on, folder untrusted (restricted mode)
 *   smokeTestDriver           default true. It is REQUIRED for extensionDevelopmentPath/tests (the
 *                             workbench ignores `payload` without it) and it HIDES notification
 *                             toasts and dialogs: to see toasts use { vsix, smokeTestDriver: false }.
 *   settings                  extra user settings
 *   artifactsDir              where ctx.screenshot() writes (default .e2e/artifacts)
 *   viewport                  default { width: 1400, height: 900 }
 *   beforeGoto(page)          hook before the workbench URL is loaded (e.g. page.exposeFunction)
 *   waitForWorkbench          default true: wait for `.monaco-workbench`
 *   timeouts: launchTimeoutS, loadTimeoutS, totalTimeoutS (default from env, see header)
 *   verbose, keep
 * ctx: { server, browser, page, artifactsDir, url,
 *        screenshot(name|path) -> path (a bare name goes into artifactsDir),
 *        runCommand(title, { expect?, timeoutMs? }), openPalette(text, { expect?, timeoutMs? }) }
 */
export async function withWorkbench(opts, fn) {
  const o = { ...opts };
  const verbose = o.verbose ?? DEFAULTS.verbose;
  const keep = o.keep ?? DEFAULTS.keep;
  const totalMs = (o.totalTimeoutS ?? DEFAULTS.totalTimeoutS) * 1000;
  const loadMs = (o.loadTimeoutS ?? DEFAULTS.loadTimeoutS) * 1000;
  const artifactsDir = resolve(o.artifactsDir || DEFAULTS.artifactsDir);
  const devPath = o.extensionDevelopmentPath === undefined ? (o.vsix ? null : REPO_ROOT) : o.extensionDevelopmentPath;
  if ((devPath || o.extensionTestsPath) && o.smokeTestDriver === false) {
    throw Object.assign(new Error('extensionDevelopmentPath/extensionTestsPath need smokeTestDriver (the workbench ignores the payload without it)'), { exitCode: 2 });
  }
  let server; let browser;
  const t0 = Date.now();
  const work = (async () => {
    server = await startCodeServer({ ...o, verbose, totalTimeoutS: totalMs / 1000 });
    if (verbose) log(`code-server at ${server.url} (data ${server.dataDir}) in ${Date.now() - t0} ms`);
    browser = await launchBrowser(o);
    const context = await browser.newContext({ viewport: o.viewport || { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(Math.min(loadMs, 30_000));
    if (verbose) {
      page.on('console', (m) => process.stdout.write(`[browser:${m.type()}] ${m.text()}\n`));
      page.on('pageerror', (e) => process.stdout.write(`[browser:pageerror] ${e.message}\n`));
    }
    if (o.beforeGoto) await o.beforeGoto(page);
    // The workbench only runs extensionTestsPath in extension-development mode: testing an
    // installed .vsix needs a development path too, so give it an empty stub extension.
    let dev = devPath;
    if (!dev && o.extensionTestsPath) {
      dev = join(server.dataDir, 'e2e-stub-extension');
      mkdirSync(dev, { recursive: true });
      writeFileSync(join(dev, 'package.json'), JSON.stringify({ name: 'e2e-test-stub', publisher: 'bert-lab-e2e', version: '0.0.0', engines: { vscode: '*' } }));
    }
    const url = workbenchUrl(server, { folder: o.folder, extensionDevelopmentPath: dev, extensionTestsPath: o.extensionTestsPath });
    if (verbose) log(`opening ${url}`);
    await withTimeout(page.goto(url, { waitUntil: 'domcontentloaded', timeout: loadMs }), loadMs + 2000, 'workbench page to load');
    if (o.waitForWorkbench !== false) {
      await withTimeout(page.waitForSelector('.monaco-workbench', { timeout: loadMs }), loadMs + 2000, 'the workbench (.monaco-workbench) to appear');
    }
    if (verbose) log(`workbench up in ${Date.now() - t0} ms`);
    const ctx = {
      server, browser, page, url, artifactsDir,
      screenshot: (name) => screenshot(page, isAbsolute(name) || name.includes('/') ? resolve(name) : join(artifactsDir, name)),
      runCommand: (title, o2) => runCommand(page, title, o2),
      openPalette: (text, o2) => openPalette(page, text, o2),
    };
    return await fn(page, ctx);
  })();
  try {
    return await withTimeout(work, totalMs, 'the whole e2e run');
  } catch (e) {
    if (e instanceof TimeoutError && e.exitCode === undefined) e.exitCode = 124;
    // On failure, leave a picture of the workbench behind when possible.
    try {
      const page = browser?.contexts()?.[0]?.pages()?.[0];
      if (page) {
        const p = join(artifactsDir, `failure-${Date.now()}.png`);
        await withTimeout(screenshot(page, p), 5000, 'failure screenshot');
        log(`failure screenshot: ${p}`);
      }
    } catch { /* best effort */ }
    throw e;
  } finally {
    const cleanup = async () => {
      await closeBrowser(browser);
      if (server) await server.stop();
      if (server && !keep && !opts.dataDir) rmSync(server.dataDir, { recursive: true, force: true, maxRetries: 3 });
    };
    await cleanup();
    if (server && keep) log(`kept ${server.dataDir}`);
    // After a time-out the steps may still be running and start a server or browser later:
    // clean up again once they settle (every step of cleanup is idempotent).
    work.then(cleanup, cleanup).catch(() => {});
  }
}

/** page.screenshot into `file` (folders created). Returns the path. */
export async function screenshot(page, file) {
  mkdirSync(dirname(file), { recursive: true });
  // animations: 'disabled' finishes CSS transitions first (toasts, quick input) for stable pictures.
  await page.screenshot({ path: file, animations: 'disabled' });
  return file;
}

/**
 * F1, types `>`+text into the command palette and waits until a row containing `expect` (default:
 * text) is listed; leaves the palette open. Retries (Escape, F1, type again) while the list has no
 * such row: right after the workbench appears, extension contributions are still being registered.
 * Returns the matching row's locator.
 */
export async function openPalette(page, text, { expect = text, timeoutMs = 30_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  const input = page.locator('.quick-input-widget input');
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: expect }).first();
  for (let attempt = 1; ; attempt++) {
    if (attempt > 1) { await page.keyboard.press('Escape'); await sleep(500); }
    await page.locator('.monaco-workbench').click({ position: { x: 5, y: 5 }, trial: true }).catch(() => {});
    await page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: Math.max(1000, deadline - Date.now()) });
    await input.fill(`>${text}`);
    try {
      await row.waitFor({ state: 'visible', timeout: Math.min(2000, Math.max(1, deadline - Date.now())) });
      return row;
    } catch (e) {
      if (Date.now() >= deadline) throw new Error(`command palette: no entry containing "${expect}" after ${timeoutMs} ms (${e.message.split('\n')[0]})`);
    }
  }
}

/** Runs a command by its palette title (e.g. "BERT Lab: Show Engine Info"). */
export async function runCommand(page, title, opts) {
  const row = await openPalette(page, title, opts);
  await row.click();
}

/**
 * Runs the compiled test index inside the extension host; resolves to the exit code the host
 * reports through codeAutomationExit (0 = run() resolved). Log lines go to stdout.
 * opts: as withWorkbench, plus extensionTestsPath (required).
 */
export async function runExtensionTests(opts) {
  const testsPath = resolve(opts.extensionTestsPath);
  if (!existsSync(testsPath)) throw Object.assign(new Error(`test index not found: ${testsPath} (compile with: npx tsc -p tsconfig.test.json)`), { exitCode: 2 });
  let resolveExit;
  let exitCode;
  const exited = new Promise((r) => { resolveExit = r; });
  const artifactsDir = resolve(opts.artifactsDir || DEFAULTS.artifactsDir);
  const verbose = opts.verbose ?? DEFAULTS.verbose;
  return withWorkbench({
    ...opts,
    extensionTestsPath: testsPath,
    async beforeGoto(page) {
      await page.exposeFunction('codeAutomationLog', (level, message) => {
        const text = Array.isArray(message) ? format(...message) : typeof message === 'string' ? message : format(message);
        // After the exit code came, only the workbench shutting down is left to log.
        if (!verbose && (exitCode !== undefined || WORKBENCH_NOISE.test(text))) return;
        (level === 'error' ? process.stderr : process.stdout).write(`${text}\n`);
      });
      await page.exposeFunction('codeAutomationExit', (code, logs) => {
        if (code !== 0 && Array.isArray(logs) && logs.length) {
          try {
            const dir = join(artifactsDir, `logs-${Date.now()}`);
            for (const l of logs) {
              const f = join(dir, String(l.relativePath).replace(/\.\.+/g, '_'));
              mkdirSync(dirname(f), { recursive: true });
              writeFileSync(f, l.contents ?? '');
            }
            log(`workbench logs: ${dir}`);
          } catch { /* best effort */ }
        }
        exitCode = typeof code === 'number' ? code : 1;
        resolveExit(exitCode);
      });
      if (opts.beforeGoto) await opts.beforeGoto(page);
    },
  }, async () => exited);
}

// ------------------------------------------------------------------------------------------------
// CLI
function parseArgs(argv) {
  const a = { positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw Object.assign(new Error(`${k} needs a value`), { exitCode: 2 }); return argv[++i]; };
    switch (k) {
      case '--folder': a.folder = val(); break;
      case '--trust': a.trust = true; break;
      case '--vsix': a.vsix = val(); break;
      case '--no-dev': a.noDev = true; break;
      case '--artifacts': a.artifactsDir = val(); break;
      case '--screenshot': a.screenshot = val(); break;
      case '--palette': a.palette = val(); break;
      case '--timeout': a.totalTimeoutS = Number(val()); break;
      case '--keep': a.keep = true; break;
      case '--verbose': a.verbose = true; break;
      case '-h': case '--help': a.help = true; break;
      default:
        if (k.startsWith('-')) throw Object.assign(new Error(`unknown option ${k}`), { exitCode: 2 });
        a.positional.push(k);
    }
  }
  return a;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.help || (!a.screenshot && a.positional.length !== 1)) {
    const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
    const head = lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n');
    process.stdout.write(`${head}\n`);
    return a.help ? 0 : 2;
  }
  const common = {
    folder: a.folder, trust: a.trust, vsix: a.vsix, artifactsDir: a.artifactsDir, keep: a.keep, verbose: a.verbose,
    totalTimeoutS: a.totalTimeoutS,
    ...(a.noDev || a.vsix ? { extensionDevelopmentPath: null } : {}),
  };
  const t0 = Date.now();
  if (a.screenshot) {
    return withWorkbench(common, async (page, ctx) => {
      let code = 0;
      try {
        await ctx.openPalette(a.palette ?? 'BERT Lab');
      } catch (e) {
        log(`WARNING: ${e.message}`);
        code = 1;
      }
      await sleep(500); // let the list settle
      const p = await ctx.screenshot(resolve(a.screenshot));
      log(`screenshot: ${p} (${Date.now() - t0} ms)`);
      return code;
    });
  }
  const code = await runExtensionTests({ ...common, extensionTestsPath: a.positional[0] });
  log(`extension host exited with ${code} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return code;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => { process.exitCode = code; },
    (e) => {
      if (interrupted) return; // the signal handler exits; errors from closing under us are moot
      // Harness errors that carry an exit code explain themselves; anything else gets its stack.
      log(`ERROR: ${e?.exitCode !== undefined ? e.message : e?.stack || e}`);
      process.exitCode = e?.exitCode ?? 2;
    },
  ).finally(() => {
    // Do not hang on a stray handle (playwright's connection, a socket): exit soon after cleanup.
    setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
  });
}


// npm run test:desktop — the in-extension-host suite (test/e2e/suite) in desktop VS Code through
// @vscode/test-electron, for machines that can download VS Code (or have it: set VSCODE_PATH to
// its executable). CI uses code-server instead (scripts/e2e/run.mjs), since downloads fail there.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const workspace = mkdtempSync(join(tmpdir(), 'bertlab-desktop-'));
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out', 'test', 'e2e', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { E2E_GREP: process.env.E2E_GREP ?? '^(extension|smoke):' },
    ...(process.env.VSCODE_PATH ? { vscodeExecutablePath: process.env.VSCODE_PATH } : {}),
  });
} catch (e) {
  console.error(`desktop tests failed: ${e instanceof Error ? e.message : e}`);
  process.exitCode = 1;
}

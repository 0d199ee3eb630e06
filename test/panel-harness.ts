/**
 * What the panel host tests share: talking to a panel as its page would (through the vscode
 * stub's fake webview), and an inference context on the test fixtures with the real worker.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { InferenceWorker } from '../src/engine/infer/infer-client.js';
import { Uri, type FakeWebviewPanel } from './vscode-stub.js';

export type Msg = { type: string } & Record<string, unknown>;
export const FIX = join(__dirname, '..', '..', 'test', 'fixtures');
export const MLM = join(FIX, 'hf-tiny-bert'), CLS = join(FIX, 'hf-tiny-bert-cls');

/**
 * How long a wait for the host's answer may take before the test fails: generous, since a loaded
 * 2-core machine may be slow to load a checkpoint in the worker; only a host that never answers
 * reaches it.
 */
const ANSWER_LIMIT_MS = 120_000;
const types = (ms: unknown[]) => ms.map((x) => (x as Msg).type).join(', ') || 'nothing';

/**
 * Sends a message as the page and waits for the host's next `n` messages (at least; all it has
 * posted since are returned). Fails, naming the message and what did arrive, if they do not come.
 */
export async function exchange(panel: FakeWebviewPanel, m: unknown, n = 1): Promise<Msg[]> {
  const from = panel.posted.length;
  panel.fromPage(m);
  const deadline = Date.now() + ANSWER_LIMIT_MS;
  while (panel.posted.length < from + n) {
    if (Date.now() > deadline) {
      assert.fail(`no answer: ${n} message(s) expected from the host after ${JSON.stringify(m).slice(0, 200)}, got ${panel.posted.length - from} (${types(panel.posted.slice(from))}) in ${ANSWER_LIMIT_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return panel.posted.slice(from) as Msg[];
}

/**
 * Follows a panel's handling of what the page sends. `settled()` resolves once every message
 * delivered so far has been handled to the end (its handler returned or threw, and the error, if
 * any, was posted). The host posts synchronously, so whatever it had to say about those messages
 * is in `posted` by then: the positive event after which checking that something was NOT posted
 * (a dropped stale answer, a cancelled dialog, a malformed message) is sound, with no sleep.
 */
export function follow(panel: object, fake: FakeWebviewPanel): { settled(): Promise<void> } {
  // The panel's listener calls `this.receive(raw)`: wrap that method on the instance to keep its promises.
  const p = panel as { receive?: (raw: unknown) => Promise<void> };
  const receive = p.receive;
  assert.equal(typeof receive, 'function', 'the panel has no receive(raw) method any more: update follow() in test/panel-harness.ts');
  const handling: Promise<void>[] = [];
  p.receive = function (this: unknown, raw: unknown) { const r = receive!.call(this, raw); handling.push(r); return r; };
  const base = fake.delivered;
  return {
    async settled(): Promise<void> {
      // Handling a message may not deliver another, but loop in case: until no new one appears.
      for (let seen = -1; seen !== handling.length;) { seen = handling.length; await Promise.allSettled(handling); }
      assert.equal(handling.length, fake.delivered - base, 'every message the page sent went through Panel.receive (else follow() cannot see it handled)');
    },
  };
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

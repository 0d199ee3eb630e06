/**
 * The engine worker of the bert-lab commands, never ended while native code runs in it (see the
 * top of cli.ts for why ending it then aborts the whole process).
 */
import { EngineWorker, WorkerSession } from './runtime/worker-client.js';
import type { SessionOptions } from './runtime/session.js';
import type { ModelRunner } from './runtime/runner.js';
import type { Feeds } from './runtime/tensor.js';

/**
 * An EngineWorker whose requests (session creation, runs, releases) are counted while they are
 * inside the worker. Ending the worker thread (worker.terminate(), or process.exit(), which ends
 * it too) while onnxruntime's session.run is in native code aborts the whole process once the
 * run returns (see the top of this file), so close() first refuses new requests, then waits for
 * the one in flight.
 */
export class SafeWorker {
  private readonly worker = new EngineWorker();
  private inFlight = 0;
  private idle: (() => void)[] = [];
  private closing: 'no' | 'reject' | 'abandon' = 'no';

  /** A request is inside the worker (or its reply is on the way). */
  get busy(): boolean { return this.inFlight > 0; }

  private async track<T>(f: () => Promise<T>): Promise<T> {
    // After close() nothing new reaches the worker; when the process is about to end, a caller still running just waits for the end.
    if (this.closing === 'abandon') return new Promise<T>(() => {});
    if (this.closing === 'reject') return Promise.reject(new Error('the engine worker is closed'));
    this.inFlight++;
    try { return await f(); } finally {
      if (--this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  async createSession(model: Uint8Array, options: SessionOptions): Promise<ModelRunner & { choice: WorkerSession['choice'] }> {
    const s = await this.track(() => this.worker.createSession(model, options));
    return {
      choice: s.choice,
      run: (feeds: Feeds, fetch?: readonly string[]) => this.track(() => s.run(feeds, fetch)),
      release: () => this.track(() => s.release()),
    };
  }

  /**
   * Refuses new requests, waits for the one in flight (onnxruntime cannot interrupt it), then ends
   * the worker. New requests reject, or with `abandon` (the process is about to exit) never settle.
   */
  async close(opts: { abandon?: boolean } = {}): Promise<void> {
    if (this.closing !== 'abandon') this.closing = opts.abandon ? 'abandon' : 'reject';
    while (this.inFlight > 0) await new Promise<void>((r) => this.idle.push(r));
    await this.worker.terminate();
  }
}

/**
 * Runs onnxruntime sessions in a worker thread so the calling thread's event loop keeps
 * turning (session.run blocks its thread). Cancellation works between runs: an aborted run that
 * has not started is dropped; one that has started finishes (onnxruntime-node cannot interrupt
 * it) and its result is still delivered. terminate() stops everything at once.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Feeds, HostTensor } from './tensor.js';
import { DeviceChoice, SessionOptions } from './session.js';
import { WorkerReply, WorkerRequest } from './protocol.js';
import { ModelRunner } from './runner.js';

export class CancelledError extends Error {
  override name = 'CancelledError';
}

type Pending = { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };

export class EngineWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | null = null;

  /** `script` defaults to worker-main.js beside this file (also the layout of the bundle). */
  constructor(script = join(__dirname, 'worker-main.js')) {
    this.worker = new Worker(script);
    this.worker.on('message', (msg: WorkerReply) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.kind === 'error') p.reject(new Error(msg.message));
      else if (msg.kind === 'cancelled') p.reject(new CancelledError('the run was cancelled before it started'));
      else p.resolve(msg);
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', (e) => fail(new Error(`the engine worker crashed: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new Error(`the engine worker exited (code ${code})`)));
  }

  private request<K extends WorkerReply['kind']>(msg: WorkerRequest & { id: number }, transfer: ArrayBuffer[] = []): Promise<Extract<WorkerReply, { kind: K }>> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve: resolve as (r: WorkerReply) => void, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  async createSession(model: Uint8Array, options: SessionOptions = {}): Promise<WorkerSession> {
    const copy = model.slice();
    const r = await this.request<'created'>({ kind: 'create', id: this.nextId++, model: copy, options }, [copy.buffer as ArrayBuffer]);
    return new WorkerSession(this, r.session, r.choice, r.inputNames, r.outputNames);
  }

  /** @internal */
  async runIn(session: number, feeds: Feeds, fetch: readonly string[] | undefined, signal?: AbortSignal): Promise<{ outputs: Record<string, HostTensor>; ms: number }> {
    if (signal?.aborted) throw new CancelledError('the run was cancelled before it started');
    const id = this.nextId++;
    const onAbort = () => this.worker.postMessage({ kind: 'cancel', ids: [id] } satisfies WorkerRequest);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await this.request<'result'>({ kind: 'run', id, session, feeds, ...(fetch ? { fetch: [...fetch] } : {}) });
      return { outputs: r.outputs, ms: r.ms };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** @internal */
  async releaseIn(session: number): Promise<void> {
    await this.request<'released'>({ kind: 'release', id: this.nextId++, session });
  }

  /** Stops the worker at once, even mid-run; pending requests reject. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

export class WorkerSession implements ModelRunner {
  constructor(private readonly owner: EngineWorker, private readonly id: number, readonly choice: DeviceChoice,
    readonly inputNames: readonly string[], readonly outputNames: readonly string[]) {}

  /** Runs in the worker. With `signal`, aborting drops the run if it has not started yet. */
  async run(feeds: Feeds, fetch?: readonly string[], signal?: AbortSignal): Promise<Record<string, HostTensor>> {
    return (await this.owner.runIn(this.id, feeds, fetch, signal)).outputs;
  }

  release(): Promise<void> { return this.owner.releaseIn(this.id); }
}

/**
 * Inference in a worker thread: fill-mask, classification and attention for checkpoint folders,
 * answered off the calling thread (the extension host's main thread stays free). One worker
 * serves all checkpoints; it is started on first use.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AttentionResult, ClassifyResult, FillMaskResult } from './pipeline.js';
import type { CheckpointSummary, InferReply, InferRequest, MaskAtResult } from './infer-protocol.js';

type Body = InferRequest extends infer R ? (R extends InferRequest ? Omit<R, 'id'> : never) : never;

export class InferenceWorker {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();

  /** `script` defaults to infer-worker.js beside this file (also the bundle's layout). */
  constructor(private readonly script = join(__dirname, 'infer-worker.js')) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.script);
    w.on('message', (r: InferReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (r.ok) p.resolve(r.result); else p.reject(new Error(r.message));
    });
    const fail = (e: Error) => { for (const p of this.pending.values()) p.reject(e); this.pending.clear(); this.worker = null; };
    w.on('error', (e) => fail(new Error(`the inference worker crashed: ${e.message}`)));
    w.on('exit', (code) => fail(new Error(`the inference worker exited (code ${code})`)));
    this.worker = w;
    return w;
  }

  private request<T>(body: Body): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.start().postMessage({ ...body, id });
    });
  }

  fillMask(folder: string, text: string, topK = 5, int8 = false): Promise<FillMaskResult> { return this.request({ kind: 'fillMask', folder, text, topK, int8 }); }
  classify(folder: string, text: string, pair?: string): Promise<ClassifyResult> { return this.request({ kind: 'classify', folder, text, ...(pair ? { pair } : {}) }); }
  attention(folder: string, text: string, pair?: string): Promise<AttentionResult> { return this.request({ kind: 'attention', folder, text, ...(pair ? { pair } : {}) }); }
  info(folder: string): Promise<CheckpointSummary> { return this.request({ kind: 'info', folder }); }
  fillMaskAt(folder: string, text: string, start: number, end: number, topK = 5): Promise<MaskAtResult> { return this.request({ kind: 'fillMaskAt', folder, text, start, end, topK }); }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}

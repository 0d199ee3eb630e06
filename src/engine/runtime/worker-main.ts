/**
 * The worker thread: owns onnxruntime sessions and runs requests one at a time. session.run
 * blocks this thread, not the caller's. Between two requests the event loop turns, so a
 * 'cancel' that arrived meanwhile removes queued runs before they start.
 */
import { parentPort } from 'node:worker_threads';
import { WorkerReply, WorkerRequest } from './protocol.js';
import { EngineSession } from './session.js';

if (!parentPort) throw new Error('worker-main.js must run in a worker thread (use EngineWorker)');
const port = parentPort;
const sessions = new Map<number, EngineSession>();
const queue: Exclude<WorkerRequest, { kind: 'cancel' }>[] = [];
let nextSession = 1;
let pumping = false;

const reply = (msg: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

port.on('message', (msg: WorkerRequest) => {
  if (msg.kind === 'cancel') {
    for (let i = queue.length - 1; i >= 0; i--) {
      if (msg.ids.includes(queue[i]!.id)) reply({ kind: 'cancelled', id: queue.splice(i, 1)[0]!.id });
    }
    return;
  }
  queue.push(msg);
  if (!pumping) { pumping = true; setImmediate(pump); }
});

function sessionOf(id: number): EngineSession {
  const s = sessions.get(id);
  if (!s) throw new Error(`session ${id} does not exist (released, or never created)`);
  return s;
}

async function pump(): Promise<void> {
  const job = queue.shift();
  if (!job) { pumping = false; return; }
  try {
    switch (job.kind) {
      case 'create': {
        const s = await EngineSession.create(job.model, job.options);
        const id = nextSession++;
        sessions.set(id, s);
        reply({ kind: 'created', id: job.id, session: id, choice: s.choice, inputNames: [...s.inputNames], outputNames: [...s.outputNames] });
        break;
      }
      case 'run': {
        const t0 = performance.now();
        const outputs = await sessionOf(job.session).run(job.feeds, job.fetch);
        const buffers = Object.values(outputs).map((t) => t.data.buffer as ArrayBuffer);
        reply({ kind: 'result', id: job.id, outputs, ms: performance.now() - t0 }, [...new Set(buffers)]);
        break;
      }
      case 'release': {
        await sessionOf(job.session).release();
        sessions.delete(job.session);
        reply({ kind: 'released', id: job.id });
        break;
      }
      default: {
        const never: never = job;
        throw new Error(`unknown request ${JSON.stringify(never)}`);
      }
    }
  } catch (e) {
    reply({ kind: 'error', id: job.id, message: (e as Error).message });
  }
  setImmediate(pump);
}

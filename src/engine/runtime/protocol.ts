/** Messages between an EngineWorker (calling thread) and its worker thread. Types only. */
import { Feeds, HostTensor } from './tensor.js';
import { DeviceChoice, SessionOptions } from './session.js';

export type WorkerRequest =
  | { kind: 'create'; id: number; model: Uint8Array; options: SessionOptions }
  | { kind: 'run'; id: number; session: number; feeds: Feeds; fetch?: string[] }
  | { kind: 'release'; id: number; session: number }
  /** Drops queued requests that have not started; a running one finishes. */
  | { kind: 'cancel'; ids: number[] };

export type WorkerReply =
  | { kind: 'created'; id: number; session: number; choice: DeviceChoice; inputNames: string[]; outputNames: string[] }
  | { kind: 'result'; id: number; outputs: Record<string, HostTensor>; ms: number }
  | { kind: 'released'; id: number }
  | { kind: 'cancelled'; id: number }
  | { kind: 'error'; id: number; message: string };

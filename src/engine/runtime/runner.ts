/** What runs a compiled model: an EngineSession in this thread, or a WorkerSession in a worker thread. */
import type { Feeds, HostTensor } from './tensor.js';

export interface ModelRunner {
  run(feeds: Feeds, fetch?: readonly string[]): Promise<Record<string, HostTensor>>;
  /** Frees the session's native memory; the runner is unusable afterwards. */
  release(): Promise<void>;
}

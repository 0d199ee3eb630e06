/**
 * What the predictions and attention panels get from the rest of the extension: the inference
 * worker, the workspace's checkpoints, the active one, a picker, and whether the workspace is
 * trusted (no checkpoint is loaded in an untrusted workspace).
 */
import type { InferenceWorker } from '../../engine/infer/infer-client.js';
import type { PanelContext } from './panel.js';

export interface InferContext extends PanelContext {
  /** The shared inference worker (started on first use). */
  infer(): InferenceWorker;
  /** The workspace's checkpoints (runs folder), for the panel's select. */
  checkpoints(): { label: string; description: string; path: string }[];
  /** The checkpoint chosen with "Set Active Checkpoint", if any. */
  activeCheckpoint(): string | undefined;
  /** Quick pick of the workspace's checkpoints, or a folder dialog; undefined when cancelled. */
  pickCheckpoint(placeHolder: string): Promise<string | undefined>;
  /** vscode.workspace.isTrusted. */
  trusted(): boolean;
}

/**
 * What the predictions and attention panels get from the rest of the extension: the inference
 * worker, the workspace's checkpoints, the active one, a picker, and whether the workspace is
 * trusted (no checkpoint is loaded in an untrusted workspace).
 */
import type { InferenceWorker } from '../../engine/infer/infer-client.js';
import { basename, isAbsolute } from 'node:path';
import type { PanelContext } from './panel.js';

export interface CheckpointRef { label: string; description: string; path: string }

export interface InferContext extends PanelContext {
  /** The shared inference worker (started on first use). */
  infer(): InferenceWorker;
  /** The workspace's checkpoints (runs folder), for the panel's select. */
  checkpoints(): CheckpointRef[];
  /** The checkpoint chosen with "Set Active Checkpoint", if any. */
  activeCheckpoint(): string | undefined;
  /** Quick pick of the workspace's checkpoints, or a folder dialog; undefined when cancelled. */
  pickCheckpoint(placeHolder: string): Promise<string | undefined>;
  /** vscode.workspace.isTrusted. */
  trusted(): boolean;
}

/**
 * The checkpoints a panel offers: the active one first (marked), then the workspace's, then any
 * given by a command or picked (`extra`); labels and paths cut to what the message allows.
 */
export function checkpointOffer(ctx: InferContext, extra: Iterable<string>): CheckpointRef[] {
  // A path shows its folder's name; a Hub id ("org/name") shows whole.
  const name = (p: string) => (isAbsolute(p) ? basename(p) || p : p);
  const active = ctx.activeCheckpoint();
  const ws = ctx.checkpoints();
  const items = [
    ...(active ? [ws.find((c) => c.path === active) ?? { label: name(active), description: active, path: active }] : []),
    ...ws.filter((c) => c.path !== active),
  ].map((c) => ({ ...c }));
  for (const p of extra) if (!items.some((c) => c.path === p)) items.push({ label: name(p), description: p, path: p });
  for (const c of items) {
    if (c.path === active) c.description = `active · ${c.description}`;
    c.label = c.label.slice(0, 1000); c.description = c.description.slice(0, 1000);
  }
  return items.filter((c) => c.path.length <= 4096).slice(0, 10_000);
}

/**
 * A model named by a path that exists: the folder (or, where allowed, the file) itself. Split from
 * resolve.ts so that model.ts (the Hub resolver) and resolve.ts (the synchronous readers' entry,
 * which consults the cache) can both use it without importing each other.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

export class ModelNotFoundError extends Error {
  override name = 'ModelNotFoundError';
}

/**
 * `value` resolved, when it exists: a folder, or with `allowFile` also a file; undefined when
 * nothing is there. `what` names the setting for the message.
 */
export function existingModelPath(value: string, what: string, opts: { allowFile?: boolean } = {}): string | undefined {
  const p = resolve(value);
  if (!existsSync(p)) return undefined;
  if (opts.allowFile || statSync(p).isDirectory()) return p;
  throw new ModelNotFoundError(`${what} "${value}" is a file, not a folder; give the folder that holds config.json (a checkpoint-<step> folder, or a run's output_dir)`);
}

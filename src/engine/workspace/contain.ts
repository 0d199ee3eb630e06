/**
 * Paths that come from data (configuration files, run logs, webview messages) are resolved and
 * required to lie inside a root before they are used: `..` segments and symbolic links are
 * followed first, so neither can lead out. A path that does not exist yet (an output folder)
 * is checked through its longest existing ancestor.
 */
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

export class ContainmentError extends Error {}

/** `p` with symbolic links resolved as far as it exists (dangling links followed too); the rest appended as written. */
export function realPathAsFarAsExists(p: string): string {
  let head = resolve(p);
  const tail: string[] = [];
  for (let hops = 0; !existsSync(head); ) {
    const link = linkTarget(head);
    if (link !== null) {
      if (++hops > 40) throw new ContainmentError(`${p}: too many levels of symbolic links`);
      head = resolve(dirname(head), link);
      continue;
    }
    const parent = dirname(head);
    if (parent === head) break;
    tail.unshift(head.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
    head = parent;
  }
  return join(realpathSync(head), ...tail);
}

/** The target of `p` when `p` itself is a symbolic link (dangling or not), else null. */
function linkTarget(p: string): string | null {
  try { return lstatSync(p).isSymbolicLink() ? readlinkSync(p) : null; } catch { return null; }
}

/**
 * `p` (relative paths against `root`) resolved, symlinks included, and required to be `root`
 * itself or inside it; `what` names the root in the error ("the workspace folder").
 */
export function containedPath(root: string, p: string, what: string, opts: { allowRoot?: boolean } = {}): string {
  const base = realPathAsFarAsExists(root);
  const real = realPathAsFarAsExists(isAbsolute(p) ? p : join(root, p));
  const rel = relative(base, real);
  const inside = rel === '' ? opts.allowRoot !== false : !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
  if (!inside) throw new ContainmentError(`${p} is outside ${what} (${base})${real !== resolve(root, p) ? `: it resolves to ${real}` : ''}; use a path inside it`);
  return real;
}

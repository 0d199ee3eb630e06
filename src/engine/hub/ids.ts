/**
 * What a Hub id, a revision and a repo file name may be, checked before any of them becomes part
 * of a path or a URL. The id rules are huggingface_hub's `validate_repo_id` (utils/_validators.py):
 * "name" or "namespace/name", letters, digits, "-", "_", ".", the name at most 96 characters,
 * neither starting nor ending with "-" or ".", no "--" or "..", not ending in ".git". Repo file
 * names follow `_validate_relative_filename` (_local_folder.py): no ".." segment, nothing
 * absolute, drive-relative or UNC under POSIX or Windows rules.
 */
import { HubError } from './errors.js';

export const DEFAULT_REVISION = 'main';
/** huggingface_hub's REGEX_COMMIT_HASH: only a full 40-hex lowercase sha is a commit; shorter ones are refs. */
export const COMMIT_HASH = /^[0-9a-f]{40}$/;
export const isCommitHash = (rev: string): boolean => COMMIT_HASH.test(rev);

const SHELL = /[\s;&|`$<>(){}[\]*?!~'"\\#%^=,:@+]/;

/** `id` if it is a valid Hub model id; otherwise a HubError('bad-id') that says why. */
export function validateHubId(id: string): string {
  const bad = (why: string) => new HubError('bad-id', `"${id}" is not a Hugging Face Hub model id: ${why}. A Hub id is "name" or "org/name" (letters, digits, "-", "_", "."), e.g. "bert-base-uncased" or "google/electra-small-discriminator".`);
  if (id.length === 0) throw bad('it is empty');
  if (id.startsWith('/') || id.startsWith('\\') || /^[A-Za-z]:/.test(id) || id.startsWith('~')) throw bad('it is an absolute path, and no such folder exists');
  if (id.split(/[/\\]/).some((s) => s === '..' || s === '.') || id.includes('..')) throw bad('".." and "." are path components, not part of an id');
  const shell = SHELL.exec(id);
  if (shell) throw bad(`it contains ${JSON.stringify(shell[0])}, which no Hub id has (a shell or path character)`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) throw bad('it contains control characters');
  if (/[^\x20-\x7e]/.test(id)) throw bad('it contains non-ASCII characters');
  const parts = id.split('/');
  if (parts.length > 2) throw bad(`it has ${parts.length - 1} "/" (a folder path?), and no such folder exists`);
  for (const p of parts) {
    if (p.length === 0) throw bad('an empty name before or after "/"');
    if (!/^[A-Za-z0-9._-]+$/.test(p)) throw bad(`"${p}" has characters other than letters, digits, "-", "_" and "."`);
    if (/^[-.]|[-.]$/.test(p)) throw bad(`"${p}" starts or ends with "-" or "."`);
  }
  if (parts[parts.length - 1]!.length > 96) throw bad('the name is longer than 96 characters');
  if (id.includes('--')) throw bad('"--" is not allowed (the cache uses it as the separator in models--org--name)');
  if (id.endsWith('.git')) throw bad('it ends in ".git"');
  return id;
}

/**
 * `rev` if it can be a branch, tag or commit used as a path under refs/ and snapshots/: git ref
 * characters only (letters, digits, "-", "_", ".", "/" for "refs/pr/1"), no "..", no empty or
 * dot-only component, no leading "/" or "-".
 */
export function validateRevision(rev: string): string {
  const bad = (why: string) => new HubError('bad-revision', `revision "${rev}" is not usable: ${why}. Give a branch ("main"), a tag ("v1.0") or a full 40-character commit hash.`);
  if (rev.length === 0) throw bad('it is empty');
  if (rev.length > 255) throw bad('it is longer than 255 characters');
  if (!/^[A-Za-z0-9._/-]+$/.test(rev)) throw bad('only letters, digits, "-", "_", "." and "/" can appear in it');
  if (rev.startsWith('/') || rev.endsWith('/') || rev.startsWith('-')) throw bad('it starts or ends with "/" or starts with "-"');
  if (rev.split('/').some((s) => s === '' || s === '.' || s === '..' || s.endsWith('.lock'))) throw bad('it has an empty, "." or ".." component (or one ending in ".lock")');
  if (rev.includes('..')) throw bad('".." cannot appear in a git ref');
  return rev;
}

/** huggingface_hub's `repo_folder_name` for a model: "models--org--name". */
export function repoFolderName(id: string): string {
  return ['models', ...id.split('/')].join('--');
}

/** The id a "models--org--name" folder holds, or undefined for other folders (datasets--…, .locks). */
export function idFromRepoFolder(folder: string): string | undefined {
  if (!folder.startsWith('models--')) return undefined;
  const parts = folder.slice('models--'.length).split('--');
  if (parts.length < 1 || parts.length > 2 || parts.some((p) => !p)) return undefined;
  return parts.join('/');
}

/**
 * `name` if it is a safe POSIX-relative file name inside a repo (what `_validate_relative_filename`
 * accepts, a little stricter: no backslashes, no control characters, no empty segments).
 * `what` says where the name came from for the message, `outside` where the file would land.
 */
export function validateRepoFilename(name: string, what: string, outside = "written outside the model's snapshot folder"): string {
  const bad = (why: string) => new HubError('bad-index', `${what}: the file name ${JSON.stringify(name)} is refused: ${why}. It would be ${outside}; ask the repository owner to fix the file.`);
  if (typeof name !== 'string' || name.length === 0) throw bad('it is empty');
  if (name.includes('\\')) throw bad('it contains a backslash');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw bad('it contains control characters');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split('/').some((s) => /^[A-Za-z]:/.test(s))) throw bad('it is an absolute or drive path');
  const segs = name.split('/');
  if (segs.includes('..')) throw bad('it has a ".." segment');
  if (segs.some((s) => s === '' || s === '.')) throw bad('it has an empty or "." segment');
  return name;
}

/** Percent-encoding of one URL path segment the way Python's `quote(s, safe="")` does it. */
export function quoteSegment(s: string): string {
  return Array.from(new TextEncoder().encode(s), (b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** `{endpoint}/{id}/resolve/{revision}/{file}`, as huggingface_hub's `hf_hub_url` builds it (revision quoted with safe="", the file with "/" kept). */
export function resolveUrl(endpoint: string, id: string, revision: string, filename: string): string {
  return `${endpoint}/${id}/resolve/${quoteSegment(revision)}/${filename.split('/').map(quoteSegment).join('/')}`;
}

/**
 * Where huggingface_hub keeps things, read from the environment the way its `constants.py` and
 * `utils/_auth.py` read it (checked against huggingface_hub 1.28, 2026-08), so Python and BERT Lab
 * share one cache and one login:
 *
 *   HF_HOME       = $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface
 *                   (the same on Windows: ~ is %USERPROFILE%, so C:\Users\me\.cache\huggingface)
 *   hub cache     = $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE (legacy), else HF_HOME/hub
 *   token         = $HF_TOKEN, else $HUGGING_FACE_HUB_TOKEN (legacy), else the file
 *                   $HF_TOKEN_PATH (default HF_HOME/token) that `hf auth login` writes; each with
 *                   CR/LF removed and spaces trimmed, empty meaning none. HF_HUB_DISABLE_IMPLICIT_TOKEN
 *                   turns the implicit (environment or file) token off.
 *   endpoint      = $HF_ENDPOINT without trailing "/", else https://huggingface.co
 *   offline       = $HF_HUB_OFFLINE or $TRANSFORMERS_OFFLINE in {1, ON, YES, TRUE} (any case)
 *   symlinks off  = $HF_HUB_DISABLE_SYMLINKS (same truth values)
 *
 * Paths get `~` and `$VAR` / `${VAR}` (and `%VAR%` on Windows) expanded, as os.path.expanduser and
 * os.path.expandvars do; unknown variables are left as they are. Not followed: OAuth token refresh
 * (a token file holding an expiring OAuth token is sent as is) and Colab / OIDC secrets.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
const TRUE_VALUES = new Set(['1', 'ON', 'YES', 'TRUE']);

/** huggingface_hub's `_is_true`. */
export const envTrue = (v: string | undefined): boolean => v !== undefined && TRUE_VALUES.has(v.toUpperCase());

/** os.path.expanduser then os.path.expandvars, as huggingface_hub applies them to its paths. */
export function expandPath(p: string, env: Env = process.env, platform: NodeJS.Platform = process.platform): string {
  let out = p;
  if (out === '~' || out.startsWith('~/') || (platform === 'win32' && out.startsWith('~\\'))) out = homeOf(env, platform) + out.slice(1);
  out = out.replace(/\$(\w+)|\$\{([^}]+)\}/g, (m, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? m);
  if (platform === 'win32') out = out.replace(/%([^%]+)%/g, (m, name: string) => env[name] ?? m);
  return out;
}

function homeOf(env: Env, platform: NodeJS.Platform): string {
  if (platform === 'win32') return env['USERPROFILE'] ?? homedir();
  return env['HOME'] ?? homedir();
}

/** HF_HOME. */
export function hfHome(env: Env = process.env): string {
  const raw = env['HF_HOME'] ?? join(env['XDG_CACHE_HOME'] ?? join(homeOf(env, process.platform), '.cache'), 'huggingface');
  return expandPath(raw, env);
}

/** The hub cache folder (holds models--org--name/). */
export function hubCacheDir(env: Env = process.env): string {
  const raw = env['HF_HUB_CACHE'] ?? env['HUGGINGFACE_HUB_CACHE'] ?? join(hfHome(env), 'hub');
  return expandPath(raw, env);
}

/** The token file `hf auth login` writes. */
export function hubTokenPath(env: Env = process.env): string {
  return expandPath(env['HF_TOKEN_PATH'] ?? join(hfHome(env), 'token'), env);
}

const cleanToken = (t: string | undefined): string | undefined => (t === undefined ? undefined : t.replace(/[\r\n]/g, '').trim() || undefined);

/** The token sent as `Authorization: Bearer …`, or undefined for anonymous requests. */
export function hubToken(env: Env = process.env): string | undefined {
  if (envTrue(env['HF_HUB_DISABLE_IMPLICIT_TOKEN'])) return undefined;
  const fromEnv = cleanToken(env['HF_TOKEN'] || env['HUGGING_FACE_HUB_TOKEN']);
  if (fromEnv) return fromEnv;
  try {
    return cleanToken(readFileSync(hubTokenPath(env), 'utf8'));
  } catch {
    return undefined; // no file: not logged in (Python ignores only FileNotFoundError; an unreadable file is treated the same here)
  }
}

export function hubEndpoint(env: Env = process.env): string {
  return (env['HF_ENDPOINT'] || DEFAULT_ENDPOINT).replace(/\/+$/, '');
}

export function hubOffline(env: Env = process.env): boolean {
  return envTrue(env['HF_HUB_OFFLINE'] || env['TRANSFORMERS_OFFLINE']);
}

export function symlinksDisabled(env: Env = process.env): boolean {
  return envTrue(env['HF_HUB_DISABLE_SYMLINKS']);
}

/** HF_HUB_ETAG_TIMEOUT and HF_HUB_DOWNLOAD_TIMEOUT (seconds, default 10 each), in milliseconds. */
export function hubTimeouts(env: Env = process.env): { metadataMs: number; readMs: number } {
  const sec = (v: string | undefined) => (v && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : 10);
  return { metadataMs: sec(env['HF_HUB_ETAG_TIMEOUT']) * 1000, readMs: sec(env['HF_HUB_DOWNLOAD_TIMEOUT']) * 1000 };
}

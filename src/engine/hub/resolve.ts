/**
 * Where a model or tokenizer named by the user lives, for code that reads it synchronously
 * (readConfig, loadTokenizer, a hover): a local folder (or file); else, for a name that has the
 * shape of a Hugging Face Hub id ("bert-base-uncased", "org/name"), its snapshot in the Hugging
 * Face cache at the default revision — looked up only, never downloaded. Downloading is
 * resolveModel's (model.ts), which the CLI and the trainer call first, so everything downstream
 * sees a folder.
 */
import { resolve } from 'node:path';
import { isHubError } from './errors.js';
import { hubCacheDir } from './env.js';
import { DEFAULT_REVISION } from './ids.js';
import { existingModelPath, ModelNotFoundError } from './local.js';
import { resolveModelFromCache } from './model.js';

export { ModelNotFoundError };

/** "name" or "org/name" of letters, digits, "-", "_" and "."; never a path ("./x", "/x", "a/b/c", "x.json"). */
const HUB_ID = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;
export function looksLikeHubId(value: string): boolean {
  return HUB_ID.test(value) && !/\.(json|txt|safetensors|ya?ml)$/i.test(value) && !value.includes('..');
}

/**
 * `value` as an existing local folder (or, with `allowFile`, a file), resolved; else a Hub id's
 * snapshot folder in the Hugging Face cache (`purpose` "tokenizer" accepts a snapshot with only
 * the tokenizer files). `what` names the setting for the message ("model_name_or_path", "the
 * checkpoint"). Never touches the network.
 */
export function localModelPath(value: string, what = 'the model', opts: { allowFile?: boolean; purpose?: 'model' | 'tokenizer' } = {}): string {
  const p = existingModelPath(value, what, opts);
  if (p !== undefined) return p;
  const abs = resolve(value);
  if (!looksLikeHubId(value)) throw new ModelNotFoundError(`${what} "${value}": no such folder (${abs})`);
  try {
    return resolveModelFromCache(value, { what, purpose: opts.purpose ?? 'model' }).folder;
  } catch (e) {
    if (isHubError(e, 'bad-id')) throw new ModelNotFoundError(`${what} "${value}": no such folder (${abs})`, { cause: e });
    if (!isHubError(e, 'not-cached')) throw e;
    const why = e.message.replace(/^.*?is not in the Hugging Face cache: /s, '').replace(/\.$/, '');
    throw new ModelNotFoundError(`${what} "${value}": no such folder (${abs}), and the Hugging Face Hub id ${value} (revision "${DEFAULT_REVISION}") is not in the Hugging Face cache ${hubCacheDir()} (${why}). `
      + `Download it with \`bert-lab download ${value}\` (or \`huggingface-cli download ${value}\`), or give it where it is downloaded for you (bert-lab predict/eval/export, or a training configuration) with offline mode (HF_HUB_OFFLINE) off.`, { cause: e });
  }
}

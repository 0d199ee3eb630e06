/**
 * Where a model or tokenizer named by the user lives. Today: a local folder (or file) only; a name
 * that is not on disk but has the shape of a Hugging Face Hub id ("bert-base-uncased",
 * "org/name") gets an error that says so and what to do. The Hub resolver (cache, download) plugs
 * in here, and only here: everything downstream sees a folder.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

export class ModelNotFoundError extends Error {
  override name = 'ModelNotFoundError';
}

/** "name" or "org/name" of letters, digits, "-", "_" and "."; never a path ("./x", "/x", "a/b/c", "x.json"). */
const HUB_ID = /^(?:[A-Za-z0-9][A-Za-z0-9._-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/;
export function looksLikeHubId(value: string): boolean {
  return HUB_ID.test(value) && !/\.(json|txt|safetensors|ya?ml)$/i.test(value) && !value.includes('..');
}

/**
 * `value` as an existing local folder (or, with `allowFile`, a file), resolved. `what` names the
 * setting for the message ("model_name_or_path", "the checkpoint").
 */
export function localModelPath(value: string, what = 'the model', opts: { allowFile?: boolean } = {}): string {
  const p = resolve(value);
  if (existsSync(p)) {
    if (opts.allowFile || statSync(p).isDirectory()) return p;
    throw new ModelNotFoundError(`${what} "${value}" is a file, not a folder; give the folder that holds config.json (a checkpoint-<step> folder, or a run's output_dir)`);
  }
  if (looksLikeHubId(value)) {
    throw new ModelNotFoundError(`${what} "${value}": no such folder (${p}). It looks like a Hugging Face Hub id, but BERT Lab does not download from the Hub yet: `
      + `download it first (e.g. \`huggingface-cli download ${value} --local-dir models/${value.split('/').pop()}\`, or \`git clone https://huggingface.co/${value}\`) and give that folder`);
  }
  throw new ModelNotFoundError(`${what} "${value}": no such folder (${p})`);
}

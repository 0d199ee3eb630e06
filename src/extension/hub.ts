/**
 * The Hugging Face Hub as the extension sees it (the engine's src/engine/hub does the work):
 * the cache folder and offline mode (settings, else the HF_* environment), model references
 * ("org/name" or "org/name@revision") turned into folders from the cache only — a hover or a
 * panel never downloads — whether BERT Lab loads a cached model (and why not), and the
 * environment for the processes the extension spawns.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type CachedModel, type CachedRevision, DEFAULT_REVISION, fmtBytes, hubCacheDir, hubOffline, isHubError, resolveModelFromCache, scanCache, validateHubId, validateRevision } from '../engine/hub/index.js';
import { expandPath } from '../engine/hub/env.js';
import { SUPPORTED_MODEL_TYPES } from '../engine/models/registry.js';
import { settings } from './settings.js';

/** The cache folder: bertLab.hub.cacheDir, else HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub. */
export function cacheDir(): string {
  const s = settings.hubCacheDir;
  return s ? resolve(expandPath(s)) : hubCacheDir();
}

/** Offline: the bertLab.hub.offline setting, or HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE in the environment. */
export function offline(): boolean {
  return settings.hubOffline || hubOffline();
}

/**
 * The environment of a process the extension spawns (training, eval, export): the cache folder
 * and offline mode the extension uses, so the CLI resolves Hub ids exactly as the extension does.
 */
export function childEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  if (offline()) env['HF_HUB_OFFLINE'] = '1';
  if (settings.hubCacheDir) env['HF_HUB_CACHE'] = cacheDir();
  return env;
}

export interface ModelRef { id: string; revision?: string }

/** "org/name" or "org/name@revision" → its parts, or undefined when it is neither (a path, say). */
export function parseModelRef(text: string): ModelRef | undefined {
  const at = text.indexOf('@');
  const id = at < 0 ? text : text.slice(0, at), revision = at < 0 ? undefined : text.slice(at + 1);
  try {
    validateHubId(id);
    if (revision !== undefined) validateRevision(revision);
  } catch {
    return undefined;
  }
  return revision === undefined || revision === DEFAULT_REVISION ? { id } : { id, revision };
}

/** What parseModelRef reads back: the id alone for "main". */
export const formatModelRef = (r: ModelRef): string => (r.revision && r.revision !== DEFAULT_REVISION ? `${r.id}@${r.revision}` : r.id);

/**
 * The folder to load for a checkpoint reference: an existing path as it is; a Hub id from the
 * cache (never downloaded here); anything else unchanged, for the loader's own error.
 */
export function checkpointFolder(ref: string): string {
  if (existsSync(ref)) return ref;
  const m = parseModelRef(ref);
  if (!m) return ref;
  try {
    return resolveModelFromCache(m.id, { revision: m.revision, cacheDir: cacheDir(), what: 'the checkpoint' }).folder;
  } catch (e) {
    if (isHubError(e, 'not-cached')) throw new Error(`${e.message} Download it first with "BERT Lab: Download Model…" (hovers and panels read the cache only).`);
    throw e;
  }
}

/** Model families BERT Lab loads: the engine's registry, so a family added there is offered here at once. */
export const LOADABLE_MODEL_TYPES: readonly string[] = SUPPORTED_MODEL_TYPES;

/** Whether BERT Lab loads this snapshot: undefined when it does, else why not (for people). */
export function whyNotLoadable(rev: CachedRevision): string | undefined {
  if (rev.problems.length) return rev.problems.join('; ');
  if (!rev.modelType) return 'config.json names no model_type';
  if (!LOADABLE_MODEL_TYPES.includes(rev.modelType)) return `model_type ${rev.modelType}: not supported yet (BERT Lab loads ${LOADABLE_MODEL_TYPES.join(', ')})`;
  if (!rev.files.includes('model.safetensors') && !rev.files.includes('model.safetensors.index.json')) {
    return rev.files.some((f) => f.startsWith('pytorch_model')) ? 'only pytorch_model.bin (a pickle, which BERT Lab never reads): look for a safetensors revision' : 'no model.safetensors';
  }
  return undefined;
}

/** The snapshot a model stands for: the one "main" points at, else the newest. */
export function mainRevision(m: CachedModel): CachedRevision | undefined {
  return m.revisions.find((r) => r.refs.includes(DEFAULT_REVISION)) ?? m.revisions[0];
}

/** The reference that resolves to `rev` of `m`: the id for main, else id@branch-or-tag, else id@commit. */
export function refOf(m: CachedModel, rev: CachedRevision): string {
  return formatModelRef({ id: m.id, revision: rev.refs.includes(DEFAULT_REVISION) ? undefined : rev.refs[0] ?? rev.commit });
}

/** How a snapshot's revision reads: its branches and tags, else the short commit. */
export const revisionLabel = (rev: CachedRevision): string => (rev.refs.length ? rev.refs.join(', ') : rev.commit.slice(0, 7));

export interface CachedCheckpoint { label: string; description: string; path: string }

/** The cache's loadable snapshots as checkpoint choices (path = the model reference). */
export function cachedCheckpoints(models: CachedModel[] = scanCache(cacheDir())): CachedCheckpoint[] {
  return models.flatMap((m) => m.revisions.filter((r) => !whyNotLoadable(r)).map((r) => {
    const ref = refOf(m, r);
    return { label: ref, description: `Hugging Face cache · ${revisionLabel(r)} · ${fmtBytes(m.sizeOnDisk)}`, path: ref };
  }));
}

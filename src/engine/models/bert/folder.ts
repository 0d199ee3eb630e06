/**
 * Hugging Face BERT checkpoint folders: config.json + model.safetensors, or a sharded
 * model.safetensors.index.json with its shards (+ tokenizer files). A Hugging Face Hub id reads
 * its snapshot in the Hugging Face cache (hub/resolve.ts; never a download).
 * Loading maps file keys to BERT Lab's parameter names (which are HF's) the way transformers'
 * from_pretrained does: an optional `bert.` prefix, old LayerNorm `gamma`/`beta` names, the tied
 * MLM decoder (present or absent), heads missing from the file initialized fresh (transfer).
 * Saving writes what save_pretrained writes, atomically and durably (temporary files and folder,
 * fsync, rename); leftovers of an interrupted save are cleaned up by cleanCheckpointLeftovers.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BertConfig, ConfigError } from './config.js';
import { AnyModel, Family } from '../model.js';
import { BERT_FAMILY } from './family.js';
import { parseModelConfig } from '../registry.js';
import { localModelPath } from '../../hub/resolve.js';
import { HubError } from '../../hub/errors.js';
import { SAFETENSORS_FILE, SAFETENSORS_INDEX, shardsOfIndex } from '../../hub/model.js';
import { ParamSet } from '../../nn/module.js';
import { SafeTensor, readSafetensors, safetensorsChunks } from '../../checkpoint/safetensors.js';
import { isStagedName, stageFile, syncFolder } from '../../checkpoint/durable.js';

export type Weights = Record<string, Float32Array>;

/**
 * One Hugging Face folder of a saved model: `sub` '' is the model's folder itself, another name a
 * subfolder (ELECTRA pretraining: the discriminator, and its generator in generator/); file keys
 * and the parameters they hold.
 */
export interface FolderPart { sub: string; config: Record<string, unknown>; keys: { key: string; param: string; shape: number[] }[] }
/** What saving reads of a model; `parts` where it is saved as more than one folder (default: one, its parameters under their names). */
export type SavedModel = Pick<AnyModel, 'family' | 'cfg' | 'architecture' | 'ps'> & { parts?(): FolderPart[] };

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Files of a tokenizer that travel with a checkpoint. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'] as const;

/** The folder `folder` names: itself when it exists (as given, for the messages), else a Hub id's cached snapshot. */
function modelFolder(folder: string): string {
  const dir = localModelPath(folder, 'the model folder');
  return existsSync(folder) ? folder : dir;
}

export function readConfig(folder: string): BertConfig {
  folder = modelFolder(folder);
  const file = join(folder, 'config.json');
  if (!existsSync(file)) throw new CheckpointError(`${folder}: config.json is missing; a checkpoint folder needs config.json and model.safetensors`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return parseModelConfig(json, file);
  } catch (e) {
    if (e instanceof ConfigError) throw new CheckpointError(e.message);
    throw e;
  }
}

export interface LoadResult {
  weights: Weights;
  /** What a user should know: freshly initialized heads, ignored keys, renamed keys. */
  notes: string[];
}

const PICKLES = ['pytorch_model.bin', 'pytorch_model.bin.index.json'];

/**
 * The weights file of a checkpoint folder: model.safetensors, else model.safetensors.index.json
 * (transformers' sharded save). A folder with only PyTorch pickles, or none, is an error that
 * names the file and says how to get safetensors.
 */
export function weightsFile(folder: string): string {
  for (const f of [SAFETENSORS_FILE, SAFETENSORS_INDEX]) if (existsSync(join(folder, f))) return join(folder, f);
  const pickle = PICKLES.find((f) => existsSync(join(folder, f)));
  if (pickle) {
    throw new CheckpointError(`${folder}: model.safetensors is missing (BERT Lab reads safetensors checkpoints; convert ${pickle} with transformers: `
      + `AutoModel.from_pretrained("<this folder>").save_pretrained("<a new folder>", safe_serialization=True), or, for a Hub model, look on its Hub page for a pull request adding model.safetensors and use that revision). `
      + `${pickle} is a PyTorch pickle, which BERT Lab never reads: unpickling can run arbitrary code`);
  }
  throw new CheckpointError(`${folder}: model.safetensors is missing (and there is no ${SAFETENSORS_INDEX} of shards); a checkpoint folder needs config.json and model.safetensors`);
}

/**
 * The tensors of a sharded checkpoint: every shard the index names, each read once; a tensor the
 * index maps to a shard that lacks it is an error naming both. Shard names that would leave the
 * folder ("../x", "/x") are refused before anything is read.
 */
function readShards(folder: string, index: string): Map<string, SafeTensor> {
  let shards: string[];
  try {
    shards = shardsOfIndex(index, folder, `read from outside ${folder}`);
  } catch (e) {
    if (e instanceof HubError) throw new CheckpointError(e.message, { cause: e });
    throw e;
  }
  const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
  const tensors = new Map<string, SafeTensor>();
  for (const shard of shards) {
    const file = join(folder, ...shard.split('/'));
    if (!existsSync(file)) throw new CheckpointError(`${index} names the shard ${shard}, but ${file} is missing; download the model again (all its shards)`);
    const st = readSafetensors(file, { only: (name) => map[name] === shard });
    for (const [name, s] of Object.entries(map)) {
      if (s === shard && !st.tensors.has(name)) throw new CheckpointError(`${index} maps tensor "${name}" to ${shard}, but ${file} does not have it; the index and its shards disagree`);
    }
    for (const [name, t] of st.tensors) tensors.set(name, t);
  }
  return tensors;
}

/**
 * Loads the weights of `ps` from `folder/model.safetensors` (or its shards). Parameters outside
 * `bert.` that the file lacks (a new classification head) are initialized from `random`; a
 * missing encoder parameter or a shape that disagrees with the config is an error naming the
 * file and tensor.
 */
export function loadWeights(folder: string, ps: ParamSet, random: () => number, family: Family = BERT_FAMILY): LoadResult {
  folder = modelFolder(folder);
  const file = weightsFile(folder);
  const st = { tensors: file.endsWith(SAFETENSORS_INDEX) ? readShards(folder, file) : readSafetensors(file).tensors };
  const used = new Set<string>();
  const weights: Weights = {};
  const fresh: string[] = [];
  const notes: string[] = [];
  for (const p of ps.specs) {
    const key = family.candidates(p.name).find((k) => st.tensors.has(k));
    if (!key) {
      if (p.name.startsWith(family.prefix) && !family.optional(p.name)) {
        throw new CheckpointError(`${file}: tensor "${p.name}" is missing (the file has ${st.tensors.size} tensors, e.g. ${[...st.tensors.keys()].slice(0, 3).join(', ')}); is this a ${family === BERT_FAMILY ? 'BERT' : family.modelTypes[0]} checkpoint of the same architecture?`);
      }
      fresh.push(p.name);
      continue;
    }
    const t = st.tensors.get(key)!;
    used.add(key);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      if (!p.name.startsWith(family.prefix)) {
        // A task head of another size (e.g. a classifier with other labels): initialized anew,
        // as transformers' ignore_mismatched_sizes does.
        fresh.push(p.name);
        notes.push(`${key} has shape [${t.shape}] in ${basename(file)} but this model needs [${p.shape}]; it is initialized anew`);
        continue;
      }
      throw new CheckpointError(`${file}: tensor "${key}" has shape [${t.shape}] but config.json needs [${p.shape}] for ${p.name}; the config and the weights disagree`);
    }
    if (key !== p.name) notes.push(`read ${p.name} from "${key}"`);
    weights[p.name] = t.data;
  }
  if (fresh.length) {
    const init = ps.initialize(random);
    for (const n of fresh) weights[n] = init[n]!;
    notes.push(`newly initialized (not in ${basename(file)}): ${fresh.join(', ')} — train them before use`);
  }
  const tied = family.tied;
  const word = tied && weights[tied.word];
  const decoder = tied && st.tensors.get(tied.decoder);
  if (tied && word && decoder && ps.specs.some((p) => p.name === tied.bias)) {
    let differs = decoder.data.length !== word.length;
    for (let i = 0; !differs && i < word.length; i++) differs = decoder.data[i] !== word[i];
    if (differs) notes.push(`${tied.decoder} differs from the word embeddings; the decoder is tied to the embeddings (as transformers does), so it was not used`);
  }
  const unused = [...st.tensors.keys()].filter((k) => !used.has(k) && !family.ignored.some((re) => re.test(k)));
  if (unused.length) notes.push(`not used by this model: ${unused.slice(0, 6).join(', ')}${unused.length > 6 ? ` and ${unused.length - 6} more` : ''}`);
  return { weights, notes };
}


/**
 * Writes config.json, model.safetensors (F32; the tied decoder omitted, as save_pretrained does)
 * and the tokenizer files copied from `tokenizerFrom` into the existing folder `dir`: every file
 * is first written in full to a temporary sibling and flushed (fsync), then all are renamed into
 * place and the folder flushed, so a crash leaves each file whole, old or new, never half.
 */
export function writeModelFiles(dir: string, model: SavedModel, weights: Weights,
  opts: { tokenizerFrom?: string; extraFiles?: Record<string, string | Uint8Array> } = {}): void {
  const parts = model.parts?.() ?? [{ sub: '', config: model.family.configJSON(model.cfg, model.architecture), keys: model.ps.specs.map((p) => ({ key: p.name, param: p.name, shape: p.shape })) }];
  const files: Record<string, string | Uint8Array | Uint8Array[]> = {}, tokenizer: Record<string, Uint8Array> = {};
  for (const part of parts) {
    const at = (f: string) => (part.sub ? `${part.sub}/${f}` : f);
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const p of part.keys) {
      const w = weights[p.param];
      if (!w) throw new CheckpointError(`saving ${dir}: no value for parameter "${p.param}"`);
      tensors[p.key] = { shape: p.shape, data: w };
    }
    if (part.sub) mkdirSync(join(dir, part.sub), { recursive: true });
    files[at('model.safetensors')] = safetensorsChunks(tensors, { format: 'pt' }, join(dir, at('model.safetensors')));
    files[at('config.json')] = JSON.stringify(part.config, null, 2) + '\n';
    if (opts.tokenizerFrom) for (const f of TOKENIZER_FILES) if (existsSync(join(opts.tokenizerFrom, f))) tokenizer[at(f)] = readFileSync(join(opts.tokenizerFrom, f));
  }
  Object.assign(files, opts.extraFiles, tokenizer);
  const staged: [string, string][] = [];
  try {
    for (const [name, content] of Object.entries(files)) staged.push([stageFile(join(dir, name), content), join(dir, name)]);
    while (staged.length) { const [tmp, to] = staged[0]!; renameSync(tmp, to); staged.shift(); }
  } finally {
    for (const [tmp] of staged) rmSync(tmp, { force: true }); // after a failure: nothing half-written stays behind
  }
  for (const part of parts) if (part.sub) syncFolder(join(dir, part.sub));
  syncFolder(dir);
}

/** Sibling names of a checkpoint folder while it is written, replaced or deleted. */
const LEFTOVER = /^\.(.+)\.(tmp|old|deleting)-\d+-\d+$/;
const sibling = (folder: string, kind: 'tmp' | 'old' | 'deleting'): string => join(dirname(folder), `.${basename(folder)}.${kind}-${process.pid}-${Date.now()}`);

/**
 * A whole checkpoint folder written atomically: every file into a sibling temporary folder,
 * flushed, the folder flushed, then one rename (two when a folder of that name exists: the old
 * one is moved aside first and removed after). Until the rename, `folder` does not exist or is
 * the old one; a crash leaves a `.<name>.tmp-…` folder that cleanCheckpointLeftovers removes.
 */
export function saveCheckpoint(folder: string, model: SavedModel, weights: Weights,
  opts: { tokenizerFrom?: string; extraFiles?: Record<string, string | Uint8Array> } = {}): void {
  const tmp = sibling(folder, 'tmp');
  mkdirSync(tmp, { recursive: true });
  try {
    writeModelFiles(tmp, model, weights, opts);
    if (existsSync(folder)) {
      const old = sibling(folder, 'old');
      renameSync(folder, old);
      renameSync(tmp, folder);
      syncFolder(dirname(folder));
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, folder);
    }
    syncFolder(dirname(folder));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Deletes a checkpoint folder crash-safely: renamed out of the way first, so no half-deleted folder keeps its name. */
export function removeCheckpoint(folder: string): void {
  if (!existsSync(folder)) return;
  const doomed = sibling(folder, 'deleting');
  renameSync(folder, doomed);
  rmSync(doomed, { recursive: true, force: true });
}

/**
 * After a crash: removes the temporary folders and files of interrupted writes in `dir`, and puts
 * back a checkpoint that was moved aside for replacement when its replacement never arrived.
 * Returns what it did, for the log.
 */
export function cleanCheckpointLeftovers(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const notes: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isFile() && isStagedName(d.name)) { rmSync(p, { force: true }); notes.push(`removed ${d.name}, a file left half-written by an interrupted save`); continue; }
    const m = d.isDirectory() ? LEFTOVER.exec(d.name) : null;
    if (!m) continue;
    const target = join(dir, m[1]!);
    if (m[2] === 'old' && !existsSync(target)) { renameSync(p, target); notes.push(`restored ${m[1]}, which an interrupted save had moved aside`); continue; }
    rmSync(p, { recursive: true, force: true });
    notes.push(m[2] === 'tmp' ? `removed ${d.name}, a checkpoint left incomplete by an interrupted save` : `removed ${d.name}, left by an interrupted ${m[2] === 'old' ? 'replacement' : 'deletion'}`);
  }
  syncFolder(dir);
  return notes;
}

/**
 * Training checkpoints: `checkpoint-<step>/` folders in output_dir, each a Hugging Face model
 * folder (config.json, model.safetensors, tokenizer files) plus what resuming needs —
 * optimizer.safetensors (AdamW moments; HF keeps these in optimizer.pt, a pickle we neither
 * write nor read), trainer_state.json (HF's format), rng_state.json (data order and masking
 * generators) and training_args.json. Written atomically; rotation keeps the newest
 * save_total_limit and always the best.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SavedModel, Weights, saveCheckpoint, CheckpointError, removeCheckpoint } from '../models/bert/folder.js';
import { encodeSafetensors, readSafetensors } from '../checkpoint/safetensors.js';
import { TrainerState, serializeTrainerState } from './state.js';

export interface ResumeState {
  /** Optimizer steps done. */
  step: number;
  expAvg: Weights;
  expAvgSq: Weights;
  /** Opaque JSON for data order and random generators (the trainer's own). */
  rng: unknown;
}

export const checkpointName = (step: number): string => `checkpoint-${step}`;

/** Steps of the checkpoint-<n> folders in `outputDir`, ascending. */
export function listCheckpoints(outputDir: string): { step: number; path: string }[] {
  if (!existsSync(outputDir)) return [];
  return readdirSync(outputDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^checkpoint-\d+$/.test(d.name))
    .map((d) => ({ step: Number(d.name.slice(11)), path: join(outputDir, d.name) }))
    .sort((a, b) => a.step - b.step);
}

/** Files a checkpoint needs for resuming; the atomic save writes all of them or none. */
export const RESUME_FILES = ['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'rng_state.json'] as const;

/** The newest checkpoint holding every file resuming needs (older BERT Lab versions or a hand-edited folder may lack some), and notes on those passed over. */
export function lastCompleteCheckpoint(outputDir: string): { path: string | null; notes: string[] } {
  const notes: string[] = [];
  for (const c of listCheckpoints(outputDir).reverse()) {
    const missing = RESUME_FILES.filter((f) => !existsSync(join(c.path, f)));
    if (!missing.length) return { path: c.path, notes };
    notes.push(`${c.path} lacks ${missing.join(', ')}; resuming from an earlier checkpoint`);
  }
  return { path: null, notes };
}

export function saveTrainingCheckpoint(outputDir: string, model: SavedModel,
  weights: Weights, resume: ResumeState, files: { trainerState: TrainerState; trainingArgs: object; tokenizerFrom?: string }): string {
  const folder = join(outputDir, checkpointName(resume.step));
  const moments: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const p of model.ps.specs) {
    const m = resume.expAvg[p.name], v = resume.expAvgSq[p.name];
    if (!m || !v) continue; // frozen parameters have no moments
    moments[`exp_avg.${p.name}`] = { shape: p.shape, data: m };
    moments[`exp_avg_sq.${p.name}`] = { shape: p.shape, data: v };
  }
  saveCheckpoint(folder, model, weights, {
    ...(files.tokenizerFrom ? { tokenizerFrom: files.tokenizerFrom } : {}),
    extraFiles: {
      'optimizer.safetensors': encodeSafetensors(moments, { step: String(resume.step), optimizer: 'AdamW' }),
      'trainer_state.json': serializeTrainerState(files.trainerState),
      'rng_state.json': JSON.stringify(resume.rng) + '\n',
      'training_args.json': JSON.stringify(files.trainingArgs, null, 2) + '\n',
    },
  });
  return folder;
}

/** Optimizer state, step and generator state of a checkpoint folder, for resuming. */
export function loadResumeState(folder: string): ResumeState {
  const need = ['optimizer.safetensors', 'rng_state.json', 'trainer_state.json'];
  for (const f of need) if (!existsSync(join(folder, f))) throw new CheckpointError(`${folder}: ${f} is missing, so training cannot resume from it (it may be a model-only folder; use it as model_name_or_path instead)`);
  const st = readSafetensors(join(folder, 'optimizer.safetensors'));
  const expAvg: Weights = {}, expAvgSq: Weights = {};
  for (const [k, t] of st.tensors) {
    if (k.startsWith('exp_avg_sq.')) expAvgSq[k.slice(11)] = t.data;
    else if (k.startsWith('exp_avg.')) expAvg[k.slice(8)] = t.data;
  }
  const step = Number(st.metadata['step']);
  if (!Number.isInteger(step) || step < 0) throw new CheckpointError(`${folder}/optimizer.safetensors: metadata "step" is ${JSON.stringify(st.metadata['step'])}; expected the number of optimizer steps`);
  let rng: unknown;
  try { rng = JSON.parse(readFileSync(join(folder, 'rng_state.json'), 'utf8')); } catch (e) {
    throw new CheckpointError(`${folder}/rng_state.json: not valid JSON (${(e as Error).message})`);
  }
  return { step, expAvg, expAvgSq, rng };
}

/**
 * The configuration a checkpoint was made with (its training_args.json): null when it has none
 * (older versions did not always write it) or the file is unreadable, and then `problem` says why.
 */
export function readTrainingArgs(folder: string): { args: Record<string, unknown> | null; problem?: string } {
  const file = join(folder, 'training_args.json');
  if (!existsSync(file)) return { args: null, problem: `${folder} has no training_args.json (an older version's checkpoint)` };
  try {
    const args: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (args && typeof args === 'object' && !Array.isArray(args)) return { args: args as Record<string, unknown> };
    return { args: null, problem: `${file} holds no JSON object` };
  } catch (e) {
    return { args: null, problem: `${file} is not valid JSON (${(e as Error).message})` };
  }
}

/** Deletes old checkpoints beyond `limit`, never the best one (as HF's _rotate_checkpoints). */
export function rotateCheckpoints(outputDir: string, limit: number | undefined, best: string | null): string[] {
  if (!limit || limit <= 0) return [];
  const all = listCheckpoints(outputDir);
  const removable = all.filter((c) => c.path !== best);
  // The newest is always kept too (HF raises the limit to 2 when the best is not the newest).
  const keep = Math.max(limit - (best && all.some((c) => c.path === best) ? 1 : 0), 1);
  const doomed = removable.slice(0, Math.max(0, removable.length - keep));
  for (const c of doomed) removeCheckpoint(c.path);
  return doomed.map((c) => c.path);
}

/**
 * Evaluation of a saved checkpoint on a data file, through the checkpoint's own label mapping
 * (config.json id2label / label2id / problem_type): no training configuration, no new head. A
 * label the checkpoint does not know is refused (count, examples, file and line), or skipped and
 * counted when asked; the head is never re-initialized.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { localModelPath } from '../hub/resolve.js';
import { readConfig, loadWeights } from '../models/bert/folder.js';
import { modelForConfig } from '../models/registry.js';
import { BertConfig } from '../models/bert/config.js';
import { numLabels, problemTypeOf } from '../models/model.js';
import { loadTokenizer } from '../tokenizer/index.js';
import { DataError, preview, readExamples } from '../data/readers.js';
import { ClassificationCollator } from '../data/collate-cls.js';
import { tokenizeForMlm } from '../data/collate-mlm.js';
import { LabelMapping, LabelValue } from '../data/labels.js';
import { defaultBuckets } from '../data/batching.js';
import type { DatasetSpec, Example } from '../data/types.js';
import { EngineSession, type Device } from '../runtime/session.js';
import type { ModelRunner } from '../runtime/runner.js';
import { EvalSessions, evaluateClassification, evaluateMlm, mlmCollator } from './tasks.js';
import { prefixMetrics } from './metrics.js';

export interface EvaluateOptions {
  /** The labelled file (classification) or text (masked LM); a path or a dataset spec. */
  data: string | DatasetSpec;
  /** Sequences per batch (default 8, HF's per_device_eval_batch_size). */
  batchSize?: number;
  /** Tokens per sequence (default: the model's max_position_embeddings, at most 512). */
  maxSeqLength?: number;
  /** Masked LM: the fraction of tokens masked (default: the checkpoint's training mlm_probability, else 0.15); to compare models trained with different rates. */
  mlmProbability?: number;
  /** Skip examples whose label the checkpoint does not know (counted in the result) instead of refusing the file. */
  ignoreUnknownLabels?: boolean;
  device?: Device;
  threads?: number;
  /** Where sessions run (default: this thread, on `device`). */
  runnerFor?: (model: Uint8Array) => Promise<ModelRunner>;
}

export interface EvaluateResult {
  /** eval_loss, eval_accuracy, … as the Trainer names them. */
  metrics: Record<string, number>;
  /** Examples scored. */
  examples: number;
  /** Examples skipped for an unknown label (only with ignoreUnknownLabels). */
  skipped: number;
  /** Per-class scores and confusion matrix (single-label), when there are any. */
  details?: unknown;
  /** What the user should know: labels read as class ids, skipped examples, the masking used. */
  notes: string[];
}

/** The class names and ids a classifier checkpoint was trained with, as transformers reads config.json. */
export function checkpointLabels(cfg: BertConfig): LabelMapping {
  const L = numLabels(cfg);
  const id2label = Object.fromEntries(Array.from({ length: L }, (_, i) => [String(i), cfg.id2label?.[String(i)] ?? `LABEL_${i}`]));
  return { id2label, label2id: Object.fromEntries(Object.entries(id2label).map(([i, n]) => [n, Number(i)])), problemType: problemTypeOf(cfg) };
}

const fileOf = (spec: string | DatasetSpec) => (typeof spec === 'string' ? spec : spec.path);

/**
 * The examples with their labels spelled as the checkpoint's class names. A label is a class name
 * of id2label, else a class id 0…n−1 (as datasets' ClassLabel columns hold them); anything else is
 * unknown. Regression labels pass through (encodeLabel checks they are numbers).
 */
function mapLabels(examples: Example[], labels: LabelMapping, spec: string | DatasetSpec, ignoreUnknown: boolean): { kept: Example[]; skipped: number; byId: number } {
  if (labels.problemType === 'regression') return { kept: examples, skipped: 0, byId: 0 };
  const L = Object.keys(labels.id2label).length;
  let byId = 0;
  const unknown: { ex: Example; value: string }[] = [];
  const kept: Example[] = [];
  const name = (v: string | number): string | undefined => {
    const key = String(v);
    if (Object.hasOwn(labels.label2id, key)) return key;
    if (/^\d+$/.test(key.trim()) && Number(key) < L) { byId++; return labels.id2label[String(Number(key))]; }
    return undefined;
  };
  for (const ex of examples) {
    const label = ex.label as LabelValue | undefined;
    if (label === undefined) throw new DataError(ex.ref.file, ex.ref.line, 'has no label; every example of a classification evaluation needs one (check label_field)', 'label');
    const items = Array.isArray(label) ? label : [label];
    const names = items.map(name);
    const bad = items.find((_, i) => names[i] === undefined);
    if (bad !== undefined) { unknown.push({ ex, value: String(bad) }); continue; }
    kept.push({ ...ex, label: Array.isArray(label) ? (names as string[]) : names[0]! });
  }
  if (unknown.length && !ignoreUnknown) {
    const first = unknown[0]!.ex.ref;
    const known = Object.values(labels.id2label);
    const shown = unknown.slice(0, 5).map((u) => `${preview(u.value)} at line ${u.ex.ref.line}`).join(', ');
    const values = [...new Set(unknown.map((u) => u.value))];
    throw new DataError(first.file, first.line,
      `${unknown.length} of ${examples.length} examples have labels the checkpoint does not know (${values.slice(0, 10).map((v) => preview(v)).join(', ')}${values.length > 10 ? ', …' : ''}): ${shown}${unknown.length > 5 ? ', …' : ''}. `
      + `The checkpoint's classes (config.json id2label) are: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}, or their ids 0…${L - 1}. `
      + `Fix the labels, or skip those examples (bert-lab eval --ignore-unknown-labels)`, 'label');
  }
  if (kept.length === 0 && examples.length) throw new DataError(fileOf(spec), 0, `none of its ${examples.length} examples has a label the checkpoint knows; nothing to evaluate`);
  return { kept, skipped: unknown.length, byId };
}

/** The masking options the checkpoint was trained with (its training_args.json), else run_mlm.py's defaults. */
function mlmOptions(folder: string): { lineByLine: boolean; mlmProbability: number; wholeWord: boolean; from: string | null } {
  const file = join(folder, 'training_args.json');
  const defaults = { lineByLine: false, mlmProbability: 0.15, wholeWord: false, from: null };
  if (!existsSync(file)) return defaults;
  try {
    const a = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return {
      lineByLine: typeof a['line_by_line'] === 'boolean' ? a['line_by_line'] : defaults.lineByLine,
      mlmProbability: typeof a['mlm_probability'] === 'number' ? a['mlm_probability'] : defaults.mlmProbability,
      wholeWord: typeof a['whole_word_masking'] === 'boolean' ? a['whole_word_masking'] : defaults.wholeWord,
      from: file,
    };
  } catch { return defaults; }
}

export async function evaluateCheckpoint(folder: string, opts: EvaluateOptions): Promise<EvaluateResult> {
  const dir = localModelPath(folder, 'the checkpoint');
  const cfg = readConfig(dir);
  const model = modelForConfig(cfg);
  const { weights } = loadWeights(dir, model.ps, () => { throw new Error(`${dir}: model.safetensors lacks weights of the ${model.architecture} head; evaluation never starts a head from random weights — evaluate a checkpoint trained for this task`); }, model.family);
  const tokenizer = loadTokenizer(dir);
  const B = opts.batchSize ?? 8;
  if (!(Number.isInteger(B) && B > 0)) throw new RangeError(`batch size is ${B}; it must be a positive integer`);
  const longest = model.family.maxLength(cfg);
  const maxLen = opts.maxSeqLength ?? Math.min(512, longest);
  if (!(Number.isInteger(maxLen) && maxLen >= 8 && maxLen <= longest)) {
    throw new RangeError(`max sequence length is ${maxLen}; it must be an integer from 8 to the model's max_position_embeddings (${cfg.max_position_embeddings}${longest !== cfg.max_position_embeddings ? `, which allows ${longest} tokens` : ''})`);
  }
  const buckets = defaultBuckets(maxLen);
  const examples: Example[] = [];
  for await (const e of readExamples(opts.data)) examples.push(e);
  if (examples.length === 0) throw new DataError(fileOf(opts.data), 0, 'has no examples; nothing to evaluate');
  const runnerFor = opts.runnerFor ?? ((m: Uint8Array) => EngineSession.create(m, { device: opts.device ?? 'cpu', threads: opts.threads ?? 0, purpose: 'infer' }));
  const sessions = new EvalSessions();
  const notes: string[] = [];
  try {
    if (model.kind === 'mlm') {
      const o = mlmOptions(dir);
      if (opts.mlmProbability !== undefined) {
        if (!(opts.mlmProbability > 0 && opts.mlmProbability < 1)) throw new RangeError(`mlmProbability is ${opts.mlmProbability}; it must be in (0, 1)`);
        Object.assign(o, { mlmProbability: opts.mlmProbability, from: null });
      }
      notes.push(`masked ${Math.round(o.mlmProbability * 100)}% of tokens${o.wholeWord ? ' (whole words)' : ''} with a fixed seed, ${o.lineByLine ? 'one sequence per line' : `text in chunks of ${maxLen} tokens`}${o.from ? ` (as ${o.from} trained)` : ''}`);
      const seqs = tokenizeForMlm(tokenizer, examples.map((e) => e.text), { maxSeqLength: maxLen, lineByLine: o.lineByLine });
      const m = await evaluateMlm({ model: { encoder: model.encoder, mlm: model.head }, params: weights, specs: model.ps.specs, runnerFor, sessions },
        seqs, mlmCollator(tokenizer, { mlmProbability: o.mlmProbability, wholeWord: o.wholeWord, seed: 0 }), B, buckets);
      return { metrics: prefixMetrics(m), examples: seqs.length, skipped: 0, notes };
    }
    const labels = checkpointLabels(cfg);
    const { kept, skipped, byId } = mapLabels(examples, labels, opts.data, !!opts.ignoreUnknownLabels);
    if (byId) notes.push(`${byId} labels were class ids, read through config.json's id2label (${Object.entries(labels.id2label).slice(0, 10).map(([i, n]) => `${i} = ${n}`).join(', ')})`);
    if (skipped) notes.push(`skipped ${skipped} of ${examples.length} examples whose labels the checkpoint does not know (--ignore-unknown-labels)`);
    const collator = new ClassificationCollator(tokenizer, { maxSeqLength: maxLen, labels });
    const r = await evaluateClassification({ model: { encoder: model.encoder, head: model.head }, params: weights, specs: model.ps.specs, runnerFor, sessions },
      collator.encodeAll(kept), collator, labels, B, buckets);
    return { metrics: prefixMetrics(r.metrics), examples: kept.length, skipped, ...(r.details ? { details: r.details } : {}), notes };
  } finally {
    await sessions.release();
  }
}

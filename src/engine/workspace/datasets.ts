/**
 * What the Datasets view shows about a data file: size, lines, and — once scanned — the number
 * of examples and the label distribution, read as a stream with the trainer's own readers.
 */
import { statSync } from 'node:fs';
import { countLines, detectFormat, readExamples } from '../data/readers.js';

export interface DatasetSummary { path: string; bytes: number; lines: number; format: string | undefined }
export interface DatasetScan extends DatasetSummary { examples: number; labels: Record<string, number>; unlabelled: number }

export async function summarizeDataset(path: string): Promise<DatasetSummary> {
  return { path, bytes: statSync(path).size, lines: await countLines(path), format: detectFormat(path) };
}

/** Counts examples and labels (multi-label lists count each label); stops after `limit` examples. */
export async function scanDataset(path: string, opts: { limit?: number; signal?: AbortSignal } = {}): Promise<DatasetScan> {
  const base = await summarizeDataset(path);
  const labels: Record<string, number> = {};
  let examples = 0, unlabelled = 0;
  for await (const e of readExamples(path, opts.limit ? { maxExamples: opts.limit } : {})) {
    if (opts.signal?.aborted) break;
    examples++;
    if (e.label === undefined) { unlabelled++; continue; }
    for (const l of Array.isArray(e.label) ? e.label : [e.label]) labels[String(l)] = (labels[String(l)] ?? 0) + 1;
  }
  return { ...base, examples, labels, unlabelled };
}

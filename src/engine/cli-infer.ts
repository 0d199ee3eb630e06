/**
 * bert-lab eval | predict | export: a checkpoint (a folder or a Hub id) scored on labelled data
 * with its own id2label, run on texts (fill-mask or classification tables, or JSON lines), or
 * exported to a transformers.js folder. Sessions run in the commands' engine worker.
 */
import { join, resolve } from 'node:path';
import { evaluateCheckpoint } from './train/evaluate.js';
import type { Device } from './runtime/session.js';
import { BertPipeline, ClassifyResult, FillMaskResult } from './infer/pipeline.js';
import { exportOnnxFolder } from './infer/export.js';
import { readExamples } from './data/readers.js';
import { Io, Parsed, UsageError, str } from './cli-io.js';
import { checkpointFolder, hubFlags } from './cli-hub.js';
import { SafeWorker } from './cli-worker.js';

// ---- eval ---------------------------------------------------------------------------------------

/** A metric or score in a table: 4 decimals, or an exponent for very large and very small values. */
export const formatNumber = (x: number): string => (Math.abs(x) >= 1e6 || (x !== 0 && Math.abs(x) < 1e-4) ? x.toExponential(3) : x.toFixed(4));
const num = formatNumber;

export async function evaluate(p: Parsed, io: Io): Promise<number> {
  const v = p.values;
  const data = str(v, 'data');
  if (!data) throw new UsageError('missing --data <file>, the evaluation data (usage: bert-lab eval <checkpoint> --data <file> [flags])');
  const batchSize = p.ints['batch-size'], maxSeqLength = p.ints['max-seq-length'], threads = p.ints['threads'];
  const dev = (str(v, 'device') ?? 'auto') as Device;
  const folder = await checkpointFolder(p.positionals[0]!, hubFlags(v), io);
  const worker = new SafeWorker();
  try {
    const r = await evaluateCheckpoint(folder, {
      data: resolve(data), device: dev,
      ...(batchSize !== undefined ? { batchSize } : {}), ...(maxSeqLength !== undefined ? { maxSeqLength } : {}), ...(threads !== undefined ? { threads } : {}),
      ignoreUnknownLabels: v['ignore-unknown-labels'] === true,
      runnerFor: (m) => worker.createSession(m, { device: dev, threads: threads ?? 0, purpose: 'infer' }),
    });
    for (const n of r.notes) io.stderr(`${n}\n`);
    // (evaluateCheckpoint's notes may say so already.)
    if (r.skipped && !r.notes.some((n) => /\bskipped\b/.test(n))) io.stderr(`skipped ${r.skipped} ${r.skipped === 1 ? 'example' : 'examples'} with labels the checkpoint does not know\n`);
    if (v['json'] === true) {
      io.stdout(`${JSON.stringify({ checkpoint: folder, data: resolve(data), metrics: r.metrics, examples: r.examples, skipped: r.skipped, ...(r.details !== undefined ? { details: r.details } : {}) })}\n`);
    } else {
      const rows = Object.entries(r.metrics).map(([k, x]) => [k, num(x)] as const);
      const w = Math.max(6, ...rows.map(([k]) => k.length)), vw = Math.max(...rows.map(([, x]) => x.length), 5);
      io.stdout(`${folder} on ${data}: ${r.examples} examples${r.skipped ? ` (${r.skipped} skipped)` : ''}\n`
        + `  ${'metric'.padEnd(w)}  ${'value'.padStart(vw)}\n`
        + rows.map(([k, x]) => `  ${k.padEnd(w)}  ${x.padStart(vw)}\n`).join(''));
    }
    return 0;
  } finally {
    await worker.close();
  }
}

// ---- predict ------------------------------------------------------------------------------------

/** Rows "rank  label  score" with the labels and scores aligned. */
function scoreRows(rows: { label: string; score: number }[], indent: string): string {
  const w = Math.max(...rows.map((r) => r.label.length)), rw = String(rows.length).length;
  const scores = rows.map((r) => num(r.score)), sw = Math.max(...scores.map((s) => s.length));
  return rows.map((r, i) => `${indent}${String(i + 1).padStart(rw)}  ${r.label.padEnd(w)}  ${scores[i]!.padStart(sw)}\n`).join('');
}

function predictionTable(text: string, r: FillMaskResult | ClassifyResult): string {
  let s = `${text}\n`;
  if ('masks' in r) {
    r.masks.forEach((m, i) => {
      s += `  ${text.slice(m.offset[0], m.offset[1])} ${r.masks.length > 1 ? `${i + 1} of ${r.masks.length} ` : ''}(characters ${m.offset[0]}-${m.offset[1]}):\n`;
      s += scoreRows(m.predictions.map((x) => ({ label: x.token, score: x.score })), '    ');
    });
  } else s += scoreRows(r.labels, '    ');
  return s;
}

export async function predict(p: Parsed, io: Io): Promise<number> {
  const v = p.values;
  const texts = Array.isArray(v['text']) ? v['text'] : [], file = str(v, 'file');
  if (!texts.length && !file) throw new UsageError('missing the inputs: give --text "…" or --file <file> (usage: bert-lab predict <checkpoint> (--text "…" | --file <file>) [flags])');
  const topK = p.ints['top-k'] ?? 5, threads = p.ints['threads'];
  const dev = (str(v, 'device') ?? 'cpu') as Device;
  const json = v['json'] === true;
  const folder = await checkpointFolder(p.positionals[0]!, hubFlags(v), io);
  const worker = new SafeWorker();
  try {
    // Not pipelineFor: its cache would keep this call's worker for the next one (main runs more than once in tests).
    const pipe = BertPipeline.load(folder, { device: dev, runnerFor: (m) => worker.createSession(m, { device: dev, threads: threads ?? 0, purpose: 'infer' }) });
    const mlm = pipe.model.kind === 'mlm';
    if (mlm && topK > pipe.cfg.vocab_size) throw new UsageError(`--top-k ${topK} is out of range (allowed: 1 to ${pipe.cfg.vocab_size}, the checkpoint's vocabulary)`);
    const inputs: string[] = [...texts];
    if (file) for await (const e of readExamples(file)) inputs.push(e.text);
    let first = true;
    for (const t of inputs) {
      const r = mlm ? await pipe.fillMask(t, { topK }) : await pipe.classify(t);
      if (json) { io.stdout(`${JSON.stringify({ text: t, ...r })}\n`); continue; }
      io.stdout(`${first ? '' : '\n'}${predictionTable(t, r)}`);
      first = false;
      for (const w of r.warnings) io.stderr(`warning: ${JSON.stringify(t.length > 60 ? `${t.slice(0, 57)}…` : t)}: ${w}\n`);
    }
    return 0;
  } finally {
    await worker.close();
  }
}

// ---- export -------------------------------------------------------------------------------------

export async function exportCmd(p: Parsed, io: Io): Promise<number> {
  const [ckpt, out] = p.positionals as [string, string];
  const r = exportOnnxFolder(await checkpointFolder(ckpt, hubFlags(p.values), io), out, { int8: p.values['no-int8'] !== true });
  for (const n of r.notes) io.stderr(`${n}\n`);
  for (const [f, bytes] of Object.entries(r.files)) io.stdout(`${join(r.folder, f)}${bytes ? `  ${(bytes / 1e6).toFixed(2)} MB` : ''}\n`);
  return 0;
}

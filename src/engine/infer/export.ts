/**
 * Export of a checkpoint folder for other runtimes: a transformers.js-compatible folder —
 * config.json, the tokenizer files, onnx/model.onnx (fp32) and onnx/model_quantized.onnx
 * (dynamic int8) — whose `logits` output matches the checkpoint's model.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { serializeModel } from '../ir/proto.js';
import { TOKENIZER_FILES, loadWeights, readConfig } from '../models/bert/folder.js';
import { modelForConfig } from '../models/bert/auto.js';
import { inferenceGraph } from './graphs.js';
import { quantizeDynamicInt8 } from './quantize.js';

export interface ExportResult { folder: string; files: Record<string, number>; notes: string[] }

export function exportOnnxFolder(checkpoint: string, out: string, opts: { int8?: boolean } = {}): ExportResult {
  const cfg = readConfig(checkpoint);
  const model = modelForConfig(cfg);
  const { weights, notes } = loadWeights(checkpoint, model.ps, () => { throw new Error(`${checkpoint}: the checkpoint lacks weights of its own head; train it before exporting`); }, model.family);
  const g = inferenceGraph(model, weights, { output: 'logits' });
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(join(tmp, 'onnx'), { recursive: true });
  const files: Record<string, number> = {};
  const write = (name: string, data: Uint8Array | string) => {
    writeFileSync(join(tmp, name), data);
    files[name] = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  };
  try {
    // transformers.js picks the model class from config.json's model_type (and architectures).
    write('config.json', JSON.stringify(model.family.configJSON(cfg, model.architecture), null, 2) + '\n');
    for (const f of TOKENIZER_FILES) if (existsSync(join(checkpoint, f))) { copyFileSync(join(checkpoint, f), join(tmp, f)); files[f] = 0; }
    write('onnx/model.onnx', serializeModel(g, { docString: `exported by BERT Lab from ${basename(checkpoint)}` }));
    if (opts.int8 !== false) write('onnx/model_quantized.onnx', serializeModel(quantizeDynamicInt8(g), { docString: `dynamic int8, exported by BERT Lab from ${basename(checkpoint)}` }));
    if (existsSync(out)) rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { folder: out, files, notes };
}

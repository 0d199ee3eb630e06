/**
 * Development check (not in CI): writes BERT Lab checkpoint folders and the logits BERT Lab
 * computes for a few texts, for scripts/check-in-transformers.py to load with transformers'
 * from_pretrained and compare. Run: node out/scripts/check-in-transformers.js <out-dir> <mlm-folder>
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeModel } from '../src/engine/ir/proto.js';
import { loadWeights, readConfig, saveCheckpoint } from '../src/engine/models/bert/folder.js';
import { modelForConfig } from '../src/engine/models/bert/auto.js';
import { BertForSequenceClassification } from '../src/engine/models/bert/heads.js';
import { inferenceGraph } from '../src/engine/infer/graphs.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { tensor } from '../src/engine/runtime/tensor.js';
import { loadTokenizer } from '../src/engine/tokenizer/index.js';

const TEXTS: [string, string?][] = [['The state of the [MASK] is strong.'], ['We must [MASK] our children.', 'And protect our nation.'], ['Fellow citizens of the Senate and House of Representatives.']];

async function logitsOf(folder: string) {
  const cfg = readConfig(folder), model = modelForConfig(cfg);
  const { weights } = loadWeights(folder, model.ps, Math.random);
  const s = await EngineSession.create(serializeModel(inferenceGraph(model, weights, { output: 'logits' })), { device: 'cpu' });
  const tok = loadTokenizer(folder);
  const cases = [];
  for (const [a, b] of TEXTS) {
    const e = tok.encode(a, b ?? null);
    const T = e.ids.length;
    const out = await s.run({ input_ids: tensor('int64', [1, T], e.ids), attention_mask: tensor('int64', [1, T], e.attentionMask), token_type_ids: tensor('int64', [1, T], e.typeIds) });
    cases.push({ text: a, pair: b ?? null, input_ids: e.ids, token_type_ids: e.typeIds, logits: Array.from(out['logits']!.data as Float32Array) });
  }
  return cases;
}

async function main() {
  const [outDir, mlm] = process.argv.slice(2);
  if (!outDir || !mlm) throw new Error('usage: check-in-transformers.js <out-dir> <mlm-folder saved by BERT Lab>');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'mlm.json'), JSON.stringify({ folder: mlm, cases: await logitsOf(mlm) }));
  // A classifier saved here from the MLM checkpoint (transfer), with its fresh head.
  const cfg = { ...readConfig(mlm), id2label: { 0: 'neg', 1: 'pos' }, label2id: { neg: 0, pos: 1 }, architectures: ['BertForSequenceClassification'] };
  const cls = new BertForSequenceClassification(cfg);
  const { weights } = loadWeights(mlm, cls.ps, Math.random);
  const clsFolder = join(outDir, 'cls');
  saveCheckpoint(clsFolder, cls, weights, { tokenizerFrom: mlm });
  writeFileSync(join(outDir, 'cls.json'), JSON.stringify({ folder: clsFolder, cases: await logitsOf(clsFolder) }));
  console.log(`wrote ${outDir}/mlm.json and ${outDir}/cls.json`);
}
main().catch((e) => { console.error(e); process.exit(1); });

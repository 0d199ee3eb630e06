/**
 * Fuzzing of every reader of files a user (or a download) hands to BERT Lab, with fast-check:
 * valid seeds mutated (bit flips, truncations, insertions of tricky tokens, deletions,
 * duplications, splices of two seeds) and arbitrary inputs. Properties: the reader returns, or
 * throws its own error class naming the file — never a TypeError/RangeError from deep inside;
 * what it returns is consistent (a tensor holds shape's product of values); memory stays bounded
 * (a safetensors header claiming 100 GB allocates nothing of the kind); no input hangs (each
 * target runs under the test's timeout, and the slowest input is printed).
 *
 * Every run tries the same inputs: FIXED_SEED and a fixed number per target (about 15 s in all
 * here), however fast or loaded the machine. FUZZ_SEED adds a second pass per target with another
 * seed: a number (to replay one), or "random" (a new one, printed); a failure names its seed and
 * fast-check's path. FUZZ_SECONDS gives that extra pass a time budget across targets instead of
 * the fixed counts. By hand: FUZZ_SEED=random FUZZ_SECONDS=600 node --test out/test/fuzz.test.js
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { SafetensorsError, decodeSafetensors, encodeSafetensors, readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { CheckpointError, readConfig } from '../src/engine/models/bert/folder.js';
import { ConfigError, parseBertConfig } from '../src/engine/models/bert/config.js';
import { DataError, readExamples } from '../src/engine/data/readers.js';
import { TokenizerFileError, parseVocabTxt } from '../src/engine/tokenizer/spec.js';
import { WordPieceTokenizer } from '../src/engine/tokenizer/tokenizer.js';
import { TrainerStateError, formatRunLogRecord, parseRunLog, parseTrainerState } from '../src/engine/train/state.js';
import { RunLogTail } from '../src/engine/workspace/runs.js';

const ROOT = join(__dirname, '..', '..');
const FIX = join(ROOT, 'test', 'fixtures');
/** The seed of every run: the same inputs each time, so a failure in CI fails again on any machine. */
const FIXED_SEED = 20_240_611;
/** An extra seed from FUZZ_SEED: a number, or "random" for a new one (printed); none by default. */
const EXTRA_SEED = ((v) => {
  if (v === undefined || v === '') return null;
  if (v === 'random') return randomInt(2 ** 31);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`FUZZ_SEED must be an integer or "random", not ${JSON.stringify(v)}`);
  return n;
})(process.env['FUZZ_SEED']);
/** A time budget for the extra pass (all targets together), instead of the fixed counts. */
const EXTRA_BUDGET_MS = process.env['FUZZ_SECONDS'] ? Number(process.env['FUZZ_SECONDS']) * 1000 : null;
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-fuzz-'));
  process.stdout.write(`fuzz: seed ${FIXED_SEED} (fixed)${EXTRA_SEED === null ? '; set FUZZ_SEED=random for another' : `, then FUZZ_SEED=${EXTRA_SEED}${EXTRA_BUDGET_MS ? ` for ${EXTRA_BUDGET_MS / 1000} s in all` : ''}`}\n`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

// ---- inputs ----------------------------------------------------------------------------------

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
/** Tokens that break parsers: huge and negative numbers, non-finite spellings, quotes, lone surrogates, separators. */
const TRICKY = ['0', '-1', '1e309', '-1e309', 'NaN', 'Infinity', '4294967296', '9007199254740993', '18446744073709551615', '100000000000', '1e21',
  'null', 'true', '[]', '{}', '[[[[[[[[', '"', '\\', '\\u0000', '\\ud800', '\u0000', '\ud800', 'é', '\ufeff', '\r', '\n', '\r\n', '\t', ',', '""', ':', '__proto__', 'constructor',
  '"F32"', '"BF16"', '"I64"', '"data_offsets"', '"shape"', '"dtype"', '"__metadata__"', '"vocab"', '"model"', '"type"', '"step"', '[UNK]', '##'].map(enc);

type Op =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'truncate'; at: number }
  | { k: 'insert'; at: number; bytes: Uint8Array }
  | { k: 'delete'; at: number; n: number }
  | { k: 'duplicate'; at: number; n: number; to: number }
  | { k: 'splice'; other: number; at: number; from: number; n: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(), bytes: fc.oneof(fc.constantFrom(...TRICKY), fc.uint8Array({ maxLength: 12 })) }),
  fc.record({ k: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ k: fc.constant('duplicate' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 256 }), to: fc.nat() }),
  fc.record({ k: fc.constant('splice' as const), other: fc.nat(), at: fc.nat(), from: fc.nat(), n: fc.integer({ min: 1, max: 512 }) }),
);
function mutate(seed: Uint8Array, ops: Op[], seeds: Uint8Array[]): Uint8Array {
  let b = Buffer.from(seed);
  const pos = (at: number, len = b.length) => (len === 0 ? 0 : at % (len + 1));
  for (const o of ops) {
    if (o.k === 'flip') { if (b.length) { const i = o.at % b.length; b[i] = b[i]! ^ (1 << o.bit); } }
    else if (o.k === 'truncate') b = b.subarray(0, pos(o.at));
    else if (o.k === 'insert') { const i = pos(o.at); b = Buffer.concat([b.subarray(0, i), o.bytes, b.subarray(i)]); }
    else if (o.k === 'delete') { const i = pos(o.at); b = Buffer.concat([b.subarray(0, i), b.subarray(i + o.n)]); }
    else if (o.k === 'duplicate') { const i = pos(o.at); const piece = b.subarray(i, i + o.n); const t = pos(o.to); b = Buffer.concat([b.subarray(0, t), piece, b.subarray(t)]); }
    else { const other = Buffer.from(seeds[o.other % seeds.length]!); const f = pos(o.from, other.length); const i = pos(o.at); b = Buffer.concat([b.subarray(0, i), other.subarray(f, f + o.n), b.subarray(i + o.n)]); }
  }
  return new Uint8Array(b);
}
/** Mutated seeds (most inputs: they get past the first checks), and arbitrary bytes, text and JSON. */
function inputs(seeds: Uint8Array[], extra: fc.Arbitrary<Uint8Array>[] = []): fc.Arbitrary<Uint8Array> {
  const mutated = fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(opArb, { minLength: 1, maxLength: 6 })).map(([i, ops]) => mutate(seeds[i]!, ops, seeds));
  return fc.oneof(
    { arbitrary: mutated, weight: 6 },
    { arbitrary: fc.uint8Array({ maxLength: 512 }), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 256 }).map(enc), weight: 1 },
    { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => enc(JSON.stringify(v))), weight: 1 },
    ...extra.map((arbitrary) => ({ arbitrary, weight: 2 })),
  );
}

/** Leaves a structure-aware mutation puts into a JSON document: wrong types, edge numbers, tricky strings. */
const LEAF = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom<unknown>(-1, 0, 1, 1.5, -0, 2 ** 31, 2 ** 53, 1e21, 1e308, '', '[UNK]', '##', '\u0000', '\ud800', 'NaN', null, true, [], {}, [0, 1e11], { __proto__: 1 }));
/**
 * JSON documents mutated as values (so they get past JSON.parse and reach the validation): a
 * node's value replaced, a key or element deleted, a value wrapped in a list. Seeds are parsed
 * JSON values.
 */
function jsonMutants(seeds: unknown[], encode: (doc: unknown, seed: number) => Uint8Array = (d) => enc(JSON.stringify(d))): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.nat(), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), LEAF), { minLength: 1, maxLength: 4 })).map(([si, edits]) => {
    const doc: unknown = structuredClone(seeds[si % seeds.length]);
    for (const [pick, kind, leaf] of edits) {
      const slots: [Record<string, unknown> | unknown[], string | number][] = [];
      const walk = (v: unknown) => {
        if (slots.length > 5000 || typeof v !== 'object' || v === null) return;
        for (const k of Object.keys(v)) { slots.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]); walk((v as Record<string, unknown>)[k]); }
      };
      walk(doc);
      if (!slots.length) continue;
      const [c, k] = slots[pick % slots.length]!;
      if (kind === 0) (c as Record<string, unknown>)[k] = leaf;
      else if (kind === 1) { if (Array.isArray(c)) c.splice(k as number, 1); else delete c[k as string]; }
      else (c as Record<string, unknown>)[k] = [(c as Record<string, unknown>)[k]];
    }
    return encode(doc, si % seeds.length);
  });
}

// ---- the harness -----------------------------------------------------------------------------

interface Target {
  name: string;
  seeds: Uint8Array[];
  extra?: fc.Arbitrary<Uint8Array>[];
  /** Reads one input; throws only errors `allowed` accepts. */
  run: (bytes: Uint8Array, file: string) => void | Promise<void>;
  allowed: (e: unknown, file: string) => boolean;
  /** File name the input is written to (readers that take a path), or null (in memory). */
  file: string | null;
  /** Inputs per seed: about a second's worth here (the readers differ in speed by 40×). */
  runs: number;
}
const named = (cls: abstract new (...a: never[]) => Error) => (e: unknown, file: string) => e instanceof cls && e.message.includes(file);

const report: string[] = [];
/** Fuzzes `t` with `seed`: `limit.runs` inputs, or as many as fit in `limit.ms`. */
async function fuzz(t: Target, seed: number, limit: { runs: number } | { ms: number }): Promise<void> {
  let runs = 0, rejected = 0, slowest = 0, bytesTried = 0;
  const file = join(dir, t.file ?? t.name);
  const started = performance.now();
  const check = async (bytes: Uint8Array) => {
    runs++; bytesTried += bytes.length;
    if (t.file) writeFileSync(file, bytes);
    const t0 = performance.now();
    try { await t.run(bytes, t.file ? file : t.name); } catch (e) {
      rejected++;
      if (!t.allowed(e, t.file ? file : t.name)) {
        throw new Error(`${t.name}: an input raised ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}\ninput (base64): ${Buffer.from(bytes).toString('base64').slice(0, 4000)}`);
      }
    } finally { slowest = Math.max(slowest, performance.now() - t0); }
  };
  // The seeds themselves must be read without error (so mutations start from valid files).
  for (const s of t.seeds) {
    if (t.file) writeFileSync(file, s);
    await t.run(s, t.file ? file : t.name);
  }
  const bounds = 'runs' in limit ? { numRuns: limit.runs } : { numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: limit.ms, markInterruptAsFailure: false };
  try {
    await fc.assert(fc.asyncProperty(inputs(t.seeds, t.extra), check), { seed, ...bounds, endOnFailure: true });
  } catch (e) {
    const replay = seed === FIXED_SEED ? 'the fixed seed: every run fails the same way' : `replay it with FUZZ_SEED=${seed}`;
    throw new Error(`${t.name}: failed with seed ${seed} (${replay})\n${(e as Error).message}`, { cause: e });
  }
  const secs = (performance.now() - started) / 1000;
  report.push(`${t.name}, seed ${seed}: ${runs} executions in ${secs.toFixed(1)} s (${(runs / secs).toFixed(0)}/s), ${rejected} rejected with a clear error, ${(bytesTried / 1e6).toFixed(1)} MB tried, slowest input ${slowest.toFixed(1)} ms`);
  process.stdout.write(`fuzz: ${report.at(-1)}\n`);
  assert.ok(runs > 0);
}

// ---- seeds and targets -----------------------------------------------------------------------

const fixture = (...p: string[]) => new Uint8Array(readFileSync(join(FIX, ...p)));
function safetensorsSeeds(): Uint8Array[] {
  const small = encodeSafetensors({ a: { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }, 'b.bias': { shape: [], data: Float32Array.from([7]) } }, { format: 'pt' });
  const mixed = (() => {
    const header = enc(JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, i: { dtype: 'I64', shape: [1], data_offsets: [4, 12] }, z: { dtype: 'BF16', shape: [0], data_offsets: [12, 12] }, __metadata__: { step: '3' } }));
    const out = new Uint8Array(8 + header.length + 12);
    new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
    out.set(header, 8);
    return out;
  })();
  // A real checkpoint's small tensors (the whole fixture is 150 KB: too slow to mutate by the thousand).
  const st = readSafetensors(join(FIX, 'hf-tiny-bert', 'model.safetensors'));
  const real = encodeSafetensors(Object.fromEntries([...st.tensors].filter(([, t]) => t.data.length <= 256).slice(0, 6).map(([k, t]) => [k, { shape: t.shape, data: t.data }])), { format: 'pt' });
  return [small, mixed, real];
}
/** Headers that claim a lot: huge shapes and offsets, headers longer than the file, 2^64 − 1. */
const hugeClaims: fc.Arbitrary<Uint8Array> = fc.record({
  dtype: fc.constantFrom('F32', 'F64', 'F16', 'BF16', 'I64', 'U8', 'BOOL', 'F8_E4M3', 'C64', 'Q4'),
  shape: fc.array(fc.oneof(fc.nat({ max: 4 }), fc.constantFrom(100_000, 2 ** 31, 2 ** 40, 25_000_000_000, 2 ** 53, -1, 1.5)), { maxLength: 4 }),
  begin: fc.oneof(fc.nat({ max: 16 }), fc.constantFrom(2 ** 32, 1e11, 2 ** 53, -8)),
  end: fc.oneof(fc.nat({ max: 64 }), fc.constantFrom(1e11, 4e11, 2 ** 53 + 2, 1e300)),
  dataLen: fc.nat({ max: 64 }),
  claim: fc.oneof(fc.constant(-1n), fc.constantFrom(100_000_000_000n, 2n ** 64n - 1n, 100_000_001n)),
}).map(({ dtype, shape, begin, end, dataLen, claim }) => {
  const header = enc(JSON.stringify({ t: { dtype, shape, data_offsets: [begin, end] } }));
  const out = new Uint8Array(8 + header.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, claim < 0n ? BigInt(header.length) : claim, true);
  out.set(header, 8);
  return out;
});

/** Memory may not grow by more than this across one safetensors input (the inputs are ≤ a few KB). */
const MEMORY_BOUND = 64 * 2 ** 20;
function checkedSafetensors(read: () => { tensors: Map<string, { shape: number[]; data: Float32Array; raw?: ArrayLike<unknown> }> }): void {
  const before = process.memoryUsage().arrayBuffers;
  let st;
  try { st = read(); } finally {
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.ok(grew < MEMORY_BOUND, `reading allocated ${grew} bytes`);
  }
  for (const [name, t] of st.tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    assert.ok(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `${name}: shape ${t.shape}`);
    assert.equal(t.data.length, numel, `${name}: ${t.data.length} values for shape [${t.shape}]`);
    if (t.raw) assert.equal(t.raw.length, numel);
  }
}

const tokenizerJson = readFileSync(join(FIX, 'hf-tiny-bert', 'tokenizer.json'), 'utf8');
function useTokenizer(tok: WordPieceTokenizer): void {
  // A tokenizer that loads must work: encode and decode a few texts (special tokens, accents, CJK, a long word).
  for (const text of ['Hello, world! [MASK] café', '東京 ##ing', 'x'.repeat(300), '']) {
    const e = tok.encode(text, 'a pair', { truncation: { maxLength: 16 } });
    tok.decode(e.ids);
  }
}
const decode = (b: Uint8Array) => Buffer.from(b).toString('utf8');

const runLogSeed = enc([
  { type: 'start', time: 1, run_name: 'r', output_dir: '/o', max_steps: 10, num_train_epochs: 1, device: 'cpu', resumed_from: null },
  { type: 'step', step: 1, epoch: 0.1, loss: 5.5, learning_rate: 1e-3, grad_norm: NaN, tokens_per_second: 1000, time: 2 },
  { type: 'step', step: 2, epoch: 0.2, loss: NaN, learning_rate: 1e-3, grad_norm: 1, tokens_per_second: 1000, time: 3, skipped: true },
  { type: 'eval', step: 2, epoch: 0.2, metrics: { eval_loss: 5, eval_accuracy: 0.5 }, time: 4, details: { t: { labels: ['a'] } } },
  { type: 'checkpoint', step: 2, path: '/o/checkpoint-2', metrics: {}, time: 5 },
  { type: 'error', time: 6, message: 'boom', step: 3 },
  { type: 'done', step: 10, time: 7, reason: 'completed', metrics: { train_loss: 1 }, best_model_checkpoint: null },
].map((r) => formatRunLogRecord(r as never)).join(''));

/** Safetensors files whose header JSON is mutated as a value; the length prefix is kept right and the data bytes kept. */
function safetensorsHeaderMutants(files: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const parts = files.map((f) => {
    const n = Number(new DataView(f.buffer, f.byteOffset).getBigUint64(0, true));
    return { header: JSON.parse(decode(f.subarray(8, 8 + n))) as unknown, data: f.subarray(8 + n) };
  });
  return jsonMutants(parts.map((p) => p.header), (doc, i) => {
    const header = enc(JSON.stringify(doc));
    const out = new Uint8Array(8 + header.length + parts[i]!.data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
    out.set(header, 8);
    out.set(parts[i]!.data, 8 + header.length);
    return out;
  });
}
const parsed = (...files: Uint8Array[]) => files.map((f) => JSON.parse(decode(f)) as unknown);

const TARGETS: Target[] = [
  {
    name: 'safetensors (in memory)', file: null, runs: 6000, seeds: safetensorsSeeds(), extra: [hugeClaims, safetensorsHeaderMutants(safetensorsSeeds())],
    run: (b, f) => checkedSafetensors(() => decodeSafetensors(b, f)), allowed: named(SafetensorsError),
  },
  {
    name: 'safetensors (file)', file: 'model.safetensors', runs: 2000, seeds: safetensorsSeeds(), extra: [hugeClaims, safetensorsHeaderMutants(safetensorsSeeds())],
    run: (_b, f) => checkedSafetensors(() => readSafetensors(f)), allowed: named(SafetensorsError),
  },
  {
    name: 'tokenizer.json', file: null, runs: 2500, seeds: [enc(tokenizerJson), enc(WordPieceTokenizer.fromVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', '##b']).toTokenizerJson())],
    extra: [jsonMutants(parsed(enc(tokenizerJson)))],
    run: (b, f) => useTokenizer(WordPieceTokenizer.fromTokenizerJson(decode(b), f)), allowed: named(TokenizerFileError),
  },
  {
    name: 'vocab.txt', file: null, runs: 5000, seeds: [fixture('hf-tiny-bert', 'vocab.txt'), enc('[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##lo\n')],
    run: (b, f) => useTokenizer(WordPieceTokenizer.fromVocab(parseVocabTxt(decode(b)), {}, f)), allowed: named(TokenizerFileError),
  },
  {
    name: 'config.json', file: 'config.json', runs: 2000, seeds: [fixture('hf-tiny-bert', 'config.json'), enc(JSON.stringify({ model_type: 'bert', hidden_size: 8, num_attention_heads: 2, id2label: { 0: 'a', 1: 'b' }, label2id: { a: 0, b: 1 } }))],
    extra: [jsonMutants(parsed(fixture('hf-tiny-bert', 'config.json')))],
    run: (_b, f) => { readConfig(dir); void f; }, allowed: (e, f) => (e instanceof CheckpointError || e instanceof ConfigError) && e.message.includes(f),
  },
  {
    name: 'config (parsed JSON values)', file: null, runs: 8000, seeds: [fixture('hf-tiny-bert', 'config.json')],
    extra: [fc.dictionary(fc.constantFrom('hidden_size', 'num_attention_heads', 'num_hidden_layers', 'vocab_size', 'intermediate_size', 'id2label', 'label2id', 'hidden_act', 'layer_norm_eps', 'max_position_embeddings', 'problem_type', 'architectures', '__proto__'), fc.jsonValue({ maxDepth: 2 })).map((o) => enc(JSON.stringify(o)))],
    run: (b, f) => { let j: unknown; try { j = JSON.parse(decode(b)); } catch { return; } parseBertConfig(j, f); }, allowed: named(ConfigError),
  },
  ...(['jsonl', 'csv', 'tsv', 'text'] as const).map((format): Target => ({
    name: `${format} reader`, file: `data.${format === 'text' ? 'txt' : format}`,
    runs: { jsonl: 500, csv: 500, tsv: 600, text: 300 }[format],
    seeds: format === 'jsonl' ? [fixture('data', 'reviews.jsonl'), enc('{"text":"a","label":["x",1]}\n{"text":"b","pair":"c","label":0.5}\n')]
      : format === 'csv' ? [fixture('data', 'quoted.csv'), enc('text,label\r\n"a, ""b""\nc",1\r\nd,2\n')]
      : format === 'tsv' ? [fixture('data', 'pairs.tsv')] : [fixture('data', 'documents.txt'), fixture('data', 'lines.txt')],
    run: async (_b, f) => {
      const read = async (fields: object) => {
        for await (const e of readExamples({ path: f, format, ...fields })) {
          assert.equal(typeof e.text, 'string');
          assert.ok(e.ref.file === f && Number.isInteger(e.ref.line) && e.ref.line >= 1);
          if (e.label !== undefined) assert.ok(['string', 'number'].includes(typeof e.label) || Array.isArray(e.label), `label ${String(e.label)}`);
        }
      };
      // Other fields and layouts too, which may rightly fail on a valid seed (with a DataError naming the file).
      for (const fields of [format === 'text' ? { documents: 'blank-line' } : { text_field: 'constructor', label_field: '__proto__' }, format === 'tsv' ? { text_field: 'sentence1', pair_field: 'sentence2', label_field: 'toString' } : { label_field: 'hasOwnProperty' }]) {
        try { await read(fields); } catch (e) { if (!named(DataError)(e, f)) throw e; }
      }
      await read(format === 'tsv' ? { text_field: 'sentence1', pair_field: 'sentence2' } : {});
    },
    allowed: named(DataError),
  })),
  {
    name: 'trainer_state.json', file: null, runs: 6000, seeds: [fixture('trainer-state', 'hf-4.26-mlm.json'), fixture('trainer-state', 'hf-4.52-mrpc.json')],
    extra: [jsonMutants(parsed(fixture('trainer-state', 'hf-4.26-mlm.json'), fixture('trainer-state', 'hf-4.52-mrpc.json')))],
    run: (b, f) => { parseTrainerState(decode(b), f); }, allowed: named(TrainerStateError),
  },
  {
    // Never throws; RunLogTail polled over the same bytes appended in pieces reads what parseRunLog reads of the complete lines.
    name: 'run log (parseRunLog, RunLogTail)', file: 'run_log.jsonl', runs: 800, seeds: [runLogSeed],
    extra: [jsonMutants(decode(runLogSeed).trim().split('\n').map((l) => JSON.parse(l) as unknown), (d) => enc(`${decode(runLogSeed)}${JSON.stringify(d)}\n`))],
    run: (b, f) => {
      const text = decode(b);
      const whole = parseRunLog(text, f);
      assert.ok(whole.records.every((r) => typeof r.type === 'string'));
      writeFileSync(f, '');
      const tail = new RunLogTail(f);
      const got: unknown[] = [];
      for (let at = 0, piece = 1; at < b.length; at += piece, piece = piece * 3 + 1) { appendFileSync(f, b.subarray(at, at + piece)); got.push(...tail.poll().records); }
      const complete = b.lastIndexOf(10) + 1;
      assert.deepEqual(got, parseRunLog(decode(b.subarray(0, complete)), f).records);
    },
    allowed: () => false,
  },
];

describe('safetensors: claims of huge sizes allocate nothing of the kind', () => {
  const file = (header: string, claim?: bigint, data = 16) => {
    const h = enc(header);
    const out = new Uint8Array(8 + h.length + data);
    new DataView(out.buffer).setBigUint64(0, claim ?? BigInt(h.length), true);
    out.set(h, 8);
    return out;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['a 100 GB tensor in a 16-byte data section', file(JSON.stringify({ t: { dtype: 'F32', shape: [25_000_000_000], data_offsets: [0, 100_000_000_000] } })), /data_offsets|bytes/],
    ['a header length of 100 GB', file('{}', 100_000_000_000n), /header length says 100000000000 bytes/],
    ['a header length of 2^64 − 1', file('{}', 2n ** 64n - 1n), /header length/],
    ['shape whose product overflows', file(JSON.stringify({ t: { dtype: 'F64', shape: [2 ** 31, 2 ** 31, 2 ** 31], data_offsets: [0, 16] } })), /too large|needs/],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => {
      const before = process.memoryUsage().arrayBuffers;
      assert.throws(() => decodeSafetensors(bytes, 'huge.safetensors'), (e: Error) => e instanceof SafetensorsError && message.test(e.message) && e.message.startsWith('huge.safetensors: '));
      const path = join(dir, 'huge.safetensors');
      writeFileSync(path, bytes);
      assert.throws(() => readSafetensors(path), SafetensorsError);
      assert.ok(process.memoryUsage().arrayBuffers - before < 2 ** 20, 'less than 1 MiB allocated');
    });
  }
});

describe('fuzzing the readers', () => {
  for (const t of TARGETS) {
    it(`${t.name}: clear errors only, bounded memory (seed ${FIXED_SEED})`, { timeout: 600_000 }, () => fuzz(t, FIXED_SEED, { runs: t.runs }));
    if (EXTRA_SEED !== null) {
      const seed = EXTRA_SEED, ms = EXTRA_BUDGET_MS === null ? null : EXTRA_BUDGET_MS / TARGETS.length;
      it(`${t.name}: clear errors only, bounded memory (FUZZ_SEED=${seed})`, { timeout: (ms ?? 0) + 600_000 }, () => fuzz(t, seed, ms === null ? { runs: t.runs } : { ms }));
    }
  }
  // A summary of whatever ran (a test run alone reports itself only).
  after(() => { process.stdout.write(`fuzz summary:\n${report.map((r) => `  ${r}`).join('\n')}\n`); });
});

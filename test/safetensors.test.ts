/**
 * safetensors reader/writer, checked against files written by Python's safetensors (the
 * fixtures from scripts/make-hf-fixtures.py), against hand-computed half-precision values, and
 * against hand-built broken files: every one must give a SafetensorsError naming the file.
 */
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs, { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, ftruncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bf16ToF32, decodeBF16, decodeF16, decodeSafetensors, encodeSafetensors, f16ToF32, floatTensor, MAX_HEADER_BYTES,
  readSafetensors, readSafetensorsHeader, SafetensorsError, writeSafetensors,
} from '../src/engine/checkpoint/safetensors.js';

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures');
const MLM = join(FIXTURES, 'hf-tiny-bert');
const CLS = join(FIXTURES, 'hf-tiny-bert-cls');
const EXTRA = join(MLM, 'extra');

const tmp = mkdtempSync(join(tmpdir(), 'bertlab-safetensors-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Runs `f`, counting the bytes read from files through fs.readSync (the reader's only way to read):
 * what "refused at once" means, as a count rather than a time, which a loaded machine stretches.
 */
function bytesReadBy(f: () => void): number {
  const mutable = fs as { readSync: typeof fs.readSync };
  const readSync = mutable.readSync;
  let n = 0;
  mutable.readSync = ((...a: unknown[]) => { const r = (readSync as (...x: unknown[]) => number)(...a); n += r; return r; }) as typeof fs.readSync;
  try { f(); } finally { mutable.readSync = readSync; }
  return n;
}

const bitsOf = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0]!;
const f32Bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** A safetensors file from a header (object or raw string) and data bytes, no padding unless given. */
function craft(header: unknown, data: Uint8Array | number = 0): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = Buffer.alloc(8 + json.length + body.length);
  out.writeBigUInt64LE(BigInt(json.length));
  json.copy(out, 8);
  out.set(body, 8 + json.length);
  return out;
}

/**
 * The bytes must be refused, from memory and from a file, with a message naming the file (and
 * tensor); also by the header-only reader unless `headerOk` (the fault is in the data, not the header).
 */
function refuses(bytes: Uint8Array, pattern: RegExp, tensor?: string, headerOk = false): void {
  const check = (file: string) => (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected a SafetensorsError, got ${String(e)}`);
    assert.ok(e.message.startsWith(`${file}: `), `message does not start with the file: ${e.message}`);
    assert.match(e.message, pattern);
    assert.equal(e.file, file);
    if (tensor !== undefined) {
      assert.equal(e.tensor, tensor);
      assert.ok(e.message.includes(`tensor ${JSON.stringify(tensor)}`), `message does not name the tensor: ${e.message}`);
    }
    return true;
  };
  assert.throws(() => decodeSafetensors(bytes, 'mem.safetensors'), check('mem.safetensors'));
  const path = join(tmp, 'bad.safetensors');
  writeFileSync(path, bytes);
  assert.throws(() => readSafetensors(path), check(path));
  if (headerOk) readSafetensorsHeader(path);
  else assert.throws(() => readSafetensorsHeader(path), check(path));
}

// ---------------------------------------------------------------------------------------------
// Half precision

/** Independent reference: the IEEE formula, (−1)^s · 2^(e−bias) · (1 + m / 2^mbits), subnormals without the 1. */
function halfByFormula(bits: number, expBits: number, mantBits: number): number {
  const bias = (1 << (expBits - 1)) - 1;
  const s = bits >> (expBits + mantBits) ? -1 : 1;
  const e = (bits >> mantBits) & ((1 << expBits) - 1);
  const m = bits & ((1 << mantBits) - 1);
  if (e === (1 << expBits) - 1) return m ? NaN : s * Infinity;
  if (e === 0) return s * m * 2 ** (1 - bias - mantBits);
  return s * (1 + m / 2 ** mantBits) * 2 ** (e - bias);
}

test('f16ToF32: hand-computed values, subnormals, infinities, NaN, negative zero', () => {
  const cases: [number, number][] = [
    [0x0000, 0], [0x3c00, 1], [0xc000, -2], [0x3555, 0.333251953125], [0x7bff, 65504],
    [0x0400, 2 ** -14], // smallest normal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x0200, 2 ** -15], [0x0001, 2 ** -24], [0x8001, -(2 ** -24)], // smallest subnormals
    [0x7c00, Infinity], [0xfc00, -Infinity],
  ];
  for (const [h, want] of cases) assert.equal(f16ToF32(h), want, `0x${h.toString(16)}`);
  assert.ok(Object.is(f16ToF32(0x8000), -0), '0x8000 is negative zero');
  for (const h of [0x7e00, 0x7c01, 0xfe00, 0x7fff]) assert.ok(Number.isNaN(f16ToF32(h)), `0x${h.toString(16)} is NaN`);
});

test('f16ToF32 and decodeF16 agree with the IEEE formula on all 65,536 values', () => {
  const bytes = new Uint8Array(2 * 65536);
  for (let h = 0; h < 65536; h++) { bytes[2 * h] = h & 0xff; bytes[2 * h + 1] = h >> 8; }
  const bulk = decodeF16(bytes);
  for (let h = 0; h < 65536; h++) {
    const want = halfByFormula(h, 5, 10);
    assert.ok(Object.is(f16ToF32(h), want), `0x${h.toString(16)}: ${f16ToF32(h)} vs ${want}`);
    assert.ok(Object.is(bulk[h], want), `bulk 0x${h.toString(16)}`);
  }
  // NaN payloads are kept bit for bit: 0x7e01 → quiet NaN with mantissa 0x201 << 13.
  assert.equal(f32Bits(decodeF16(Uint8Array.of(0x01, 0x7e)))[0], 0x7fc02000);
  assert.equal(f32Bits(decodeF16(Uint8Array.of(0x00, 0xfe)))[0], 0xffc00000);
});

test('bf16ToF32: hand-computed values, subnormals, infinities, NaN, negative zero', () => {
  const cases: [number, number][] = [
    [0x0000, 0], [0x3f80, 1], [0xc000, -2], [0x3eab, 0.333984375], [0x7f7f, 3.3895313892515355e38],
    [0x0080, 2 ** -126], [0x0001, 2 ** -133], [0x8001, -(2 ** -133)], [0x007f, 127 * 2 ** -133],
    [0x7f80, Infinity], [0xff80, -Infinity],
  ];
  for (const [h, want] of cases) assert.equal(bf16ToF32(h), want, `0x${h.toString(16)}`);
  assert.ok(Object.is(bf16ToF32(0x8000), -0));
  for (const h of [0x7fc0, 0x7f81, 0xffff]) assert.ok(Number.isNaN(bf16ToF32(h)));
  const bytes = new Uint8Array(2 * 65536);
  for (let h = 0; h < 65536; h++) { bytes[2 * h] = h & 0xff; bytes[2 * h + 1] = h >> 8; }
  const bulk = decodeBF16(bytes);
  for (let h = 0; h < 65536; h++) {
    const want = halfByFormula(h, 8, 7);
    assert.ok(Object.is(bf16ToF32(h), want), `0x${h.toString(16)}`);
    assert.ok(Object.is(bulk[h], want), `bulk 0x${h.toString(16)}`);
    assert.equal(f32Bits(bulk.subarray(h, h + 1))[0], (h << 16) >>> 0, 'bf16 is the top half of the float32');
  }
});

// ---------------------------------------------------------------------------------------------
// Files written by Python's safetensors

interface RawInfo { dtype: string; shape: number[]; first5: number[] }
interface Info { state_dict_keys_in_file: string[]; decoder_weight_in_file: boolean; raw_tensor_values: Record<string, RawInfo>; safetensors_metadata: Record<string, string> }
const info = (dir: string): Info => JSON.parse(readFileSync(join(dir, 'fixture-info.json'), 'utf8'));

for (const dir of [MLM, CLS]) {
  test(`reads ${dir.slice(FIXTURES.length + 1)}/model.safetensors (written by Python) with the values Python read`, () => {
    const path = join(dir, 'model.safetensors');
    const want = info(dir);
    const st = readSafetensors(path);
    assert.deepEqual([...st.tensors.keys()].sort(), [...want.state_dict_keys_in_file].sort());
    assert.deepEqual(st.metadata, want.safetensors_metadata);
    assert.equal(st.tensors.has('cls.predictions.decoder.weight'), want.decoder_weight_in_file);
    for (const [name, raw] of Object.entries(want.raw_tensor_values)) {
      const t = st.tensors.get(name)!;
      assert.equal(raw.dtype, 'float32');
      assert.equal(t.dtype, 'F32');
      assert.deepEqual(t.shape, raw.shape, name);
      assert.equal(t.data.length, raw.shape.reduce((a, b) => a * b, 1), name);
      // The JSON holds the shortest decimal of each float32, so fround gives back the exact value.
      assert.deepEqual(Array.from(t.data.subarray(0, 5)), raw.first5.map(Math.fround), name);
    }
    // Same result from memory, and from the header alone.
    const mem = decodeSafetensors(readFileSync(path), path);
    for (const [name, t] of st.tensors) assert.deepEqual(mem.tensors.get(name)!.data, t.data, name);
    const header = readSafetensorsHeader(path);
    assert.deepEqual([...header.tensors.keys()], [...st.tensors.keys()]);
    for (const [name, t] of header.tensors) assert.deepEqual(t.shape, st.tensors.get(name)!.shape);
    assert.equal(header.dataStart % 8, 0, 'Python pads the header to a multiple of 8');
    // `only` loads a subset.
    const one = readSafetensors(path, { only: (n) => n === 'bert.embeddings.word_embeddings.weight' });
    assert.deepEqual([...one.tensors.keys()], ['bert.embeddings.word_embeddings.weight']);
  });

  test(`encodeSafetensors reproduces ${dir.slice(FIXTURES.length + 1)}/model.safetensors byte for byte`, () => {
    // Python's (Rust) writer: header JSON compact, __metadata__ first, F32 tensors sorted by name,
    // padded with spaces to a multiple of 8. Ours must write the identical file.
    const path = join(dir, 'model.safetensors');
    const st = readSafetensors(path);
    const tensors = Object.fromEntries([...st.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
    assert.deepEqual(Buffer.from(encodeSafetensors(tensors, st.metadata)), readFileSync(path));
    const out = join(tmp, 'rewritten.safetensors');
    writeSafetensors(out, tensors, st.metadata);
    assert.deepEqual(readFileSync(out), readFileSync(path));
  });
}

interface DtypeWant { dtype: string; shape: number[]; float32_bits?: number[]; values?: string[] }

test('reads every dtype Python wrote: F16, BF16, F64, F32, I64, I32, U8, BOOL, empty and scalar tensors', () => {
  const want = (JSON.parse(readFileSync(join(EXTRA, 'dtypes.json'), 'utf8')) as { tensors: Record<string, DtypeWant> }).tensors;
  const a = readSafetensors(join(EXTRA, 'dtypes.safetensors'));
  const b = readSafetensors(join(EXTRA, 'bf16.safetensors'));
  assert.deepEqual(a.metadata, { made_by: 'scripts/make-hf-fixtures.py' });
  const DT: Record<string, string> = { float16: 'F16', bfloat16: 'BF16', float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
  const seen = new Set<string>();
  for (const [name, w] of Object.entries(want)) {
    const t = a.tensors.get(name) ?? b.tensors.get(name);
    assert.ok(t, name);
    seen.add(t.dtype);
    assert.equal(t.dtype, DT[w.dtype], name);
    assert.deepEqual(t.shape, w.shape, name);
    if (w.float32_bits) {
      assert.equal(t.raw, undefined);
      const got = f32Bits(t.data);
      w.float32_bits.forEach((bits, i) => {
        // float64 → float32 may not keep a NaN's payload; the half formats must (exact conversion).
        if (w.dtype === 'float64' && Number.isNaN(new Float32Array(new Uint32Array([bits]).buffer)[0])) assert.ok(Number.isNaN(t.data[i]!), `${name}[${i}]`);
        else assert.equal(got[i], bits, `${name}[${i}]: 0x${got[i]!.toString(16)} vs 0x${bits.toString(16)}`);
      });
    } else {
      assert.ok(t.raw, `${name} keeps raw integers`);
      assert.deepEqual(Array.from(t.raw as ArrayLike<number | bigint>, String), w.values, name);
      assert.deepEqual(Array.from(t.data), w.values!.map((v) => Math.fround(Number(v))), name);
    }
  }
  assert.deepEqual([...seen].sort(), ['BF16', 'BOOL', 'F16', 'F32', 'F64', 'I32', 'I64', 'U8']);
  assert.ok(a.tensors.get('i64')!.raw instanceof BigInt64Array);
  // Any non-zero BOOL byte is true, as in PyTorch.
  const bools = decodeSafetensors(craft({ m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, Uint8Array.of(0, 2, 255)));
  assert.deepEqual(Array.from(bools.tensors.get('m')!.raw as Uint8Array), [0, 1, 1]);
  assert.equal((a.tensors.get('i64')!.raw as BigInt64Array)[5], 2n ** 63n - 1n);
});

test('floatTensor names the file and tensor when a tensor is missing, not float, or the wrong shape', () => {
  const path = join(EXTRA, 'dtypes.safetensors');
  const st = readSafetensors(path);
  assert.equal(floatTensor(st, 'f32', [2, 8]).length, 16);
  assert.throws(() => floatTensor(st, 'nope'), (e: Error) => e.message.startsWith(`${path}: tensor "nope": not in the file`));
  assert.throws(() => floatTensor(st, 'i64'), (e: Error) => e.message.startsWith(`${path}: tensor "i64": is I64`));
  assert.throws(() => floatTensor(st, 'f16', [16]), /tensor "f16": has shape \[4, 4\], expected \[16\]/);
});

// ---------------------------------------------------------------------------------------------
// Writing

test('round trip: names sorted by UTF-8 bytes, integer-like names, scalars, empty tensors, special values, metadata', () => {
  const special = Float32Array.of(0, -0, 1, -2.5, Infinity, -Infinity, NaN, 1e-45, 3.4028234663852886e38, Math.fround(0.1));
  const nanPayload = new Float32Array(new Uint32Array([0x7fc01234]).buffer);
  const tensors = {
    'b.weight': { shape: [2, 5], data: special },
    a: { shape: [], data: Float32Array.of(7.5) },
    '10': { shape: [0, 3], data: new Float32Array(0) },
    '2': { shape: [1], data: nanPayload },
    'é': { shape: [3], data: Float32Array.of(1, 2, 3) },
    'z': { shape: [2], data: new Float32Array([9, 8, 7, 6]).subarray(1, 3) }, // a view into a larger buffer
    // UTF-16 order would put the emoji (surrogate 0xD83D) before U+FF01; UTF-8 bytes (F0 > EF) after.
    '\u{1F600}': { shape: [1], data: Float32Array.of(4) },
    '\uFF01': { shape: [1], data: Float32Array.of(5) },
  };
  const bytes = encodeSafetensors(tensors, { format: 'pt', note: 'ünïcode' });
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  const headerText = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
  assert.match(headerText, / *$/);
  // Key order in the JSON text itself: metadata first, then names in UTF-8 byte order, as Rust sorts.
  const order = [...headerText.matchAll(/"([^"]+)":\{/g)].map((m) => m[1]);
  assert.deepEqual(order, ['__metadata__', '10', '2', 'a', 'b.weight', 'z', 'é', '\uFF01', '\u{1F600}']);
  assert.equal(bytes.length, 8 + n + 4 * (0 + 1 + 1 + 10 + 2 + 3 + 1 + 1));

  for (const st of [decodeSafetensors(bytes, 'mem'), (writeSafetensors(join(tmp, 'rt.safetensors'), tensors, { format: 'pt', note: 'ünïcode' }), readSafetensors(join(tmp, 'rt.safetensors')))]) {
    assert.deepEqual(st.metadata, { format: 'pt', note: 'ünïcode' });
    assert.equal(st.tensors.size, 8);
    for (const [name, t] of Object.entries(tensors)) {
      const got = st.tensors.get(name)!;
      assert.equal(got.dtype, 'F32');
      assert.deepEqual(got.shape, t.shape, name);
      assert.deepEqual(f32Bits(got.data), f32Bits(t.data), `${name}: bits differ`);
    }
  }
  // No metadata: no __metadata__ key at all (as the Rust library writes).
  const plain = encodeSafetensors({ x: { shape: [1], data: Float32Array.of(1) } });
  assert.doesNotMatch(Buffer.from(plain).toString('utf8'), /__metadata__/);
  assert.deepEqual(decodeSafetensors(plain).metadata, {});
  const empty = decodeSafetensors(encodeSafetensors({}));
  assert.equal(empty.tensors.size, 0);
  assert.equal(bitsOf(decodeSafetensors(bytes).tensors.get('2')!.data[0]!), bitsOf(nanPayload[0]!));
});

test('writeSafetensors is atomic: replaces the old file whole, and leaves no temporary file behind, even on failure', () => {
  const dir = mkdtempSync(join(tmp, 'atomic-'));
  const path = join(dir, 'model.safetensors');
  writeSafetensors(path, { w: { shape: [2], data: Float32Array.of(1, 2) } });
  writeSafetensors(path, { w: { shape: [3], data: Float32Array.of(3, 4, 5) } }, { format: 'pt' });
  assert.deepEqual(Array.from(readSafetensors(path).tensors.get('w')!.data), [3, 4, 5]);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  const before = readFileSync(path);
  assert.throws(() => writeSafetensors(path, { w: { shape: [2, 2], data: Float32Array.of(1, 2, 3) } }),
    (e: Error) => e.message === `${path}: tensor "w": shape [2, 2] needs 4 values, got 3`);
  assert.throws(() => writeSafetensors(path, { __metadata__: { shape: [1], data: Float32Array.of(1) } }), /reserved for the metadata/);
  assert.throws(() => writeSafetensors(path, { w: { shape: [-1], data: Float32Array.of(1) } }), /tensor "w": shape must be non-negative integers, got \[-1\]/);
  assert.throws(() => writeSafetensors(path, {}, { n: 1 as unknown as string }), /metadata field "n" must be a string, got 1/);
  assert.deepEqual(readFileSync(path), before, 'a failed write leaves the old file');
  assert.deepEqual(readdirSync(dir), ['model.safetensors'], 'and no temporary file');
  // A failure after the temporary file exists (the rename onto a folder fails) also cleans up.
  mkdirSync(join(dir, 'folder.safetensors'));
  assert.throws(() => writeSafetensors(join(dir, 'folder.safetensors'), { w: { shape: [1], data: Float32Array.of(1) } }), /EISDIR|EPERM|EEXIST|ENOTEMPTY/);
  assert.deepEqual(readdirSync(dir).sort(), ['folder.safetensors', 'model.safetensors'], 'no temporary file after a failed rename');
  assert.throws(() => writeSafetensors(join(dir, 'missing', 'x.safetensors'), {}), /ENOENT/);
  assert.ok(!existsSync(join(dir, 'missing')));
});

// ---------------------------------------------------------------------------------------------
// Broken files

test('every truncation of a valid file is refused with a clear error, from memory and from disk', () => {
  for (const source of [join(EXTRA, 'dtypes.safetensors'), join(EXTRA, 'bf16.safetensors')]) {
    const full = readFileSync(source);
    decodeSafetensors(full, source); // the whole file is fine
    for (let len = 0; len < full.length; len++) {
      const cut = full.subarray(0, len);
      const pattern = len < 8 ? new RegExp(`the file is ${len} bytes, too short`)
        : /header length says \d+ bytes but only \d+ bytes follow it|belong to no tensor|run past the end of the data/;
      refuses(cut, pattern);
    }
  }
});

test('a header length past the end of the file is refused', () => {
  const ok = craft({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4);
  const bad = Buffer.from(ok);
  bad.writeBigUInt64LE(BigInt(ok.length)); // points 8 bytes past the end
  refuses(bad, new RegExp(`the header length says ${ok.length} bytes but only ${ok.length - 8} bytes follow it; the file is truncated`));
});

test('a header claiming 100 GB is refused at once, without allocating', () => {
  const bytes = Buffer.alloc(64, 0x20);
  for (const huge of [100_000_000_000n, 2n ** 64n - 1n]) {
    bytes.writeBigUInt64LE(huge);
    const path = join(tmp, 'huge.safetensors');
    writeFileSync(path, bytes);
    const mem0 = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 20; i++) {
      const read = bytesReadBy(() => assert.throws(() => readSafetensors(path), (e: Error) => e instanceof SafetensorsError && e.message.includes(`header length says ${huge} bytes but only 56 bytes follow it`)));
      assert.equal(read, 8, 'only the 8-byte length prefix is read');
      assert.throws(() => decodeSafetensors(bytes, 'huge'), SafetensorsError);
    }
    assert.ok(process.memoryUsage().arrayBuffers - mem0 < 8 << 20, 'no large allocation');
  }
});

test('a header over the 100 MB limit is refused even when the file is that large', () => {
  // A sparse 120 MB file whose length prefix claims a 110 MB header: within the file, over the limit.
  const path = join(tmp, 'sparse.safetensors');
  const fd = openSync(path, 'w');
  try {
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(MAX_HEADER_BYTES + 10_000_000));
    writeSync(fd, prefix, 0, 8, 0);
    ftruncateSync(fd, 120_000_000);
  } finally { closeSync(fd); }
  const mem0 = process.memoryUsage().arrayBuffers;
  const read = bytesReadBy(() => assert.throws(() => readSafetensors(path), (e: Error) => e instanceof SafetensorsError
    && e.message === `${path}: the header length 110000000 bytes is over the 100000000-byte limit of the safetensors format; the file is truncated or is not a safetensors file; save or download it again`));
  assert.equal(read, 8, 'only the 8-byte length prefix is read, none of the 110 MB header');
  assert.ok(process.memoryUsage().arrayBuffers - mem0 < 8 << 20, 'no large allocation');
  rmSync(path);
});

test('bad headers: not UTF-8, not JSON, not an object, bad metadata', () => {
  const bad = craft('{"x":1}');
  bad[10] = 0xff; // inside the JSON text
  refuses(bad, /the 7-byte header is not valid UTF-8/);
  refuses(craft('{"x": {"dtype": "F32", '), /the header is not valid JSON \(.+\)/);
  refuses(craft(''), /the header is not valid JSON/);
  refuses(craft('[1, 2]'), /the header must be a JSON object, got \[1,2\]/);
  refuses(craft({ __metadata__: { format: 'pt', step: 3 } }), /"__metadata__" field "step" must be a string, got 3/);
  refuses(craft({ __metadata__: ['pt'] }), /"__metadata__" must be an object of strings, got \["pt"\]/);
  assert.deepEqual(decodeSafetensors(craft({ __metadata__: null })).metadata, {}, 'null metadata is no metadata, as in Rust');
});

test('bad entries name the tensor: dtype, shape, data_offsets, size', () => {
  const f32 = (over: Record<string, unknown>) => ({ dtype: 'F32', shape: [2], data_offsets: [0, 8], ...over });
  refuses(craft({ w: f32({ dtype: 'F33' }) }, 8), /tensor "w": unknown dtype "F33"; known dtypes are F64, F32/, 'w');
  refuses(craft({ w: f32({ dtype: 4 }) }, 8), /dtype must be a string, got 4/, 'w');
  refuses(craft({ w: f32({ shape: [2, -1] }) }, 8), /shape must be an array of non-negative integers, got \[2,-1\]/, 'w');
  refuses(craft({ w: f32({ shape: [1.5] }) }, 8), /shape must be an array/, 'w');
  refuses(craft({ w: f32({ shape: '2' }) }, 8), /shape must be an array/, 'w');
  refuses(craft({ w: f32({ data_offsets: [0] }) }, 8), /data_offsets must be \[begin, end\]/, 'w');
  refuses(craft({ w: f32({ data_offsets: [0, '8'] }) }, 8), /data_offsets must be \[begin, end\]/, 'w');
  refuses(craft({ w: f32({ data_offsets: [8, 0] }) }, 8), /data_offsets \[8, 0\] have begin after end/, 'w');
  refuses(craft({ w: 5 }, 8), /the entry must be an object with dtype, shape and data_offsets, got 5/, 'w');
  refuses(craft({ w: f32({ shape: [3] }) }, 8), /tensor "w": shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] hold 8/, 'w');
  refuses(craft({ w: f32({ shape: [2 ** 40, 2 ** 40] }) }, 8), /shape \[1099511627776, 1099511627776\] is too large/, 'w');
  refuses(craft({ w: f32({ dtype: 'F16' }) }, 8), /shape \[2\] of F16 needs 4 bytes/, 'w');
});

test('offsets out of bounds, overlapping, with gaps, or leaving bytes over are refused', () => {
  const e = (dtype: string, shape: number[], a: number, b: number) => ({ dtype, shape, data_offsets: [a, b] });
  // The message format other code and people rely on.
  refuses(craft({ w: e('F32', [4], 0, 16) }, 8), /\.safetensors: tensor "w": data_offsets \[0, 16\] run past the end of the data \(8 bytes\); /, 'w');
  refuses(craft({ w: e('F32', [1], 1e15, 1e15 + 4) }, 8), /data_offsets \[1000000000000000, 1000000000000004\] run past the end of the data \(8 bytes\)/, 'w');
  refuses(craft({ a: e('F32', [2], 0, 8), b: e('F32', [2], 4, 12) }, 12), /tensor "b": data_offsets \[4, 12\] overlap tensor "a", which ends at 8/, 'b');
  refuses(craft({ a: e('F32', [2], 0, 8), b: e('F32', [2], 0, 8) }, 8), /tensor "[ab]": data_offsets \[0, 8\] overlap tensor "[ab]"/);
  refuses(craft({ a: e('F32', [1], 0, 4), b: e('F32', [1], 8, 12) }, 12), /tensor "b": data_offsets \[8, 12\] leave a gap of 4 bytes/, 'b');
  refuses(craft({ a: e('F32', [1], 4, 8) }, 8), /tensor "a": data_offsets \[4, 8\] leave a gap of 4 bytes \(bytes 0–4 belong to no tensor\)/, 'a');
  refuses(craft({ a: e('F32', [1], 0, 4) }, 12), /the tensors cover 4 of the 12 data bytes; the last 8 bytes belong to no tensor/);
  refuses(craft({}, 4), /the tensors cover 0 of the 4 data bytes/);
  // Tensors in any header order, zero-size ones anywhere, are fine when they tile the data.
  const ok = decodeSafetensors(craft({ b: e('F32', [1], 4, 8), z: e('F32', [0], 4, 4), a: e('U8', [4], 0, 4) }, 8));
  assert.deepEqual([...ok.tensors.keys()], ['b', 'z', 'a']);
});

test('a known dtype that cannot be converted is refused by name', () => {
  refuses(craft({ q: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, 4), /tensor "q": dtype F8_E4M3 is not supported/, 'q', true);
  refuses(craft({ c: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, 8), /tensor "c": dtype C64 is not supported/, 'c', true);
  // Not when it is skipped.
  const path = join(tmp, 'f8.safetensors');
  writeFileSync(path, craft({ q: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] }, w: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8));
  assert.deepEqual([...readSafetensors(path, { only: (n) => n === 'w' }).tensors.keys()], ['w']);
});

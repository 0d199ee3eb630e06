/**
 * safetensors: read and write the tensor files Hugging Face checkpoints use.
 *
 * Layout (https://github.com/huggingface/safetensors): an unsigned 64-bit little-endian header
 * length N, N bytes of UTF-8 JSON (`{ name: { dtype, shape, data_offsets: [begin, end] },
 * "__metadata__": { string: string } }`, padded with spaces), then the data section: raw
 * row-major little-endian tensors, offsets relative to its first byte.
 *
 * Reading validates the header as strictly as the Rust library does (its `validate`): offsets in
 * bounds, byte size = numel × dtype size, tensors contiguous and non-overlapping, and the data
 * section covered exactly. Every check runs before any tensor memory is allocated, so a corrupt or
 * hostile header costs nothing but an error. Every tensor comes back as a Float32Array; integer
 * and bool tensors also keep their exact values in `raw`.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { writeFileDurable } from './durable.js';

export type FloatDType = 'F64' | 'F32' | 'F16' | 'BF16';
export type IntDType = 'I64' | 'U64' | 'I32' | 'U32' | 'I16' | 'U16' | 'I8' | 'U8' | 'BOOL';
/** Every byte-aligned dtype the Rust library knows; those neither float nor int here cannot be read. */
export type SafetensorsDType = FloatDType | IntDType | 'F8_E4M3' | 'F8_E5M2' | 'F8_E8M0' | 'C64';

const DTYPE_BYTES: Record<SafetensorsDType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1, F8_E8M0: 1, C64: 8,
};
const FLOAT_DTYPES: readonly string[] = ['F64', 'F32', 'F16', 'BF16'];
/** The Rust library's limit (MAX_HEADER_SIZE): larger headers are refused before allocating. */
export const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export type IntData = BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;
export interface SafeTensor {
  dtype: FloatDType | IntDType;
  shape: number[];
  /** The values as float32 (F64 rounded; integers exact up to 2^24 in magnitude). */
  data: Float32Array;
  /** Integer and bool tensors only: the exact values (BOOL as 0/1 bytes). */
  raw?: IntData;
}

/** One header entry, validated: `begin`/`end` are offsets into the data section. */
export interface TensorInfo { dtype: SafetensorsDType; shape: number[]; begin: number; end: number }
export interface SafetensorsHeader {
  /** The name used in error messages (the path, or the display name given for a buffer). */
  file: string;
  /** Entries in header order. */
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Byte position of the data section in the file: 8 + header length. */
  dataStart: number;
}
export interface SafetensorsFile { file: string; tensors: Map<string, SafeTensor>; metadata: Record<string, string> }

/** What the caller writes: float32 values in row-major order. */
export interface TensorToWrite { shape: number[]; data: Float32Array }

export class SafetensorsError extends Error {
  constructor(readonly file: string, readonly tensor: string | undefined, detail: string) {
    super(`${file}: ${tensor === undefined ? '' : `tensor ${JSON.stringify(tensor)}: `}${detail}`);
    this.name = 'SafetensorsError';
  }
}

const CORRUPT = 'the file is truncated or is not a safetensors file; save or download it again';

// ---------------------------------------------------------------------------------------------
// Half-precision conversions

/** float16 bits → float32 bits. Exact: every float16 (subnormals, ±0, ±inf, NaN payloads) is a float32. */
function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf, NaN (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // rebias 15 → 127
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal m·2^-24: shift the leading one up to the implicit bit, lowering the exponent.
  let e = 113; // exponent field of 2^-14, the smallest normal float16
  while ((mant & 0x400) === 0) { mant <<= 1; e--; }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

let f16Table: Uint32Array | undefined;
/** float32 bits of all 65,536 float16 values (256 KB, built on first use). Bits, not numbers, so NaN payloads survive. */
function f16Lookup(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The float16 with these 16 bits, as a number. */
export function f16ToF32(bits: number): number {
  scratchBits[0] = f16Lookup()[bits & 0xffff]!;
  return scratch[0]!;
}

/** The bfloat16 with these 16 bits, as a number: bfloat16 is the top half of a float32. */
export function bf16ToF32(bits: number): number {
  scratchBits[0] = (bits & 0xffff) << 16;
  return scratch[0]!;
}

/** Little-endian float16 bytes → Float32Array (exact, NaN payloads kept). */
export function decodeF16(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const table = f16Lookup();
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = table[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
  return new Float32Array(out.buffer);
}

/** Little-endian bfloat16 bytes → Float32Array (exact, NaN payloads kept). */
export function decodeBF16(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 1;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = ((bytes[2 * i]! | (bytes[2 * i + 1]! << 8)) << 16) >>> 0;
  return new Float32Array(out.buffer);
}

// ---------------------------------------------------------------------------------------------
// Header

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const show = (v: unknown): string => { const s = JSON.stringify(v) ?? String(v); return s.length > 80 ? `${s.slice(0, 77)}...` : s; };

/**
 * Reads the 8-byte length prefix and checks it against the file size and the header limit.
 * Returns the header length as a number (safe: it is at most MAX_HEADER_BYTES).
 */
function headerLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8) throw new SafetensorsError(file, undefined, `the file is ${fileSize} bytes, too short for the 8-byte header length; ${CORRUPT}`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8)) {
    throw new SafetensorsError(file, undefined, `the header length says ${n} bytes but only ${fileSize - 8} bytes follow it; ${CORRUPT}`);
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(file, undefined, `the header length ${n} bytes is over the ${MAX_HEADER_BYTES}-byte limit of the safetensors format; ${CORRUPT}`);
  }
  return Number(n);
}

/** Parses and validates the JSON header against a data section of `dataLength` bytes. */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, file: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(file, undefined, `the ${headerBytes.length}-byte header is not valid UTF-8; ${CORRUPT}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(file, undefined, `the header is not valid JSON (${(e as Error).message}); ${CORRUPT}`);
  }
  if (!isPlainObject(json)) throw new SafetensorsError(file, undefined, `the header must be a JSON object, got ${show(json)}; ${CORRUPT}`);

  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (raw === null) continue; // the Rust library reads null as "no metadata"
      if (!isPlainObject(raw)) throw new SafetensorsError(file, undefined, `"__metadata__" must be an object of strings, got ${show(raw)}`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw new SafetensorsError(file, undefined, `"__metadata__" field ${JSON.stringify(k)} must be a string, got ${show(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.set(name, tensorInfo(raw, dataLength, file, name));
  }

  // Contiguity: sorted by offsets, each tensor starts where the previous one ended (Rust: InvalidOffset),
  // and the last one ends at the end of the file (Rust: MetadataIncompleteBuffer).
  const order = [...tensors].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev: string | undefined;
  for (const [name, t] of order) {
    if (t.begin < at) {
      throw new SafetensorsError(file, name, `data_offsets [${t.begin}, ${t.end}] overlap tensor ${JSON.stringify(prev)}, which ends at ${at}; ${CORRUPT}`);
    }
    if (t.begin > at) {
      throw new SafetensorsError(file, name, `data_offsets [${t.begin}, ${t.end}] leave a gap of ${t.begin - at} bytes (bytes ${at}–${t.begin} belong to no tensor); ${CORRUPT}`);
    }
    at = t.end;
    prev = name;
  }
  if (at !== dataLength) {
    throw new SafetensorsError(file, undefined, `the tensors cover ${at} of the ${dataLength} data bytes; the last ${dataLength - at} bytes belong to no tensor; ${CORRUPT}`);
  }
  return { file, tensors, metadata, dataStart: 8 + headerBytes.length };
}

function tensorInfo(raw: unknown, dataLength: number, file: string, name: string): TensorInfo {
  const fail = (detail: string): never => { throw new SafetensorsError(file, name, detail); };
  if (!isPlainObject(raw)) return fail(`the entry must be an object with dtype, shape and data_offsets, got ${show(raw)}`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') return fail(`dtype must be a string, got ${show(dtype)}`);
  if (!Object.hasOwn(DTYPE_BYTES, dtype)) {
    return fail(`unknown dtype ${JSON.stringify(dtype)}; known dtypes are ${Object.keys(DTYPE_BYTES).join(', ')} (sub-byte F4/F6 are not supported)`);
  }
  const size = DTYPE_BYTES[dtype as SafetensorsDType];
  if (!Array.isArray(shape) || !shape.every(isIndex)) return fail(`shape must be an array of non-negative integers, got ${show(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    return fail(`data_offsets must be [begin, end] with non-negative integers, got ${show(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`data_offsets [${begin}, ${end}] have begin after end; ${CORRUPT}`);
  if (end > dataLength) fail(`data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes); ${CORRUPT}`);
  let bytes = size;
  for (const d of shape as number[]) {
    bytes *= d;
    if (!Number.isSafeInteger(bytes)) fail(`shape [${shape.join(', ')}] is too large to address; ${CORRUPT}`);
  }
  if (bytes !== end - begin) {
    fail(`shape [${shape.join(', ')}] of ${dtype} needs ${bytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}; ${CORRUPT}`);
  }
  return { dtype: dtype as SafetensorsDType, shape: [...(shape as number[])], begin, end };
}

// ---------------------------------------------------------------------------------------------
// Tensor data

/** Converts one tensor's little-endian bytes (`bytes.length` = end − begin) to its arrays. */
function decodeTensor(info: TensorInfo, bytes: Uint8Array, file: string, name: string): SafeTensor {
  const { dtype, shape } = info;
  if (dtype === 'F16') return { dtype, shape, data: decodeF16(bytes) };
  if (dtype === 'BF16') return { dtype, shape, data: decodeBF16(bytes) };
  if (dtype === 'F32') return { dtype, shape, data: new Float32Array(littleEndian(bytes, 4)) };
  if (dtype === 'F64') return { dtype, shape, data: Float32Array.from(new Float64Array(littleEndian(bytes, 8))) };
  let raw: IntData;
  switch (dtype) {
    case 'I64': raw = new BigInt64Array(littleEndian(bytes, 8)); break;
    case 'U64': raw = new BigUint64Array(littleEndian(bytes, 8)); break;
    case 'I32': raw = new Int32Array(littleEndian(bytes, 4)); break;
    case 'U32': raw = new Uint32Array(littleEndian(bytes, 4)); break;
    case 'I16': raw = new Int16Array(littleEndian(bytes, 2)); break;
    case 'U16': raw = new Uint16Array(littleEndian(bytes, 2)); break;
    case 'I8': raw = new Int8Array(littleEndian(bytes, 1)); break;
    case 'U8': raw = new Uint8Array(littleEndian(bytes, 1)); break;
    case 'BOOL': raw = Uint8Array.from(bytes, (b) => (b ? 1 : 0)); break;
    default:
      throw new SafetensorsError(file, name, `dtype ${dtype} is not supported (only F64, F32, F16, BF16 and integer/bool tensors); convert the checkpoint to float32 or float16 first`);
  }
  const data = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) data[i] = Number(raw[i]!);
  return { dtype, shape, data, raw };
}

/** A fresh, aligned ArrayBuffer with the bytes in host order (a copy; byte-swapped on big-endian hosts). */
function littleEndian(bytes: Uint8Array, width: number): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (!LITTLE_ENDIAN_HOST && width > 1) {
    for (let i = 0; i < copy.length; i += width) copy.subarray(i, i + width).reverse();
  }
  return copy.buffer;
}

/** Float32 values as little-endian bytes: a view on little-endian hosts, a swapped copy otherwise. */
function f32Bytes(data: Float32Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST) return view;
  const copy = Uint8Array.from(view);
  for (let i = 0; i < copy.length; i += 4) copy.subarray(i, i + 4).reverse();
  return copy;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Parses a whole safetensors file held in memory. `file` names it in errors. */
export function decodeSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsFile {
  const n = headerLength(bytes.subarray(0, 8), bytes.length, file);
  const header = parseHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n, file);
  const data = bytes.subarray(header.dataStart);
  const tensors = new Map<string, SafeTensor>();
  for (const [name, info] of header.tensors) tensors.set(name, decodeTensor(info, data.subarray(info.begin, info.end), file, name));
  return { file, tensors, metadata: header.metadata };
}

/** Fills `buf` from `position`, failing clearly if the file ends early (it changed under us). */
function readExactly(fd: number, buf: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new SafetensorsError(file, undefined, `the file ended at byte ${position + done} while reading ${buf.length} bytes at ${position}; was it changed while being read? ${CORRUPT}`);
    done += n;
  }
}

function withFile<T>(path: string, flags: string, body: (fd: number) => T): T {
  const fd = openSync(path, flags);
  try { return body(fd); } finally { closeSync(fd); }
}

function readHeader(fd: number, file: string): SafetensorsHeader {
  const { size } = fstatSync(fd);
  const prefix = new Uint8Array(8);
  if (size >= 8) readExactly(fd, prefix, 0, file);
  const n = headerLength(prefix, size, file); // checked against the file size before allocating
  const headerBytes = new Uint8Array(n);
  readExactly(fd, headerBytes, 8, file);
  return parseHeader(headerBytes, size - 8 - n, file);
}

/** Reads and validates only the header: names, dtypes, shapes and metadata, no tensor data. */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  return withFile(path, 'r', (fd) => readHeader(fd, path));
}

/**
 * Reads a safetensors file through one file descriptor: the header first (validated before any
 * tensor memory is allocated), then each tensor straight from the file into its own array, so
 * the file is never held in memory whole. `only` picks the tensors to load.
 */
export function readSafetensors(path: string, opts: { only?: (name: string) => boolean } = {}): SafetensorsFile {
  return withFile(path, 'r', (fd) => {
    const header = readHeader(fd, path);
    const tensors = new Map<string, SafeTensor>();
    for (const [name, info] of header.tensors) {
      if (opts.only && !opts.only(name)) continue;
      if (info.dtype === 'F32' && LITTLE_ENDIAN_HOST) {
        const data = new Float32Array((info.end - info.begin) / 4); // read into the result: no copy
        readExactly(fd, new Uint8Array(data.buffer), header.dataStart + info.begin, path);
        tensors.set(name, { dtype: 'F32', shape: info.shape, data });
      } else {
        const bytes = new Uint8Array(info.end - info.begin);
        readExactly(fd, bytes, header.dataStart + info.begin, path);
        tensors.set(name, decodeTensor(info, bytes, path, name));
      }
    }
    return { file: path, tensors, metadata: header.metadata };
  });
}

/** The float values of tensor `name`, or an error naming the file and what is there instead. */
export function floatTensor(st: SafetensorsFile, name: string, shape?: readonly number[]): Float32Array {
  const t = st.tensors.get(name);
  if (!t) throw new SafetensorsError(st.file, name, `not in the file (it has ${st.tensors.size} tensors); is this the right checkpoint?`);
  if (!FLOAT_DTYPES.includes(t.dtype)) throw new SafetensorsError(st.file, name, `is ${t.dtype}, expected a float tensor (F32, F16, BF16 or F64)`);
  if (shape && (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i]))) {
    throw new SafetensorsError(st.file, name, `has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]; does the config match the checkpoint?`);
  }
  return t.data as Float32Array;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** UTF-8 byte order, as Rust's `String` compares, so names sort the same as the Rust library's. */
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * Builds the header and the order of the tensors. As in the Rust library (which orders by dtype
 * alignment, then name; all F32 here): tensors by name, `__metadata__` first, padded with spaces
 * so the data section starts at a multiple of 8.
 */
function planFile(tensors: Record<string, TensorToWrite>, metadata: Record<string, string> | undefined, file: string) {
  const names = Object.keys(tensors).sort(byUtf8);
  // JSON is assembled by hand: a JS object would move integer-like names ("0", "1") to the front.
  const parts: string[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(file, undefined, `metadata field ${JSON.stringify(k)} must be a string, got ${show(v)}`);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  const order: { data: Float32Array }[] = [];
  for (const name of names) {
    const { shape, data } = tensors[name]!;
    if (name === '__metadata__') throw new SafetensorsError(file, name, 'this name is reserved for the metadata; rename the tensor');
    if (!Array.isArray(shape) || !shape.every(isIndex)) throw new SafetensorsError(file, name, `shape must be non-negative integers, got ${show(shape)}`);
    if (!(data instanceof Float32Array)) throw new SafetensorsError(file, name, 'data must be a Float32Array');
    const numel = shape.reduce((a, b) => a * b, 1);
    if (numel !== data.length) throw new SafetensorsError(file, name, `shape [${shape.join(', ')}] needs ${numel} values, got ${data.length}`);
    parts.push(`${JSON.stringify(name)}:{"dtype":"F32","shape":[${shape.join(',')}],"data_offsets":[${offset},${offset + data.byteLength}]}`);
    offset += data.byteLength;
    order.push({ data });
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Buffer.alloc(Math.ceil(json.length / 8) * 8, 0x20);
  json.copy(padded);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(padded.length));
  return { head: Buffer.concat([prefix, padded]), order, dataBytes: offset };
}

/** The bytes of a safetensors file holding these float32 tensors. */
export function encodeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const { head, order, dataBytes } = planFile(tensors, metadata, '<buffer>');
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head);
  let at = head.length;
  for (const { data } of order) { out.set(f32Bytes(data), at); at += data.byteLength; }
  return out;
}

/**
 * Writes float32 tensors atomically: into a temporary file in the same folder, flushed to disk,
 * then renamed over `path`, so a crash leaves either the old file or the new one, never half.
 * Tensors are written one by one, never gathered into one buffer.
 * Hugging Face's loaders want `metadata: { format: 'pt' }`.
 */
export function writeSafetensors(path: string, tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): void {
  writeFileDurable(path, safetensorsChunks(tensors, metadata, path));
}

/** The file's bytes as the header and one view per tensor (no copy on little-endian hosts). */
export function safetensorsChunks(tensors: Record<string, TensorToWrite>, metadata: Record<string, string> | undefined, path: string): Uint8Array[] {
  const { head, order } = planFile(tensors, metadata, path);
  return [head, ...order.map(({ data }) => f32Bytes(data))];
}

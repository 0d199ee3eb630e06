/**
 * Dataset readers: text, JSONL, CSV and TSV files (or a folder of them) streamed as Examples.
 * Nothing is read whole: files are decoded chunk by chunk (a UTF-8 character split across two
 * chunks is joined by the streaming decoder), so memory stays flat however large the file.
 * Every Example points back to the file and the line where its record starts; every error for
 * people names the file, the line, the field and the value, and says what to do.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { DatasetSpec, Example, Label, SourceRef } from './types.js';

export type DataFormat = NonNullable<DatasetSpec['format']>;

/** Bad input data: `file:line` leads the message, so terminals and VS Code make it a link. */
export class DataError extends Error {
  override name = 'DataError';
  /** `line` is 1-based; 0 when the problem is the file as a whole (missing, wrong kind). */
  constructor(readonly file: string, readonly line: number, message: string, readonly field?: string) {
    super(`${line > 0 ? `${file}:${line}` : file}: ${message}`);
  }
}

/** A value for an error message: JSON-quoted, cut to `max` characters. */
export function preview(v: unknown, max = 60): string {
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

const EXTENSIONS: Record<string, DataFormat> = { '.txt': 'text', '.text': 'text', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv', '.tsv': 'tsv' };

/** The format a file's extension names (case-insensitive), or undefined for an unknown one. */
export function detectFormat(path: string): DataFormat | undefined {
  return EXTENSIONS[extname(path).toLowerCase()];
}

/**
 * Bytes per read: per-chunk overhead is already negligible at this size, and the garbage each
 * chunk leaves (its text and the examples sliced from it) stays young; 1 MiB reads doubled the
 * peak memory of streaming a 300 MB file for no gain in speed.
 */
const CHUNK = 1 << 16;

async function statOrThrow(path: string) {
  try { return await stat(path); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(path, 0, 'no such file or folder; check the path (relative paths are resolved from the workspace folder)');
    throw new DataError(path, 0, `cannot be read (${code ?? String(e)}); check its permissions`);
  }
}

/** The data files of a folder, one level deep, in sorted order (hidden files and unknown extensions skipped). */
async function folderFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isFile() && !e.name.startsWith('.') && detectFormat(e.name) !== undefined)
    .map((e) => e.name).sort().map((n) => join(dir, n));
}

/**
 * A file's text, decoded chunk by chunk. The decoder is fatal: bytes that are not UTF-8 raise a
 * DataError (near the line reached so far) rather than being silently replaced. A leading BOM is dropped.
 */
async function* decodedChunks(file: string, lineSoFar: () => number): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const stream = createReadStream(file, { highWaterMark: CHUNK });
  const decode = (b?: Buffer) => {
    try { return b ? decoder.decode(b, { stream: true }) : decoder.decode(); } catch {
      throw new DataError(file, lineSoFar(), 'is not valid UTF-8 here; save the file as UTF-8');
    }
  };
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      const s = decode(buf);
      if (s) yield s;
    }
    const tail = decode();
    if (tail) yield tail;
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(file, lineSoFar(), `could not be read: ${(e as Error).message}`);
  } finally {
    stream.destroy();
  }
}

/**
 * A file's lines, in batches (one per chunk, so the per-line cost is a plain loop, not an async
 * step). Lines end at "\n"; a "\r" before it is dropped (CRLF files). The batch's first line number
 * is `first` (1-based). A final line without a newline is kept; no empty line follows a final "\n".
 */
async function* lineBatches(file: string): AsyncGenerator<{ first: number; lines: string[] }> {
  let next = 1;
  let pending: string[] = []; // pieces of a line longer than a chunk
  for await (const chunk of decodedChunks(file, () => next)) {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      let line = chunk.slice(start, nl);
      if (pending.length) { pending.push(line); line = pending.join(''); pending = []; }
      lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.slice(start));
    if (lines.length) { yield { first: next, lines }; next += lines.length; }
  }
  if (pending.length) {
    const line = pending.join('');
    yield { first: next, lines: [line.endsWith('\r') ? line.slice(0, -1) : line] };
  }
}

const isBlank = (s: string) => s.trim() === '';

/**
 * Per-format readers yield the examples of one read chunk at a time: an async step per example
 * costs more than the parsing (several times more under async-context tracking, as in node:test).
 * Examples parsed before an error are still delivered, then the error is thrown.
 */
type Batches = AsyncGenerator<Example[]>;

async function* readText(file: string, documents: 'line' | 'blank-line'): Batches {
  let doc: string[] = [], start = 0;
  for await (const { first, lines } of lineBatches(file)) {
    const out: Example[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (documents === 'line') {
        if (!isBlank(line)) out.push({ text: line, ref: { file, line: first + i } });
      } else if (isBlank(line)) {
        if (doc.length) { out.push({ text: doc.join('\n'), ref: { file, line: start } }); doc = []; }
      } else {
        if (!doc.length) start = first + i;
        doc.push(line);
      }
    }
    if (out.length) yield out;
  }
  if (doc.length) yield [{ text: doc.join('\n'), ref: { file, line: start } }];
}

/** Which fields to read, and whether the spec named them (a named field must be present). */
interface Fields { text: string; pair?: string; label: string; labelNamed: boolean }
function fieldsOf(spec: DatasetSpec): Fields {
  return { text: spec.text_field ?? 'text', pair: spec.pair_field, label: spec.label_field ?? 'label', labelNamed: spec.label_field !== undefined };
}

/** A JSON label as an Example label: a string, a finite number, or a list of them (multi-label names or ids). */
function jsonLabel(v: unknown, file: string, line: number, field: string): Label | undefined {
  const ok = (x: unknown) => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x));
  if (ok(v)) return v as string | number;
  // Lists of names are multi-label labels too; types.ts's Label spells only number[] (see labels.ts).
  if (Array.isArray(v) && v.every(ok)) return v as Label;
  throw new DataError(file, line, `"${field}" is ${preview(v)}; a label must be a string, a number, or a list of strings or numbers`, field);
}

async function* readJsonl(file: string, f: Fields): Batches {
  for await (const { first, lines } of lineBatches(file)) {
    const out: Example[] = [];
    try {
      for (let i = 0; i < lines.length; i++) { const ex = jsonlExample(lines[i]!, file, first + i, f); if (ex) out.push(ex); }
    } catch (e) { if (out.length) yield out; throw e; }
    if (out.length) yield out;
  }
}

/** The example on one JSONL line: none for a blank line. */
function jsonlExample(raw: string, file: string, line: number, f: Fields): Example | undefined {
  if (isBlank(raw)) return undefined;
  let o: unknown;
  try { o = JSON.parse(raw); } catch (e) {
    throw new DataError(file, line, `is not valid JSON (${(e as Error).message}): ${preview(raw)}; each line must hold one JSON object`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new DataError(file, line, `holds ${preview(o)}, not a JSON object; each line must be an object like {"${f.text}": "…"}`);
  }
  const rec = o as Record<string, unknown>;
  // Own keys only: a field named "constructor" or "toString" must not find Object.prototype's.
  const get = (field: string): unknown => (Object.hasOwn(rec, field) ? rec[field] : undefined);
  const str = (field: string): string => {
    const v = get(field);
    if (v === undefined) {
      const keys = Object.keys(rec);
      throw new DataError(file, line, `has no field "${field}"; it has ${keys.length ? keys.map((k) => `"${k}"`).join(', ') : 'no fields'} (set text_field / pair_field to the right key)`, field);
    }
    if (typeof v !== 'string') throw new DataError(file, line, `"${field}" is ${preview(v)}; it must be a string`, field);
    return v;
  };
  const ex: Example = { text: str(f.text), ref: { file, line } };
  if (f.pair !== undefined) ex.pair = str(f.pair);
  const lv = get(f.label);
  if (lv === undefined || lv === null) {
    if (f.labelNamed) throw new DataError(file, line, `has no label: "${f.label}" is ${lv === null ? 'null' : 'missing'}; give every example a label`, f.label);
  } else {
    ex.label = jsonLabel(lv, file, line, f.label);
  }
  return ex;
}

/**
 * RFC 4180 records, streamed: fields separated by `delim`, records by CRLF or LF; a field in double
 * quotes may hold the delimiter, newlines (kept exactly, CR included) and doubled quotes (""). A
 * quote inside an unquoted field is an ordinary character. Empty lines between records are skipped.
 */
async function* delimitedRecords(file: string, delim: string): AsyncGenerator<{ line: number; fields: string[] }[]> {
  const Q = 34, LF = 10, CR = 13, D = delim.charCodeAt(0);
  let line = 1; // current line
  let recLine = 1; // line where the current record started
  let fields: string[] = [];
  let field = '';
  // 0: at field start, 1: in an unquoted field, 2: in a quoted field, 3: just after a quote in a quoted field
  let state = 0;
  let pendingCR = false; // a CR seen outside quotes: dropped if a LF follows, kept otherwise
  let out: { line: number; fields: string[] }[] = [];
  const endRecord = () => {
    fields.push(field);
    out.push({ line: recLine, fields });
    fields = []; field = ''; state = 0;
  };
  for await (const chunk of decodedChunks(file, () => line)) {
    let i = 0;
    const n = chunk.length;
    try {
      while (i < n) {
        const c = chunk.charCodeAt(i);
        if (pendingCR) {
          pendingCR = false;
          // A lone CR (not before LF) is data: RFC 4180 ends records with CRLF; we also accept LF.
          if (c !== LF) {
            if (state === 3) throw new DataError(file, line, 'a quoted field is followed by a carriage return that ends no line; remove it or put it inside the quotes');
            field += '\r'; state = 1;
          }
        }
        if (state === 2) {
          // quoted: copy up to the next quote in one slice; count the newlines crossed
          const q = chunk.indexOf('"', i);
          const end = q === -1 ? n : q;
          const piece = chunk.slice(i, end);
          for (let k = piece.indexOf('\n'); k !== -1; k = piece.indexOf('\n', k + 1)) line++;
          field += piece;
          if (q === -1) { i = n; continue; }
          state = 3; i = q + 1; continue;
        }
        if (state === 3) {
          if (c === Q) { field += '"'; state = 2; i++; continue; }
          if (c === D) { fields.push(field); field = ''; state = 0; i++; continue; }
          if (c === LF) { endRecord(); line++; recLine = line; i++; continue; }
          if (c === CR) { pendingCR = true; i++; continue; }
          throw new DataError(file, line, `a quoted field is followed by ${preview(chunk.slice(i, i + 20))} instead of the delimiter or a line end; write a quote inside a quoted field as "" (two quotes)`);
        }
        if (c === LF) { if (state !== 0 || fields.length) endRecord(); line++; recLine = line; i++; continue; } // empty lines are skipped
        if (c === CR) { pendingCR = true; i++; continue; }
        if (c === D) { fields.push(field); field = ''; state = 0; i++; continue; }
        if (state === 0 && c === Q) { state = 2; i++; continue; }
        // unquoted run: copy up to the next special character
        state = 1;
        let j = i + 1;
        while (j < n) { const d = chunk.charCodeAt(j); if (d === D || d === LF || d === CR) break; j++; }
        field += chunk.slice(i, j);
        i = j;
      }
    } catch (e) { if (out.length) yield out; throw e; }
    if (out.length) { yield out; out = []; }
  }
  if (state === 2) throw new DataError(file, recLine, 'a quoted field opened in this record is never closed; close it with " (and write quotes inside it as "")');
  // A CR at the very end is a line end without its LF: dropped.
  if (state !== 0 || fields.length) endRecord();
  if (out.length) yield out;
}

async function* readDelimited(file: string, delim: ',' | '\t', f: Fields): Batches {
  let header: string[] | undefined;
  let col: { text: number; pair?: number; label?: number } | undefined;
  for await (const records of delimitedRecords(file, delim)) {
    const out: Example[] = [];
    try {
      for (const { line, fields } of records) {
        if (!header) {
          header = fields;
          const find = (name: string, what: string, required: boolean) => {
            const k = header!.indexOf(name);
            if (k === -1 && required) {
              throw new DataError(file, line, `has no column "${name}" (${what}); the columns are ${header!.map((h) => preview(h, 40)).join(', ')}. Set ${what} to one of them`, name);
            }
            return k === -1 ? undefined : k;
          };
          col = { text: find(f.text, 'text_field', true)!, pair: f.pair === undefined ? undefined : find(f.pair, 'pair_field', true), label: find(f.label, 'label_field', f.labelNamed) };
          continue;
        }
        if (fields.length === 1 && header.length > 1 && isBlank(fields[0]!)) continue; // a whitespace-only line
        if (fields.length !== header.length) {
          throw new DataError(file, line, `has ${fields.length} field${fields.length === 1 ? '' : 's'} but the header has ${header.length}; quote fields that contain ${delim === ',' ? 'commas' : 'tabs'} or line breaks`);
        }
        const ex: Example = { text: fields[col!.text]!, ref: { file, line } };
        if (col!.pair !== undefined) ex.pair = fields[col!.pair]!;
        if (col!.label !== undefined) ex.label = fields[col!.label]!;
        out.push(ex);
      }
    } catch (e) { if (out.length) yield out; throw e; }
    if (out.length) yield out;
  }
}

function readFile(file: string, format: DataFormat, spec: DatasetSpec): Batches {
  switch (format) {
    case 'text': return readText(file, spec.documents ?? 'line');
    case 'jsonl': return readJsonl(file, fieldsOf(spec));
    case 'csv': return readDelimited(file, ',', fieldsOf(spec));
    case 'tsv': return readDelimited(file, '\t', fieldsOf(spec));
    default: { const never: never = format; throw new DataError(spec.path, 0, `unknown format ${preview(never)}; use "text", "jsonl", "csv" or "tsv"`, 'format'); }
  }
}

/** The files a spec names, each with its format. */
async function filesOf(spec: DatasetSpec): Promise<{ file: string; format: DataFormat }[]> {
  const st = await statOrThrow(spec.path);
  if (st.isDirectory()) {
    const files = await folderFiles(spec.path);
    if (!files.length) throw new DataError(spec.path, 0, `is a folder with no data files; put .txt, .jsonl, .csv or .tsv files in it`);
    return files.map((file) => ({ file, format: spec.format ?? detectFormat(file)! }));
  }
  if (!st.isFile()) throw new DataError(spec.path, 0, 'is neither a file nor a folder');
  const format = spec.format ?? detectFormat(spec.path);
  if (!format) throw new DataError(spec.path, 0, `has an unknown extension ${preview(extname(spec.path))}; set "format" to "text", "jsonl", "csv" or "tsv"`, 'format');
  return [{ file: spec.path, format }];
}

/**
 * The examples of a dataset (a file, or a folder's data files in sorted order) in batches, one per
 * read chunk (a few thousand short lines), at most `maxExamples` in all. The fast way to stream.
 * Breaking out of the loop closes the file.
 */
export async function* readExampleBatches(spec: DatasetSpec | string, opts: { maxExamples?: number } = {}): AsyncGenerator<Example[]> {
  const s: DatasetSpec = typeof spec === 'string' ? { path: spec } : spec;
  let left = opts.maxExamples ?? Infinity;
  if (left <= 0) return;
  for (const { file, format } of await filesOf(s)) {
    for await (const batch of readFile(file, format, s)) {
      if (batch.length >= left) { yield batch.slice(0, left); return; }
      yield batch;
      left -= batch.length;
    }
  }
}

/** The examples of a dataset one by one (see readExampleBatches). */
export async function* readExamples(spec: DatasetSpec | string, opts: { maxExamples?: number } = {}): AsyncGenerator<Example> {
  for await (const batch of readExampleBatches(spec, opts)) yield* batch;
}

/**
 * Lines in a file (a final line without a newline counts; an empty file has 0), or the sum over a
 * folder's data files. Counts raw bytes, so it is fast and streams.
 */
export async function countLines(path: string): Promise<number> {
  const st = await statOrThrow(path);
  if (st.isDirectory()) {
    let total = 0;
    for (const f of await folderFiles(path)) total += await countLines(f);
    return total;
  }
  let count = 0, last = -1;
  const stream = createReadStream(path, { highWaterMark: CHUNK });
  try {
    for await (const buf of stream as AsyncIterable<Buffer>) {
      for (let k = buf.indexOf(10); k !== -1; k = buf.indexOf(10, k + 1)) count++;
      if (buf.length) last = buf[buf.length - 1]!;
    }
  } catch (e) {
    throw new DataError(path, 0, `could not be read: ${(e as Error).message}`);
  } finally {
    stream.destroy();
  }
  return last !== -1 && last !== 10 ? count + 1 : count;
}

/** For messages: where an example came from. */
export const where = (ref: SourceRef): string => `${ref.file}:${ref.line}`;

/**
 * Configuration source text → value, with the line and column of every key (and list item), so
 * that each diagnostic points at its field: a strict JSON reader of our own, and YAML through the
 * yaml package.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';

export interface ConfigDiagnostic {
  /** 1-based line and column (UTF-16 units) of the field's key, or of the value for list items. */
  line: number;
  column: number;
  /** Dotted path: learning_rate, tasks[0].train_file, model_config.hidden_size; "" for the file. */
  field: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface Pos { line: number; column: number }
export type Positions = Map<string, Pos>;
export const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
// ---- source text → value and key positions -----------------------------------------------------

export interface Source { value: unknown; positions: Positions; diagnostics: ConfigDiagnostic[] }

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}
function posAt(starts: number[], offset: number): Pos {
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid]! <= offset) lo = mid; else hi = mid - 1; }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}

class JsonSyntax extends Error { constructor(readonly offset: number, message: string) { super(message); } }

/** Strict JSON (RFC 8259) with the position of every key; duplicate keys are reported. */
export function readJson(text: string): Source {
  const starts = lineStarts(text);
  const positions: Positions = new Map();
  const diagnostics: ConfigDiagnostic[] = [];
  let i = 0;
  const at = (k: number) => (k >= text.length ? 'the end of the file' : JSON.stringify(text[k]));
  const ws = () => {
    for (;;) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
      else if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) throw new JsonSyntax(i, 'JSON has no comments; remove it, or write the configuration in YAML (.yaml), which has # comments');
      else return;
    }
  };
  const string = (): string => {
    const start = i++;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        try { return JSON.parse(text.slice(start, i)) as string; } catch { throw new JsonSyntax(start, 'this string has an invalid escape sequence'); }
      }
      if (c === 92) i++;
      else if (c < 32) throw new JsonSyntax(i, c === 10 ? 'this string is not closed on its line; add the closing "' : 'this string contains a control character; escape it');
    }
    throw new JsonSyntax(start, 'this string is not closed; add the closing "');
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (path: string): unknown => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      const seen = new Map<string, Pos>();
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        if (text[i] !== '"') throw new JsonSyntax(i, text[i] === '}' ? 'JSON allows no comma before "}"; remove it' : `expected a field name in double quotes, found ${at(i)}`);
        const keyPos = posAt(starts, i);
        const key = string();
        const p = join(path, key);
        ws();
        if (text[i] !== ':') throw new JsonSyntax(i, `expected ":" after "${key}", found ${at(i)}`);
        i++;
        const first = seen.get(key);
        if (first) diagnostics.push({ ...keyPos, field: p, severity: 'error', message: `${p} appears twice (first on line ${first.line}); keep one` });
        seen.set(key, keyPos);
        positions.set(p, keyPos);
        Object.defineProperty(obj, key, { value: value(p), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        throw new JsonSyntax(i, `expected "," or "}" after the value of "${key}", found ${at(i)}`);
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        ws();
        if (text[i] === ']') throw new JsonSyntax(i, 'JSON allows no comma before "]"; remove it');
        const p = `${path}[${arr.length}]`;
        positions.set(p, posAt(starts, i));
        arr.push(value(p));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        throw new JsonSyntax(i, `expected "," or "]" in the list ${path}, found ${at(i)}`);
      }
    }
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) { i += m[0].length; return Number(m[0]); }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) if (text.startsWith(word, i)) { i += word.length; return v; }
    if (c === "'") throw new JsonSyntax(i, 'JSON strings take double quotes ("), not single quotes');
    throw new JsonSyntax(i, `expected a value${path ? ` for ${path}` : ''}, found ${at(i)}`);
  };
  try {
    ws();
    positions.set('', posAt(starts, i));
    const v = value('');
    ws();
    if (i < text.length) throw new JsonSyntax(i, `unexpected ${at(i)} after the end of the JSON value`);
    return { value: v, positions, diagnostics };
  } catch (e) {
    if (!(e instanceof JsonSyntax)) throw e;
    return { value: undefined, positions, diagnostics: [{ ...posAt(starts, e.offset), field: '', severity: 'error', message: `JSON syntax: ${e.message}` }] };
  }
}

/** YAML 1.2 (the yaml package), with the position of every key and list item. */
export function readYaml(text: string): Source {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const pos = (offset: number): Pos => { const p = lc.linePos(offset); return { line: p.line, column: p.col }; };
  const diagnostics: ConfigDiagnostic[] = [];
  for (const e of doc.errors) diagnostics.push({ ...pos(e.pos[0]), field: '', severity: 'error', message: `YAML syntax: ${e.message}` });
  for (const w of doc.warnings) diagnostics.push({ ...pos(w.pos[0]), field: '', severity: 'warning', message: `YAML: ${w.message}` });
  const positions: Positions = new Map([['', { line: 1, column: 1 }]]);
  const walk = (node: unknown, path: string): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const p = join(path, key);
        const range = isScalar(pair.key) ? pair.key.range : undefined;
        if (range) positions.set(p, pos(range[0]));
        walk(pair.value, p);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, k) => {
        const p = `${path}[${k}]`;
        const range = (item as { range?: [number, number, number] | null }).range;
        if (range) positions.set(p, pos(range[0]));
        walk(item, p);
      });
    }
  };
  walk(doc.contents, '');
  if (doc.contents) { const r = doc.contents.range; positions.set('', pos(r[0])); }
  return { value: doc.errors.length ? undefined : doc.toJS({ maxAliasCount: 100 }), positions, diagnostics };
}


/**
 * The training configuration checked against its field table (config-fields.ts): types, ranges,
 * enums, required and unknown fields (with "did you mean"), each problem a diagnostic at its
 * field's line and column (config-source.ts). The checker sees exactly what the user wrote: it
 * fills in no defaults and resolves no paths (config-defaults.ts does, once the config is valid).
 */
import { ConfigError } from '../models/bert/config.js';
import { type ConfigDiagnostic, type Pos, type Positions, join } from './config-source.js';
import { type Field, IGNORED_HF_FIELDS, type Spec, accepts } from './config-fields.js';

// ---- diagnostics ------------------------------------------------------------------------------

export class TrainingConfigError extends ConfigError {
  override name = 'TrainingConfigError';
  constructor(readonly file: string, readonly diagnostics: ConfigDiagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super(`${file}: ${errors.length} ${errors.length === 1 ? 'problem' : 'problems'} in the training configuration:\n${errors.map((d) => `  ${file}:${d.line}:${d.column}: ${d.message}`).join('\n')}`);
  }
}

/** A value as messages quote it: JSON, NaN/Infinity by name, long values cut. */
export const fmt = (v: unknown): string => {
  const s = typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}…` : s;
};

// ---- names: typos and habits -------------------------------------------------------------------

/** Optimal-string-alignment distance: edits, with a swap of neighbours counting as one. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest known name, if it is close enough to be a typo, or the one name it begins. */
export function suggest(name: string, known: Iterable<string>): string | undefined {
  const starts = [...known].filter((k) => name.length >= 3 && k.toLowerCase().startsWith(name.toLowerCase()));
  if (starts.length === 1) return starts[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) { best = k; bestD = d; }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Names people bring from HF scripts or habit, and what BERT Lab calls them. */
const ALIASES: Record<string, string> = {
  evaluation_strategy: 'eval_strategy (renamed in transformers 4.41)',
  lr: 'learning_rate', epochs: 'num_train_epochs', num_epochs: 'num_train_epochs',
  batch_size: 'per_device_train_batch_size', train_batch_size: 'per_device_train_batch_size', eval_batch_size: 'per_device_eval_batch_size',
  per_gpu_train_batch_size: 'per_device_train_batch_size', per_gpu_eval_batch_size: 'per_device_eval_batch_size',
  scheduler: 'lr_scheduler_type', model: 'model_name_or_path', model_name: 'model_name_or_path', config_name: 'model_config (the BertConfig fields themselves)',
  dataset_name: 'train_file (BERT Lab reads local files)', max_length: 'max_seq_length', block_size: 'max_seq_length',
  revision: 'model_revision', model_id: 'model_name_or_path', tokenizer: 'tokenizer_name',
};

// ---- validation against the table --------------------------------------------------------------

/** What a field takes, in words: "a positive integer", "one of "no", "steps", "epoch"". */
function describe(s: Spec): string {
  switch (s.type) {
    case 'string':
      if (s.enum) return s.enum.length === 1 ? `"${s.enum[0]}"` : `one of ${s.enum.map((e) => `"${e}"`).join(', ')}`;
      if (s.patternText) return `a name of ${s.patternText}`;
      return s.path ? 'a path (a string)' : 'a string';
    case 'number':
    case 'integer': {
      const what = s.type === 'integer' ? 'an integer' : 'a number';
      const lo = s.exclusiveMinimum ?? s.minimum;
      const hi = s.exclusiveMaximum ?? s.maximum;
      if (hi === undefined) {
        if (lo === undefined) return what;
        if (lo === 0 && s.exclusiveMinimum !== undefined) return `a positive ${s.type}`;
        if (lo === 1 && s.type === 'integer') return 'a positive integer';
        return `${what} ${s.exclusiveMinimum !== undefined ? '>' : '≥'} ${lo}`;
      }
      if (lo === undefined) return `${what} ${s.exclusiveMaximum !== undefined ? '<' : '≤'} ${hi}`;
      return `${what} in ${s.exclusiveMinimum !== undefined ? '(' : '['}${lo}, ${hi}${s.exclusiveMaximum !== undefined ? ')' : ']'}`;
    }
    case 'boolean': return 'true or false';
    case 'null': return 'null';
    case 'object': return `an object with the fields ${Object.keys(s.properties).join(', ')}`;
    case 'map': return 'an object';
    case 'array': return `a list${s.minItems ? ' (not empty)' : ''}, each ${describe(s.items)}`;
    case 'anyOf': return s.anyOf.map((a) => (a.type === 'object' ? 'an object {path, format, …}' : describe(a))).join(' or ');
  }
}

/** Collects diagnostics, each at its field's position; checks values against the field table. */
export class Checker {
  readonly diagnostics: ConfigDiagnostic[] = [];
  constructor(private readonly positions: Positions) {}

  /** Where a field is, or else its nearest enclosing object. */
  at(field: string): Pos {
    for (let p = field; ;) {
      const pos = this.positions.get(p);
      if (pos) return pos;
      if (p === '') return { line: 1, column: 1 };
      const parent = p.replace(/(\.[^.[\]]*|\[\d+\])$/, '');
      p = parent === p ? '' : parent;
    }
  }
  error(field: string, message: string): void { this.diagnostics.push({ ...this.at(field), field, message, severity: 'error' }); }
  warn(field: string, message: string): void { this.diagnostics.push({ ...this.at(field), field, message, severity: 'warning' }); }
  hasErrorsUnder(prefix: string): boolean { return this.diagnostics.some((d) => d.severity === 'error' && (d.field === prefix || d.field.startsWith(`${prefix}.`) || d.field.startsWith(`${prefix}[`))); }

  /**
   * The value checked against its field: the value as written when it is right, undefined when
   * it is wrong (reported). Objects keep only their right fields (unknown and ignored ones are
   * reported and dropped); no defaults are filled in and no paths resolved.
   */
  check(v: unknown, f: Field, path: string): unknown {
    if (!accepts(f, v)) {
      let hint = '';
      if (typeof v === 'string' && (f.type === 'number' || f.type === 'integer') && v.trim() !== '' && Number.isFinite(Number(v))) hint = '; write the number without quotes';
      if ((v === 'true' || v === 'false') && f.type === 'boolean') hint = '; write true or false without quotes';
      this.error(path, `${path} is ${fmt(v)}; it must be ${f.expected ?? describe(f)}${hint}${f.default !== undefined ? ` (default ${fmt(f.default)})` : ''}`);
      return undefined;
    }
    switch (f.type) {
      case 'string':
        if ((f.enum && !f.enum.includes(v as string)) || (f.pattern && !new RegExp(f.pattern).test(v as string))) {
          const near = f.enum ? suggest(v as string, f.enum) : undefined;
          this.error(path, `${path} is ${fmt(v)}; it must be ${f.expected ?? describe(f)}${near ? ` — did you mean "${near}"?` : ''}`);
          return undefined;
        }
        if (f.path && v === '') { this.error(path, `${path} is empty; give a path`); return undefined; }
        return v;
      case 'number':
      case 'integer': {
        const x = v as number;
        const ok = Number.isFinite(x) && (f.type === 'number' || Number.isInteger(x))
          && (f.minimum === undefined || x >= f.minimum) && (f.maximum === undefined || x <= f.maximum)
          && (f.exclusiveMinimum === undefined || x > f.exclusiveMinimum) && (f.exclusiveMaximum === undefined || x < f.exclusiveMaximum);
        if (!ok) { this.error(path, `${path} is ${fmt(x)}; it must be ${f.expected ?? describe(f)}${f.default !== undefined ? ` (default ${fmt(f.default)})` : ''}`); return undefined; }
        return x;
      }
      case 'boolean':
      case 'null':
        return v;
      case 'array':
        if (f.minItems && (v as unknown[]).length < f.minItems) { this.error(path, `${path} is empty; give at least ${f.minItems} ${f.minItems === 1 ? 'entry' : 'entries'}`); return undefined; }
        return (v as unknown[]).map((item, k) => this.check(item, f.items, `${path}[${k}]`));
      case 'map': {
        const out: Record<string, unknown> = {};
        for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
          if (f.keyPattern && !new RegExp(f.keyPattern).test(k)) this.error(join(path, k), `${path} has the key ${fmt(k)}; its keys must match ${f.keyPattern}`);
          else out[k] = this.check(item, f.values, join(path, k));
        }
        return out;
      }
      case 'anyOf': {
        const alt = f.anyOf.find((a) => accepts(a, v))!;
        return this.check(v, f.expected ? { ...alt, expected: f.expected } : alt, path);
      }
      case 'object':
        return this.object(v as Record<string, unknown>, f.properties, path);
    }
  }

  /** An object's right fields, in the order written; wrong, unknown, ignored and missing required fields reported. */
  object(v: Record<string, unknown>, fields: Readonly<Record<string, Field>>, path: string, extraKeys: readonly string[] = []): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const where = path || 'the training configuration';
    for (const [k, item] of Object.entries(v)) {
      const p = join(path, k);
      const f = Object.hasOwn(fields, k) ? fields[k] : undefined;
      if (f) { const c = this.check(item, f, p); if (c !== undefined) out[k] = c; continue; }
      if (extraKeys.includes(k)) continue;
      if (path === '' && IGNORED_HF_FIELDS.has(k)) { this.warn(p, `${k} is a Hugging Face TrainingArguments field that BERT Lab does not implement; it is ignored — remove it`); continue; }
      const alias = path === '' ? ALIASES[k] : undefined;
      const near = alias ?? suggest(k, Object.keys(fields));
      this.error(p, `${p} is not a field of ${where}${near ? `; did you mean ${alias ? alias : `"${near}"`}?` : Object.keys(fields).length <= 8 ? `; its fields are ${Object.keys(fields).join(', ')}` : '; see schemas/training-config.schema.json for the fields'}`);
    }
    for (const [k, f] of Object.entries(fields)) {
      if (f.required && !Object.hasOwn(v, k)) this.error(join(path, k), `${join(path, k)} is missing in ${where}; it must be ${describe(f)}${f.description ? ` — ${f.description}` : ''}`);
    }
    return out;
  }
}

/**
 * The label set of a classification dataset, inferred from its training examples, and the
 * encoding of each example's label as the model's target. The mapping is written as config.json's
 * id2label / label2id / problem_type, as Hugging Face does (run_glue.py infers it the same way:
 * sorted names for classification, regression for floats).
 */
import { DataError, preview, where as at } from './readers.js';
import type { Example, Label, ProblemType, SourceRef } from './types.js';

/**
 * A label as read: a name or id, a value (regression), or a list of names/ids (multi-label).
 * Wider than types.ts's `Label`, which spells lists as number[] only; JSONL lists of names arrive here too.
 */
export type LabelValue = Label | (string | number)[];

export interface LabelMapping {
  /** Class id (as a string key, as in config.json) → name. */
  id2label: Record<string, string>;
  label2id: Record<string, number>;
  problemType: ProblemType;
}


const NUMERIC = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
/** The number a label stands for (a number, or a string that spells one), else undefined. */
function numeric(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  return NUMERIC.test(v) ? Number(v) : undefined;
}

/**
 * Natural order: numbers by value ("2" < "10", "-2" < "-1"), and within other names, runs of
 * digits by value ("label2" < "label10"); the rest by code point, so the order is the same everywhere.
 */
export function naturalCompare(a: string, b: string): number {
  const na = numeric(a), nb = numeric(b);
  if (na !== undefined && nb !== undefined && na !== nb) return na - nb;
  if ((na === undefined) !== (nb === undefined)) return na !== undefined ? -1 : 1;
  const ta = a.match(/\d+|\D+/g) ?? [], tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!, y = tb[i]!;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const xs = x.replace(/^0+(?=\d)/, ''), ys = y.replace(/^0+(?=\d)/, '');
      if (xs.length !== ys.length) return xs.length - ys.length;
      if (xs !== ys) return xs < ys ? -1 : 1;
      return x.length - y.length; // "01" after "1": equal value, keep the order total
    }
    return x < y ? -1 : 1;
  }
  if (ta.length !== tb.length) return ta.length - tb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The label set of the training examples. Names are sorted naturally and numbered from 0, so
 * integer labels 0..n−1 keep their values as ids (with gaps, ids are compacted and id2label tells
 * which is which). Without `problemType`: any list → multi-label; any fractional number (or
 * string spelling one) → regression; otherwise single-label. Every example must have a label.
 */
export async function inferLabels(examples: AsyncIterable<Example> | Iterable<Example>, problemType?: ProblemType): Promise<LabelMapping> {
  const names = new Set<string>();
  let count = 0;
  let firstList: SourceRef | undefined, firstFraction: SourceRef | undefined;
  let firstNonNumeric: { ref: SourceRef; label: string } | undefined;
  for await (const ex of examples) {
    count++;
    const label = ex.label as LabelValue | undefined;
    if (label === undefined) {
      throw new DataError(ex.ref.file, ex.ref.line, 'has no label; every training example of a classification task needs one (check label_field)', 'label');
    }
    const items = Array.isArray(label) ? label : [label];
    if (Array.isArray(label)) {
      firstList ??= ex.ref;
      if (problemType === 'single_label_classification' || problemType === 'regression') {
        throw new DataError(ex.ref.file, ex.ref.line, `label ${preview(label)} is a list, but problem_type is "${problemType}"; use one label per example, or problem_type "multi_label_classification"`, 'label');
      }
    }
    for (const v of items) {
      const n = numeric(v);
      if (n === undefined) firstNonNumeric ??= { ref: ex.ref, label: String(v) };
      else if (!Number.isInteger(n)) firstFraction ??= ex.ref;
      if (problemType === 'regression') {
        if (n === undefined) throw new DataError(ex.ref.file, ex.ref.line, `label ${preview(v)} is not a number, but problem_type is "regression"`, 'label');
      } else if (!(problemType === undefined && firstFraction)) {
        names.add(String(v)); // regression needs no names: a large set of distinct values is never kept
      }
    }
    if (problemType === undefined && firstList && firstFraction) {
      throw new DataError(ex.ref.file, ex.ref.line, `labels mix lists (multi-label, as at ${at(firstList)}) and fractional numbers (regression, as at ${at(firstFraction)}); fix the labels, or set problem_type`, 'label');
    }
  }
  if (count === 0) throw new DataError('the training data', 0, 'has no examples, so there are no labels to learn; check the train_file path and format');

  const kind: ProblemType = problemType ?? (firstList ? 'multi_label_classification' : firstFraction ? 'regression' : 'single_label_classification');
  if (kind === 'regression') {
    if (firstNonNumeric) {
      const { ref, label } = firstNonNumeric;
      throw new DataError(ref.file, ref.line, `label ${preview(label)} is not a number, but other labels are fractional numbers (as at ${at(firstFraction!)}), which means regression; fix the label, or set problem_type to "single_label_classification"`, 'label');
    }
    return { id2label: { 0: 'LABEL_0' }, label2id: { LABEL_0: 0 }, problemType: kind }; // one output, named as HF names it
  }
  const sorted = [...names].sort(naturalCompare);
  // fromEntries defines own properties, so names like "__proto__" or "constructor" are safe keys.
  return {
    id2label: Object.fromEntries(sorted.map((name, i) => [String(i), name])),
    label2id: Object.fromEntries(sorted.map((name, i) => [name, i])),
    problemType: kind,
  };
}

function classId(v: string | number, mapping: LabelMapping, ref: SourceRef): number {
  const key = String(v);
  if (Object.hasOwn(mapping.label2id, key)) return mapping.label2id[key]!;
  const known = Object.keys(mapping.label2id);
  const list = known.length > 20 ? `${known.slice(0, 20).join(', ')}, … (${known.length - 20} more)` : known.join(', ');
  throw new DataError(ref.file, ref.line, `label ${preview(v)} at ${at(ref)} is not one of: ${list}. Fix the label, or add examples of it to the training data (the labels are read from there)`, 'label');
}

/**
 * An example's target: its class id (single-label), a 0/1 vector over the classes (multi-label;
 * a single name counts as a list of one), or its value (regression).
 */
export function encodeLabel(label: LabelValue | undefined, mapping: LabelMapping, ref: SourceRef): number | number[] {
  if (label === undefined) throw new DataError(ref.file, ref.line, 'has no label; every example of a classification task needs one (check label_field)', 'label');
  switch (mapping.problemType) {
    case 'single_label_classification':
      if (Array.isArray(label)) throw new DataError(ref.file, ref.line, `label ${preview(label)} is a list, but the task is single-label; use one label, or problem_type "multi_label_classification"`, 'label');
      return classId(label, mapping, ref);
    case 'multi_label_classification': {
      const hot = new Array<number>(Object.keys(mapping.id2label).length).fill(0);
      for (const v of Array.isArray(label) ? label : [label]) hot[classId(v, mapping, ref)] = 1;
      return hot;
    }
    case 'regression': {
      const n = Array.isArray(label) ? undefined : numeric(label);
      if (n === undefined) throw new DataError(ref.file, ref.line, `label ${preview(label)} is not a number, but the task is regression`, 'label');
      return n;
    }
    default: { const never: never = mapping.problemType; throw new Error(`unknown problem_type ${preview(never)}`); }
  }
}

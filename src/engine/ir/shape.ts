/**
 * Static shapes with symbolic dimensions. A dimension is a number or a name ("batch", "seq").
 * Products of names are spelled "a*b" so that Reshape can merge and split symbolic dims.
 */
export type Dim = number | string;
export type Shape = readonly Dim[];

export const fmtShape = (s: Shape): string => `[${s.join(', ')}]`;

export function sameDim(a: Dim, b: Dim): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  return factor(a).key === factor(b).key && factor(a).coef === factor(b).coef;
}

export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => sameDim(d, b[i]!));

/** A dim as coefficient × product of symbols (sorted), so "b*t" equals "t*b". */
interface Factored { coef: number; syms: string[]; key: string }
function factor(d: Dim): Factored {
  if (typeof d === 'number') return { coef: d, syms: [], key: '' };
  let coef = 1;
  const syms: string[] = [];
  for (const part of d.split('*').map((p) => p.trim())) {
    if (/^\d+$/.test(part)) coef *= Number(part);
    else syms.push(part);
  }
  syms.sort();
  return { coef, syms, key: syms.join('*') };
}
function unfactor(f: { coef: number; syms: string[] }): Dim {
  if (f.syms.length === 0) return f.coef;
  return f.coef === 1 ? f.syms.join('*') : [String(f.coef), ...f.syms].join('*');
}

/** Product of dims, symbolic where needed. */
export function dimProduct(dims: Shape): Dim {
  let coef = 1;
  const syms: string[] = [];
  for (const d of dims) {
    const f = factor(d);
    coef *= f.coef;
    syms.push(...f.syms);
  }
  syms.sort();
  return unfactor({ coef, syms });
}

/** a / b when it divides exactly (symbol multisets included), else undefined. */
export function dimDivide(a: Dim, b: Dim): Dim | undefined {
  const fa = factor(a), fb = factor(b);
  if (fb.coef === 0 || fa.coef % fb.coef !== 0) return undefined;
  const rest = [...fa.syms];
  for (const s of fb.syms) {
    const i = rest.indexOf(s);
    if (i < 0) return undefined;
    rest.splice(i, 1);
  }
  return unfactor({ coef: fa.coef / fb.coef, syms: rest });
}

/** Numpy broadcasting of several shapes; undefined when not provably compatible. */
export function broadcastShapes(...shapes: Shape[]): Dim[] | undefined {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = i - (rank - s.length);
      if (k < 0) continue;
      const e = s[k]!;
      if (e === 1) continue;
      if (d === 1) d = e;
      else if (!sameDim(d, e)) return undefined;
    }
    out.push(d);
  }
  return out;
}

export const numel = (s: Shape): number | undefined =>
  s.every((d) => typeof d === 'number') ? (s as number[]).reduce((a, b) => a * b, 1) : undefined;

export function normAxis(axis: number, rank: number, what: () => string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${what()}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

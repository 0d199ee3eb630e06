/**
 * Runtime checks for what crosses between the extension host and its webviews. Each checker
 * returns the value typed, or throws a MessageError naming the path of the bad field and what it
 * held; the message types are inferred from the checkers (one source of truth). Plain TS: no DOM,
 * no vscode, no Node; used on both sides.
 */
export class MessageError extends Error {
  constructor(readonly path: string, message: string) { super(`${path}: ${message}`); }
}

export type Check<T> = (v: unknown, path: string) => T;
export type Infer<C> = C extends Check<infer T> ? T : never;

const show = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return Object.prototype.toString.call(v).slice(8, -1);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
};
const fail = (path: string, want: string, v: unknown): never => { throw new MessageError(path, `expected ${want}, got ${show(v)}`); };

/** A string of at most `max` UTF-16 units (default 1 MiB units: texts and data URLs are bounded). */
export const str = (max = 2 ** 20): Check<string> => (v, p) => (typeof v === 'string' ? (v.length <= max ? v : fail(p, `a string of at most ${max} characters`, `${v.length} characters`)) : fail(p, 'a string', v));
/** A finite number. */
export const num: Check<number> = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(p, 'a finite number', v));
/** An integer in [min, max]. */
export const int = (min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Check<number> => (v, p) => (Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : fail(p, `an integer in [${min}, ${max}]`, v));
export const bool: Check<boolean> = (v, p) => (typeof v === 'boolean' ? v : fail(p, 'true or false', v));
export const lit = <const T extends readonly (string | number | boolean)[]>(...values: T): Check<T[number]> => (v, p) => (values.includes(v as T[number]) ? (v as T[number]) : fail(p, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v));
export const nullable = <T>(c: Check<T>): Check<T | null> => (v, p) => (v === null || v === undefined ? null : c(v, p));
export const arr = <T>(c: Check<T>, max = 1_000_000): Check<T[]> => (v, p) => {
  if (!Array.isArray(v)) return fail(p, 'an array', v);
  if (v.length > max) return fail(p, `an array of at most ${max}`, v);
  return v.map((x, i) => c(x, `${p}[${i}]`));
};
/** A plain object whose values all pass `c` (at most `max` keys). */
export const record = <T>(c: Check<T>, max = 10_000): Check<Record<string, T>> => (v, p) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return fail(p, 'an object', v);
  const keys = Object.keys(v);
  if (keys.length > max) return fail(p, `an object of at most ${max} keys`, `${keys.length} keys`);
  const out: Record<string, T> = Object.create(null) as Record<string, T>;
  for (const k of keys) out[k] = c((v as Record<string, unknown>)[k], `${p}.${k}`);
  return out;
};
const typed = <T extends ArrayBufferView>(name: string): ((max?: number) => Check<T>) => (max = 2 ** 28) => (v, p) => {
  if (!ArrayBuffer.isView(v) || Object.prototype.toString.call(v) !== `[object ${name}]`) return fail(p, `a ${name}`, v);
  return (v as unknown as { length: number }).length <= max ? (v as T) : fail(p, `a ${name} of at most ${max} elements`, v);
};
export const f32 = typed<Float32Array>('Float32Array');
export const u8 = typed<Uint8Array>('Uint8Array');

type Shape = Record<string, Check<unknown>>;
type Optional<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
export type ObjOf<S extends Shape> = { [K in Exclude<keyof S, Optional<S>>]: Infer<S[K]> } & { [K in Optional<S>]?: Infer<S[K]> };
/** A field that may be absent. */
export const opt = <T>(c: Check<T>): Check<T | undefined> => (v, p) => (v === undefined ? undefined : c(v, p));
/** An object with exactly these fields: a missing required field or an unknown one is an error. */
export const obj = <S extends Shape>(shape: S): Check<ObjOf<S>> => (v, p) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return fail(p, 'an object', v);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in shape)) throw new MessageError(`${p}.${k}`, 'unknown field');
  const out: Record<string, unknown> = {};
  for (const [k, c] of Object.entries(shape)) {
    const x = c(o[k], `${p}.${k}`);
    if (x !== undefined) out[k] = x;
  }
  return out as ObjOf<S>;
};

type Members = Record<string, Shape>;
export type UnionOf<M extends Members> = { [K in keyof M]: { type: K } & ObjOf<M[K]> }[keyof M];
/** A discriminated union on `type`: each member's fields are checked as `obj` checks them. */
export const union = <M extends Members>(members: M): Check<UnionOf<M>> => {
  const checks = Object.fromEntries(Object.entries(members).map(([k, s]) => [k, obj({ ...s, type: lit(k) })]));
  return (v, p) => {
    const t = typeof v === 'object' && v !== null ? (v as { type?: unknown }).type : undefined;
    if (typeof t !== 'string' || !Object.prototype.hasOwnProperty.call(checks, t)) throw new MessageError(`${p}.type`, `unknown message type ${show(t)}`);
    return checks[t]!(v, p) as UnionOf<M>;
  };
};

/** Checks a received value: the typed message, or why it was refused (for the log). */
export function validate<T>(c: Check<T>, v: unknown): { ok: true; value: T } | { ok: false; error: string } {
  try {
    return { ok: true, value: c(v, 'message') };
  } catch (e) {
    if (e instanceof MessageError) return { ok: false, error: e.message };
    throw e;
  }
}

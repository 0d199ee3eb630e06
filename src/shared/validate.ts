/**
 * Runtime checks for what crosses between the extension host and its webviews. Each checker
 * returns the value typed, or throws a MessageError naming the path of the bad field and what it
 * held (the path is assembled only when a check fails, so valid messages cost no strings); the message types are inferred from the checkers (one source of truth). Plain TS: no DOM,
 * no vscode, no Node; used on both sides.
 */
export class MessageError extends Error {
  /** Where the bad value sits, outermost first: ".rows", "[3]", ".step". */
  readonly segments: string[] = [];
  constructor(readonly reason: string) { super(reason); }
  /** The path as text from `root` (e.g. "message.rows[3].step"). */
  at(root = 'message'): string { return `${root}${this.segments.join('')}`; }
  /** Called while the error unwinds through containers: paths cost nothing unless a check fails. */
  prepend(segment: string): this { this.segments.unshift(segment); this.message = `${this.at()}: ${this.reason}`; return this; }
}

/** Runs `f`; a MessageError from inside gets `segment` put in front of its path. */
const within = <T>(segment: string, f: () => T): T => {
  try { return f(); } catch (e) { throw e instanceof MessageError ? e.prepend(segment) : e; }
};

export type Check<T> = (v: unknown) => T;
export type Infer<C> = C extends Check<infer T> ? T : never;

const show = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return Object.prototype.toString.call(v).slice(8, -1);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
};
const fail = (want: string, v: unknown): never => { throw new MessageError(`expected ${want}, got ${show(v)}`); };

/** A string of at most `max` UTF-16 units (default 1 MiB units: texts and data URLs are bounded). */
export const str = (max = 2 ** 20): Check<string> => (v) => (typeof v === 'string' ? (v.length <= max ? v : fail(`a string of at most ${max} characters`, `${v.length} characters`)) : fail('a string', v));
/** A finite number. */
export const num: Check<number> = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : fail('a finite number', v));
/** An integer in [min, max]. */
export const int = (min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Check<number> => (v) => (Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : fail(`an integer in [${min}, ${max}]`, v));
export const bool: Check<boolean> = (v) => (typeof v === 'boolean' ? v : fail('true or false', v));
export const lit = <const T extends readonly (string | number | boolean)[]>(...values: T): Check<T[number]> => (v) => (values.includes(v as T[number]) ? (v as T[number]) : fail(`one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v));
export const nullable = <T>(c: Check<T>): Check<T | null> => (v) => (v === null || v === undefined ? null : c(v));
export const arr = <T>(c: Check<T>, max = 1_000_000): Check<T[]> => (v) => {
  if (!Array.isArray(v)) return fail('an array', v);
  if (v.length > max) return fail(`an array of at most ${max}`, v);
  const out = new Array<T>(v.length);
  let i = 0;
  try { for (; i < v.length; i++) out[i] = c(v[i]); } catch (e) { throw e instanceof MessageError ? e.prepend(`[${i}]`) : e; }
  return out;
};
/**
 * A plain object whose values all pass `c` (at most `max` keys), checked in place. A "__proto__"
 * key is refused: assigned elsewhere, it would change an object's prototype.
 */
export const record = <T>(c: Check<T>, max = 10_000): Check<Record<string, T>> => (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return fail('an object', v);
  const o = v as Record<string, unknown>, keys = Object.keys(o);
  if (keys.length > max) return fail(`an object of at most ${max} keys`, `${keys.length} keys`);
  let i = 0;
  try {
    for (; i < keys.length; i++) {
      const k = keys[i]!;
      if (k === '__proto__') throw new MessageError('a reserved key');
      const before = o[k], x = c(before);
      if (x !== before) o[k] = x;
    }
  } catch (e) { throw e instanceof MessageError ? e.prepend(`.${keys[i]}`) : e; }
  return o as Record<string, T>;
};
const typed = <T extends ArrayBufferView>(name: string): ((max?: number) => Check<T>) => (max = 2 ** 28) => (v) => {
  if (!ArrayBuffer.isView(v) || Object.prototype.toString.call(v) !== `[object ${name}]`) return fail(`a ${name}`, v);
  return (v as unknown as { length: number }).length <= max ? (v as T) : fail(`a ${name} of at most ${max} elements`, v);
};
export const f32 = typed<Float32Array>('Float32Array');
export const u8 = typed<Uint8Array>('Uint8Array');

type Shape = Record<string, Check<unknown>>;
type Optional<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
export type ObjOf<S extends Shape> = { [K in Exclude<keyof S, Optional<S>>]: Infer<S[K]> } & { [K in Optional<S>]?: Infer<S[K]> };
/** A field that may be absent. */
export const opt = <T>(c: Check<T>): Check<T | undefined> => (v) => (v === undefined ? undefined : c(v));
/** An object with exactly these fields: a missing required field or an unknown one is an error. */
export const obj = <S extends Shape>(shape: S): Check<ObjOf<S>> => {
  const fields = Object.entries(shape), known = new Set(Object.keys(shape));
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return fail('an object', v);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!known.has(k)) throw new MessageError('unknown field').prepend(`.${k}`);
    // The received object is checked in place (it has no other owner): a field is rewritten only
    // when its checker changed it (undefined → null).
    let i = 0;
    try {
      for (; i < fields.length; i++) {
        const [key, c] = fields[i]!, before = o[key], x = c(before);
        if (x !== before) o[key] = x;
      }
    } catch (e) { throw e instanceof MessageError ? e.prepend(`.${fields[i]![0]}`) : e; }
    return o as ObjOf<S>;
  };
};

type Members = Record<string, Shape>;
export type UnionOf<M extends Members> = { [K in keyof M]: { type: K } & ObjOf<M[K]> }[keyof M];
/** A discriminated union on `type`: each member's fields are checked as `obj` checks them. */
export const union = <M extends Members>(members: M): Check<UnionOf<M>> => {
  const checks = Object.fromEntries(Object.entries(members).map(([k, s]) => [k, obj({ ...s, type: lit(k) })]));
  return (v) => {
    const t = typeof v === 'object' && v !== null ? (v as { type?: unknown }).type : undefined;
    if (typeof t !== 'string' || !Object.prototype.hasOwnProperty.call(checks, t)) throw new MessageError(`unknown message type ${show(t)}`).prepend('.type');
    return checks[t]!(v) as UnionOf<M>;
  };
};

/** Checks a received value: the typed message, or why it was refused (for the log). */
export function validate<T>(c: Check<T>, v: unknown): { ok: true; value: T } | { ok: false; error: string } {
  try {
    return { ok: true, value: c(v) };
  } catch (e) {
    if (e instanceof MessageError) return { ok: false, error: `${e.at('message')}: ${e.reason}` };
    throw e;
  }
}

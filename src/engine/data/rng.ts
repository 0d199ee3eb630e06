/**
 * A small seeded random generator whose whole state is one 32-bit number, so it can be saved
 * in a checkpoint and restored: a resumed run draws exactly what the uninterrupted one would.
 * (mulberry32: fast, passes the usual statistical batteries for this use.)
 */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number { return Math.floor(this.next() * n); }
  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) { const j = this.int(i + 1); [a[i], a[j]] = [a[j]!, a[i]!]; }
    return a;
  }
  get state(): number { return this.s; }
  static fromState(state: number): Rng { const r = new Rng(0); r.s = state >>> 0; return r; }
  /** An independent stream derived from this seed and a name (e.g. "masking", "shuffle"). */
  static derive(seed: number, name: string): Rng {
    let h = (seed ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
    return new Rng(h);
  }
}

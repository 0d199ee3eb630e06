/**
 * The vocabulary as a trie over UTF-16 code units, so WordPiece's longest-match-first search is
 * one walk along the word with no substring built and no string hashed. Edges live in one
 * open-addressing hash table keyed by (node, code unit) in typed arrays: no object per node.
 */
export class VocabTrie {
  /** Token id of the string that ends at each node, −1 where none does. Node 0 is the root. */
  ids: Int32Array;
  private nodes = 1;
  private keyNode: Int32Array;
  private keyUnit: Uint16Array;
  private target: Int32Array;
  private mask: number;

  constructor(tokens: Iterable<[string, number]>) {
    const list = [...tokens];
    let units = 1;
    for (const [t] of list) units += t.length;
    // Load factor ≤ 0.5 keeps linear probing short.
    let cap = 16;
    while (cap < 2 * units) cap *= 2;
    this.mask = cap - 1;
    this.keyNode = new Int32Array(cap).fill(-1);
    this.keyUnit = new Uint16Array(cap);
    this.target = new Int32Array(cap);
    this.ids = new Int32Array(units).fill(-1);
    for (const [t, id] of list) {
      let node = 0;
      for (let i = 0; i < t.length; i++) node = this.childOrAdd(node, t.charCodeAt(i));
      this.ids[node] = id;
    }
  }

  private slot(node: number, unit: number): number {
    let h = Math.imul(node, 0x9e3779b1) ^ Math.imul(unit, 0x85ebca6b);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** The node reached from `node` by `unit`, or −1. */
  next(node: number, unit: number): number {
    const keyNode = this.keyNode, keyUnit = this.keyUnit, mask = this.mask;
    let h = Math.imul(node, 0x9e3779b1) ^ Math.imul(unit, 0x85ebca6b);
    h = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const k = keyNode[h]!;
      if (k === node && keyUnit[h] === unit) return this.target[h]!;
      if (k === -1) return -1;
      h = (h + 1) & mask;
    }
  }

  /** The node reached from `node` by all of `s`, or −1. */
  walk(s: string, node = 0): number {
    for (let i = 0; i < s.length && node >= 0; i++) node = this.next(node, s.charCodeAt(i));
    return node;
  }

  private childOrAdd(node: number, unit: number): number {
    let h = this.slot(node, unit);
    for (;;) {
      const k = this.keyNode[h]!;
      if (k === node && this.keyUnit[h] === unit) return this.target[h]!;
      if (k === -1) break;
      h = (h + 1) & this.mask;
    }
    this.keyNode[h] = node;
    this.keyUnit[h] = unit;
    this.target[h] = this.nodes;
    return this.nodes++;
  }
}

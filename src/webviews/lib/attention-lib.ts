/**
 * The attention page's pure parts (no DOM, tested in Node): the colour map built from the theme's
 * colours, which token positions are kept, the heatmap's geometry (cell under the pointer,
 * whether labels fit), and number formatting.
 */

export type RGB = [number, number, number];

/** `#rgb`, `#rrggbb`, `#rrggbbaa` or `rgb(a)(r, g, b…)` as RGB; null when it is none of them. */
export function parseColor(s: string): RGB | null {
  const t = s.trim();
  let m = /^#([0-9a-f]{3})$/i.exec(t);
  if (m) return [...m[1]!].map((c) => parseInt(c + c, 16)) as RGB;
  m = /^#([0-9a-f]{6})(?:[0-9a-f]{2})?$/i.exec(t);
  if (m) return [0, 2, 4].map((i) => parseInt(m![1]!.slice(i, i + 2), 16)) as RGB;
  m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(t);
  if (m) return [m[1], m[2], m[3]].map((v) => Math.round(Math.min(255, Number(v)))) as RGB;
  return null;
}

/** Relative luminance (WCAG) of an sRGB colour, 0 = black … 1 = white. */
export function luminance([r, g, b]: RGB): number {
  const lin = (c: number) => { const x = c / 255; return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/**
 * The 256-entry RGBA colour map of a theme: 0 is the editor background (a zero probability
 * disappears into the page) and the scale rises monotonically in contrast against it through the
 * theme's accent: to pale yellow on dark themes, to deep navy on light ones (the strongest
 * attention is always the colour farthest from the background).
 */
export function colorMap(background: RGB, accent: RGB): Uint8ClampedArray {
  const dark = luminance(background) < 0.4;
  const stops: [number, RGB][] = dark
    ? [[0, background], [0.35, mix(background, accent, 0.55)], [0.7, accent], [1, [255, 236, 160]]]
    : [[0, background], [0.35, mix(background, accent, 0.45)], [0.7, accent], [1, [10, 30, 90]]];
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    let k = 1;
    while (k < stops.length - 1 && x > stops[k]![0]) k++;
    const [x0, c0] = stops[k - 1]!, [x1, c1] = stops[k]!;
    const c = mix(c0, c1, (x - x0) / (x1 - x0));
    lut.set([c[0], c[1], c[2], 255], i * 4);
  }
  return lut;
}

export const mix = (a: RGB, b: RGB, t: number): RGB => [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * t)) as RGB;

/** Token positions to show: all, or all but the special tokens ([CLS], [SEP], [PAD]). */
export function keepOf(tokens: readonly { special: boolean }[], hideSpecial: boolean): number[] {
  return tokens.flatMap((t, i) => (hideSpecial && t.special ? [] : [i]));
}

/** Where the heatmap sits in its canvas (CSS pixels): margins for labels, side, cells per side. */
export interface HeatLayout { left: number; top: number; side: number; n: number }

/** The [row, column] cell under (x, y), or null outside the matrix. */
export function cellAt(l: HeatLayout, x: number, y: number): [number, number] | null {
  const c = Math.floor(((x - l.left) / l.side) * l.n), r = Math.floor(((y - l.top) / l.side) * l.n);
  return r >= 0 && r < l.n && c >= 0 && c < l.n ? [r, c] : null;
}

/** The kept position whose axis (left margin: a row, top margin: a column) is under (x, y), or -1. */
export function axisAt(l: HeatLayout, x: number, y: number): number {
  const inRows = y >= l.top && y < l.top + l.side, inCols = x >= l.left && x < l.left + l.side;
  if (x < l.left && inRows) return Math.floor(((y - l.top) / l.side) * l.n);
  if (y < l.top && inCols) return Math.floor(((x - l.left) / l.side) * l.n);
  return -1;
}

/** Token labels go on the axes when a cell is at least this many CSS pixels tall. */
export const LABEL_MIN_CELL = 11;
export const labelsFit = (side: number, n: number): boolean => n > 0 && side / n >= LABEL_MIN_CELL;

/** A probability for people: 3 significant digits, scientific below 0.001. */
export function fmtP(p: number): string {
  if (p === 0) return '0';
  return p >= 0.001 ? p.toPrecision(3).replace(/\.?0+$/, '') : p.toExponential(1);
}

/** The largest value of a matrix (its colour scale's top). */
export function maxOf(a: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

/** Fills `rgba` (n·n·4 bytes) from `data` through the colour map, `max` mapping to the top colour. */
export function paint(data: Float32Array | Uint8Array, max: number, lut: Uint8ClampedArray, rgba: Uint8ClampedArray): void {
  const k = max > 0 ? 255 / max : 0;
  for (let i = 0, o = 0; i < data.length; i++, o += 4) {
    const c = Math.min(255, Math.max(0, Math.round(data[i]! * k))) * 4;
    rgba[o] = lut[c]!; rgba[o + 1] = lut[c + 1]!; rgba[o + 2] = lut[c + 2]!; rgba[o + 3] = 255;
  }
}

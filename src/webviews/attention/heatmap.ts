/**
 * The main heatmap: one head's query × key matrix on one canvas. The n × n probabilities become
 * an n × n ImageData (one pixel per cell) drawn scaled with smoothing off, so 512 tokens cost one
 * drawImage, not 262 144 rectangles. Hover highlights go on a second canvas above it, so moving
 * the pointer never redraws the matrix.
 */
import { h } from '../common/host.js';
import { type HeatLayout, axisAt, cellAt, fmtP, labelsFit, maxOf, paint } from '../lib/attention-lib.js';

export interface HeatToken { text: string; segment: number | null; special: boolean }
export interface HeatColors { lut: Uint8ClampedArray; fg: string; muted: string; bg: string; segA: string; segB: string; font: string }

const SEG_BAR = 4;  // px: the strip along both axes that shows each token's segment

export class Heatmap {
  readonly box = h('div', { class: 'heat-box' });
  private readonly base = h('canvas', { 'aria-label': 'attention heatmap' });
  private readonly over = h('canvas', { class: 'overlay' });
  readonly legend = h('canvas', { 'aria-hidden': 'true' });
  readonly legendMax = h('span');
  readonly legendNote = h('span', { class: 'note' });
  private readonly cells = document.createElement('canvas');  // n × n, one pixel per cell
  private data: Float32Array | null = null;
  private tokens: HeatToken[] = [];
  private max = 0;
  /** Colours from 0 to 1 (comparable across heads) instead of 0 to this matrix's maximum. */
  private absolute = false;
  layout: HeatLayout = { left: 0, top: 0, side: 0, n: 0 };
  private hover: { row: number; col: number } | null = null;

  constructor(private colors: HeatColors) {
    this.box.append(this.base, this.over);
  }

  /** The kept tokens (rows = columns) and their matrix; null data clears the map. */
  set(tokens: HeatToken[], data: Float32Array | null): void {
    this.tokens = tokens;
    this.data = data;
    this.max = data ? (this.absolute ? 1 : maxOf(data)) : 0;
    const n = tokens.length;
    if (data && data.length === n * n && n > 0) {
      this.cells.width = n; this.cells.height = n;
      const img = new ImageData(n, n);
      paint(data, this.max, this.colors.lut, img.data);
      this.cells.getContext('2d')!.putImageData(img, 0, 0);
    }
  }

  setColors(c: HeatColors): void { this.colors = c; if (this.data) this.set(this.tokens, this.data); }
  setAbsolute(on: boolean): void { this.absolute = on; if (this.data) this.set(this.tokens, this.data); }

  value(row: number, col: number): number { const n = this.tokens.length; return this.data?.[row * n + col] ?? 0; }
  /** The mass of a query row over the shown keys (< 1 when tokens are hidden). */
  rowMass(row: number): number { let s = 0; const n = this.tokens.length; for (let j = 0; j < n; j++) s += this.value(row, j); return s; }

  /** Draws the matrix at `side` CSS pixels (plus label margins when the labels fit). */
  draw(side: number): void {
    const n = this.tokens.length, dpr = window.devicePixelRatio || 1, c = this.colors;
    const fit = labelsFit(side, n);
    const ctx0 = this.base.getContext('2d')!;
    ctx0.font = c.font;
    const labelW = fit ? Math.min(110, Math.ceil(Math.max(0, ...this.tokens.map((t) => ctx0.measureText(short(t.text)).width))) + 8) : 0;
    const left = labelW + SEG_BAR + 2, top = labelW + SEG_BAR + 2;
    this.layout = { left, top, side, n };
    Object.assign(this.base.dataset, { left, top, side, n });  // for the page checks
    const W = left + side + 1, H = top + side + 1;
    for (const cv of [this.base, this.over]) {
      cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
      cv.style.width = `${W}px`; cv.style.height = `${H}px`;
    }
    const ctx = this.base.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    if (!this.data || n === 0) { this.drawOverlay(); return; }
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.cells, left, top, side, side);
    ctx.strokeStyle = c.muted; ctx.globalAlpha = 0.5; ctx.lineWidth = 1;
    ctx.strokeRect(left - 0.5, top - 0.5, side + 1, side + 1);
    ctx.globalAlpha = 1;
    // Segment bars: A blue, B orange, special tokens blank.
    const cell = side / n;
    for (let i = 0; i < n; i++) {
      const t = this.tokens[i]!;
      if (t.segment === null || t.special) continue;
      ctx.fillStyle = t.segment === 0 ? c.segA : c.segB;
      const a = Math.floor(i * cell), b = Math.floor((i + 1) * cell);
      ctx.fillRect(left - SEG_BAR - 2, top + a, SEG_BAR, Math.max(1, b - a));
      ctx.fillRect(left + a, top - SEG_BAR - 2, Math.max(1, b - a), SEG_BAR);
    }
    if (fit) this.drawLabels(ctx, cell);
    this.drawOverlay();
  }

  /** Token labels: rows on the left, columns rotated along the top. */
  private drawLabels(ctx: CanvasRenderingContext2D, cell: number): void {
    const { left, top, n } = this.layout, c = this.colors;
    ctx.font = c.font;
    ctx.textBaseline = 'middle';
    for (let i = 0; i < n; i++) {
      const t = this.tokens[i]!, mid = (i + 0.5) * cell;
      ctx.fillStyle = t.special ? c.muted : c.fg;
      ctx.textAlign = 'right';
      ctx.fillText(short(t.text), left - SEG_BAR - 6, top + mid);
      ctx.save();
      ctx.translate(left + mid, top - SEG_BAR - 6);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = 'left';
      ctx.fillText(short(t.text), 0, 0);
      ctx.restore();
    }
  }

  /** Legend: the colour bar from 0 to this matrix's maximum. */
  drawLegend(height: number): void {
    const dpr = window.devicePixelRatio || 1, w = 14;
    this.legend.width = w * dpr; this.legend.height = Math.round(height * dpr);
    this.legend.style.width = `${w}px`; this.legend.style.height = `${height}px`;
    const ctx = this.legend.getContext('2d')!, lut = this.colors.lut, H = this.legend.height;
    for (let y = 0; y < H; y++) {
      const k = Math.round((1 - y / Math.max(1, H - 1)) * 255) * 4;
      ctx.fillStyle = `rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]})`;
      ctx.fillRect(0, y, this.legend.width, 1);
    }
    this.legendMax.textContent = this.data ? fmtP(this.max) : '';
  }

  /** Highlights a query row and a key column (either may be -1), or nothing. */
  highlight(row: number, col: number): void {
    this.hover = row < 0 && col < 0 ? null : { row, col };
    this.drawOverlay();
  }

  private drawOverlay(): void {
    const ctx = this.over.getContext('2d')!, dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.over.width, this.over.height);
    const hv = this.hover, { left, top, side, n } = this.layout;
    if (!hv || n === 0 || !this.data) return;
    const cell = side / n, W = Math.max(1, cell);
    ctx.fillStyle = this.colors.fg;
    ctx.globalAlpha = 0.16;
    if (hv.row >= 0) ctx.fillRect(left, top + hv.row * cell, side, W);
    if (hv.col >= 0) ctx.fillRect(left + hv.col * cell, top, W, side);
    ctx.globalAlpha = 0.9;
    ctx.strokeStyle = this.colors.fg;
    ctx.lineWidth = 1;
    if (hv.row >= 0) ctx.strokeRect(left - 0.5, top + hv.row * cell - 0.5, side + 1, W + 1);
    if (hv.col >= 0) ctx.strokeRect(left + hv.col * cell - 0.5, top - 0.5, W + 1, side + 1);
    ctx.globalAlpha = 1;
  }

  /** The cell under a pointer event, or null. */
  cellOf(e: MouseEvent): [number, number] | null {
    const r = this.over.getBoundingClientRect();
    return cellAt(this.layout, e.clientX - r.left, e.clientY - r.top);
  }
  /** The kept position whose axis label (or segment bar) is under a pointer event, or -1. */
  axisOf(e: MouseEvent): number {
    const r = this.over.getBoundingClientRect();
    return axisAt(this.layout, e.clientX - r.left, e.clientY - r.top);
  }
  get overlay(): HTMLCanvasElement { return this.over; }
}

const short = (s: string): string => (s.length > 14 ? `${s.slice(0, 13)}…` : s);

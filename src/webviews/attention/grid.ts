/**
 * The grid of all layers × heads (or one mean per layer) as thumbnails: one canvas per layer,
 * drawn only once it scrolls into view (IntersectionObserver) and a few rows per animation frame,
 * so BERT-base's 144 heads never block the page. The host sends the thumbnails as 8-bit images,
 * each scaled to its own maximum.
 */
import { h } from '../common/host.js';
import { paint } from '../lib/attention-lib.js';

export const THUMB = 40, GAP = 4;  // CSS pixels per thumbnail and between them
export interface ThumbData { size: number; count: number; data: Uint8Array; scale: number[] }

interface Row { layer: number; canvas: HTMLCanvasElement; dirty: boolean; visible: boolean }

export class ThumbGrid {
  readonly el = h('div', { class: 'grid-scroll' });
  private readonly sel = h('div', { class: 'grid-sel hidden' });
  private rows: Row[] = [];
  private per = 0;
  private thumbs: ThumbData | null = null;
  private readonly scratch = document.createElement('canvas');
  private readonly io: IntersectionObserver;
  private selected: [number, number] = [0, 0];

  constructor(private lut: Uint8ClampedArray, private placeholder: string, private readonly schedule: () => void,
    private readonly onPick: (layer: number, head: number) => void, private readonly onHover: (e: MouseEvent, layer: number, head: number) => void) {
    this.io = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const row = this.rows.find((r) => r.canvas === e.target);
        if (row) row.visible = e.isIntersecting;
      }
      if (this.pending()) this.schedule();
    }, { root: null, rootMargin: '200px' });
  }

  /** Lays out `layers` rows of `per` thumbnails (per = heads, or 1 for the mean of each layer). */
  build(layers: number, per: number, mean: boolean): void {
    this.io.disconnect();
    this.per = per;
    this.thumbs = null;
    const width = per * (THUMB + GAP) - GAP;
    const cols = h('div', { class: 'cols' });
    for (let i = 0; i < per; i++) cols.append(h('span', { class: 'lab' }, mean ? 'mean' : `H${i}`));
    const head = h('div', { class: 'grid-head' }, h('span', { class: 'lab' }), cols);
    this.rows = Array.from({ length: layers }, (_, layer) => {
      const canvas = h('canvas', { 'data-layer': layer, title: '' });
      canvas.style.width = `${width}px`; canvas.style.height = `${THUMB}px`;
      return { layer, canvas, dirty: true, visible: false };
    });
    this.el.replaceChildren(head, ...this.rows.map((r) => h('div', { class: 'grid-row' }, h('span', { class: 'lab' }, `L${r.layer}`), r.canvas)), this.sel);
    for (const r of this.rows) {
      const slot = (e: MouseEvent): number => { const x = e.offsetX, i = Math.floor(x / (THUMB + GAP)); return x - i * (THUMB + GAP) < THUMB && i < this.per ? i : -1; };
      r.canvas.addEventListener('click', (e) => { const i = slot(e); if (i >= 0) this.onPick(r.layer, mean ? -1 : i); });
      r.canvas.addEventListener('mousemove', (e) => { const i = slot(e); this.onHover(e, i >= 0 ? r.layer : -1, mean ? -1 : i); });
      r.canvas.addEventListener('mouseleave', (e) => this.onHover(e, -1, -1));
      this.io.observe(r.canvas);
    }
    this.select(...this.selected);
  }

  setThumbs(t: ThumbData | null): void {
    this.thumbs = t;
    for (const r of this.rows) r.dirty = true;
    this.schedule();
  }
  setColors(lut: Uint8ClampedArray, placeholder: string): void { this.lut = lut; this.placeholder = placeholder; this.setThumbs(this.thumbs); }
  has(): boolean { return this.thumbs !== null; }
  /** The maximum probability of a thumbnail (its byte 255). */
  scaleOf(layer: number, head: number): number | undefined { return this.thumbs?.scale[layer * this.per + Math.max(0, head)]; }

  /** Outlines the thumbnail of (layer, head); head -1 outlines the layer's mean (or its row). */
  select(layer: number, head: number): void {
    this.selected = [layer, head];
    const row = this.rows[layer];
    if (!row) { this.sel.classList.add('hidden'); return; }
    const i = this.per === 1 ? 0 : head;
    this.sel.classList.toggle('hidden', i < 0);
    const c = row.canvas;
    this.sel.style.left = `${c.offsetLeft + i * (THUMB + GAP) - 3}px`;
    this.sel.style.top = `${c.offsetTop - 3}px`;
    this.sel.style.width = this.sel.style.height = `${THUMB + 6}px`;
  }

  /** Whether a visible row still waits to be drawn. */
  pending(): boolean { return this.rows.some((r) => r.dirty && r.visible); }

  /** Draws visible rows that changed, within `budgetMs`; returns how many it drew. */
  drawSome(budgetMs: number): number {
    const t0 = performance.now();
    let drawn = 0;
    for (const r of this.rows) {
      if (!r.dirty || !r.visible) continue;
      this.drawRow(r);
      drawn++;
      if (performance.now() - t0 > budgetMs) break;
    }
    if (drawn) this.select(...this.selected);
    return drawn;
  }

  private drawRow(r: Row): void {
    const dpr = window.devicePixelRatio || 1, per = this.per, cv = r.canvas;
    cv.width = Math.round((per * (THUMB + GAP) - GAP) * dpr); cv.height = Math.round(THUMB * dpr);
    const ctx = cv.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.imageSmoothingEnabled = false;
    const t = this.thumbs;
    if (t && t.size > 0) {
      const s = t.size;
      this.scratch.width = s; this.scratch.height = s;
      const sctx = this.scratch.getContext('2d')!, img = new ImageData(s, s);
      for (let i = 0; i < per; i++) {
        const k = r.layer * per + i;
        if (k >= t.count) break;
        paint(t.data.subarray(k * s * s, (k + 1) * s * s), 255, this.lut, img.data);
        sctx.putImageData(img, 0, 0);
        ctx.drawImage(this.scratch, i * (THUMB + GAP), 0, THUMB, THUMB);
      }
    } else {
      ctx.fillStyle = this.placeholder;
      for (let i = 0; i < per; i++) ctx.fillRect(i * (THUMB + GAP), 0, THUMB, THUMB);
    }
    r.dirty = false;
  }
}

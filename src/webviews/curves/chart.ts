/**
 * One chart card of the Training Curves panel: a uPlot canvas with every shown run's series for
 * a group of metrics, a legend whose entries toggle series, a hover tooltip, vertical marks at
 * checkpoint steps (★ = best), x zoom shared with the other cards, and clicks on marks.
 */
import uPlot from 'uplot';
import { h } from '../common/host.js';
import { type ChartSpec, type PlacedMark, type XMode, X_LABEL, fmtValue, hitCheckpoint } from '../lib/curves-lib.js';

/** A line in a chart: `faint` is the raw line under a smoothed one; `eval` lines are sparse, dashed, with points. */
export interface SeriesDef { id: string; runId: string; key: string; label: string; color: string; kind: 'raw' | 'faint' | 'smooth' | 'eval'; hidden: boolean }
export interface ChartData { x: ArrayLike<number>; series: SeriesDef[]; ys: (number | null)[][]; marks: PlacedMark[] }
export interface Theme { fg: string; muted: string; grid: string; bg: string; font: string }

/** What a chart needs from the page. */
export interface ChartHost {
  theme(): Theme;
  xMode(): XMode;
  logScale(): boolean;
  /** The shared x zoom (null: the whole range). */
  zoom(): { min: number; max: number } | null;
  setZoom(z: { min: number; max: number } | null, from: Chart): void;
  toggleSeries(runId: string, key: string): void;
  markClicked(m: PlacedMark, e: MouseEvent): void;
  runName(runId: string): string;
}

const HEIGHT = 220;

/** A CSS colour with opacity `a` (any CSS colour: the canvas parses it to #rrggbb first). */
let probe: CanvasRenderingContext2D | null = null;
export function withAlpha(color: string, a: number): string {
  probe ??= document.createElement('canvas').getContext('2d');
  if (!probe) return color;
  probe.fillStyle = '#000';
  probe.fillStyle = color;
  const c = probe.fillStyle;
  if (!c.startsWith('#') || c.length !== 7) return color;
  return `rgba(${parseInt(c.slice(1, 3), 16)}, ${parseInt(c.slice(3, 5), 16)}, ${parseInt(c.slice(5, 7), 16)}, ${a})`;
}

export class Chart {
  readonly el: HTMLElement;
  private readonly plotEl: HTMLElement;
  private readonly legendEl: HTMLElement;
  private readonly tooltip: HTMLElement;
  private u: uPlot | null = null;
  private data: ChartData | null = null;
  /** The series layout the uPlot instance was built for: a different one needs a rebuild. */
  private shape = '';
  private syncing = false;
  private down: { x: number; y: number } | null = null;
  /** The mouse is over this chart (the cursor also moves in synced charts: they show no tooltip). */
  private hovered = false;

  constructor(readonly spec: ChartSpec, private readonly host: ChartHost) {
    this.plotEl = h('div', { class: 'plot' });
    this.legendEl = h('div', { class: 'legend', role: 'list' });
    this.tooltip = h('div', { class: 'tooltip', role: 'tooltip' });
    this.el = h('section', { class: 'chart', 'data-chart': spec.id, 'aria-label': spec.title }, h('h3', {}, spec.title), this.legendEl, this.plotEl, this.tooltip);
  }

  /** The plot's canvas (checkpoint marks included) for the PNG export. */
  get canvas(): HTMLCanvasElement | null { return this.u?.ctx.canvas ?? null; }

  update(d: ChartData): void {
    this.data = d;
    const shape = JSON.stringify([d.series.map((s) => [s.id, s.color, s.kind, s.hidden]), this.host.logScale(), this.host.xMode()]);
    this.renderLegend(d);
    const aligned = [d.x, ...d.ys] as uPlot.AlignedData;
    if (!this.u || shape !== this.shape) { this.build(aligned); this.shape = shape; return; }
    const z = this.host.zoom();
    this.syncing = true;
    this.u.setData(aligned, z === null);
    if (z) this.u.setScale('x', z);
    this.syncing = false;
  }

  /** Applies the shared zoom (another chart's drag, or reset). */
  applyZoom(z: { min: number; max: number } | null): void {
    if (!this.u || !this.data) return;
    this.syncing = true;
    if (z) this.u.setScale('x', z);
    else if (this.data.x.length) this.u.setScale('x', { min: this.data.x[0]!, max: this.data.x[this.data.x.length - 1]! });
    this.syncing = false;
  }

  resize(): void {
    if (this.u) this.u.setSize({ width: this.width(), height: HEIGHT });
  }

  destroy(): void { this.u?.destroy(); this.u = null; this.el.remove(); }

  redraw(): void { this.u?.redraw(false, false); }

  private width(): number { return Math.max(200, this.el.clientWidth - 24); }
  /** Pixel columns of the plotting area (the chart's width less the y axis). */
  plotWidth(): number { return Math.max(50, Math.round(this.u ? this.u.bbox.width / (devicePixelRatio || 1) : this.width() - 60)); }

  private legendKey = '';
  private renderLegend(d: ChartData): void {
    // Rebuilt only when it changes (not on every live append: a focused entry keeps its focus).
    const key = JSON.stringify(d.series.map((s) => [s.runId, s.key, s.label, s.color, s.kind, s.hidden]));
    if (key === this.legendKey) return;
    this.legendKey = key;
    const items = d.series.filter((s) => s.kind !== 'faint').map((s) => {
      const sw = h('span', { class: `swatch ${s.kind === 'eval' ? 'dashed' : ''}` });
      sw.style.borderColor = s.color;
      const b = h('button', { class: `legend-item${s.hidden ? ' off' : ''}`, role: 'listitem', 'aria-pressed': String(!s.hidden), title: `${s.hidden ? 'Show' : 'Hide'} ${s.label}`, 'data-run': s.runId, 'data-key': s.key }, sw, s.label);
      b.addEventListener('click', () => this.host.toggleSeries(s.runId, s.key));
      return b;
    });
    this.legendEl.replaceChildren(...items);
  }

  private build(data: uPlot.AlignedData): void {
    this.u?.destroy();
    const t = this.host.theme();
    const d = this.data!;
    const axis = (extra: Partial<uPlot.Axis>): uPlot.Axis => ({ stroke: t.muted, font: `11px ${t.font}`, labelFont: `11px ${t.font}`, grid: { stroke: t.grid, width: 1 }, ticks: { stroke: t.grid, width: 1, size: 4 }, ...extra });
    const series: uPlot.Series[] = [{ label: X_LABEL[this.host.xMode()] }, ...d.series.map((s): uPlot.Series => ({
      label: s.label,
      show: !s.hidden,
      spanGaps: true,
      stroke: s.kind === 'faint' ? withAlpha(s.color, 0.25) : s.color,
      width: s.kind === 'faint' ? 1 : s.kind === 'smooth' ? 2 : 1.5,
      ...(s.kind === 'eval' ? { dash: [5, 3], points: { show: true, size: 6, fill: s.color, stroke: s.color } } : { points: { show: false } }),
    }))];
    const opts: uPlot.Options = {
      width: this.width(), height: HEIGHT,
      pxAlign: 0,
      legend: { show: false },
      scales: { x: { time: false }, y: { distr: this.host.logScale() ? 3 : 1 } },
      axes: [
        axis({ size: 30, values: (_u, vals) => vals.map((v) => fmtValue(v)) }),
        axis({ size: 56, values: (_u, vals) => vals.map((v) => fmtValue(v)) }),
      ],
      series,
      // Our own double-click reset (uPlot's would zoom this chart alone); the cursor follows across charts.
      cursor: { drag: { x: true, y: false, setScale: true }, sync: { key: 'bertlab-curves' }, points: { size: 6 }, bind: { dblclick: () => null } },
      hooks: {
        setScale: [(u, key) => {
          if (key !== 'x' || this.syncing) return;
          const { min, max } = u.scales['x'] ?? {};
          if (min !== undefined && max !== undefined) this.host.setZoom({ min, max }, this);
        }],
        setCursor: [(u) => this.showTooltip(u)],
        draw: [(u) => this.drawMarks(u)],
      },
    };
    // Scales set while it is built are not a user's zoom.
    this.syncing = true;
    this.u = new uPlot(opts, data, this.plotEl);
    this.syncing = false;
    const z = this.host.zoom();
    if (z) this.applyZoom(z);
    const over = this.u.over;
    over.addEventListener('mousedown', (e) => { this.down = { x: e.clientX, y: e.clientY }; });
    over.addEventListener('click', (e) => {
      const moved = this.down && Math.hypot(e.clientX - this.down.x, e.clientY - this.down.y) > 3;
      this.down = null;
      if (moved) return; // the end of a zoom drag
      const m = this.markAt(e.offsetX);
      if (m) this.host.markClicked(m, e);
    });
    over.addEventListener('dblclick', () => this.host.setZoom(null, this));
    over.addEventListener('mouseenter', () => { this.hovered = true; });
    over.addEventListener('mouseleave', () => { this.hovered = false; this.tooltip.style.display = 'none'; });
  }

  private markAt(px: number): PlacedMark | null {
    const u = this.u;
    if (!u || !this.data) return null;
    return hitCheckpoint(this.data.marks, px, (x) => u.valToPos(x, 'x'), 6);
  }

  private drawMarks(u: uPlot): void {
    const d = this.data;
    if (!d?.marks.length) return;
    const ctx = u.ctx, { left, top, width, height } = u.bbox, dpr = devicePixelRatio || 1;
    ctx.save();
    ctx.lineWidth = dpr;
    ctx.setLineDash([3 * dpr, 3 * dpr]);
    ctx.font = `${12 * dpr}px ${this.host.theme().font}`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const colorOf = new Map(d.series.map((s) => [s.runId, s.color]));
    for (const m of d.marks) {
      const x = Math.round(u.valToPos(m.x, 'x', true)) + 0.5;
      if (x < left - 1 || x > left + width + 1) continue;
      const c = colorOf.get(m.runId) ?? this.host.theme().muted;
      ctx.strokeStyle = withAlpha(c, m.best ? 0.9 : 0.5);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
      if (m.best) { ctx.fillStyle = c; ctx.fillText('★', x, top + 2 * dpr); }
    }
    ctx.restore();
  }

  private showTooltip(u: uPlot): void {
    const d = this.data, idx = u.cursor.idx, left = u.cursor.left ?? -1;
    over: {
      u.over.style.cursor = this.markAt(left) ? 'pointer' : '';
      if (!this.hovered || !d || idx === null || idx === undefined || left < 0) break over;
      const xs = d.x;
      const lines: HTMLElement[] = [];
      d.series.forEach((s, i) => {
        if (s.hidden || s.kind === 'faint') return;
        // The nearest point of this series within 10 px (sparse eval series, other runs' steps).
        const ys = d.ys[i]!;
        const near = (c: number) => Math.abs(u.valToPos(xs[c]!, 'x') - left) <= 10;
        let j = ys[idx] !== null ? idx : -1;
        for (let k = 1; j < 0; k++) {
          const a = idx - k, b = idx + k, aIn = a >= 0 && near(a), bIn = b < xs.length && near(b);
          if (!aIn && !bIn) break;
          if (aIn && ys[a] !== null) j = a;
          else if (bIn && ys[b] !== null) j = b;
        }
        if (j < 0) return;
        const sw = h('span', { class: `swatch ${s.kind === 'eval' ? 'dashed' : ''}` });
        sw.style.borderColor = s.color;
        lines.push(h('div', {}, sw, `${s.label}  `, h('b', {}, fmtValue(ys[j])), j !== idx ? h('span', { class: 'muted' }, ` @ ${fmtValue(xs[j])}`) : null));
      });
      if (!lines.length) break over;
      const marker = this.markAt(left);
      if (marker) lines.push(h('div', { class: 'muted' }, `${marker.best ? '★ best ' : ''}checkpoint at step ${marker.step} (${this.host.runName(marker.runId)}) · click to open`));
      this.tooltip.replaceChildren(h('div', { class: 'muted' }, `${X_LABEL[this.host.xMode()]} ${fmtValue(xs[idx])}`), ...lines);
      const r = u.over.getBoundingClientRect();
      this.tooltip.style.display = 'block';
      const tw = this.tooltip.offsetWidth;
      const x = r.left + left + 14;
      this.tooltip.style.left = `${x + tw > innerWidth - 4 ? r.left + left - tw - 14 : x}px`;
      this.tooltip.style.top = `${r.top + (u.cursor.top ?? 0) + 14}px`;
      return;
    }
    this.tooltip.style.display = 'none';
  }
}


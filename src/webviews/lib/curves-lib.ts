/**
 * The Training Curves page's pure logic (no DOM, tested in Node): x-axis modes, TensorBoard's
 * debiased EMA smoothing, aligning several runs' series on one x axis (uPlot's data layout),
 * which charts to draw, CSV export, placing checkpoints on the axis and hit-testing them.
 */
import type { CheckpointMarkMsg, CurveRowMsg } from '../../shared/messages/curves.js';

export type XMode = 'step' | 'epoch' | 'time';
export const X_LABEL: Record<XMode, string> = { step: 'Step', epoch: 'Epoch', time: 'Wall time (s)' };

/** A row's position on the x axis; null when the run did not record it (HF runs have no times). */
export const xOf = (r: CurveRowMsg, mode: XMode): number | null => (mode === 'step' ? r.step : mode === 'epoch' ? r.epoch : r.time);

/**
 * TensorBoard's smoothing (its scalar dashboard's `smooth`): an exponential moving average started
 * at 0 and divided by 1 − w^n (n = finite points so far), so the first points are not pulled
 * toward 0. A gap (null) stays a gap and does not advance the average.
 */
export function emaSmooth(ys: ArrayLike<number | null>, weight: number): (number | null)[] {
  return emaExtend(ys, weight, { out: [], last: 0, n: 0 }).out;
}

/** The running state of an EMA: the smoothed values so far, the biased average, the points averaged. */
export interface EmaState { out: (number | null)[]; last: number; n: number }
/** Continues `acc` over ys[acc.out.length…] (a live run's new points): the same values as smoothing all of ys at once. */
export function emaExtend(ys: ArrayLike<number | null>, weight: number, acc: EmaState): EmaState {
  let { last, n } = acc;
  const out = acc.out;
  for (let i = out.length; i < ys.length; i++) {
    const y = ys[i];
    if (y === null || y === undefined || !Number.isFinite(y)) { out.push(null); continue; }
    last = last * weight + (1 - weight) * y;
    n++;
    out.push(weight === 0 ? y : last / (1 - weight ** n));
  }
  acc.last = last; acc.n = n;
  return acc;
}

/** One metric of one run as (x, y) points in x order (a repeated x, e.g. after a resume, keeps the last value). */
export function seriesOf(rows: readonly CurveRowMsg[], key: string, mode: XMode): { x: number[]; y: (number | null)[] } {
  // Rows come in logging order, almost always sorted by x: collect straight into the columns and
  // only sort (stably, keeping the last value of an x) when they are not.
  const x: number[] = [], y: (number | null)[] = [];
  let sorted = true;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (!(key in r.values)) continue;
    const px = xOf(r, mode);
    if (px === null) continue;
    const py = r.values[key] ?? null;
    const last = x.length - 1;
    if (last >= 0 && x[last] === px) { y[last] = py; continue; }
    if (last >= 0 && px < x[last]!) sorted = false;
    x.push(px); y.push(py);
  }
  if (sorted) return { x, y };
  const order = x.map((_, i) => i).sort((i, j) => x[i]! - x[j]! || i - j);
  const sx: number[] = [], sy: (number | null)[] = [];
  for (const i of order) {
    if (sx.length && sx[sx.length - 1] === x[i]) sy[sy.length - 1] = y[i]!;
    else { sx.push(x[i]!); sy.push(y[i]!); }
  }
  return { x: sx, y: sy };
}

/**
 * Several series on one shared x axis: the sorted union of their x values, and each series' y at
 * those x (null where it has no point). This is uPlot's AlignedData; lines span the gaps.
 */
export function alignSeries(series: readonly { x: readonly number[]; y: readonly (number | null)[] }[]): { x: ArrayLike<number>; ys: (number | null)[][] } {
  // Each x is sorted: merge them pairwise (linear), once per distinct array (a raw line and its
  // smoothed line share theirs). One array shared by all: nothing to align (no copies).
  const distinct = [...new Set(series.map((s) => s.x))];
  if (distinct.length === 1 && series.every((s) => s.y.length === s.x.length)) return { x: distinct[0]!, ys: series.map((s) => s.y as (number | null)[]) };
  let x: ArrayLike<number> = [];
  for (const xs of distinct) x = mergeSorted(x, xs);
  const n = x.length;
  const ys = series.map((s) => {
    const y = new Array<number | null>(n).fill(null);
    let j = 0;
    for (let i = 0; i < s.x.length; i++) {
      while (x[j]! < s.x[i]!) j++;
      y[j] = s.y[i] ?? null;
    }
    return y;
  });
  return { x, ys };
}

/** The sorted union (without repeats) of two sorted arrays. */
function mergeSorted(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  let i = 0, j = 0;
  const push = (v: number) => { if (!out.length || out[out.length - 1] !== v) out.push(v); };
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! <= b[j]!)) push(a[i++]!);
    else push(b[j++]!);
  }
  return out;
}

/** The first index whose x is ≥ v (`strict`: > v), x sorted. */
function lowerBound(x: ArrayLike<number>, v: number, strict = false): number {
  let lo = 0, hi = x.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (x[mid]! < v || (strict && x[mid] === v)) lo = mid + 1; else hi = mid; }
  return lo;
}

/**
 * M4 decimation (Jugel et al., "M4: a visualization-oriented time series data aggregation",
 * VLDB 2014): over [x0, x1] cut into `columns` equal columns (one per pixel), keep each series'
 * first, last, smallest and largest point in each column — a line drawn at that width looks the
 * same as with every point. Each series' nearest point outside the range on either side is kept
 * so lines reach the edges. Aligned data in, aligned data out (the union of the kept indices).
 */
export function decimate(x: ArrayLike<number>, ys: readonly (readonly (number | null)[])[], x0: number, x1: number, columns: number): { x: ArrayLike<number>; ys: (number | null)[][] } {
  const n = x.length;
  if (n <= 4 * columns || !(x1 > x0) || columns < 1) return { x, ys: ys as (number | null)[][] };
  const keep = new Uint8Array(n);
  const i0 = lowerBound(x, x0), i1 = lowerBound(x, x1, true) - 1;
  const w = (x1 - x0) / columns;
  for (const y of ys) {
    for (let i = i0 - 1; i >= 0; i--) if (y[i] !== null) { keep[i] = 1; break; }
    for (let i = i1 + 1; i < n; i++) if (y[i] !== null) { keep[i] = 1; break; }
    let col = -1, first = -1, last = -1, lo = -1, hi = -1;
    const flush = () => { if (first >= 0) keep[first] = keep[last] = keep[lo] = keep[hi] = 1; };
    for (let i = i0; i <= i1; i++) {
      const v = y[i];
      if (v === null || v === undefined) continue;
      const c = Math.min(columns - 1, Math.floor((x[i]! - x0) / w));
      if (c !== col) { flush(); col = c; first = lo = hi = i; }
      last = i;
      if (v < y[lo]!) lo = i;
      if (v > y[hi]!) hi = i;
    }
    flush();
  }
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) idx.push(i);
  return { x: idx.map((i) => x[i]!), ys: ys.map((y) => idx.map((i) => y[i] ?? null)) };
}

/** On a log axis, values ≤ 0 cannot be drawn: they become gaps. */
export const forLogScale = (ys: readonly (number | null)[]): (number | null)[] => ys.map((v) => (v !== null && v > 0 ? v : null));

export interface ChartSpec { id: string; title: string; keys: string[] }
const TITLES: Record<string, string> = { learning_rate: 'Learning rate', grad_norm: 'Gradient norm', tokens_per_second: 'Tokens / s' };
/** A metric's name for people: eval_f1 → "eval f1". */
export const metricLabel = (k: string): string => (k === 'loss' ? 'train loss' : k.replace(/_/g, ' '));

/**
 * The charts for a set of value names: Loss (train loss with eval_loss), one per other evaluation
 * metric, then learning rate, gradient norm, tokens/s, then anything else in name order.
 */
export function chartSpecs(keys: Iterable<string>): ChartSpec[] {
  const ks = new Set(keys);
  const out: ChartSpec[] = [];
  const loss = ['loss', 'eval_loss'].filter((k) => ks.has(k));
  if (loss.length) out.push({ id: 'loss', title: 'Loss', keys: loss });
  const rest = [...ks].filter((k) => k !== 'loss' && k !== 'eval_loss').sort();
  for (const k of rest.filter((k) => k.startsWith('eval_'))) out.push({ id: k, title: metricLabel(k).replace(/^eval /, 'Eval '), keys: [k] });
  for (const k of ['learning_rate', 'grad_norm', 'tokens_per_second']) if (ks.has(k)) out.push({ id: k, title: TITLES[k]!, keys: [k] });
  for (const k of rest.filter((k) => !k.startsWith('eval_') && !(k in TITLES))) out.push({ id: k, title: metricLabel(k), keys: [k] });
  return out;
}

/** A CSV field (RFC 4180: quoted when it holds a comma, quote or line break). */
const csvField = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
/** A number as the shortest text that reads back the same; a gap is an empty field. */
const csvNum = (v: number | null | undefined): string => (v === null || v === undefined ? '' : String(v));

/** The runs' rows as one CSV table: run, step, epoch, time, then every value name (sorted), one line per logged row. */
export function curvesCsv(runs: readonly { name: string; rows: readonly CurveRowMsg[] }[]): string {
  const keys = [...new Set(runs.flatMap((r) => r.rows.flatMap((row) => Object.keys(row.values))))].sort();
  const lines = [['run', 'step', 'epoch', 'time', ...keys].map(csvField).join(',')];
  for (const run of runs) {
    const name = csvField(run.name);
    for (const r of run.rows) lines.push([name, String(r.step), csvNum(r.epoch), csvNum(r.time), ...keys.map((k) => csvNum(r.values[k]))].join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Where a checkpoint saved at `step` sits on the x axis: by step, or the epoch/time of the last
 * row logged at or before that step (rows sorted by step); null when nothing tells.
 */
export function checkpointX(rows: readonly CurveRowMsg[], step: number, mode: XMode): number | null {
  if (mode === 'step') return step;
  let lo = 0, hi = rows.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.step <= step) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  for (let i = found; i >= 0; i--) { const x = xOf(rows[i]!, mode); if (x !== null) return x; }
  return null;
}

export interface PlacedMark extends CheckpointMarkMsg { runId: string; x: number }
/** The checkpoint mark nearest to pixel `px` within `tolerancePx`, or null. `toPx` maps x values to pixels. */
export function hitCheckpoint(marks: readonly PlacedMark[], px: number, toPx: (x: number) => number, tolerancePx = 6): PlacedMark | null {
  let best: PlacedMark | null = null, bestD = tolerancePx;
  for (const m of marks) {
    const d = Math.abs(toPx(m.x) - px);
    if (d <= bestD) { best = m; bestD = d; }
  }
  return best;
}

/** A value for a tooltip or axis: 4 significant digits, exponent form for very small or large. */
export function fmtValue(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

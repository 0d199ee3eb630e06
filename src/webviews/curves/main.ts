/**
 * The Training Curves panel: runs chosen in the toolbar are drawn overlaid, one colour per run,
 * in a grid of charts (loss with eval loss, each eval metric, learning rate, gradient norm,
 * tokens/s). Smoothing (TensorBoard's EMA, the raw line kept faint), log scale, x by step / epoch
 * / wall time, shared drag-zoom, CSV and PNG export, and checkpoint marks that open the
 * checkpoint's predictions or attention. UI state survives hide/show and reloads.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import 'uplot/dist/uPlot.min.css';
import '../common/base.css';
import './curves.css';
import type { CheckpointMarkMsg, CurveRowMsg, CurveRunMsg, RunRefMsg } from '../../shared/messages/curves.js';
import { cssVar, h, installErrorReporting, loadState, onMessage, onThemeChange, post, saveState } from '../common/host.js';
import { type PlacedMark, type XMode, X_LABEL, type EmaState, alignSeries, chartSpecs, checkpointX, curvesCsv, decimate, emaExtend, forLogScale, metricLabel, seriesOf } from '../lib/curves-lib.js';
import { Chart, type ChartHost, type SeriesDef, type Theme } from './chart.js';
import { exportPng } from './export.js';

installErrorReporting('curves');

// ---- state -------------------------------------------------------------------------------------

const state = loadState({ selected: [] as string[], hiddenSeries: [] as string[], smoothing: 0.6, log: false, x: 'step' as string });
const xMode = (): XMode => (state.x === 'epoch' || state.x === 'time' ? state.x : 'step');
const smoothing = () => Math.min(0.99, Math.max(0, Number.isFinite(state.smoothing) ? state.smoothing : 0));
const save = () => saveState(state);
const seriesKey = (runId: string, key: string) => `${key}\n${runId}`;

/** A loaded run, with its value names and per-metric series cached for the current x mode. */
class RunView {
  readonly keys = new Set<string>();
  private cache = new Map<string, { x: number[]; y: (number | null)[] }>();
  /** Smoothed series, extended as the cached series grow (EMA is incremental). */
  private smooth = new Map<string, EmaState>();
  constructor(public run: CurveRunMsg) { this.addKeys(run.rows); }
  private addKeys(rows: readonly CurveRowMsg[]) { for (const r of rows) for (const k in r.values) this.keys.add(k); }
  series(key: string, mode: XMode) {
    const ck = `${mode}\n${key}`;
    let s = this.cache.get(ck);
    if (!s) { s = seriesOf(this.run.rows, key, mode); this.cache.set(ck, s); }
    return s;
  }
  smoothed(key: string, mode: XMode, w: number): (number | null)[] {
    const s = this.series(key, mode), sk = `${mode}\n${key}\n${w}`;
    let acc = this.smooth.get(sk);
    if (!acc || acc.out.length > s.y.length) { acc = { out: [], last: 0, n: 0 }; this.smooth.set(sk, acc); }
    return emaExtend(s.y, w, acc).out;
  }
  append(rows: readonly CurveRowMsg[], marks: readonly CheckpointMarkMsg[], live: boolean) {
    for (const r of rows) this.run.rows.push(r);
    this.addKeys(rows);
    // Extend cached series in place when the new points come after them (the usual case), else recompute.
    for (const [ck, s] of this.cache) {
      const [mode, key] = ck.split('\n') as [XMode, string];
      const add = seriesOf(rows, key, mode);
      if (!add.x.length) continue;
      if (!s.x.length || add.x[0]! > s.x[s.x.length - 1]!) { for (let i = 0; i < add.x.length; i++) { s.x.push(add.x[i]!); s.y.push(add.y[i]!); } } else {
        this.cache.delete(ck);
        for (const sk of [...this.smooth.keys()]) if (sk.startsWith(`${ck}\n`)) this.smooth.delete(sk);
      }
    }
    for (const m of marks) {
      const i = this.run.checkpoints.findIndex((c) => c.step === m.step);
      if (i >= 0) this.run.checkpoints[i] = m; else this.run.checkpoints.push(m);
    }
    this.run.live = live;
  }
}

let refs: RunRefMsg[] = [];
const views = new Map<string, RunView>();
const colourSlot = new Map<string, number>();
let zoom: { min: number; max: number } | null = null;
const charts = new Map<string, Chart>();
let gotRuns = false;

const PALETTE = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];
const EXTRA = ['#17becf', '#e377c2', '#8c564b', '#bcbd22', '#7f7f7f', '#aec7e8'];
const FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];
let palette: string[] = [];
const readPalette = () => { palette = [...PALETTE.map((v, i) => cssVar(v, FALLBACK[i])), ...EXTRA]; };
readPalette();
function colour(id: string): string {
  if (!colourSlot.has(id)) colourSlot.set(id, colourSlot.size);
  return palette[colourSlot.get(id)! % palette.length]!;
}
const runName = (id: string) => views.get(id)?.run.name ?? refs.find((r) => r.id === id)?.name ?? id;
/** Runs drawn: selected, loaded, in the order of the runs list. */
const shownIds = () => state.selected.filter((id) => views.has(id));

const theme = (): Theme => ({
  fg: cssVar('--vscode-editor-foreground', '#ccc'), muted: cssVar('--vscode-descriptionForeground', '#999'),
  grid: cssVar('--vscode-panel-border', 'rgba(128,128,128,0.25)'), bg: cssVar('--vscode-editor-background', '#1e1e1e'),
  font: cssVar('--vscode-font-family', 'sans-serif'),
});

// ---- layout ------------------------------------------------------------------------------------

const app = document.getElementById('app')!;
const runsEl = h('div', { class: 'runs', role: 'group', 'aria-label': 'Runs' });
const addBtn = h('vscode-button', { secondary: true, title: 'Add a run folder: a BERT Lab run, or a Hugging Face Trainer output (trainer_state.json)' }, 'Add run…');
addBtn.addEventListener('click', () => post({ type: 'curves/addRun' }));

const xSelect = h('vscode-single-select', { 'aria-label': 'x axis', class: 'x-select' },
  ...(['step', 'epoch', 'time'] as const).map((m) => h('vscode-option', { value: m, selected: xMode() === m }, X_LABEL[m].replace(' (s)', ''))));
xSelect.addEventListener('change', () => {
  state.x = (xSelect as unknown as { value: string }).value; save();
  zoom = null; rebuildCharts();
});

const smoothRange = h('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: smoothing(), 'aria-label': 'smoothing', class: 'smooth-range' });
const smoothField = h('vscode-textfield', { type: 'number', min: 0, max: 0.99, step: 0.01, value: String(smoothing()), 'aria-label': 'smoothing weight', class: 'smooth-field' });
const setSmoothing = (v: number, from: 'range' | 'field') => {
  if (!Number.isFinite(v)) return;
  state.smoothing = Math.min(0.99, Math.max(0, v)); save();
  if (from === 'field') smoothRange.value = String(state.smoothing);
  else (smoothField as unknown as { value: string }).value = String(state.smoothing);
  scheduleUpdate();
};
smoothRange.addEventListener('input', () => setSmoothing(Number(smoothRange.value), 'range'));
smoothField.addEventListener('input', () => setSmoothing(Number((smoothField as unknown as { value: string }).value), 'field'));

const logBox = h('vscode-checkbox', { label: 'Log scale', checked: state.log, class: 'log-box' });
logBox.addEventListener('change', () => { state.log = (logBox as unknown as { checked: boolean }).checked; save(); scheduleUpdate(); });

const resetBtn = h('vscode-button', { secondary: true, title: 'Show the whole x range (or double-click a chart)' }, 'Reset zoom');
resetBtn.addEventListener('click', () => setZoom(null, null));
const csvBtn = h('vscode-button', { secondary: true, title: 'Every logged row of the shown runs as CSV' }, 'Export CSV');
csvBtn.addEventListener('click', exportCsv);
const pngBtn = h('vscode-button', { secondary: true, title: 'The charts as one PNG image' }, 'Export PNG');
pngBtn.addEventListener('click', () => {
  const list = [...charts.values()];
  const data = exportPng(list, document.querySelector('.grid') as HTMLElement | null, shownIds().map((id) => ({ name: runName(id), color: colour(id) })), theme());
  if (data) post({ type: 'saveFile', kind: 'png', suggestedName: `${fileStem()}.png`, data });
});

const banner = h('div', { class: 'banner error', role: 'alert' });
const warningsEl = h('div', { class: 'warnings' });
const hint = h('div', { class: 'hint muted' }, 'Drag across a chart to zoom (all charts follow) · double-click to reset · click a dashed checkpoint line (★ best) to open its predictions or attention (shift-click: attention) · click a legend entry to hide or show a line');
const body = h('div', { class: 'body' });
const menu = h('div', { class: 'menu', role: 'menu' });
app.append(
  h('div', { class: 'toolbar' }, h('span', { class: 'label' }, 'Runs'), runsEl, addBtn),
  h('div', { class: 'toolbar controls' },
    h('label', {}, 'X axis', xSelect),
    h('label', { class: 'smoothing' }, 'Smoothing', smoothRange, smoothField),
    logBox, resetBtn, h('span', { class: 'spacer' }), csvBtn, pngBtn),
  banner, hint, warningsEl, body, menu);

function fileStem(): string {
  const names = shownIds().map(runName).join('_');
  return `curves-${names || 'runs'}`.slice(0, 120);
}

function exportCsv(): void {
  const list = shownIds().map((id) => views.get(id)!.run);
  if (!list.length) { showError('Nothing to export: select a run first.'); return; }
  post({ type: 'saveFile', kind: 'csv', suggestedName: `${fileStem()}.csv`, data: curvesCsv(list) });
}

function showError(text: string): void {
  banner.textContent = text;
  banner.classList.toggle('visible', !!text);
}

// ---- runs list ---------------------------------------------------------------------------------

function renderRuns(): void {
  if (!refs.length) { runsEl.replaceChildren(h('span', { class: 'muted' }, 'none yet')); return; }
  runsEl.replaceChildren(...refs.map((r) => {
    const sw = h('span', { class: 'swatch run' });
    sw.style.borderColor = colour(r.id);
    const box = h('vscode-checkbox', { checked: state.selected.includes(r.id), 'data-id': r.id, title: `${r.id}\n${r.source === 'hf' ? 'Hugging Face Trainer run' : 'BERT Lab run'} · ${r.status}` }, r.name);
    box.addEventListener('change', () => select(r.id, (box as unknown as { checked: boolean }).checked));
    return h('span', { class: 'run-item' }, sw, box, r.live ? h('span', { class: 'live', title: 'training now: updates live' }, '● live') : null);
  }));
}

function select(id: string, on: boolean): void {
  const was = state.selected.includes(id);
  if (on === was) return;
  state.selected = on ? [...state.selected, id] : state.selected.filter((x) => x !== id);
  if (!on) views.delete(id);
  save();
  post({ type: 'curves/select', ids: state.selected });
  renderRuns();
  rebuildCharts();
}

// ---- charts ------------------------------------------------------------------------------------

const chartHost: ChartHost = {
  theme, xMode, logScale: () => state.log, zoom: () => zoom,
  setZoom: (z, from) => setZoom(z, from),
  toggleSeries: (runId, key) => {
    const k = seriesKey(runId, key);
    state.hiddenSeries = state.hiddenSeries.includes(k) ? state.hiddenSeries.filter((x) => x !== k) : [...state.hiddenSeries, k];
    save(); scheduleUpdate();
  },
  markClicked: (m, e) => (e.shiftKey ? openCheckpoint(m, 'attention') : showMenu(m, e)),
  runName,
};

function setZoom(z: { min: number; max: number } | null, from: Chart | null): void {
  zoom = z;
  for (const c of charts.values()) if (c !== from || z === null) c.applyZoom(z);
  scheduleUpdate(); // the data for the new range, decimated to it
}

/** One chart's lines: per shown run and metric, the raw line (faint under a smoothed one) or the eval points. */
function chartData(keys: string[], columns: number): { x: ArrayLike<number>; series: SeriesDef[]; ys: (number | null)[][]; marks: PlacedMark[] } {
  const mode = xMode(), w = smoothing(), hidden = new Set(state.hiddenSeries);
  const defs: SeriesDef[] = [], parts: { x: number[]; y: (number | null)[] }[] = [];
  const ids = shownIds();
  for (const id of ids) {
    const v = views.get(id)!, color = colour(id);
    for (const key of keys) {
      const s = v.series(key, mode);
      if (!s.x.length) continue;
      const base = { runId: id, key, label: `${v.run.name} · ${metricLabel(key)}`, color, hidden: hidden.has(seriesKey(id, key)) };
      const y = state.log ? forLogScale(s.y) : s.y;
      if (key.startsWith('eval_')) { defs.push({ ...base, id: `${id}|${key}`, kind: 'eval' }); parts.push({ x: s.x, y }); }
      // The learning rate is a schedule, not a noisy measurement: an EMA would only shift it.
      else if (w > 0 && key !== 'learning_rate') {
        // Smooth the raw values, then drop what a log axis cannot show.
        defs.push({ ...base, id: `${id}|${key}|raw`, kind: 'faint' }, { ...base, id: `${id}|${key}`, kind: 'smooth' });
        const sm = v.smoothed(key, mode, w);
        parts.push({ x: s.x, y }, { x: s.x, y: state.log ? forLogScale(sm) : sm });
      } else { defs.push({ ...base, id: `${id}|${key}`, kind: 'raw' }); parts.push({ x: s.x, y }); }
    }
  }
  const all = parts.length === 1 ? { x: parts[0]!.x, ys: [parts[0]!.y] } : alignSeries(parts);
  // Only what the plot's pixel columns can show goes to uPlot (a 100k-point run stays cheap to redraw); zooming decimates again.
  const a = all.x.length ? decimate(all.x, all.ys, zoom?.min ?? all.x[0]!, zoom?.max ?? all.x[all.x.length - 1]!, columns) : all;
  const marks: PlacedMark[] = [];
  for (const id of ids) {
    const run = views.get(id)!.run;
    for (const c of run.checkpoints) { const x = checkpointX(run.rows, c.step, mode); if (x !== null) marks.push({ ...c, runId: id, x }); }
  }
  return { x: a.x, series: defs, ys: a.ys, marks };
}

function emptyState(): HTMLElement | null {
  if (!gotRuns && !views.size) return h('div', { class: 'empty' }, 'Loading runs…');
  if (!refs.length && !views.size) return h('div', { class: 'empty' }, h('p', {}, 'No runs yet.'), h('p', { class: 'muted' }, 'Train a model (BERT Lab: Train) and its loss appears here live, or use “Add run…” to open a BERT Lab run folder or a Hugging Face Trainer output (a folder with trainer_state.json or checkpoint-N folders).'));
  if (!state.selected.length) return h('div', { class: 'empty' }, 'Tick one or more runs above to draw their curves.');
  const ids = shownIds();
  if (!ids.length) return h('div', { class: 'empty' }, 'Loading the selected runs…');
  if (ids.every((id) => views.get(id)!.run.rows.length === 0)) {
    const live = ids.some((id) => views.get(id)!.run.live);
    return h('div', { class: 'empty' }, live ? 'Waiting for the first logged step…' : 'The selected runs have logged no values yet.');
  }
  return null;
}

let grid: HTMLElement | null = null;
/**
 * Redraws the charts' data at the next frame, at most one update per frame, and for big runs
 * (an update of 100k points takes tens of ms) no sooner than 3× the last update's time after it
 * ended: a streaming run keeps at least ~3/4 of the main thread for scrolling, hovering, zooming.
 */
let pending = false, lastCost = 0, lastEnd = 0;
function scheduleUpdate(): void {
  if (pending) return;
  pending = true;
  app.toggleAttribute('data-redrawing', true); // the page check waits for it to go
  const wait = Math.max(0, lastEnd + Math.min(1000, 3 * lastCost) - performance.now());
  setTimeout(() => requestAnimationFrame(() => {
    pending = false;
    const t = performance.now();
    updateCharts();
    lastEnd = performance.now(); lastCost = lastEnd - t;
    app.toggleAttribute('data-redrawing', false);
  }), wait);
}

function rebuildCharts(): void {
  for (const c of charts.values()) c.destroy();
  charts.clear();
  updateCharts();
}

function updateCharts(): void {
  const empty = emptyState();
  renderWarnings();
  if (empty) {
    for (const c of charts.values()) c.destroy();
    charts.clear(); grid = null;
    body.replaceChildren(empty);
    return;
  }
  if (!grid) { grid = h('div', { class: 'grid' }); body.replaceChildren(grid); resizeObserver.observe(grid); }
  const keys = new Set<string>();
  for (const id of shownIds()) for (const k of views.get(id)!.keys) keys.add(k);
  const specs = chartSpecs(keys);
  const want = new Set(specs.map((s) => s.id));
  for (const [id, c] of charts) if (!want.has(id)) { c.destroy(); charts.delete(id); }
  specs.forEach((spec, i) => {
    let c = charts.get(spec.id);
    if (!c || c.spec.keys.join() !== spec.keys.join()) { c?.destroy(); c = new Chart(spec, chartHost); charts.set(spec.id, c); }
    // Keep the grid in chart order (a new metric may appear mid-run).
    if (grid!.children[i] !== c.el) grid!.insertBefore(c.el, grid!.children[i] ?? null);
    c.update(chartData(spec.keys, c.plotWidth()));
  });
}

// A new width: new sizes, and data decimated to the new number of pixel columns.
const resizeObserver = new ResizeObserver(() => { for (const c of charts.values()) c.resize(); scheduleUpdate(); });

function renderWarnings(): void {
  const items = shownIds().flatMap((id) => views.get(id)!.run.warnings.map((w) => `${runName(id)}: ${w}`));
  if (!items.length) { warningsEl.replaceChildren(); return; }
  const shown = items.slice(0, 3);
  warningsEl.replaceChildren(h('details', {}, h('summary', { class: 'warning' }, `${items.length} warning${items.length > 1 ? 's' : ''} while reading the runs`), ...shown.map((w) => h('div', { class: 'muted' }, w)), items.length > 3 ? h('div', { class: 'muted' }, `… and ${items.length - 3} more (see the BERT Lab output)`) : null));
}

// ---- checkpoint menu ---------------------------------------------------------------------------

function openCheckpoint(m: PlacedMark, view: 'predictions' | 'attention'): void {
  hideMenu();
  post({ type: 'curves/openCheckpoint', id: m.runId, step: m.step, view });
}
function showMenu(m: PlacedMark, e: MouseEvent): void {
  const item = (label: string, view: 'predictions' | 'attention') => {
    const b = h('button', { role: 'menuitem', class: 'menu-item', 'data-view': view }, label);
    b.addEventListener('click', () => openCheckpoint(m, view));
    return b;
  };
  menu.replaceChildren(h('div', { class: 'menu-title' }, `${m.best ? '★ ' : ''}checkpoint-${m.step} · ${runName(m.runId)}`), item('Open predictions', 'predictions'), item('Open attention', 'attention'));
  menu.classList.add('visible');
  menu.style.left = `${Math.min(e.clientX, innerWidth - 200)}px`;
  menu.style.top = `${Math.min(e.clientY, innerHeight - 90)}px`;
  (menu.querySelector('button') as HTMLButtonElement).focus();
}
function hideMenu(): void { menu.classList.remove('visible'); }
document.addEventListener('mousedown', (e) => { if (!menu.contains(e.target as Node)) hideMenu(); });
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hideMenu(); });

// ---- messages ----------------------------------------------------------------------------------

// Render timing for bench/curves-render.mjs: from the message's arrival (this listener runs before
// the validating one) to the frame after the charts are drawn.
let arrived = 0, measured = 0;
window.addEventListener('message', () => { arrived = performance.now(); }, { capture: true });
function measure(name: string): void {
  const start = arrived;
  if (++measured % 10_000 === 0) performance.clearMeasures(); // a run live for hours: keep the timeline small
  requestAnimationFrame(() => setTimeout(() => performance.measure(name, { start, end: performance.now() }), 0));
}

onMessage((m) => {
  switch (m.type) {
    case 'curves/runs': {
      refs = m.runs;
      for (const r of refs) colour(r.id);
      const known = new Set(refs.map((r) => r.id));
      // The saved selection (first time after a reload) plus runs the host shows (e.g. "show this run").
      const next = [...new Set([...state.selected.filter((id) => known.has(id)), ...refs.filter((r) => r.shown).map((r) => r.id)])];
      const changed = !gotRuns || next.join('\n') !== state.selected.join('\n');
      for (const id of state.selected) if (!next.includes(id)) views.delete(id);
      state.selected = next; gotRuns = true; save();
      if (changed) post({ type: 'curves/select', ids: next });
      renderRuns(); rebuildCharts();
      return;
    }
    case 'curves/data': {
      // Data for a run unticked while it was loading: the host no longer follows it, so neither do we.
      if (!state.selected.includes(m.run.id)) return;
      views.set(m.run.id, new RunView(m.run));
      updateCharts();
      measure('curves:data');
      return;
    }
    case 'curves/append': {
      const v = views.get(m.id);
      if (!v) return; // not shown (any more)
      v.append(m.rows, m.checkpoints, m.live);
      scheduleUpdate();
      measure('curves:append');
      return;
    }
    case 'curves/remove':
      views.delete(m.id);
      state.selected = state.selected.filter((x) => x !== m.id); save();
      renderRuns(); rebuildCharts();
      return;
    case 'error': showError(m.message); return;
    case 'checkpoints': return; // other panels' message
    default: return;
  }
});

onThemeChange(() => { readPalette(); renderRuns(); rebuildCharts(); });
banner.addEventListener('click', () => showError(''));
renderRuns();
updateCharts();
post({ type: 'ready' });

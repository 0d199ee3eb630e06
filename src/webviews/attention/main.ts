/**
 * The attention panel's page: a checkpoint and a text (optionally a second segment) are run by the
 * host, which keeps every layer's probabilities; this page asks for what it draws: one head's
 * query × key matrix (or the heads' mean) and 8-bit thumbnails of all layers × heads. Drawing
 * happens in animation frames, the heatmap from one ImageData and the thumbnails a few rows per
 * frame once visible, so 512 tokens and 144 heads keep the page responsive.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '../common/base.css';
import './attention.css';
import type { AttentionTokenMsg } from '../../shared/messages/attention.js';
import type { ToView, ToViewOf } from '../../shared/messages/index.js';
import { cssVar, h, installErrorReporting, loadState, onMessage, onThemeChange, post, saveState } from '../common/host.js';
import { colorMap, fmtP, keepOf, parseColor } from '../lib/attention-lib.js';
import { Heatmap, type HeatColors } from './heatmap.js';
import { THUMB, ThumbGrid } from './grid.js';

installErrorReporting('attention');

const state = loadState({ checkpoint: '', text: '', pair: '', layer: 0, head: 0, hideSpecial: false, average: false, absolute: false });
const save = () => saveState(state);

// ---- what the host sent ----
let checkpoints: { label: string; description: string; path: string }[] | null = null;
let meta: ToViewOf<'attention/meta'> | null = null;
let keep: number[] = [];
let wantRun = false, autoRan = false;
let hostSelected: string | undefined;
let nextId = 1;
const req = { run: 0, thumbs: 0, head: 0 };
let headShown: { layer: number; head: number } | null = null;

// ---- toolbar ----
const ckpt = h('vscode-single-select', { class: 'ckpt', 'aria-label': 'Checkpoint' });
const text = h('vscode-textfield', { class: 'text', placeholder: 'Text to run, e.g. The cat sat on the mat.', 'aria-label': 'Text' });
const pair = h('vscode-textfield', { class: 'pair', placeholder: 'Second segment (optional)', 'aria-label': 'Second segment' });
const runBtn = h('vscode-button', {}, 'Run');
const layerSel = h('vscode-single-select', { class: 'small', 'aria-label': 'Layer' });
const headSel = h('vscode-single-select', { class: 'small', 'aria-label': 'Head' });
const hideBox = h('vscode-checkbox', { label: 'Hide special tokens', title: 'Hide the tokens the tokenizer adds: [CLS] [SEP] [PAD], or <s> </s> <pad>' });
const avgBox = h('vscode-checkbox', { label: 'Average heads' });
const absBox = h('vscode-checkbox', { label: 'Scale 0–1', title: 'Colour probabilities from 0 to 1 (comparable across heads) instead of 0 to this head\'s maximum' });
const status = h('span', { class: 'status muted' });
text.value = state.text; pair.value = state.pair;
hideBox.checked = state.hideSpecial; avgBox.checked = state.average; absBox.checked = state.absolute;

const messages = h('div', { class: 'messages', role: 'status' });
const strip = h('div', { class: 'tokens', 'aria-label': 'Tokens' });
const segKey = h('span', { class: 'seg-key muted' }, h('span', { class: 'a' }, 'segment A'), h('span', { class: 'b' }, 'segment B'));
const tooltip = h('div', { class: 'tooltip' });
const empty = h('div', { class: 'empty' });

// ---- colours from the theme ----
function colors(): HeatColors {
  const bg = cssVar('--vscode-editor-background', '#1f1f1f');
  const accent = parseColor(cssVar('--vscode-charts-blue', '#3794ff')) ?? [55, 148, 255];
  return {
    lut: colorMap(parseColor(bg) ?? [31, 31, 31], accent), bg,
    fg: cssVar('--vscode-foreground', '#ccc'), muted: cssVar('--vscode-descriptionForeground', '#999'),
    segA: cssVar('--vscode-charts-blue', '#3794ff'), segB: cssVar('--vscode-charts-orange', '#d18616'),
    font: `11px ${cssVar('--vscode-editor-font-family', 'monospace')}`,
  };
}
let col = colors();
const placeholder = () => `color-mix(in srgb, ${col.fg} 7%, ${col.bg})`;

// ---- heatmap and grid ----
const heat = new Heatmap(col);
heat.setAbsolute(state.absolute);
const heatTitle = h('b');
const heatNote = h('span', { class: 'muted' });
const grid = new ThumbGrid(col.lut, placeholder(), schedule, (layer, head) => choose(layer, head), (e, layer, head) => {
  if (layer < 0) { hideTip(); return; }
  const m = grid.scaleOf(layer, head);
  showTip(e, `Layer ${layer} · ${head < 0 ? 'mean of heads' : `head ${head}`}${m !== undefined ? `\nmax ${fmtP(m)}` : ''}\nclick to enlarge`);
});
const heatPanel = h('section', { class: 'heat' },
  h('div', { class: 'panel-title' }, heatTitle, heatNote),
  h('div', { class: 'heat-row' }, heat.box, h('div', { class: 'legend' }, heat.legendMax, heat.legend, h('span', {}, '0'), heat.legendNote)));
const gridTitle = h('span');
const gridPanel = h('section', { class: 'grid' }, h('div', { class: 'panel-title' }, gridTitle), grid.el);
const main = h('div', { class: 'main' }, heatPanel, gridPanel);

const viewBar = h('div', { class: 'toolbar view' }, h('label', {}, 'Layer', layerSel), h('label', {}, 'Head', headSel), hideBox, avgBox, absBox, status);
const stripHead = h('div', { class: 'strip-head panel-title' }, h('span', {}, 'Tokens'), segKey);
document.getElementById('app')!.replaceChildren(
  h('div', { class: 'toolbar' }, ckpt, text, pair, runBtn), viewBar,
  messages, stripHead, strip, empty, main, tooltip);

// ---- drawing, once per animation frame ----
let frameQueued = false, heatDirty = false, painted = false;
function schedule(): void {
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(frame);
}
function heatSide(): number {
  const w = heatPanel.clientWidth || 600;
  const fits = meta ? keep.length * 11 <= Math.min(640, w - 160) : false;
  // As wide as the panel allows, and tall enough to fit below the toolbar and token strip when it can.
  const below = window.innerHeight - heatPanel.getBoundingClientRect().top - window.scrollY - (fits ? 130 : 50);
  return Math.max(160, Math.min(fits ? w - 200 : w - 70, 640, Math.max(360, below)));
}
function frame(): void {
  frameQueued = false;
  let drew = false;
  if (heatDirty) {
    heatDirty = false;
    const side = heatSide();
    heat.draw(side);
    heat.drawLegend(Math.min(side, 240));
    drew = true;
    if (headShown) performance.mark('bertlab-attention-heat');
  }
  drew = grid.drawSome(8) > 0 || drew;
  if (grid.pending()) schedule();
  // Marks the first frame where the heatmap and every visible thumbnail are drawn; bench/attention-render.mjs reads the marks.
  else if (drew && !painted && headShown && grid.has()) { painted = true; performance.mark('bertlab-attention-painted'); }
}
new ResizeObserver(() => { heatDirty = true; schedule(); }).observe(heatPanel);
onThemeChange(() => {
  col = colors();
  heat.setColors(col);
  grid.setColors(col.lut, placeholder());
  heatDirty = true;
  schedule();
});

// ---- tooltip and hover ----
function showTip(e: MouseEvent, s: string): void {
  tooltip.textContent = s;
  tooltip.style.display = 'block';
  const r = tooltip.getBoundingClientRect();
  tooltip.style.left = `${Math.min(e.clientX + 14, window.innerWidth - r.width - 4)}px`;
  tooltip.style.top = `${Math.min(e.clientY + 14, window.innerHeight - r.height - 4)}px`;
}
function hideTip(): void { tooltip.style.display = 'none'; }

let marked: Element[] = [];
/** Highlights query `q` and key `k` (token positions; -1 = none) in the strip and the heatmap. */
function highlight(q: number, k: number): void {
  for (const e of marked) e.classList.remove('q', 'k', 'hover');
  marked = [];
  const mark = (i: number, cls: string) => { const e = strip.children[i]; if (e) { e.classList.add(cls); marked.push(e); } };
  if (q >= 0) mark(q, k === q || k < 0 ? 'hover' : 'q');
  if (k >= 0 && k !== q) mark(k, 'k');
  heat.highlight(keep.indexOf(q), keep.indexOf(k));
}
heat.overlay.addEventListener('mousemove', (e) => {
  const c = heat.cellOf(e), a = heat.axisOf(e);
  if (meta && a >= 0) {
    const q = keep[a]!, t = meta.tokens[q]!;
    highlight(q, q);
    showTip(e, `${t.text}\ntoken #${q}${t.segment !== null ? ` · segment ${t.segment === 0 ? 'A' : 'B'}` : ''}`);
    return;
  }
  if (!c || !meta) { highlight(-1, -1); hideTip(); return; }
  const [r, cc] = c, q = keep[r]!, k = keep[cc]!, tq = meta.tokens[q]!, tk = meta.tokens[k]!;
  highlight(q, k);
  const hidden = keep.length < meta.tokens.length ? `\nrow mass on shown keys: ${(heat.rowMass(r) * 100).toFixed(1)}%` : '';
  showTip(e, `${tq.text} → ${tk.text}: ${fmtP(heat.value(r, cc))}\nquery #${q} · key #${k}${hidden}`);
});
heat.overlay.addEventListener('mouseleave', () => { highlight(-1, -1); hideTip(); });
strip.addEventListener('mouseover', (e) => {
  const i = Number((e.target as HTMLElement).dataset['i'] ?? -1);
  if (i >= 0) highlight(i, i);
});
strip.addEventListener('mouseleave', () => highlight(-1, -1));

// ---- requests ----
function run(): void {
  const cp = state.checkpoint;
  if (!cp) { showMessage('error', 'Choose a checkpoint first (or "Choose a folder…").'); return; }
  if (!state.text.trim()) { showMessage('error', 'Type a text to run.'); return; }
  req.run = nextId++;
  autoRan = true;
  status.textContent = 'Running…';
  runBtn.setAttribute('disabled', '');
  messages.replaceChildren();
  renderEmpty();
  post({ type: 'attention/run', requestId: req.run, checkpoint: cp, text: state.text, ...(state.pair.trim() ? { pair: state.pair } : {}) });
}
function requestThumbs(): void {
  if (!meta || keep.length === 0) return;
  req.thumbs = nextId++;
  grid.setThumbs(null);
  post({ type: 'attention/thumbs', requestId: req.thumbs, keep, mean: state.average, size: THUMB });
}
function requestHead(): void {
  if (!meta || keep.length === 0) return;
  req.head = nextId++;
  post({ type: 'attention/head', requestId: req.head, layer: state.layer, head: state.head, keep });
}
/** Shows (layer, head) in the main heatmap; head -1 = the mean of the layer's heads. */
function choose(layer: number, head: number): void {
  state.layer = layer; state.head = head;
  if (head >= 0 && state.average) { state.average = false; avgBox.checked = false; rebuildGrid(); requestThumbs(); }
  save();
  layerSel.value = String(layer); headSel.value = String(head);
  grid.select(layer, head);
  requestHead();
}

// ---- toolbar events ----
ckpt.addEventListener('change', () => {
  if (ckpt.value === '__pick') { ckpt.value = state.checkpoint; post({ type: 'attention/pickCheckpoint' }); return; }
  state.checkpoint = ckpt.value; save();
});
text.addEventListener('input', () => { state.text = text.value; save(); });
pair.addEventListener('input', () => { state.pair = pair.value; save(); });
for (const f of [text, pair]) f.addEventListener('keydown', (e) => { if (e.key === 'Enter') run(); });
runBtn.addEventListener('click', run);
layerSel.addEventListener('change', () => choose(Number(layerSel.value), state.head));
headSel.addEventListener('change', () => choose(state.layer, Number(headSel.value)));
absBox.addEventListener('change', () => { state.absolute = absBox.checked; save(); heat.setAbsolute(state.absolute); legendNote(); heatDirty = true; schedule(); });
hideBox.addEventListener('change', () => { state.hideSpecial = hideBox.checked; save(); applyKeep(); });
avgBox.addEventListener('change', () => {
  state.average = avgBox.checked;
  if (state.average) state.head = -1; else if (state.head < 0) state.head = 0;
  save();
  headSel.value = String(state.head);
  rebuildGrid(); requestThumbs(); requestHead();
});

// ---- rendering what arrived ----
function showMessage(kind: 'error' | 'warning' | 'muted', s: string): void {
  if ([...messages.children].some((e) => e.textContent === s)) return;  // e.g. "untrusted" on ready and again for the run
  messages.append(h('div', { class: kind }, s));
}

function setOptions(sel: HTMLElement & { value: string }, opts: [string, string][], value: string): void {
  sel.replaceChildren(...opts.map(([v, label]) => h('vscode-option', { value: v, ...(v === value ? { selected: true } : {}) }, label)));
  sel.value = value;
}

function renderCheckpoints(): void {
  const items = checkpoints ?? [];
  if (!items.some((c) => c.path === state.checkpoint)) state.checkpoint = items[0]?.path ?? '';
  // A placeholder while nothing is chosen: "Choose a folder…" must never be the selected entry (choosing it again would fire no change).
  const none: [string, string][] = state.checkpoint ? [] : [['', items.length ? 'Select a checkpoint' : 'No checkpoint in this workspace']];
  setOptions(ckpt, [...none, ...items.map((c): [string, string] => [c.path, c.label]), ['__pick', 'Choose a folder…']], state.checkpoint);
  save();
}

function renderEmpty(): void {
  const show = (title: string, ...lines: string[]) => { empty.replaceChildren(h('h3', {}, title), ...lines.map((l) => h('p', {}, l))); empty.classList.remove('hidden'); main.classList.add('hidden'); };
  viewBar.classList.toggle('hidden', !meta);
  stripHead.classList.toggle('hidden', !meta);
  if (meta && keep.length === 0) show('Every token is hidden', 'Uncheck "Hide special tokens" to see them.');
  else if (meta) { empty.classList.add('hidden'); main.classList.remove('hidden'); }
  else if (req.run) show('Running…', `Computing every layer's attention with ${state.checkpoint.split(/[\\/]/).filter(Boolean).slice(-2).join('/')}. A checkpoint's first run also builds its inference session.`);
  else if (checkpoints && checkpoints.length === 0 && !state.checkpoint) show('No checkpoint yet', 'Train a model (BERT Lab: Pretrain or Fine-tune), or pick a checkpoint folder with "Choose a folder…" in the list above.');
  else show('Attention, layer by layer and head by head', 'Type a sentence (and optionally a second segment for a pair) and press Run. Each head\'s query × key probabilities appear here, with every layer × head as thumbnails; hover a token to follow its row and column.');
}

function renderStrip(): void {
  const tokens = meta?.tokens ?? [];
  const kept = new Set(keep);
  strip.replaceChildren(...tokens.map((t: AttentionTokenMsg, i) => h('span', {
    class: `tok${t.segment === null ? '' : ` seg${t.segment}`}${t.special ? ' special' : ''}${kept.has(i) ? '' : ' hid'}`,
    'data-i': i, title: `#${i} ${t.text}${t.segment !== null ? ` · segment ${t.segment === 0 ? 'A' : 'B'}` : ''}`,
  }, t.text)));
  segKey.classList.toggle('hidden', !tokens.some((t) => t.segment === 1));
}

function rebuildGrid(): void {
  if (!meta) return;
  grid.build(meta.layers, state.average ? 1 : meta.heads, state.average);
  grid.select(state.layer, state.head);
  gridTitle.textContent = state.average ? `Mean of heads, ${meta.layers} layers — click to enlarge` : `${meta.layers} layers × ${meta.heads} heads — click to enlarge`;
}

/** The kept positions changed (new tokens or the hide option): redraw all. */
function applyKeep(): void {
  keep = meta ? keepOf(meta.tokens, state.hideSpecial) : [];
  headShown = null;
  heat.set([], null);
  heatDirty = true;
  renderStrip();
  renderEmpty();
  requestThumbs();
  requestHead();
  schedule();
}

function onMeta(m: ToViewOf<'attention/meta'>): void {
  meta = m;
  painted = false;
  state.layer = Math.min(state.layer, m.layers - 1);
  state.head = state.average ? -1 : Math.min(state.head, m.heads - 1);
  save();
  setOptions(layerSel, Array.from({ length: m.layers }, (_, l): [string, string] => [String(l), `${l}`]), String(state.layer));
  setOptions(headSel, [['-1', 'mean of heads'], ...Array.from({ length: m.heads }, (_, i): [string, string] => [String(i), `${i}`])], String(state.head));
  status.textContent = `${m.tokens.length} tokens · ${m.layers} layers × ${m.heads} heads · ${m.ms.toFixed(0)} ms`;
  runBtn.removeAttribute('disabled');
  messages.replaceChildren();
  for (const w of m.warnings) showMessage('warning', w);
  rebuildGrid();
  applyKeep();
}

function onHead(m: ToViewOf<'attention/head'>): void {
  if (!meta || m.n !== keep.length || m.data.length !== m.n * m.n) { console.warn('BERT Lab: a head of the wrong size was ignored'); return; }
  headShown = { layer: m.layer, head: m.head };
  heat.set(keep.map((i) => meta!.tokens[i]!), m.data);
  heatTitle.textContent = `Layer ${m.layer} · ${m.head < 0 ? 'mean of heads' : `head ${m.head}`}`;
  heatNote.textContent = 'rows: query · columns: key';
  legendNote();
  heatDirty = true;
  schedule();
}

function legendNote(): void {
  const scale = state.absolute ? 'Probability, 0 to 1.' : 'Probability, scaled to this head\'s maximum.';
  heat.legendNote.textContent = meta && keep.length < meta.tokens.length ? `${scale} Rows lose the mass on hidden tokens.` : scale;
}

onMessage((m: ToView) => {
  switch (m.type) {
    case 'checkpoints': {
      // The host's selection wins when it changed (a picked folder, a command); otherwise the
      // page keeps its own choice while it is still offered.
      const sel = m.selected[0], had = m.items.some((c) => c.path === state.checkpoint);
      checkpoints = m.items;
      if (sel && sel !== hostSelected && m.items.some((c) => c.path === sel)) state.checkpoint = sel;
      hostSelected = sel;
      renderCheckpoints();
      renderEmpty();
      // Run what a command asked for, or (after a reload) what the page showed, if its checkpoint is still offered.
      if (wantRun || (!meta && !autoRan && had && state.text.trim())) { wantRun = false; run(); }
      return;
    }
    case 'attention/load':
      if (m.checkpoint) state.checkpoint = m.checkpoint;
      if (m.text !== undefined) { state.text = m.text; text.value = m.text; }
      if (m.pair !== undefined) { state.pair = m.pair; pair.value = m.pair; }
      save();
      // The host sends the checkpoint list next; run now only if this page already offers the checkpoint.
      if (checkpoints && (!m.checkpoint || checkpoints.some((c) => c.path === m.checkpoint))) { renderCheckpoints(); run(); } else wantRun = true;
      return;
    case 'attention/meta':
      // The answer to this page's run, or (after a reload) the host's last result.
      if (req.run && m.requestId !== req.run) return;
      req.run = 0;
      autoRan = true;
      onMeta(m);
      return;
    case 'attention/thumbs':
      if (m.requestId !== req.thumbs) return;
      if (m.data.length !== m.count * m.size * m.size) { console.warn('BERT Lab: thumbnails of the wrong size were ignored'); return; }
      grid.setThumbs({ size: m.size, count: m.count, data: m.data, scale: m.scale });
      return;
    case 'attention/head':
      if (m.requestId === req.head) onHead(m);
      return;
    case 'error':
      if (m.requestId !== undefined && m.requestId !== req.run && m.requestId !== req.thumbs && m.requestId !== req.head) return;
      if (m.requestId !== undefined && m.requestId === req.run) { req.run = 0; status.textContent = ''; runBtn.removeAttribute('disabled'); renderEmpty(); }
      showMessage('error', m.message);
      return;
    default:
      return;
  }
});

renderEmpty();
post({ type: 'ready' });

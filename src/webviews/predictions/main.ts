/**
 * The predictions page: text with [MASK]s, one checkpoint or two side by side, the input's tokens
 * as chips (click one to mask it), and per mask the top-k tokens with probability bars (click one
 * to put it in the text). The host runs fill-mask; this page only draws and asks. UI state (text,
 * checkpoints, k, compare) survives hide/show and reloads; the saved text is re-run on load.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '../common/base.css';
import './predictions.css';
import { h, installErrorReporting, loadState, onMessage, post, saveState } from '../common/host.js';
import type { ToViewOf } from '../../shared/messages/index.js';
import type { PredictionColumnMsg } from '../../shared/messages/predictions.js';
import {
  MASK, PIECE, alignMasks, barWidth, baseName, chooseSlots, fillPrediction, findMasks, formatMs, formatPercent, maskSpan, maskTarget,
  maskable, parseTopK, runCheckpoints, snippet, wordGroups, type PredictionLike, type Slots, type TokenLike,
} from '../lib/predictions-view.js';

installErrorReporting('predictions');

/** The value of the "Choose a folder…" option (checkpoint paths are absolute, never this). */
const PICK = ':choose-folder';
/** Typing runs after this pause; Ctrl/Cmd+Enter, clicks and selection changes run at once. */
const DEBOUNCE_MS = 400;

const state = loadState({ text: '', first: '', second: '', compare: false, k: 5 });
if (!Number.isInteger(state.k) || state.k < 1 || state.k > 100) state.k = 5;
const save = () => saveState(state);

type Item = ToViewOf<'checkpoints'>['items'][number];
let items: Item[] = [];
let listed = false;
let nextId = 1, latest = 0, running = false;
/** The text of the request in flight (its result's offsets refer to it). */
let latestText = '';
/** The last answer and the text it was computed for (offsets refer to that text). */
let result: { text: string; columns: PredictionColumnMsg[] } | null = null;
let pageError = '';

// ---- layout ---------------------------------------------------------------------------------
const first = h('vscode-single-select', { id: 'first', 'aria-label': 'Checkpoint' });
const second = h('vscode-single-select', { id: 'second', 'aria-label': 'Compare with' });
const topK = h('vscode-textfield', { id: 'topk', type: 'number', min: 1, max: 100, 'aria-label': 'Top-k', value: String(state.k) });
const predict = h('vscode-button', { id: 'predict', title: 'Predict the masks (Ctrl+Enter)' }, 'Predict');
const status = h('span', { class: 'status muted', role: 'status' });
const text = h('vscode-textarea', { id: 'text', rows: 4, resize: 'vertical', monospace: true, placeholder: `Type or paste text with ${MASK}, e.g. "The capital of France is ${MASK}."`, 'aria-label': 'Text with masks' });
const errorBox = h('div', { class: 'banner error', role: 'alert', hidden: true });
const tokensBox = h('section', { class: 'tokens', 'aria-label': 'Tokens' });
const resultsBox = h('section', { class: 'results', 'aria-label': 'Predictions' });

document.getElementById('app')!.append(
  h('div', { class: 'toolbar' },
    h('label', {}, h('span', { class: 'muted' }, 'Checkpoint'), first),
    h('label', {}, h('span', { class: 'muted' }, 'Compare with'), second),
    h('label', {}, h('span', { class: 'muted' }, 'Top-k'), topK),
    h('span', { class: 'spacer' }), predict),
  h('div', { class: 'input' }, text,
    h('div', { class: 'below' }, h('span', { class: 'hint muted' }, 'Ctrl+Enter predicts · click a token to mask it (Alt+click: the whole word) · click a prediction to put it in the text'), status)),
  errorBox, tokensBox, resultsBox,
);
text.value = state.text;

// ---- running --------------------------------------------------------------------------------
let timer: ReturnType<typeof setTimeout> | undefined;
function schedule(ms: number): void {
  clearTimeout(timer);
  timer = setTimeout(run, ms);
}

/** Sends the text to the host; answers to older requests are ignored when they arrive. */
function run(): void {
  clearTimeout(timer);
  const ckpts = runCheckpoints(slots());
  if (!listed || ckpts.length === 0 || state.text.trim() === '') {
    running = false; latest = 0;
    if (state.text.trim() === '') result = null;
    render();
    return;
  }
  latest = nextId++;
  latestText = state.text;
  running = true;
  pageError = '';
  post({ type: 'predictions/run', requestId: latest, text: state.text, checkpoints: ckpts, topK: state.k });
  render();
}

const slots = (): Slots => ({ first: state.first, second: state.second, compare: state.compare });

/** Replaces the text (a masked token, a filled prediction, a text from the host) and runs it. */
function setText(t: string, delay = 0): void {
  state.text = t;
  if (text.value !== t) text.value = t;
  save();
  schedule(delay);
}

// ---- controls -------------------------------------------------------------------------------
text.addEventListener('input', () => { state.text = text.value; save(); schedule(DEBOUNCE_MS); renderStale(); });
text.addEventListener('keydown', (e: KeyboardEvent) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); state.text = text.value; save(); run(); }
});
predict.addEventListener('click', () => { state.text = text.value; save(); run(); });
first.addEventListener('change', () => {
  if (first.value === PICK) { first.value = state.first; post({ type: 'predictions/pickCheckpoint', slot: 0 }); return; }
  state.first = first.value; save(); run();
});
second.addEventListener('change', () => {
  if (second.value === PICK) { second.value = state.compare ? state.second : ''; post({ type: 'predictions/pickCheckpoint', slot: 1 }); return; }
  state.compare = second.value !== '';
  if (state.compare) state.second = second.value;
  save(); run();
});
topK.addEventListener('change', () => {
  const r = parseTopK(topK.value);
  if ('error' in r) { topK.setAttribute('invalid', ''); pageError = r.error; render(); return; }
  topK.removeAttribute('invalid');
  if (pageError.startsWith('top-k')) pageError = '';
  state.k = r.k; save(); run();
});

/** Rebuilds both selects; the chosen option is marked `selected` (setting `value` before the options slot in is lost). */
function fillSelects(): void {
  const opts = (chosen: string, withNone: boolean) => [
    ...(withNone ? [h('vscode-option', { value: '', selected: chosen === '' }, 'None')] : []),
    ...(!withNone && !items.length ? [h('vscode-option', { value: '', selected: true }, 'No checkpoint')] : []),
    ...items.map((c) => h('vscode-option', { value: c.path, description: c.description, selected: c.path === chosen }, c.label)),
    h('vscode-option', { value: PICK, description: 'a Hugging Face or BERT Lab checkpoint folder' }, 'Choose a folder…'),
  ];
  first.replaceChildren(...opts(state.first, false));
  second.replaceChildren(...opts(state.compare ? state.second : '', true));
}

// ---- host messages ----------------------------------------------------------------------------
onMessage((m) => {
  switch (m.type) {
    case 'checkpoints': {
      items = m.items;
      const before = runCheckpoints(slots()).join('\n');
      Object.assign(state, chooseSlots(items, m.selected, slots()));
      save();
      fillSelects();
      const firstList = !listed;
      listed = true;
      // The first list after a load re-runs the saved text; later ones run when the choice changed.
      if (firstList || runCheckpoints(slots()).join('\n') !== before) schedule(30); else render();
      return;
    }
    case 'predictions/text': setText(m.text, 30); return;
    case 'predictions/result': {
      if (m.requestId !== latest) return; // a newer request is on its way
      running = false;
      result = { text: latestText, columns: m.columns };
      render();
      return;
    }
    case 'error':
      if (m.requestId !== undefined && m.requestId !== latest) return;
      if (m.requestId !== undefined) running = false;
      pageError = m.message;
      render();
      return;
    default: return; // other panels' messages
  }
});

// ---- drawing --------------------------------------------------------------------------------
const labelOf = (path: string) => items.find((c) => c.path === path)?.label ?? baseName(path);

function render(): void {
  errorBox.hidden = !pageError;
  errorBox.replaceChildren(pageError ? h('span', { class: 'codicon' }, '⚠') : '', pageError);
  predict.toggleAttribute('disabled', !listed || !state.first);
  const cols = result?.columns ?? [];
  const ms = cols.filter((c) => !c.error).map((c) => formatMs(c.ms)).join(' · ');
  const n = alignMasks(cols).length;
  status.textContent = running ? 'Predicting…' : result ? `${n} mask${n === 1 ? '' : 's'}${ms ? ` · ${ms}` : ''}` : '';
  document.body.classList.toggle('running', running);
  renderTokens();
  renderResults();
}

/** Dims the tokens and results while the text differs from what they were computed for. */
function renderStale(): void {
  const stale = !!result && result.text !== state.text;
  tokensBox.classList.toggle('stale', stale);
  resultsBox.classList.toggle('stale', stale);
}

function renderTokens(): void {
  renderStale();
  const col = result?.columns.find((c) => !c.error && c.tokens.length);
  if (!result || !col) { tokensBox.replaceChildren(); return; }
  const src = result.text;
  const chips = wordGroups(col.tokens).map((g) => {
    const pieces = g.pieces.map((i) => chip(col.tokens, i, src));
    if (g.pieces.length === 1) return pieces[0]!;
    const word = src.slice(g.start, g.end);
    const whole = h('button', { class: 'whole', title: `Mask the whole word "${word}"`, 'aria-label': `Mask the whole word ${word}` }, '⤢');
    whole.addEventListener('click', () => maskToken(col.tokens, g.pieces[0]!, true, src));
    return h('span', { class: 'word' }, ...pieces, whole);
  });
  const which = result.columns.length > 1 ? h('span', { class: 'which' }, ` · ${labelOf(col.checkpoint)}`) : null;
  tokensBox.replaceChildren(h('h2', {}, 'Tokens', h('span', { class: 'count muted' }, ` ${col.tokens.length}`), which), h('div', { class: 'chips' }, ...chips));
}

function chip(tokens: readonly TokenLike[], i: number, src: string): HTMLElement {
  const t = tokens[i]!;
  const piece = t.text.startsWith(PIECE) && t.text.length > PIECE.length;
  const body = piece ? [h('span', { class: 'prefix' }, PIECE), t.text.slice(PIECE.length)] : [t.text];
  if (!maskable(t)) return h('span', { class: `chip ${t.special ? 'special' : 'mask'}`, title: t.special ? 'added by the tokenizer' : 'a mask' }, ...body);
  const b = h('button', { class: 'chip', title: `"${src.slice(t.start, t.end)}" at ${t.start}–${t.end}: click to mask it`, 'data-index': i }, ...body);
  b.addEventListener('click', (e) => maskToken(tokens, i, e.altKey, src));
  return b;
}

function maskToken(tokens: readonly TokenLike[], i: number, whole: boolean, src: string): void {
  if (src !== state.text) { pageError = 'the text changed since these tokens were computed: wait for the new ones'; render(); return; }
  const span = maskTarget(tokens, i, whole);
  if (!span) return;
  setText(maskSpan(src, span.start, span.end).text);
}

function renderResults(): void {
  const cols = result?.columns ?? [];
  const rows = alignMasks(cols);
  const masksInText = findMasks(state.text).length;
  const empty = (msg: string, ...more: (Node | string)[]) => resultsBox.replaceChildren(h('div', { class: 'empty' }, h('div', { class: 'empty-title' }, msg), ...more));
  if (!listed) return void empty('Loading checkpoints…');
  if (!items.length) return void empty('No checkpoint yet.', h('div', {}, 'Train one (BERT Lab: Pretrain), or pick a checkpoint folder with "Choose a folder…" in the Checkpoint list.'));
  if (!state.text.trim()) return void empty(`Type text with ${MASK} above.`, h('div', {}, `For example: "The capital of France is ${MASK}." Each ${MASK} gets the checkpoint's most likely tokens.`));
  const head = cols.length ? h('div', { class: `col-heads n${cols.length}` }, ...cols.map((c, i) => columnHead(c, i))) : null;
  if (!rows.length && result && cols.every((c) => c.error)) { resultsBox.replaceChildren(...(head ? [head] : [])); return; }
  if (!rows.length && result) {
    const why = masksInText ? `None of the ${MASK}s could be predicted (see the warnings above).` : `No ${MASK} in the text: type one, or click a token above to mask it.`;
    resultsBox.replaceChildren(...(head ? [head] : []), h('div', { class: 'empty' }, h('div', { class: 'empty-title' }, why)));
    return;
  }
  if (!result) return void empty(running ? 'Predicting…' : `Press Predict or Ctrl+Enter to see what the checkpoint puts at each ${MASK}.`);
  resultsBox.replaceChildren(...(head ? [head] : []), ...rows.map((r, n) => {
    const s = snippet(result!.text, r.start, r.end);
    const badge = r.agree === null ? null : r.agree
      ? h('span', { class: 'agree yes', title: 'Both checkpoints rank the same token first' }, '✓ same top-1')
      : h('span', { class: 'agree no', title: 'The checkpoints rank different tokens first' }, '≠ top-1 differs');
    return h('article', { class: 'mask-card' },
      h('header', {}, h('span', { class: 'mask-no' }, `#${n + 1}`), h('span', { class: 'context' }, s.before, h('mark', {}, s.mask), s.after), badge),
      h('div', { class: `cells n${cols.length}` }, ...r.cells.map((preds, ci) => cell(preds, ci, r.start, r.end, r.agree === true))));
  }));
}

function columnHead(c: PredictionColumnMsg, i: number): HTMLElement {
  const warnings = c.warnings.filter((w) => !(findMasks(result?.text ?? '').length === 0 && /^no .+ in the text$/.test(w)));
  return h('div', { class: `col-head c${i}` },
    h('div', { class: 'col-title' }, h('span', { class: 'dot' }), h('span', { class: 'col-label', title: c.checkpoint }, labelOf(c.checkpoint)), c.error ? null : h('span', { class: 'muted ms' }, formatMs(c.ms))),
    c.error ? h('div', { class: 'col-error error' }, c.error) : null,
    ...warnings.map((w) => h('div', { class: 'col-warning warning' }, `⚠ ${w}`)));
}

function cell(preds: PredictionLike[] | null, ci: number, start: number, end: number, agree: boolean): HTMLElement {
  if (!preds) return h('div', { class: `cell c${ci} none muted` }, 'no prediction here (the mask was cut off or tokenized differently)');
  return h('ol', { class: `cell c${ci}` }, ...preds.map((p, j) => {
    const bar = h('span', { class: 'fill' });
    bar.style.width = `${barWidth(p.score)}%`;
    const li = h('li', {}, h('button', { class: `pred${j === 0 ? ' top' : ''}${j === 0 && agree ? ' agreed' : ''}`, title: `Put "${p.token}" in place of this ${MASK}` },
      h('span', { class: 'tok' }, p.token), h('span', { class: 'track' }, bar), h('span', { class: 'pct' }, formatPercent(p.score))));
    li.querySelector('button')!.addEventListener('click', () => {
      const src = result?.text ?? '';
      const t = src === state.text ? fillPrediction(src, start, end, p.token) : null;
      if (t === null) { pageError = 'the text changed since these predictions: wait for the new ones'; render(); return; }
      setText(t);
    });
    return li;
  }));
}

render();
post({ type: 'ready' });

/**
 * The predictions page's logic, without the DOM (node tests import it): masking a clicked token
 * or its whole word, putting a predicted token in place of its mask, aligning two checkpoints'
 * masks into rows, choosing the checkpoints to show, and formatting numbers.
 */

export const MASK = '[MASK]';
/** Every spelling of a mask the host accepts: [MASK], and RoBERTa's <mask> (each model reads either as its own). */
export const MASKS: readonly string[] = [MASK, '<mask>'];
const isMask = (s: string, mask: string) => s === mask || MASKS.includes(s);
/** WordPiece's continuation prefix: "##ing" continues the word before it. */
export const PIECE = '##';

export interface TokenLike { text: string; start: number; end: number; special: boolean }
export interface PredictionLike { token: string; score: number }
export interface MaskLike { start: number; end: number; predictions: PredictionLike[] }
export interface Span { start: number; end: number }

/** `text` with [start, end) replaced by the mask; the mask's span in the new text. */
export function maskSpan(text: string, start: number, end: number, mask = MASK): { text: string } & Span {
  if (!(0 <= start && start <= end && end <= text.length)) throw new RangeError(`span [${start}, ${end}) is outside the text (${text.length} characters)`);
  return { text: text.slice(0, start) + mask + text.slice(end), start, end: start + mask.length };
}

/** A word: a token and the "##" pieces that touch it; indices into the tokens. */
export interface WordGroup extends Span { pieces: number[] }

/** Groups tokens into words (special tokens and masks stand alone). */
export function wordGroups(tokens: readonly TokenLike[], mask = MASK): WordGroup[] {
  const groups: WordGroup[] = [];
  tokens.forEach((t, i) => {
    const prev = tokens[i - 1], last = groups[groups.length - 1];
    const joins = last && prev && !t.special && !prev.special && !isMask(prev.text, mask) && t.text.startsWith(PIECE) && t.text.length > PIECE.length && prev.end === t.start;
    if (joins) { last.pieces.push(i); last.end = t.end; } else groups.push({ start: t.start, end: t.end, pieces: [i] });
  });
  return groups;
}

/** Whether a token chip can be clicked to mask it: not [CLS]/[SEP]/[PAD], not already a mask, not empty. */
export const maskable = (t: TokenLike, mask = MASK): boolean => !t.special && !isMask(t.text, mask) && t.end > t.start;

/** The span to mask when token `i` is clicked: that piece, or (`whole`) its whole word; null when not maskable. */
export function maskTarget(tokens: readonly TokenLike[], i: number, whole: boolean, mask = MASK): Span | null {
  const t = tokens[i];
  if (!t || !maskable(t, mask)) return null;
  if (!whole) return { start: t.start, end: t.end };
  const g = wordGroups(tokens, mask).find((w) => w.pieces.includes(i))!;
  return { start: g.start, end: g.end };
}

/**
 * `text` with the mask at [start, end) replaced by a predicted token; a "##" piece joins the word
 * before it (as the fill-mask pipeline's `sequence` does). Null when [start, end) no longer holds
 * the mask (the text changed since the prediction).
 */
export function fillPrediction(text: string, start: number, end: number, token: string, mask = MASK): string | null {
  if (!isMask(text.slice(start, end), mask)) return null;
  if (token.startsWith(PIECE) && token.length > PIECE.length) return text.slice(0, start).replace(/\s+$/, '') + token.slice(PIECE.length) + text.slice(end);
  return text.slice(0, start) + token + text.slice(end);
}

/** The start offsets of every mask in `text` ([MASK] or <mask>, or `masks`). */
export function findMasks(text: string, masks: readonly string[] = MASKS): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length;) {
    const m = masks.find((x) => text.startsWith(x, i));
    if (m) { out.push(i); i += m.length; } else i++;
  }
  return out;
}

/** Up to `radius` characters of context each side of [start, end), cut at a space, whitespace collapsed, "…" where cut. */
export function snippet(text: string, start: number, end: number, radius = 40): { before: string; mask: string; after: string } {
  const flat = (s: string) => s.replace(/\s+/g, ' ');
  let b = text.slice(Math.max(0, start - radius), start), a = text.slice(end, end + radius);
  const cutB = start - radius > 0, cutA = end + radius < text.length;
  if (cutB) { const sp = b.indexOf(' '); b = `…${sp >= 0 && sp < b.length - 1 ? b.slice(sp + 1) : b}`; }
  if (cutA) { const sp = a.lastIndexOf(' '); a = `${sp > 0 ? a.slice(0, sp) : a}…`; }
  return { before: flat(b).trimStart(), mask: text.slice(start, end), after: flat(a).trimEnd() };
}

/** One row of the results: a mask, and each column's predictions there (null where that checkpoint has none). */
export interface MaskRow extends Span {
  cells: (PredictionLike[] | null)[];
  /** With two or more columns that all predicted here: whether their top-1 tokens agree; else null. */
  agree: boolean | null;
}

/** Aligns the columns' masks by their span in the text (checkpoints with different tokenizers or lengths may differ). */
export function alignMasks(columns: readonly { masks: readonly MaskLike[] }[]): MaskRow[] {
  const rows = new Map<string, MaskRow>();
  columns.forEach((c, ci) => {
    for (const m of c.masks) {
      const key = `${m.start}:${m.end}`;
      let r = rows.get(key);
      if (!r) rows.set(key, (r = { start: m.start, end: m.end, cells: columns.map(() => null), agree: null }));
      r.cells[ci] = m.predictions;
    }
  });
  const out = [...rows.values()].sort((a, b) => a.start - b.start || a.end - b.end);
  for (const r of out) {
    const tops = r.cells.map((c) => c?.[0]?.token);
    if (columns.length >= 2 && tops.every((t) => t !== undefined)) r.agree = tops.every((t) => t === tops[0]);
  }
  return out;
}

export interface Slots { first: string; second: string; compare: boolean }

/**
 * The checkpoints to show after the host lists them: the host's `selected` when it names some (a
 * checkpoint opened from a run or picked), else the page's saved choice where still offered,
 * else the first item. A second checkpoint only when it is offered.
 */
export function chooseSlots(items: readonly { path: string }[], selected: readonly string[], saved: Slots): Slots {
  const has = (p: string) => p !== '' && items.some((i) => i.path === p);
  const first = selected[0] && has(selected[0]) ? selected[0] : has(saved.first) ? saved.first : items[0]?.path ?? '';
  if (selected[1] && has(selected[1])) return { first, second: selected[1], compare: true };
  const second = has(saved.second) ? saved.second : '';
  return { first, second, compare: saved.compare && second !== '' };
}

/** The checkpoints a run uses: the first, and the second when comparing with a different one. */
export function runCheckpoints(s: Slots): string[] {
  if (!s.first) return [];
  return s.compare && s.second && s.second !== s.first ? [s.first, s.second] : [s.first];
}

/** A probability as a percentage: one decimal, "<0.1%" for tiny non-zero values, "100%" when it rounds there. */
export function formatPercent(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p <= 0) return '0%';
  if (p < 0.0005) return '<0.1%';
  const s = (p * 100).toFixed(1);
  return s === '100.0' ? '100%' : `${s}%`;
}

/** A bar's width in percent of its track: the probability, clamped to [0, 100]. */
export const barWidth = (p: number): number => (Number.isFinite(p) ? Math.min(100, Math.max(0, p * 100)) : 0);

/** Milliseconds as "85 ms" or "1.24 s". */
export const formatMs = (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`);

/** Top-k from the text field: an integer from 1 to 100, or an error naming the value. */
export function parseTopK(s: string): { k: number } | { error: string } {
  const k = Number(s.trim());
  return Number.isInteger(k) && k >= 1 && k <= 100 && s.trim() !== '' ? { k } : { error: `top-k must be a whole number from 1 to 100, not "${s}"` };
}

/** The last path component of a checkpoint folder (its label when the host gave none). */
export const baseName = (p: string): string => p.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || p;

/**
 * The text around a [MASK] that a hover sends to the model: the paragraph (or sentence) around
 * it, cut to fit the model's max length in tokens, with the mask kept inside the window. Pure
 * string logic on UTF-16 offsets, so the editor can map results back to document positions.
 */
import { WordPieceTokenizer } from '../tokenizer/index.js';

export interface MaskSpan { start: number; end: number }
export interface MaskContext {
  /** The text given to the model. */
  text: string;
  /** Offset of `text` in the document. */
  offset: number;
  /** Where the hovered mask lies in `text`. */
  mask: MaskSpan;
}

/**
 * How a mask may be written: BERT's [MASK] and RoBERTa's <mask>. Each model reads either as its
 * own mask token (pipeline.ts aliasMasks), so a hover or a prediction works whichever is typed.
 */
export const MASK_SPELLINGS: readonly string[] = ['[MASK]', '<mask>'];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every mask in `text` (any of `tokens`) as UTF-16 spans, in order. */
export function findMasks(text: string, tokens: readonly string[] = MASK_SPELLINGS): MaskSpan[] {
  const re = new RegExp(tokens.map(escape).join('|'), 'g');
  return [...text.matchAll(re)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}

/** The mask span containing document offset `at`, if any. */
export const maskAt = (text: string, at: number, tokens: readonly string[] = MASK_SPELLINGS): MaskSpan | undefined =>
  findMasks(text, tokens).find((m) => at >= m.start && at <= m.end);

/** The paragraph around `span`: bounded by blank lines (or the document's ends). */
export function paragraphAround(text: string, span: MaskSpan): { start: number; end: number } {
  const before = text.lastIndexOf('\n\n', span.start);
  const after = text.indexOf('\n\n', span.end);
  return { start: before < 0 ? 0 : before + 2, end: after < 0 ? text.length : after };
}

/**
 * The context for the mask at `span`: its paragraph, shrunk symmetrically around the mask, at
 * word boundaries, until it tokenizes to at most `maxTokens` (special tokens included).
 */
export function maskContext(doc: string, span: MaskSpan, tokenizer: WordPieceTokenizer, maxTokens: number): MaskContext {
  const para = paragraphAround(doc, span);
  let start = para.start, end = para.end;
  const fits = () => tokenizer.encode(doc.slice(start, end), null, { truncation: null, padding: null }).ids.length <= maxTokens;
  while (!fits()) {
    const left = span.start - start, right = end - span.end;
    if (left <= 0 && right <= 0) break;
    // Drop a word from the longer side.
    if (left >= right) {
      const next = doc.indexOf(' ', start + 1);
      start = next < 0 || next > span.start ? span.start : next + 1;
    } else {
      const prev = doc.lastIndexOf(' ', end - 2);
      end = prev < span.end ? span.end : prev;
    }
  }
  return { text: doc.slice(start, end), offset: start, mask: { start: span.start - start, end: span.end - start } };
}

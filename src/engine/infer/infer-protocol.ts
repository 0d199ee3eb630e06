/** Messages between an InferenceWorker and its thread. Types only. */
import type { AttentionResult, ClassifyResult, FillMaskResult } from './pipeline.js';

export type InferRequest =
  | { id: number; kind: 'fillMask'; folder: string; text: string; topK: number; int8?: boolean }
  | { id: number; kind: 'classify'; folder: string; text: string; pair?: string }
  | { id: number; kind: 'attention'; folder: string; text: string; pair?: string }
  | { id: number; kind: 'info'; folder: string }
  /** Fill the mask at [start, end) of `text` (a paragraph), with context fitted to the model. */
  | { id: number; kind: 'fillMaskAt'; folder: string; text: string; start: number; end: number; topK: number };

/** One mask's predictions, with its span in the text that was sent. */
export interface MaskAtResult { start: number; end: number; predictions: { tokenId: number; token: string; score: number }[]; warnings: string[] }

export interface CheckpointSummary { architecture: string; maxLength: number; maskToken: string; labels: string[]; layers: number; heads: number }

export type InferReply =
  | { id: number; ok: true; result: FillMaskResult | ClassifyResult | AttentionResult | CheckpointSummary | MaskAtResult; ms: number }
  | { id: number; ok: false; message: string };

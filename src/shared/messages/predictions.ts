/**
 * Predictions: the page sends text with [MASK]s and one or two checkpoints; the host answers
 * with each checkpoint's tokens (to click and mask) and top-k per mask.
 */
import { arr, bool, int, num, obj, opt, str } from '../validate.js';

/** An input token: its vocabulary string, UTF-16 [start, end) in the text, and whether [CLS]/[SEP]/[PAD]. */
export const tokenSpan = obj({ text: str(1000), start: int(0), end: int(0), special: bool });
export const maskPrediction = obj({ token: str(1000), score: num });
export const predictionColumn = obj({
  checkpoint: str(4096),
  tokens: arr(tokenSpan, 100_000),
  masks: arr(obj({ start: int(0), end: int(0), predictions: arr(maskPrediction, 1000) }), 10_000),
  warnings: arr(str(10_000), 1000),
  /** Milliseconds the checkpoint took (the worker's round trip). */
  ms: num,
  /** Why this checkpoint gave no predictions (e.g. it is a classifier, not a masked LM). */
  error: opt(str(10_000)),
});

export const predictionsToHost = {
  /** Predict the masks of `text` with these checkpoints (paths from `checkpoints`; one, or two to compare). */
  'predictions/run': { requestId: int(0), text: str(100_000), checkpoints: arr(str(4096), 2), topK: int(1, 100) },
  /** Let the user pick another checkpoint (quick pick or folder) for slot 0 or 1. */
  'predictions/pickCheckpoint': { slot: int(0, 1) },
} as const;

export const predictionsToView = {
  'predictions/result': { requestId: int(0), columns: arr(predictionColumn, 2) },
  /** Text to load into the panel (from the editor's selection, or a clicked checkpoint). */
  'predictions/text': { text: str(100_000) },
} as const;

export type PredictionColumnMsg = ReturnType<typeof predictionColumn>;

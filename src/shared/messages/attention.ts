/**
 * Attention: the host runs the checkpoint once and keeps every layer's probabilities; the page
 * gets the tokens, then asks for what it draws: thumbnails of all layers × heads (downsampled,
 * 8-bit) and the full query × key matrix of one head (or the heads' mean) at a time. Probabilities
 * are not renormalised when tokens are hidden (see src/engine/infer/attention-view.ts).
 */
import { arr, bool, f32, int, nullable, num, obj, opt, str, u8 } from '../validate.js';

export const attentionToken = obj({ text: str(1000), start: int(0), end: int(0), segment: nullable(int(0, 1)), special: bool });

export const attentionToHost = {
  /** Run `checkpoint` on `text` (and `pair`, a second segment). */
  'attention/run': { requestId: int(0), checkpoint: str(4096), text: str(100_000), pair: opt(str(100_000)) },
  /** Thumbnails of every layer × head (or of each layer's mean) over the kept token indices. */
  'attention/thumbs': { requestId: int(0), keep: arr(int(0, 100_000), 100_000), mean: bool, size: int(4, 256) },
  /** One head's matrix over the kept token indices; head -1 = the mean of the layer's heads. */
  'attention/head': { requestId: int(0), layer: int(0, 1000), head: int(-1, 1000), keep: arr(int(0, 100_000), 100_000) },
  /** Let the user pick another checkpoint folder (quick pick or folder dialog). */
  'attention/pickCheckpoint': {},
} as const;

export const attentionToView = {
  /** Input to load into the page and run (a command or a clicked checkpoint opened the panel). */
  'attention/load': { checkpoint: opt(str(4096)), text: opt(str(100_000)), pair: opt(str(100_000)) },
  'attention/meta': { requestId: int(0), checkpoint: str(4096), tokens: arr(attentionToken, 100_000), layers: int(1, 1000), heads: int(1, 1000), warnings: arr(str(10_000), 1000), ms: num },
  /** `count` thumbnails of size × size, row-major, each scaled to its own maximum (`scale[i]` = that maximum). */
  'attention/thumbs': { requestId: int(0), size: int(1, 256), count: int(0, 1_000_000), data: u8(), scale: arr(num, 1_000_000) },
  'attention/head': { requestId: int(0), layer: int(0, 1000), head: int(-1, 1000), n: int(0, 100_000), data: f32() },
} as const;

export type AttentionTokenMsg = ReturnType<typeof attentionToken>;

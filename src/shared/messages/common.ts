/** Messages every BERT Lab webview sends or receives. */
import { arr, bool, int, lit, obj, opt, str } from '../validate.js';

/** A checkpoint the panel may choose: the host only accepts paths it offered (or the user picked). */
export const checkpointRef = obj({ label: str(1000), description: str(1000), path: str(4096) });

export const commonToHost = {
  /** The page has loaded and listens; the host answers with the panel's data. */
  ready: {},
  /** Something the page wants in the BERT Lab output channel (errors, CSP violations). */
  log: { level: lit('info', 'warn', 'error'), message: str(10_000) },
  /** Save a file through the host's save dialog: CSV text, or a PNG as a data: URL. */
  saveFile: { kind: lit('csv', 'png'), suggestedName: str(200), data: str(64 * 2 ** 20) },
} as const;

export const commonToView = {
  /** A request failed; `requestId` names it when there was one. */
  error: { requestId: opt(int(0)), message: str(10_000) },
  /** The checkpoints the panel can choose from, and the ones chosen. */
  checkpoints: { items: arr(checkpointRef, 10_000), selected: arr(str(4096), 2), busy: opt(bool) },
} as const;

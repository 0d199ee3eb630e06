/**
 * Every message between the extension host and the webviews: one discriminated union per
 * direction, checked on receipt with `validate` (unknown or malformed messages are dropped and
 * logged, never acted on).
 */
import { type Infer, union } from '../validate.js';
import { attentionToHost, attentionToView } from './attention.js';
import { commonToHost, commonToView } from './common.js';
import { curvesToHost, curvesToView } from './curves.js';
import { predictionsToHost, predictionsToView } from './predictions.js';

export const toHost = union({ ...commonToHost, ...curvesToHost, ...predictionsToHost, ...attentionToHost });
export const toView = union({ ...commonToView, ...curvesToView, ...predictionsToView, ...attentionToView });
/** A message from a webview to the extension host. */
export type ToHost = Infer<typeof toHost>;
/** A message from the extension host to a webview. */
export type ToView = Infer<typeof toView>;
export type ToHostOf<T extends ToHost['type']> = Extract<ToHost, { type: T }>;
export type ToViewOf<T extends ToView['type']> = Extract<ToView, { type: T }>;

/** The webview panels (their viewType is `bertLab.<name>`). */
export type PanelKind = 'curves' | 'predictions' | 'attention';

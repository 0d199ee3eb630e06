/**
 * The autodiff package, the one way in from outside it: the ops with every rule registered, the
 * ops composed from them, and the backward pass. Rules register here, not in ops.ts, so the op
 * builders and their rules do not import each other.
 */
import './rules.js';

export * from './ops.js';
export * from './derived.js';
export { grad, vjp } from './backward.js';
export { apply, opDef, opNames } from './table.js';

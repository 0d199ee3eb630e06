// The message union between the extension host and the webviews: what passes, what is refused
// and how the refusal names the field (hand-written cases), and random values (fast-check) that
// are always either accepted as typed or refused with a MessageError, never anything else.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deepEqual as looseDeepEqual } from 'node:assert';
import fc from 'fast-check';
import { toHost, toView } from '../src/shared/messages/index.js';
import { MessageError, arr, int, obj, str, validate } from '../src/shared/validate.js';

const refused = (c: typeof toHost | typeof toView, v: unknown): string => {
  const r = validate(c as (v: unknown) => unknown, v);
  assert.equal(r.ok, false, `expected ${JSON.stringify(v)} to be refused`);
  return (r as { error: string }).error;
};

describe('webview messages', () => {
  it('accepts well-formed messages of each direction, typed arrays included', () => {
    const ok = [
      [toHost, { type: 'ready' }],
      [toHost, { type: 'log', level: 'warn', message: 'x' }],
      [toHost, { type: 'curves/select', ids: ['/a', '/b'] }],
      [toHost, { type: 'predictions/run', requestId: 3, text: 'a [MASK] b', checkpoints: ['/c'], topK: 5 }],
      [toHost, { type: 'attention/head', requestId: 1, layer: 0, head: -1, keep: [0, 1, 2] }],
      [toView, { type: 'attention/head', requestId: 1, layer: 0, head: 2, n: 2, data: new Float32Array(4) }],
      [toView, { type: 'attention/thumbs', requestId: 1, size: 2, count: 1, data: new Uint8Array(4), scale: [0.5] }],
      [toView, { type: 'curves/append', id: '/r', rows: [{ step: 1, epoch: 0.1, time: null, values: { loss: 2.5, grad_norm: null } }], checkpoints: [], live: true }],
      [toView, { type: 'error', message: 'boom' }],
    ] as const;
    for (const [c, m] of ok) {
      const r = validate(c as (v: unknown) => unknown, m);
      assert.ok(r.ok, `${m.type}: ${r.ok ? '' : r.error}`);
      looseDeepEqual(r.value, m); // records come back with a null prototype
    }
  });

  it('refuses unknown types, missing and unknown fields and wrong values, naming the field', () => {
    assert.match(refused(toHost, { type: 'nope' }), /message\.type: unknown message type "nope"/);
    assert.match(refused(toHost, null), /message\.type: unknown message type/);
    assert.match(refused(toHost, 'ready'), /message\.type/);
    assert.match(refused(toHost, { type: 'log', level: 'warn' }), /message\.message: expected a string, got undefined/);
    assert.match(refused(toHost, { type: 'ready', extra: 1 }), /message\.extra: unknown field/);
    assert.match(refused(toHost, JSON.parse('{"type":"ready","constructor":1}')), /message\.constructor: unknown field/);
    assert.match(refused(toHost, { type: 'toString' }), /message\.type: unknown message type "toString"/);
    assert.match(refused(toHost, { type: 'log', level: 'debug', message: 'x' }), /message\.level: expected one of "info", "warn", "error", got "debug"/);
    assert.match(refused(toHost, { type: 'predictions/run', requestId: 1.5, text: '', checkpoints: [], topK: 5 }), /message\.requestId: expected an integer/);
    assert.match(refused(toHost, { type: 'predictions/run', requestId: 1, text: '', checkpoints: ['a', 'b', 'c'], topK: 5 }), /message\.checkpoints: expected an array of at most 2/);
    assert.match(refused(toHost, { type: 'predictions/run', requestId: 1, text: '', checkpoints: [], topK: 0 }), /message\.topK: expected an integer in \[1, 100\]/);
    assert.match(refused(toView, { type: 'curves/append', id: 'r', rows: [{ step: 1, epoch: 0, time: 0, values: { loss: 'x' } }], checkpoints: [], live: false }), /message\.rows\[0\]\.values\.loss: expected a finite number/);
    assert.match(refused(toView, { type: 'attention/head', requestId: 1, layer: 0, head: 0, n: 1, data: [0.5] }), /message\.data: expected a Float32Array, got an array of 1/);
    assert.match(refused(toView, { type: 'attention/head', requestId: 1, layer: 0, head: 0, n: 1, data: new Float64Array(1) }), /expected a Float32Array, got Float64Array/);
    assert.match(refused(toHost, { type: 'saveFile', kind: 'exe', suggestedName: 'x', data: '' }), /message\.kind/);
  });

  it('refuses non-finite numbers and oversized strings and arrays', () => {
    const c = obj({ n: int(0, 10), s: str(3), a: arr(int(), 2) });
    assert.throws(() => c({ n: Number.NaN, s: 'abc', a: [] }), /message\.n: expected an integer in \[0, 10\], got number NaN/);
    assert.throws(() => c({ n: 1, s: 'abcd', a: [] }), /message\.s: expected a string of at most 3 characters/);
    assert.throws(() => c({ n: 1, s: 'a', a: [1, 2, 3] }), /message\.a: expected an array of at most 2/);
    assert.match(refused(toHost, { type: 'log', level: 'info', message: 'x'.repeat(10_001) }), /at most 10000 characters/);
  });

  it('refuses a __proto__ key in records, and leaves Object.prototype alone', () => {
    assert.match(refused(toView, JSON.parse('{"type":"curves/append","id":"r","rows":[{"step":1,"epoch":null,"time":null,"values":{"loss":2,"__proto__":{"polluted":1}}}],"checkpoints":[],"live":false}')), /message\.rows\[0\]\.values\.__proto__: a reserved key/);
    const r = validate(toView, JSON.parse('{"type":"curves/append","id":"r","rows":[{"step":1,"epoch":null,"time":null,"values":{"constructor":1,"loss":2}}],"checkpoints":[],"live":false}'));
    assert.ok(r.ok, 'other names are plain data');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
  });

  it('on random values, either accepts or throws a MessageError (never anything else)', () => {
    const types = ['ready', 'log', 'saveFile', 'curves/select', 'curves/addRun', 'curves/openCheckpoint', 'predictions/run', 'predictions/pickCheckpoint', 'attention/run', 'attention/thumbs', 'attention/head', 'error', 'checkpoints', 'curves/data', 'curves/append', 'attention/meta'];
    const value = fc.oneof(fc.anything(), fc.record({ type: fc.constantFrom(...types) }, { requiredKeys: ['type'] }).chain((o) => fc.dictionary(fc.string(), fc.anything()).map((d) => ({ ...d, ...o }))));
    fc.assert(fc.property(value, (v) => {
      for (const c of [toHost, toView]) {
        try { c(v); } catch (e) { if (!(e instanceof MessageError)) throw e; }
      }
    }), { numRuns: 3000, seed: 42 });
  });
});

/**
 * The attention page's pure helpers: colour parsing, the theme colour map (zero is the background;
 * contrast against it never decreases, on dark and light themes), the heatmap's hit testing and
 * number formatting, against hand-computed values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RGB, axisAt, cellAt, colorMap, fmtP, keepOf, labelsFit, luminance, paint, parseColor } from '../src/webviews/lib/attention-lib.js';

describe('attention page helpers', () => {
  it('parses the colour forms VS Code variables use', () => {
    assert.deepEqual(parseColor('#1f1f1f'), [31, 31, 31]);
    assert.deepEqual(parseColor(' #abc '), [170, 187, 204]);
    assert.deepEqual(parseColor('#0078d4cc'), [0, 120, 212]);
    assert.deepEqual(parseColor('rgba(1, 2, 3, 0.5)'), [1, 2, 3]);
    assert.equal(parseColor('red'), null);
  });

  for (const [name, bg, accent] of [['Dark Modern', [31, 31, 31], [55, 148, 255]], ['Light Modern', [255, 255, 255], [26, 133, 255]], ['high contrast', [0, 0, 0], [55, 148, 255]]] as [string, RGB, RGB][]) {
    it(`colour map on ${name}: 0 is the background, contrast against it rises monotonically`, () => {
      const lut = colorMap(bg, accent);
      assert.deepEqual([...lut.slice(0, 4)], [...bg, 255]);
      const lb = luminance(bg);
      let prev = -1;
      for (let i = 0; i < 256; i++) {
        const c: RGB = [lut[i * 4]!, lut[i * 4 + 1]!, lut[i * 4 + 2]!];
        const d = Math.abs(luminance(c) - lb);
        assert.ok(d >= prev - 1e-3, `entry ${i} ${c}: contrast ${d} fell below ${prev}`);
        prev = Math.max(prev, d);
      }
      assert.ok(prev > 0.5, `the top colour stands out too little (${prev})`);
    });
  }

  it('paints values through the map, the maximum to the top colour', () => {
    const lut = new Uint8ClampedArray(256 * 4).map((_, i) => (i % 4 === 3 ? 255 : Math.floor(i / 4)));
    const out = new Uint8ClampedArray(3 * 4);
    paint(new Float32Array([0, 0.25, 0.5]), 0.5, lut, out);
    assert.deepEqual([...out], [0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
  });

  it('finds the cell and the axis token under the pointer', () => {
    const l = { left: 10, top: 20, side: 100, n: 4 };
    assert.deepEqual(cellAt(l, 10, 20), [0, 0]);
    assert.deepEqual(cellAt(l, 109.9, 119.9), [3, 3]);
    assert.deepEqual(cellAt(l, 36, 70), [2, 1]);
    assert.equal(cellAt(l, 9, 50), null);
    assert.equal(cellAt(l, 50, 120), null);
    assert.equal(axisAt(l, 5, 50), 1);
    assert.equal(axisAt(l, 60, 5), 2);
    assert.equal(axisAt(l, 5, 5), -1);
    assert.equal(axisAt(l, 50, 50), -1);
    assert.equal(labelsFit(110, 10), true);
    assert.equal(labelsFit(100, 10), false);
  });

  it('formats probabilities and keeps the non-special positions', () => {
    assert.deepEqual([1, 0.5, 0.029173, 0.00026, 0].map(fmtP), ['1', '0.5', '0.0292', '2.6e-4', '0']);
    assert.deepEqual(keepOf([{ special: true }, { special: false }, { special: true }, { special: false }], true), [1, 3]);
  });
});

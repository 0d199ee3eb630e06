/**
 * The PNG export: the visible charts composed onto one canvas as they sit on screen, with a title,
 * the runs' colours and each chart's title and legend, on the theme's background.
 */
import type { Chart } from './chart.js';
import type { Theme } from './chart.js';

export function exportPng(charts: Chart[], grid: HTMLElement | null, runs: { name: string; color: string }[], t: Theme): string | null {
  if (!grid || !charts.length) return null;
  const dpr = Math.max(1, devicePixelRatio || 1);
  const g = grid.getBoundingClientRect();
  const pad = 16, head = 48;
  const W = Math.ceil(g.width + 2 * pad), H = Math.ceil(g.height + head + pad);
  const out = document.createElement('canvas');
  out.width = W * dpr; out.height = H * dpr;
  const ctx = out.getContext('2d');
  if (!ctx) return null;
  ctx.scale(dpr, dpr);
  ctx.fillStyle = t.bg; ctx.fillRect(0, 0, W, H);
  ctx.textBaseline = 'middle';
  ctx.fillStyle = t.fg; ctx.font = `600 15px ${t.font}`;
  ctx.fillText('BERT Lab · training curves', pad, 18);
  // The runs' colours in one line under the title.
  ctx.font = `12px ${t.font}`;
  let x = pad;
  for (const r of runs) {
    ctx.fillStyle = r.color; ctx.fillRect(x, 34, 14, 3);
    ctx.fillStyle = t.fg; ctx.fillText(r.name, x + 20, 36);
    x += 20 + ctx.measureText(r.name).width + 18;
  }
  for (const c of charts) {
    const r = c.el.getBoundingClientRect();
    const ox = r.left - g.left + pad, oy = r.top - g.top + head;
    const title = c.el.querySelector('h3')?.textContent ?? '';
    ctx.fillStyle = t.fg; ctx.font = `600 13px ${t.font}`;
    ctx.fillText(title, ox + 12, oy + 16);
    // Legend entries where the page shows them (hidden lines greyed).
    ctx.font = `11px ${t.font}`;
    for (const item of c.el.querySelectorAll<HTMLElement>('.legend-item')) {
      const ir = item.getBoundingClientRect(), sw = item.querySelector<HTMLElement>('.swatch');
      const lx = ir.left - g.left + pad, ly = ir.top - g.top + head + ir.height / 2;
      ctx.globalAlpha = item.classList.contains('off') ? 0.4 : 1;
      if (sw) {
        ctx.fillStyle = getComputedStyle(sw).borderTopColor;
        if (sw.classList.contains('dashed')) for (let k = 0; k < 3; k++) ctx.fillRect(lx + 4 + 5 * k, ly - 1, 3, 2); // an eval line
        else ctx.fillRect(lx + 4, ly - 1, 12, 3);
      }
      ctx.fillStyle = t.fg; ctx.fillText(item.textContent ?? '', lx + 20, ly);
      ctx.globalAlpha = 1;
    }
    const cv = c.canvas;
    if (cv) {
      const cr = cv.getBoundingClientRect();
      ctx.drawImage(cv, cr.left - g.left + pad, cr.top - g.top + head, cr.width, cr.height);
    }
  }
  return out.toDataURL('image/png');
}

/**
 * A loss-curve picture as SVG text (train loss, eval loss), for viewing a run without a webview:
 * VS Code opens .svg files in its image preview. Pure function of the run log records.
 */
import type { RunLogRecord } from '../train/state.js';

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' }[c]!));

export function lossCurveSvg(title: string, records: RunLogRecord[], opts: { width?: number; height?: number; smoothing?: number } = {}): string {
  const W = opts.width ?? 720, H = opts.height ?? 360, pad = { l: 56, r: 16, t: 32, b: 36 };
  const train = records.filter((r): r is Extract<RunLogRecord, { type: 'step' }> => r.type === 'step' && Number.isFinite(r.loss));
  const evals = records.filter((r): r is Extract<RunLogRecord, { type: 'eval' }> => r.type === 'eval' && Number.isFinite(r.metrics['eval_loss'] ?? NaN));
  const a = opts.smoothing ?? 0.9;
  let ema = NaN;
  const smooth = train.map((r) => (ema = Number.isNaN(ema) ? r.loss : a * ema + (1 - a) * r.loss));
  const xs = [...train.map((r) => r.step), ...evals.map((r) => r.step)], ys = [...train.map((r) => r.loss), ...evals.map((r) => r.metrics['eval_loss']!)];
  if (xs.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="20" y="40" font-family="sans-serif">${esc(title)}: no steps logged yet</text></svg>`;
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)], [y0, y1] = [Math.min(...ys), Math.max(...ys, Math.min(...ys) + 1e-6)];
  const X = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r), Y = (y: number) => H - pad.b - ((y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  const path = (pts: [number, number][]) => pts.map(([x, y], i) => `${i ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join('');
  const ticks = Array.from({ length: 5 }, (_, i) => y0 + ((y1 - y0) * i) / 4);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#1e1e1e"/>
<text x="${pad.l}" y="20" fill="#ddd" font-size="13">${esc(title)}</text>
${ticks.map((t) => `<line x1="${pad.l}" x2="${W - pad.r}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#333"/><text x="${pad.l - 6}" y="${(Y(t) + 4).toFixed(1)}" fill="#aaa" text-anchor="end">${t.toFixed(2)}</text>`).join('\n')}
<text x="${pad.l}" y="${H - 10}" fill="#aaa">step ${x0}</text><text x="${W - pad.r}" y="${H - 10}" fill="#aaa" text-anchor="end">step ${x1}</text>
<path d="${path(train.map((r) => [r.step, r.loss]))}" fill="none" stroke="#3794ff" stroke-opacity="0.25"/>
<path d="${path(train.map((r, i) => [r.step, smooth[i]!]))}" fill="none" stroke="#3794ff" stroke-width="2"/>
${evals.length ? `<path d="${path(evals.map((r) => [r.step, r.metrics['eval_loss']!]))}" fill="none" stroke="#f48771" stroke-width="2"/>${evals.map((r) => `<circle cx="${X(r.step).toFixed(1)}" cy="${Y(r.metrics['eval_loss']!).toFixed(1)}" r="3" fill="#f48771"/>`).join('')}` : ''}
<text x="${W - pad.r}" y="20" fill="#3794ff" text-anchor="end">train loss (EMA ${a}) <tspan fill="#f48771">● eval loss</tspan></text>
</svg>
`;
}

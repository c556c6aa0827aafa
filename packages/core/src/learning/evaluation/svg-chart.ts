export interface ChartSeries {
  name: string;
  points: ReadonlyArray<{ x: number; y: number; label?: string }>;
  color: string;
  /** `line` (default), `dashed`, or `points` (markers with labels). */
  style?: 'line' | 'dashed' | 'points';
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  width?: number;
  height?: number;
  /** Format of tick labels on x. */
  xFormat?: (x: number) => string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const step0 = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A self-contained SVG line chart (no dependencies), for the evaluation reports. */
export function svgChart(o: ChartOptions): string {
  const W = o.width ?? 720, H = o.height ?? 460;
  const L = 70, R = 220, T = 40, B = 55;
  const all = o.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  let x0 = Math.min(...all.map((p) => p.x)), x1 = Math.max(...all.map((p) => p.x));
  let y0 = Math.min(...all.map((p) => p.y)), y1 = Math.max(...all.map((p) => p.y));
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) y1 = y0 + 1;
  const padY = (y1 - y0) * 0.05;
  y0 -= padY;
  y1 += padY;
  const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y: number) => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const fx = o.xFormat ?? ((x: number) => String(Number(x.toPrecision(3))));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${L}" y="22" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<line x1="${sx(t)}" y1="${T}" x2="${sx(t)}" y2="${H - B}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(t)}" y="${H - B + 16}" text-anchor="middle">${esc(fx(t))}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${L}" y1="${sy(t)}" x2="${W - R}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${L - 6}" y="${sy(t) + 4}" text-anchor="end">${Number(t.toPrecision(3))}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (s.style === 'points') {
      for (const p of pts) {
        parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
        if (p.label) parts.push(`<text x="${(sx(p.x) + 5).toFixed(1)}" y="${(sy(p.y) - 5).toFixed(1)}" font-size="9" fill="#555">${esc(p.label)}</text>`);
      }
    } else if (pts.length > 0) {
      const d = pts.map((p, k) => `${k ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.style === 'dashed' ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
    const ly = T + 10 + i * 18;
    parts.push(
      s.style === 'points'
        ? `<circle cx="${W - R + 20}" cy="${ly}" r="3.5" fill="${s.color}"/>`
        : `<line x1="${W - R + 10}" y1="${ly}" x2="${W - R + 30}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.style === 'dashed' ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    parts.push(`<text x="${W - R + 36}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

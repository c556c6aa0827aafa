import type { EvaluationReport } from './evaluation-report.js';
import { svgChart, type ChartSeries } from './svg-chart.js';

const COLORS: Record<string, string> = { logistic: '#1f77b4', mf: '#9467bd', mlp: '#2ca02c', knn: '#ff7f0e', prior: '#8c564b', oracle: '#d62728', random: '#7f7f7f' };

/**
 * The report's curves as an SVG: PGR vs share of strong calls (two models), quality vs cost with the
 * single models and the zero-router hull (many models), or a bar-like points chart (selection only).
 */
export function reportSvg(r: EvaluationReport): string {
  const series: ChartSeries[] = [];
  const all = [...r.predictors, r.baselines.oracle, r.baselines.random];
  if (r.mode === 'two-model') {
    for (const p of all) {
      if (!p.two_model) continue;
      const head = p.kind === r.chosen ? ' (chosen)' : '';
      series.push({
        name: `${p.kind}${head} APGR ${p.two_model.apgr.toFixed(3)}`,
        color: COLORS[p.kind] ?? '#000',
        style: p.kind === 'random' || p.kind === 'oracle' ? 'dashed' : 'line',
        points: p.two_model.curve.map((c) => ({ x: c.strongShare * 100, y: c.pgr })),
      });
    }
    return svgChart({ title: `${r.data}: PGR vs calls to the strong model (${r.protocol})`, xLabel: '% calls to the strong model', yLabel: 'PGR', series });
  }
  if (r.mode === 'many-model') {
    for (const p of all) {
      if (!p.many_model) continue;
      series.push({
        name: `${p.kind} AIQ ${p.many_model.aiq.toFixed(3)}`,
        color: COLORS[p.kind] ?? '#000',
        style: p.kind === 'random' ? 'points' : p.kind === 'oracle' ? 'dashed' : 'line',
        points: p.many_model.hull.map((h) => ({ x: h.cost, y: h.quality, ...(p.kind === 'random' ? { label: 'random' } : {}) })),
      });
    }
    if (r.zero_router) series.push({ name: `zero router AIQ ${r.zero_router.aiq.toFixed(3)}`, color: '#444', style: 'dashed', points: r.zero_router.hull.map((h) => ({ x: h.cost, y: h.quality })) });
    series.push({ name: 'single models', color: '#444', style: 'points', points: r.single_models.map((s) => ({ x: s.cost ?? 0, y: s.quality, label: s.model.replace(/^.*\//, '') })) });
    return svgChart({ title: `${r.data}: quality vs cost (${r.protocol})`, xLabel: 'mean cost per prompt (USD)', yLabel: 'mean quality', series, xFormat: (x) => x.toExponential(1) });
  }
  series.push({ name: 'single models', color: '#444', style: 'points', points: r.single_models.map((s, i) => ({ x: i, y: s.quality, label: s.model.replace(/^.*\//, '') })) });
  const n = r.single_models.length;
  for (const p of all) if (p.selection) series.push({ name: `${p.kind} ${p.selection.quality.toFixed(3)}`, color: COLORS[p.kind] ?? '#000', style: p.kind === 'random' ? 'dashed' : 'line', points: [{ x: 0, y: p.selection.quality }, { x: n - 1, y: p.selection.quality }] });
  return svgChart({ title: `${r.data}: routed quality vs single models (${r.protocol})`, xLabel: 'model', yLabel: 'mean quality', series });
}

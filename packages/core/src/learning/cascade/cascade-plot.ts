import { svgChart, type ChartSeries } from '../evaluation/svg-chart.js';
import type { CascadeReport, CascadeScorerResult } from './evaluate-cascade.js';

const COLORS = ['#d62728', '#ff7f0e', '#1f77b4', '#9467bd', '#2ca02c', '#8c564b', '#17becf', '#bcbd22', '#e377c2'];

function shown(r: CascadeReport): CascadeScorerResult[] {
  // Both cascade scorers, the chosen and the best prompt-only router.
  const keep = new Set(['cascade-learned', 'cascade-rule', `router-${r.router_chosen ?? ''}`, r.router_best ?? '']);
  return r.scorers.filter((s) => keep.has(s.name));
}

/** PGR over the share of strong calls: cascades against the prompt-only router, with random and oracle. */
export function cascadePgrSvg(r: CascadeReport): string {
  const series: ChartSeries[] = shown(r).map((s, i) => ({ name: `${s.name} APGR ${s.apgr.toFixed(3)}`, color: COLORS[i % COLORS.length]!, points: s.curve.map((c) => ({ x: c.strongShare * 100, y: c.pgr })) }));
  for (const [b, color] of [[r.baselines.oracle, '#444'], [r.baselines.random, '#7f7f7f']] as const) series.push({ name: `${b.name} APGR ${b.apgr.toFixed(3)}`, color, style: 'dashed', points: b.curve.map((c) => ({ x: c.strongShare * 100, y: c.pgr })) });
  return svgChart({ title: 'GSM8K: cascade (reads the weak answer) vs prompt-only router', xLabel: '% calls to the strong model', yLabel: 'PGR', series });
}

/** Quality over mean cost (fraction of always calling the strong model): the cascade pays every weak call. */
export function cascadeCostSvg(r: CascadeReport): string | undefined {
  if (!r.prices) return undefined;
  const series: ChartSeries[] = shown(r).map((s, i) => ({ name: s.name, color: COLORS[i % COLORS.length]!, points: (s.cost_curve ?? []).map((c) => ({ x: c.cost_fraction * 100, y: c.quality })) }));
  const rand = r.baselines.random;
  series.push({ name: 'random router', color: '#7f7f7f', style: 'dashed', points: (rand.cost_curve ?? []).map((c) => ({ x: c.cost_fraction * 100, y: c.quality })) });
  series.push({ name: '95% of strong', color: '#444', style: 'dashed', points: [{ x: 0, y: 0.95 * r.strong_quality }, { x: 105, y: 0.95 * r.strong_quality }] });
  return svgChart({ title: 'GSM8K: accuracy vs cost (cascade pays every weak call)', xLabel: 'mean cost, % of always calling the strong model', yLabel: 'accuracy', series });
}

import type { CascadeReport, CascadeScorerResult } from './evaluate-cascade.js';

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
const num = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? '-' : v.toFixed(d));

/** The cascade report as text tables (what `llmrr router eval --cascade` prints without --json). */
export function formatCascadeReport(r: CascadeReport): string {
  const lines: string[] = [];
  lines.push(`${r.data}: ${r.what}`);
  lines.push(`${r.protocol}, seed ${r.seed}, ${r.n_test} held-out prompts; weak accuracy ${num(r.weak_quality)}, strong ${num(r.strong_quality)}`);
  if (r.prices) {
    lines.push(`prices (USD / 1M tokens in/out): weak ${r.prices.weak.entry} ${r.prices.weak.input}/${r.prices.weak.output}, strong ${r.prices.strong.entry} ${r.prices.strong.input}/${r.prices.strong.output}; mean cost per prompt: weak $${r.prices.mean_cost_weak.toExponential(2)}, strong $${r.prices.mean_cost_strong.toExponential(2)} (weak = ${pct(r.prices.mean_cost_weak / r.prices.mean_cost_strong)} of strong)`);
  } else lines.push('no price table: cost views left out');
  lines.push('');
  lines.push('policy                     kind     APGR   CPT(50%) CPT(80%) strong@95%  cost@95%  cost@CPT50 cost@CPT80');
  const row = (s: CascadeScorerResult) =>
    `${s.name.padEnd(26)} ${s.kind.padEnd(8)} ${num(s.apgr)}  ${pct(s.cpt50).padStart(7)}  ${pct(s.cpt80).padStart(7)}  ${pct(s.strong_share_for_95).padStart(9)} ${pct(s.cost_fraction_for_95).padStart(9)} ${pct(s.cost_fraction_at_cpt50).padStart(9)} ${pct(s.cost_fraction_at_cpt80).padStart(9)}`;
  for (const s of r.scorers) lines.push(row(s));
  for (const s of [r.baselines.random_cascade, r.baselines.random, r.baselines.oracle]) lines.push(row(s));
  if (r.prices) {
    lines.push('');
    lines.push('quality within a budget (fraction of always calling the strong model):');
    const fr = r.scorers[0]?.quality_at_cost.map((q) => q.cost_fraction) ?? [];
    lines.push(`${'policy'.padEnd(26)} ${fr.map((f) => pct(f).padStart(7)).join(' ')}`);
    for (const s of r.scorers) lines.push(`${s.name.padEnd(26)} ${s.quality_at_cost.map((q) => num(q.quality).padStart(7)).join(' ')}`);
  }
  if (r.hybrid) {
    const h = r.hybrid;
    lines.push('', 'cascade routing: the router\'s top direct share per fold straight to the strong model (no weak call), the rest cascaded');
    const fr = h.policies[0]?.quality_at_cost.map((q) => q.cost_fraction) ?? [];
    lines.push(`${''.padEnd(26)} ${''.padStart(7)} ${''.padStart(9)} ${''.padStart(9)}   quality within a budget (fraction of always calling the strong model):`);
    lines.push(`${'policy'.padEnd(26)} ${'direct'.padStart(7)} ${'strong@95%'.padStart(9)} ${'cost@95%'.padStart(9)}   ${fr.map((f) => pct(f).padStart(6)).join(' ')}`);
    for (const p of h.policies) {
      lines.push(`${p.name.padEnd(26)} ${pct(p.direct_fraction).padStart(7)} ${pct(p.strong_share_for_95).padStart(9)} ${pct(p.cost_fraction_for_95).padStart(9)}   ${p.quality_at_cost.map((q) => num(q.quality).padStart(6)).join(' ')}`);
    }
    for (const p of h.policies) if (p.chosen_per_fold) lines.push(`  ${p.name}: shares per fold ${p.chosen_per_fold.map((a) => pct(a)).join(', ')}`);
  }
  if (r.router_chosen) lines.push('', `prompt-only router: chosen on validation data ${r.router_chosen}; best on held-out data (after the fact) ${r.router_best}`);
  lines.push('', 'signals (all held-out prompts): share flagged, weak accuracy when flagged / otherwise');
  for (const d of r.diagnostics) lines.push(`  ${d.signal.padEnd(42)} ${pct(d.share).padStart(6)}  ${num(d.weak_accuracy_when_set)} / ${num(d.weak_accuracy_otherwise)}`);
  return lines.join('\n');
}

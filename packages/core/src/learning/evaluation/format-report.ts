import { sameQuality } from '../datasets/same-quality.js';
import type { EvaluationReport } from './evaluation-report.js';
import type { PgrPoint } from './two-model-metrics.js';

const f3 = (x: number | null | undefined) => (x === undefined || x === null || !Number.isFinite(x) ? '-' : x.toFixed(3));
const pct = (x: number | null | undefined) => (x === undefined || x === null || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(1)}%`);

function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** The report as JSON text, numbers rounded to 5 significant digits (the curves make it long otherwise). */
export function reportJson(r: EvaluationReport, indent?: number): string {
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(5)) : v), indent);
}

/** A human summary of an evaluation report (what `llmrr router eval` prints without --json). */
export function formatReport(r: EvaluationReport): string {
  const out: string[] = [];
  const missingOutcome = r.dropped - (r.dropped_missing_cost ?? 0);
  const dropped = [missingOutcome ? `${missingOutcome} dropped for missing outcomes` : '', r.dropped_missing_cost ? `${r.dropped_missing_cost} dropped for a missing cost` : ''].filter(Boolean);
  out.push(`${r.data} (${r.format}): ${r.models.length} models, ${r.n_test} held-out prompts (${r.protocol})${dropped.map((d) => `, ${d}`).join('')}`);
  if (r.missing_cost_no_curves) out.push(`no cost curves: none of the ${r.missing_cost_no_curves} held-out prompts with every model's outcome has every model's cost (give each model's cost_usd on them); scored on the quality of the model picked per prompt`);
  if (r.train_overlap_dropped) out.push(`${r.train_overlap_dropped} training prompts left out: their text is a held-out prompt's`);
  if (r.model_trained_dropped) out.push(`${r.model_trained_dropped} prompts left out: the model trained on them`);
  out.push(`chosen predictor (on validation data): ${r.chosen}\n`);
  const all = [...r.predictors, r.baselines.random, r.baselines.oracle];
  if (r.mode === 'two-model') {
    const quality = (m: string | undefined) => f3(r.single_models.find((s) => s.model === m)?.quality);
    const weak = r.pair?.weak ?? r.models[0], strong = r.pair?.strong ?? r.models[1];
    const qWeak = r.single_models.find((s) => s.model === weak)?.quality, qStrong = r.single_models.find((s) => s.model === strong)?.quality;
    // Both of the same quality on these prompts: neither is the weak or the strong one, and there is no gap for a router
    // to recover (PGR divides by it: the report's APGR 0 and CPT 100% are placeholders). What a router still does is
    // pick per prompt: the quality its routing reaches (the curve's), at half the calls to each and at its best share.
    const tie = qWeak !== undefined && qStrong !== undefined && sameQuality(qWeak, qStrong);
    if (tie) {
      out.push(`${weak} and ${strong} tie on quality ${quality(weak)}: no gap between a weaker and a stronger model for routing to recover (APGR and CPT undefined); the quality a router reaches by picking per prompt, with the share of calls to ${strong}:\n`);
      const at = (curve: PgrPoint[], share: number) => curve.reduce((a, c) => (Math.abs(c.strongShare - share) < Math.abs(a.strongShare - share) ? c : a));
      const best = (curve: PgrPoint[]) => curve.reduce((a, c) => (c.quality > a.quality ? c : a));
      out.push(table(['ROUTER', 'QUALITY AT 50%', 'BEST QUALITY', 'AT'], all.filter((p) => p.two_model).map((p) => [p.kind, f3(at(p.two_model!.curve, 0.5).quality), f3(best(p.two_model!.curve).quality), pct(best(p.two_model!.curve).strongShare)])));
    } else {
      out.push(`weak ${weak} quality ${quality(weak)}, strong ${strong} quality ${quality(strong)}\n`);
      out.push(table(['ROUTER', 'APGR', 'CPT(50%)', 'CPT(80%)'], all.filter((p) => p.two_model).map((p) => [p.kind, f3(p.two_model!.apgr), pct(p.two_model!.cpt50), pct(p.two_model!.cpt80)])));
    }
  } else if (r.mode === 'many-model') {
    out.push(table(['MODEL', 'QUALITY', 'COST/PROMPT'], r.single_models.map((s) => [s.model, f3(s.quality), (s.cost ?? 0).toExponential(2)])));
    out.push('');
    out.push(
      table(
        ['ROUTER', 'AIQ', 'COST FOR 95% OF BEST', `COST FOR 95% OF ${r.reference?.model ?? 'REFERENCE'}`, 'ON/ABOVE ZERO-ROUTER HULL'],
        all
          .filter((p) => p.many_model)
          .map((p) => [p.kind, f3(p.many_model!.aiq), pct(p.many_model!.cost_fraction_at_95), pct(p.many_model!.cost_fraction_at_95_of_reference), pct(p.many_model!.vs_zero_router.share)]),
      ),
    );
    out.push(`zero router (hull of single models) AIQ ${f3(r.zero_router?.aiq)}; best single model ${r.best_single.model} quality ${f3(r.best_single.quality)}`);
    if (r.quality_at_cost) out.push(`${r.chosen} quality at % of ${r.best_single.model}'s cost: ${r.quality_at_cost.map((q) => `${Math.round(q.cost_fraction * 100)}% -> ${f3(q.quality)}`).join(', ')}`);
  } else {
    out.push(table(['MODEL', 'QUALITY'], r.single_models.map((s) => [s.model, f3(s.quality)])));
    out.push('');
    out.push(table(['ROUTER', 'QUALITY (top-1 pick)'], all.filter((p) => p.selection).map((p) => [p.kind, f3(p.selection!.quality)])));
  }
  if (r.per_task) {
    out.push('\nper task (chosen predictor):');
    out.push(
      r.mode === 'two-model'
        ? table(['TASK', 'N', 'APGR', 'CPT(50%)', 'CPT(80%)'], r.per_task.map((t) => [t.task, String(t.n), f3(t.apgr), pct(t.cpt50), pct(t.cpt80)]))
        : r.mode === 'many-model'
          ? table(
              ['TASK', 'N', 'AIQ', 'ZERO-ROUTER AIQ', 'COST FOR 95% OF BEST', 'BEST SINGLE', 'COST FOR 95% OF REFERENCE', 'ON/ABOVE HULL'],
              r.per_task.map((t) => [
                t.task,
                String(t.n),
                f3(t.aiq),
                f3(t.zero_router_aiq),
                pct(t.cost_fraction_at_95),
                `${t.best_single?.model ?? '-'} ${f3(t.best_single?.quality)}`,
                `${pct(t.cost_fraction_at_95_of_reference)} (${t.reference?.model ?? '-'} ${f3(t.reference?.quality)})`,
                pct(t.vs_zero_router?.share),
              ]),
            )
          : table(['TASK', 'N', 'ROUTED', 'BEST SINGLE'], r.per_task.map((t) => [t.task, String(t.n), f3(t.quality), `${t.best_single?.model ?? '-'} ${f3(t.best_single?.quality)}`])),
    );
  }
  return `${out.join('\n')}\n`;
}

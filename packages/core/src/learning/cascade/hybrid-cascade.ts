import { costCurve, firstReaching, qualityAtBudget, type CostCurve } from './cost-curve.js';

/**
 * Direct shares of the hybrid ("cascade routing") evaluation, fixed before any hybrid result was seen:
 * the share of each fold's prompts the prompt-only router sends straight to the strong model.
 */
export const CASCADE_DIRECT_SHARES: readonly number[] = [0, 0.05, 0.1, 0.15, 0.2, 0.3];

/** Per-prompt inputs of a hybrid's cost curve (pooled held-out prompts). */
export interface HybridPool {
  /** The cascade's escalation score (higher: escalate first). */
  score: readonly number[];
  /** Sent straight to the strong model (no weak call). */
  direct: readonly boolean[];
  weak: readonly number[];
  strong: readonly number[];
  cost: { weak: readonly number[]; strong: readonly number[] };
}

/** The top `round(share * n)` prompts by predicted gain (ties: the earlier prompt first). */
export function topShare(gain: readonly number[], share: number): boolean[] {
  const n = gain.length, m = Math.round(share * n);
  const order = Array.from(gain, (_, i) => i).sort((a, b) => gain[b]! - gain[a]! || a - b);
  const out = new Array<boolean>(n).fill(false);
  for (let i = 0; i < m; i++) out[order[i]!] = true;
  return out;
}

/**
 * A hybrid's quality and cost when the top k cascaded prompts (by `score`) are escalated: direct prompts
 * always have the strong model's quality and cost (no weak call); the others cost the weak call, plus
 * the strong one when escalated. Direct prompts sort last and change nothing, so k counts escalations.
 */
export function hybridCostCurve(p: HybridPool): CostCurve {
  const d = p.direct;
  return costCurve(
    p.score.map((s, i) => (d[i] ? -Infinity : s)),
    p.weak.map((w, i) => (d[i] ? p.strong[i]! : w)),
    p.strong,
    p.cost.weak.map((w, i) => (d[i] ? p.cost.strong[i]! : w + p.cost.strong[i]!)),
    p.cost.weak.map((w, i) => (d[i] ? p.cost.strong[i]! : w)),
  );
}

/** What the report keeps of one hybrid curve. */
export interface HybridSummary {
  /** Share of prompts sent straight to the strong model. */
  direct_fraction: number;
  /** Both models' accuracy on those prompts (the weak one's: what a cascade could have kept). */
  weak_accuracy_direct: number | null;
  strong_accuracy_direct: number | null;
  /** Least share of strong calls (direct + escalated) reaching 95% of the strong model's accuracy. */
  strong_share_for_95: number | null;
  /** Least mean cost reaching it, as a fraction of always calling the strong model. */
  cost_fraction_for_95: number | null;
  /** The same at other shares of the strong model's accuracy (how much the 95% reading depends on where the target falls). */
  cost_fraction_for_target: Array<{ target: number; cost_fraction: number | null }>;
  quality_at_cost: Array<{ cost_fraction: number; quality: number | null }>;
}

/** Shares of the strong model's accuracy at which `summarizeHybrid` also reports the least cost. */
export const HYBRID_TARGETS: readonly number[] = [0.9, 0.925, 0.95, 0.975];

export function summarizeHybrid(p: HybridPool, budgets: readonly number[]): HybridSummary {
  const n = p.score.length;
  const c = hybridCostCurve(p);
  const meanStrong = p.cost.strong.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const qS = p.strong.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const k = firstReaching(c, 0.95 * qS);
  const nd = p.direct.filter(Boolean).length;
  const accDirect = (q: readonly number[]) => (nd ? q.reduce((a, v, i) => a + (p.direct[i] ? v : 0), 0) / nd : null);
  return {
    direct_fraction: nd / Math.max(1, n),
    weak_accuracy_direct: accDirect(p.weak),
    strong_accuracy_direct: accDirect(p.strong),
    strong_share_for_95: k === undefined ? null : (nd + k) / n,
    cost_fraction_for_95: k === undefined ? null : c.cost[k]! / meanStrong,
    cost_fraction_for_target: HYBRID_TARGETS.map((t) => {
      const kt = firstReaching(c, t * qS);
      return { target: t, cost_fraction: kt === undefined ? null : c.cost[kt]! / meanStrong };
    }),
    quality_at_cost: budgets.map((f) => ({ cost_fraction: f, quality: qualityAtBudget(c, f * meanStrong) ?? null })),
  };
}

/**
 * The selection rule of the honest variant: the share with the least cost for 95% of the strong model's
 * accuracy (a share that never reaches it counts as infinitely costly); ties go to the smaller share.
 */
export function pickDirectShare(shares: readonly number[], costFor95: ReadonlyArray<number | null>): number {
  let best = 0;
  for (let i = 1; i < shares.length; i++) {
    const a = costFor95[i] ?? Infinity, b = costFor95[best] ?? Infinity;
    if (a < b - 1e-12 || (Math.abs(a - b) <= 1e-12 && shares[i]! < shares[best]!)) best = i;
  }
  return shares[best]!;
}

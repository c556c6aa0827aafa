import { heldOutFolds } from '../datasets/split-examples.js';
import { pickDirectShare, summarizeHybrid, topShare, type HybridSummary } from './hybrid-cascade.js';
import type { CascadeExample } from './load-gsm8k-responses.js';
import { callCosts, type PairPrices } from './price-pair.js';
import { scoreCascadeFold, type CascadeFoldRouter } from './score-cascade-fold.js';
import type { WeakAnswerFeatures } from './weak-answer-features.js';

export type HybridScorer = 'cascade-rule' | 'cascade-learned';
const SCORERS: readonly HybridScorer[] = ['cascade-rule', 'cascade-learned'];

/** One hybrid policy on the pooled held-out prompts. */
export interface CascadeHybridPolicy extends HybridSummary {
  name: string;
  scorer: HybridScorer;
  /** The direct share of every fold, or `chosen`: picked per fold on its training prompts. */
  direct_share: number | 'chosen';
  /** With `chosen`: each fold's share, in fold order. */
  chosen_per_fold?: number[];
}

export interface CascadeHybridReport {
  what: string;
  selection: string;
  shares: number[];
  policies: CascadeHybridPolicy[];
  /** Per outer fold, the inner cross-validation's cost for 95% per share (what `chosen` picked from). */
  inner?: Array<{ fold: string; cost_fraction_for_95: Record<HybridScorer, Array<number | null>>; chosen: Record<HybridScorer, number> }>;
}

/** What the fold loop keeps for the hybrids: the router's predicted gain per test prompt, the inner choice. */
export interface HybridFold {
  name: string;
  gain: number[];
  choice?: DirectShareChoice;
}

export interface DirectShareChoice {
  chosen: Record<HybridScorer, number>;
  costFor95: Record<HybridScorer, Array<number | null>>;
}

function directFlags(folds: readonly HybridFold[], shareOf: (f: HybridFold) => number): boolean[] {
  return folds.flatMap((f) => topShare(f.gain, shareOf(f)));
}

/**
 * Picks each scorer's direct share on an outer fold's TRAINING prompts only: cross-validation over
 * `heldOutFolds(train, k)` (the same hash, so the other outer folds, each held out in turn), the router
 * and the learned scorer retrained on each inner training set, the same pooling and cost model; the
 * share with the least cost for 95% of the strong model's accuracy on those prompts wins.
 */
export function chooseDirectShare(
  train: readonly CascadeExample[],
  feats: ReadonlyMap<string, WeakAnswerFeatures>,
  seed: number,
  k: number,
  router: CascadeFoldRouter,
  prices: PairPrices,
  shares: readonly number[],
  foldName: string,
): DirectShareChoice {
  const quiet = { ...router.options };
  delete quiet.log;
  const pool: CascadeExample[] = [];
  const score: Record<HybridScorer, number[]> = { 'cascade-rule': [], 'cascade-learned': [] };
  const folds: HybridFold[] = [];
  for (const f of heldOutFolds(train, k)) {
    const itrain = f.train as CascadeExample[], itest = f.test as CascadeExample[];
    if (itrain.length === 0 || itest.length === 0) continue;
    const name = `${foldName} inner ${f.name}`;
    const fs = scoreCascadeFold(itrain, itest, feats, seed, name, { ...router, options: quiet });
    score['cascade-rule'].push(...fs.rule);
    score['cascade-learned'].push(...fs.learned);
    folds.push({ name, gain: fs.router!.chosenGain });
    pool.push(...itest);
  }
  const cost = callCosts(pool, prices);
  const weak = pool.map((e) => e.quality[0]!), strong = pool.map((e) => e.quality[1]!);
  const costFor95 = { 'cascade-rule': [], 'cascade-learned': [] } as Record<HybridScorer, Array<number | null>>;
  for (const a of shares) {
    const direct = directFlags(folds, () => a);
    for (const s of SCORERS) costFor95[s].push(summarizeHybrid({ score: score[s], direct, weak, strong, cost }, []).cost_fraction_for_95);
  }
  return { costFor95, chosen: { 'cascade-rule': pickDirectShare(shares, costFor95['cascade-rule']), 'cascade-learned': pickDirectShare(shares, costFor95['cascade-learned']) } };
}

/** The hybrid policies on the pooled held-out prompts (same order as `folds`' test prompts). */
export function hybridReport(
  pooled: readonly CascadeExample[],
  scores: Record<HybridScorer, readonly number[]>,
  folds: readonly HybridFold[],
  prices: PairPrices,
  shares: readonly number[],
  budgets: readonly number[],
): CascadeHybridReport {
  const cost = callCosts(pooled, prices);
  const weak = pooled.map((e) => e.quality[0]!), strong = pooled.map((e) => e.quality[1]!);
  const policies: CascadeHybridPolicy[] = [];
  const short = (s: HybridScorer) => s.replace('cascade-', 'hybrid-');
  for (const s of SCORERS) {
    for (const a of shares) {
      const direct = directFlags(folds, () => a);
      policies.push({ name: `${short(s)} ${Math.round(a * 100)}%`, scorer: s, direct_share: a, ...summarizeHybrid({ score: scores[s], direct, weak, strong, cost }, budgets) });
    }
    if (folds.every((f) => f.choice)) {
      const direct = directFlags(folds, (f) => f.choice!.chosen[s]);
      policies.push({
        name: `${short(s)} chosen`,
        scorer: s,
        direct_share: 'chosen',
        chosen_per_fold: folds.map((f) => f.choice!.chosen[s]),
        ...summarizeHybrid({ score: scores[s], direct, weak, strong, cost }, budgets),
      });
    }
  }
  const chosen = folds.every((f) => f.choice);
  return {
    what: "cascade routing: each fold's top share of test prompts by the prompt-only router's predicted gain (its chosen predictor) goes straight to the strong model (strong cost only); the rest go through the cascade, threshold swept",
    selection: chosen
      ? "`chosen`: per fold, the share with the least cost for 95% of the strong model's accuracy in a cross-validation on that fold's training prompts only (router and learned scorer retrained per inner fold); ties to the smaller share"
      : 'fixed shares only',
    shares: [...shares],
    policies,
    ...(chosen ? { inner: folds.map((f) => ({ fold: f.name, cost_fraction_for_95: f.choice!.costFor95, chosen: f.choice!.chosen })) } : {}),
  };
}

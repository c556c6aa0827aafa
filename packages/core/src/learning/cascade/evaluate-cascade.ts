import { LLMError } from '../../errors/llm-error.js';
import { meanOf, sameQuality } from '../datasets/same-quality.js';
import { heldOutFolds } from '../datasets/split-examples.js';
import type { EvaluateOptions } from '../evaluation/evaluate-dataset.js';
import { twoModelMetrics, type PgrPoint } from '../evaluation/two-model-metrics.js';
import type { PredictorKind } from '../predictors/types.js';
import type { TrainPredictorsOptions } from '../training/train-predictors.js';
import { costCurve, firstReaching, qualityAtBudget, type CostCurve } from './cost-curve.js';
import { chooseDirectShare, hybridReport, type CascadeHybridReport, type HybridFold } from './evaluate-hybrid.js';
import { CASCADE_DIRECT_SHARES } from './hybrid-cascade.js';
import type { CascadeExample } from './load-gsm8k-responses.js';
import { callCosts, type PairPrices } from './price-pair.js';
import { scoreCascadeFold } from './score-cascade-fold.js';
import { WEAK_ANSWER_FEATURES, weakAnswerFeatures, type WeakAnswerFeatures } from './weak-answer-features.js';

export const CASCADE_COST_FRACTIONS = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1];

export interface EvaluateCascadeOptions {
  /** Cross-validation folds (by hash of the normalized prompt text, as `evaluateDataset`). Default 5. */
  folds?: number;
  /** Seed of the learned scorer and of the prompt-only routers. Default 1. */
  seed?: number;
  /** Prices of the two models for the cost view; without them only strong-call shares are reported. */
  prices?: PairPrices;
  /** Other price pairs (e.g. other sellers of the weak model) for a sensitivity table of the cost at 95%. */
  alternativePrices?: PairPrices[];
  /**
   * The prompt-only router to compare with, trained on the same folds with these options (the
   * `evaluateDataset` protocol, re-run here to keep each prompt's score for the cost view). Off when undefined.
   */
  router?: { options: TrainPredictorsOptions; foldOptions?: EvaluateOptions['foldOptions'] };
  /**
   * Cascade routing ("hybrid"): per fold, the top `share` of test prompts by the router's predicted gain
   * go straight to the strong model, the rest through the cascade. Needs `router` and `prices`. `choose`
   * (default true) adds the variant whose share is picked per fold by cross-validation on its training
   * prompts. Off when undefined (the report then has no `hybrid`).
   */
  hybrid?: { shares?: readonly number[]; choose?: boolean };
  log?: (line: string) => void;
}

/** One escalation policy's results on the pooled held-out prompts. */
export interface CascadeScorerResult {
  name: string;
  /** `cascade`: reads the weak answer, pays the weak call on every prompt; `router`: prompt only. */
  kind: 'cascade' | 'router';
  apgr: number;
  cpt50: number;
  cpt80: number;
  /** Least share of strong calls reaching 95% of the strong model's accuracy (null: never). */
  strong_share_for_95: number | null;
  /** Cost views (null without prices): least mean cost reaching 95% of the strong model's accuracy, and the cost at CPT(50%) / CPT(80%), as fractions of always calling the strong model. */
  cost_fraction_for_95: number | null;
  cost_fraction_at_cpt50: number | null;
  cost_fraction_at_cpt80: number | null;
  /** Quality (and PGR) within a budget, as a fraction of the strong model's cost (null: the budget is below the policy's least cost). */
  quality_at_cost: Array<{ cost_fraction: number; quality: number | null; pgr: number | null }>;
  curve: PgrPoint[];
  /** (cost fraction, quality) at the curve's shares (absent without prices). */
  cost_curve?: Array<{ cost_fraction: number; quality: number }>;
}

export interface CascadeReport {
  data: string;
  what: string;
  protocol: string;
  seed: number;
  n_test: number;
  weak_quality: number;
  strong_quality: number;
  prices: (PairPrices & { note: string; mean_cost_weak: number; mean_cost_strong: number }) | null;
  /** Headline: the learned cascade scorer. */
  apgr: number;
  cpt50: number;
  cpt80: number;
  scorers: CascadeScorerResult[];
  /** The prompt-only router's kind picked on validation data most often across folds, and the best on held-out data (after the fact). */
  router_chosen?: PredictorKind;
  router_best?: string;
  baselines: { random: CascadeScorerResult; oracle: CascadeScorerResult; random_cascade: CascadeScorerResult };
  /** The least cost reaching 95% of the strong model's accuracy under other prices (fractions of the strong model's cost). */
  price_sensitivity?: Array<{ weak: string; strong: string; weak_share_of_strong: number; cost_fraction_for_95: Record<string, number | null> }>;
  /** Descriptive, over every prompt: how the strongest signals split the weak model's accuracy. */
  diagnostics: Array<{ signal: string; share: number; weak_accuracy_when_set: number; weak_accuracy_otherwise: number }>;
  /** Mean standardized weights of the learned scorer over the folds (weak output, strong output). */
  learned_weights: Array<{ feature: string; weak: number; strong: number }>;
  /** Cascade routing (only with the `hybrid` option). */
  hybrid?: CascadeHybridReport;
  seconds: number;
}

/**
 * A cascade on two-model data with both models' answers: escalate to the strong model when the weak
 * answer looks wrong. Scorers: `cascade-rule` (hand-written, `ruleEscalationScore`) and `cascade-learned`
 * (one logistic regression per model over the weak-answer features, trained on each fold's training
 * prompts, score = predicted strong minus weak quality). Same folds, rank pooling and metrics as the
 * prompt-only evaluation; optionally the prompt-only router on the same folds for the cost comparison.
 */
export function evaluateCascade(examples: readonly CascadeExample[], options: EvaluateCascadeOptions = {}): CascadeReport {
  const t0 = Date.now();
  const seed = options.seed ?? 1;
  const pair = { weak: 0, strong: 1 };
  const k = options.folds ?? 5;
  const folds = heldOutFolds(examples, k);
  const hybrid = options.hybrid;
  if (hybrid && (!options.router || !options.prices)) {
    throw new LLMError({ code: 'config_invalid', message: `The hybrid cascade evaluation needs ${options.router ? 'prices (its criterion is a cost)' : 'the prompt-only router (option router)'}`, details: { option: options.router ? 'prices' : 'router' } });
  }
  const shares = hybrid ? [...(hybrid.shares ?? CASCADE_DIRECT_SHARES)] : [];
  for (const a of shares) {
    if (!(a >= 0 && a <= 1)) throw new LLMError({ code: 'config_invalid', message: `hybrid.shares: each direct share must be in [0, 1], got ${a}`, details: { option: 'hybrid.shares' } });
  }
  if (hybrid && hybrid.choose !== false && k < 3) {
    // The inner cross-validation reuses the fold hash: a fold's training prompts are the other k - 1 folds.
    throw new LLMError({ code: 'config_invalid', message: `The hybrid's per-fold choice needs at least 3 folds (got ${k}): each fold's training prompts are cross-validated over the other folds`, details: { option: 'folds' } });
  }
  const hybridFolds: HybridFold[] = [];
  const feats = new Map<string, WeakAnswerFeatures>(examples.map((e) => [e.id, weakAnswerFeatures(e.prompt, e.weakResponse)]));
  const pooled: CascadeExample[] = [];
  const scores = new Map<string, number[]>();
  const push = (name: string, ranks: readonly number[]) => {
    let s = scores.get(name);
    if (!s) scores.set(name, (s = []));
    s.push(...ranks);
  };
  const D = WEAK_ANSWER_FEATURES.length;
  const weightSums = WEAK_ANSWER_FEATURES.map(() => [0, 0]);
  const chosenCount = new Map<PredictorKind, number>();
  let usedFolds = 0;
  for (const fold of folds) {
    const train = fold.train as CascadeExample[], test = fold.test as CascadeExample[];
    if (train.length === 0 || test.length === 0) continue;
    usedFolds++;
    options.log?.(`${fold.name}: train ${train.length}, test ${test.length}`);
    const fs = scoreCascadeFold(train, test, feats, seed, fold.name, options.router);
    push('cascade-rule', fs.rule);
    for (let j = 0; j < D; j++) for (let m = 0; m < 2; m++) weightSums[j]![m]! += fs.learnedWeights[j * 2 + m]!;
    push('cascade-learned', fs.learned);
    if (fs.router) {
      chosenCount.set(fs.router.chosen, (chosenCount.get(fs.router.chosen) ?? 0) + 1);
      for (const [kind, ranks] of fs.router.byKind) push(`router-${kind}`, ranks);
    }
    if (hybrid && fs.router) {
      const choice = hybrid.choose === false ? undefined : chooseDirectShare(train, feats, seed, k, options.router!, options.prices!, shares, fold.name);
      if (choice) options.log?.(`${fold.name}: direct share chosen on the training prompts: rule ${choice.chosen['cascade-rule']}, learned ${choice.chosen['cascade-learned']}`);
      hybridFolds.push({ name: fold.name, gain: fs.router.chosenGain, ...(choice ? { choice } : {}) });
    }
    pooled.push(...test);
  }
  const weak = pooled.map((e) => e.quality[pair.weak]!), strong = pooled.map((e) => e.quality[pair.strong]!);
  const costs = options.prices ? callCosts(pooled, options.prices) : undefined;
  const meanStrong = costs ? meanOf(costs.strong) : 1;
  const meanWeak = costs ? meanOf(costs.weak) : 0;
  const qW = meanOf(weak), qS = meanOf(strong);
  // Of the same quality (to float rounding): no gap for a PGR to measure, 0 (not a residue's ~10^12), as in twoModelMetrics.
  const pgr = (q: number) => (sameQuality(qS, qW) ? 0 : (q - qW) / (qS - qW));

  const result = (name: string, kind: 'cascade' | 'router', score: number[]): CascadeScorerResult => {
    const m = twoModelMetrics(score, weak, strong);
    const shares = costCurve(score, weak, strong, pooled.map(() => 1), pooled.map(() => 0));
    const k95 = firstReaching(shares, 0.95 * qS);
    const r: CascadeScorerResult = {
      name,
      kind,
      apgr: m.apgr,
      cpt50: m.cpt50,
      cpt80: m.cpt80,
      strong_share_for_95: k95 === undefined ? null : k95 / pooled.length,
      cost_fraction_for_95: null,
      cost_fraction_at_cpt50: null,
      cost_fraction_at_cpt80: null,
      quality_at_cost: [],
      curve: m.curve,
    };
    if (costs) {
      const routed = kind === 'cascade' ? costs.weak.map((w, i) => w + costs.strong[i]!) : costs.strong;
      const c: CostCurve = costCurve(score, weak, strong, routed, costs.weak);
      const frac = (kk: number | undefined) => (kk === undefined ? null : c.cost[kk]! / meanStrong);
      r.cost_fraction_for_95 = frac(firstReaching(c, 0.95 * qS));
      r.cost_fraction_at_cpt50 = frac(Math.round(m.cpt50 * pooled.length));
      r.cost_fraction_at_cpt80 = frac(Math.round(m.cpt80 * pooled.length));
      r.quality_at_cost = CASCADE_COST_FRACTIONS.map((f) => {
        const q = qualityAtBudget(c, f * meanStrong);
        return { cost_fraction: f, quality: q ?? null, pgr: q === undefined ? null : pgr(q) };
      });
      r.cost_curve = m.curve.map((p) => {
        const kk = Math.round(p.strongShare * pooled.length);
        return { cost_fraction: c.cost[kk]! / meanStrong, quality: c.quality[kk]! };
      });
    }
    return r;
  };

  const scorers: CascadeScorerResult[] = [];
  for (const [name, s] of scores) scorers.push(result(name, name.startsWith('cascade') ? 'cascade' : 'router', s));
  const sensitivity = (options.alternativePrices ?? []).map((p) => {
    const c = callCosts(pooled, p);
    const ms = c.strong.reduce((a, b) => a + b, 0) / pooled.length;
    const out: Record<string, number | null> = {};
    for (const [name, sc] of scores) {
      const routed = name.startsWith('cascade') ? c.weak.map((w, i) => w + c.strong[i]!) : c.strong;
      const curve = costCurve(sc, weak, strong, routed, c.weak);
      const kk = firstReaching(curve, 0.95 * qS);
      out[name] = kk === undefined ? null : curve.cost[kk]! / ms;
    }
    return { weak: p.weak.entry, strong: p.strong.entry, weak_share_of_strong: c.weak.reduce((a, b) => a + b, 0) / pooled.length / ms, cost_fraction_for_95: out };
  });
  const routers = scorers.filter((s) => s.kind === 'router');
  const routerChosen = [...chosenCount].sort((a, b) => b[1] - a[1])[0]?.[0];
  const routerBest = routers.length ? routers.reduce((a, b) => (b.apgr > a.apgr ? b : a)).name : undefined;
  const head = scorers.find((s) => s.name === 'cascade-learned')!;
  const zeros = pooled.map(() => 0);
  const gains = pooled.map((e) => e.quality[pair.strong]! - e.quality[pair.weak]!);

  const all = pooled.map((e) => feats.get(e.id)!);
  const split = (signal: string, on: (f: WeakAnswerFeatures) => boolean) => {
    const a = pooled.filter((_, i) => on(all[i]!)), b = pooled.filter((_, i) => !on(all[i]!));
    const acc = (xs: CascadeExample[]) => (xs.length ? xs.reduce((s, e) => s + e.quality[pair.weak]!, 0) / xs.length : NaN);
    return { signal, share: a.length / pooled.length, weak_accuracy_when_set: acc(a), weak_accuracy_otherwise: acc(b) };
  };

  return {
    data: 'routellm/gsm8k (with responses)',
    what: 'cascade: calls the weak model first, reads its answer, escalates to the strong model when it looks wrong (always pays the weak call)',
    protocol: `${usedFolds}-fold cross-validation (by hash of prompt text), scores ranked within each fold`,
    seed,
    n_test: pooled.length,
    weak_quality: qW,
    strong_quality: qS,
    prices: options.prices
      ? {
          ...options.prices,
          note: 'USD per 1M tokens; tokens estimated at ~4 characters per token from the prompt (input) and each model\'s recorded answer (output)',
          mean_cost_weak: meanWeak,
          mean_cost_strong: meanStrong,
        }
      : null,
    apgr: head.apgr,
    cpt50: head.cpt50,
    cpt80: head.cpt80,
    scorers,
    ...(routerChosen ? { router_chosen: routerChosen } : {}),
    ...(routerBest ? { router_best: routerBest } : {}),
    baselines: { random: result('random', 'router', zeros), oracle: result('oracle', 'router', gains), random_cascade: result('random-cascade', 'cascade', zeros) },
    ...(sensitivity.length ? { price_sensitivity: sensitivity } : {}),
    diagnostics: [
      split('arithmetic error found', (f) => f.arith_any_wrong === 1),
      split('no arithmetic checkable', (f) => f.arith_none === 1),
      split('no final number', (f) => f.has_final === 0),
      split('looks truncated', (f) => f.truncated === 1),
      split('final answer not an integer', (f) => f.final_non_integer === 1),
      split('final answer not derived by a statement', (f) => f.has_final === 1 && f.final_derived === 0),
      split('hedging', (f) => f.hedges > 0),
      split('conflicting answers', (f) => f.conflicting_answers === 1),
    ],
    learned_weights: WEAK_ANSWER_FEATURES.map((feature, j) => ({ feature, weak: weightSums[j]![0]! / Math.max(1, usedFolds), strong: weightSums[j]![1]! / Math.max(1, usedFolds) })),
    ...(hybrid ? { hybrid: hybridReport(pooled, { 'cascade-rule': scores.get('cascade-rule')!, 'cascade-learned': scores.get('cascade-learned')! }, hybridFolds, options.prices!, shares, CASCADE_COST_FRACTIONS) } : {}),
    seconds: (Date.now() - t0) / 1000,
  };
}

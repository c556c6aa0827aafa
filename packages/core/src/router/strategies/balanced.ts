import { LLMError } from '../../errors/llm-error.js';
import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { byScoreThenPriority, checkOptionNames, expectedCostUsd, numberOption, observedLatency } from './util.js';

interface Weights {
  quality: number;
  cost: number;
  latency: number;
}

function weightsOf(options: Record<string, unknown>): Weights {
  const w = options['weights'] as Partial<Weights> | undefined;
  const q = typeof w?.quality === 'number' ? w.quality : 0.4;
  const c = typeof w?.cost === 'number' ? w.cost : 0.3;
  const l = typeof w?.latency === 'number' ? w.latency : 0.3;
  return { quality: q, cost: c, latency: l };
}

/** Min-max normalization to [0,1]; `higherIsBetter` false flips it. Equal values all get 1. */
function normalize(value: number, min: number, max: number, higherIsBetter: boolean): number {
  if (max <= min) return 1;
  const t = (value - min) / (max - min);
  return higherIsBetter ? t : 1 - t;
}

const WEIGHT_NAMES = ['quality', 'cost', 'latency'] as const;

/** Checks `balanced`'s options: `errorPenalty` a finite number >= 0, `weights` as `routing.weights`; nothing else. */
function checkBalancedOptions(o: Record<string, unknown>): void {
  checkOptionNames('balanced', o, ['weights', 'errorPenalty']);
  const penalty = o['errorPenalty'];
  if (penalty !== undefined && !(typeof penalty === 'number' && Number.isFinite(penalty) && penalty >= 0)) {
    throw new LLMError({ code: 'invalid_request', message: `balanced: option "errorPenalty" must be a number >= 0 (got ${JSON.stringify(penalty)})`, param: 'errorPenalty' });
  }
  const w = o['weights'];
  if (w === undefined) return;
  if (typeof w !== 'object' || w === null || Array.isArray(w)) {
    throw new LLMError({ code: 'invalid_request', message: 'balanced: option "weights" must be { quality, cost, latency }', param: 'weights' });
  }
  for (const [k, v] of Object.entries(w)) {
    if (!(WEIGHT_NAMES as readonly string[]).includes(k)) {
      throw new LLMError({ code: 'invalid_request', message: `balanced: unknown weight "${k}" (weights: ${WEIGHT_NAMES.join(', ')})`, param: `weights.${k}` });
    }
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new LLMError({ code: 'invalid_request', message: `balanced: weight "${k}" must be a number >= 0 (got ${JSON.stringify(v)})`, param: `weights.${k}` });
    }
  }
}

/**
 * `balanced`: a weighted sum of quality, cost and latency (weights from `routing.weights`, default
 * 0.4/0.3/0.3), each min-max normalized across the candidates (1 = best of them), minus
 * `errorPenalty` (default 1) x the EWMA error rate. Unknown quality counts as 0.5, unknown latency as
 * the mean of the measured ones (neutral), unknown price as the worst cost.
 */
export const balancedStrategy: Strategy = {
  name: 'balanced',
  spreads: true,
  description: 'Weighted quality/cost/latency (min-max normalized across candidates) minus an error-rate penalty.',
  checkOptions: checkBalancedOptions,
  rank(ctx: StrategyContext): RankedCandidate[] {
    const w = weightsOf(ctx.options);
    const penalty = numberOption(ctx.options, 'errorPenalty', 1);
    const total = w.quality + w.cost + w.latency || 1;
    const n = ctx.candidates.length;
    const quality = new Array<number>(n);
    const cost = new Array<number | undefined>(n);
    const latency = new Array<number | undefined>(n);
    let qMin = Infinity, qMax = -Infinity, cMin = Infinity, cMax = -Infinity, lMin = Infinity, lMax = -Infinity;
    let lSum = 0, lCount = 0;
    for (let i = 0; i < n; i++) {
      const d = ctx.candidates[i]!;
      const q = d.config.quality ?? 0.5;
      quality[i] = q;
      if (q < qMin) qMin = q;
      if (q > qMax) qMax = q;
      const c = expectedCostUsd(d, ctx);
      cost[i] = c;
      if (c !== undefined) {
        if (c < cMin) cMin = c;
        if (c > cMax) cMax = c;
      }
      const l = observedLatency(ctx, d.name);
      latency[i] = l;
      if (l !== undefined) {
        if (l < lMin) lMin = l;
        if (l > lMax) lMax = l;
        lSum += l;
        lCount++;
      }
    }
    const lMean = lCount > 0 ? lSum / lCount : 0;
    const out: RankedCandidate[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const d = ctx.candidates[i]!;
      const qN = normalize(quality[i]!, qMin, qMax, true);
      const c = cost[i];
      const cN = c === undefined ? 0 : normalize(c, cMin, cMax, false);
      const l = latency[i];
      const lN = lCount === 0 ? 1 : normalize(l ?? lMean, lMin, lMax, false);
      const errorRate = ctx.stats(d.name).errorRate;
      const score = (w.quality * qN + w.cost * cN + w.latency * lN) / total - penalty * errorRate;
      out[i] = { deployment: d, score, factors: { quality: qN, cost: cN, latency: lN, errorRate } };
    }
    return out.sort(byScoreThenPriority);
  },
};

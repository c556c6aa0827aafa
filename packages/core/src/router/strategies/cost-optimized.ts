import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { byScoreThenPriority, expectedCostUsd, noOptions } from './util.js';

/**
 * `cost-optimized`: cheapest expected cost first, where expected cost = estimated input tokens x input
 * price + expected output tokens (maxTokens, else 256) x output price. Unknown price ranks last.
 */
export const costOptimizedStrategy: Strategy = {
  name: 'cost-optimized',
  description: 'Cheapest expected cost (input x input price + expected output x output price); unknown price last.',
  checkOptions: noOptions('cost-optimized'),
  rank(ctx: StrategyContext): RankedCandidate[] {
    const out: RankedCandidate[] = new Array(ctx.candidates.length);
    for (let i = 0; i < ctx.candidates.length; i++) {
      const d = ctx.candidates[i]!;
      const cost = expectedCostUsd(d, ctx);
      out[i] =
        cost === undefined
          ? { deployment: d, factors: { priority: d.config.priority }, note: 'price unknown' }
          : {
              deployment: d,
              score: -cost,
              factors: { expectedCostUsd: cost, inputPrice: d.price!.input, outputPrice: d.price!.output },
            };
    }
    return out.sort(byScoreThenPriority);
  },
};

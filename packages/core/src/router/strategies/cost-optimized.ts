import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { byScoreThenPriority, expectedRates, noOptions } from './util.js';

/**
 * `cost-optimized`: cheapest expected cost first, where expected cost = estimated input tokens x input
 * price + expected output tokens (maxTokens, else 256) x output price, at the long-context tier the prompt
 * estimate falls in and with output at the dearer of `output` and `reasoningOutput`. Unknown price ranks last.
 * The `inputPrice` / `outputPrice` factors are those rates, so they multiply out to `expectedCostUsd`.
 */
export const costOptimizedStrategy: Strategy = {
  name: 'cost-optimized',
  description: 'Cheapest expected cost (input x input price + expected output x output price, at the prompt\'s long-context tier; output = dearer of output/reasoning price); unknown price last.',
  checkOptions: noOptions('cost-optimized'),
  rank(ctx: StrategyContext): RankedCandidate[] {
    const out: RankedCandidate[] = new Array(ctx.candidates.length);
    for (let i = 0; i < ctx.candidates.length; i++) {
      const d = ctx.candidates[i]!;
      const r = expectedRates(d, ctx);
      if (r === undefined) {
        out[i] = { deployment: d, factors: { priority: d.config.priority }, note: 'price unknown' };
        continue;
      }
      const cost = (ctx.estimatedInputTokens * r.input + ctx.expectedOutputTokens * r.output) / 1e6;
      out[i] = { deployment: d, score: -cost, factors: { expectedCostUsd: cost, inputPrice: r.input, outputPrice: r.output } };
    }
    return out.sort(byScoreThenPriority);
  },
};

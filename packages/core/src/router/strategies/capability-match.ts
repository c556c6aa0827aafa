import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { byPriority, expectedCostUsd, noOptions } from './util.js';

/**
 * `capability-match`: the cheapest fit. Fewest capabilities beyond those the request needs first, then
 * the smallest context window that still fits (none configured counts as unbounded, last), then
 * expected cost (unknown last), then priority.
 */
export const capabilityMatchStrategy: Strategy = {
  name: 'capability-match',
  description: 'Fewest extra capabilities, then smallest sufficient context window, then cost, then priority.',
  checkOptions: noOptions('capability-match'),
  rank(ctx: StrategyContext): RankedCandidate[] {
    const required = ctx.requiredCapabilities;
    const n = ctx.candidates.length;
    const out: RankedCandidate[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const d = ctx.candidates[i]!;
      let extra = 0;
      try {
        for (const c of d.capabilities) if (c !== 'chat' && c !== 'completion' && !required?.has(c)) extra++;
      } catch {
        extra = Number.MAX_SAFE_INTEGER; // the engine could not even be created: last
      }
      const contextWindow = d.config.contextWindow ?? Number.POSITIVE_INFINITY;
      const cost = expectedCostUsd(d, ctx) ?? Number.POSITIVE_INFINITY;
      out[i] = { deployment: d, score: -extra, factors: { extraCapabilities: extra, contextWindow, expectedCostUsd: cost } };
    }
    return out.sort((a, b) => {
      const fa = a.factors!;
      const fb = b.factors!;
      return (
        fa['extraCapabilities']! - fb['extraCapabilities']! ||
        cmp(fa['contextWindow']!, fb['contextWindow']!) ||
        cmp(fa['expectedCostUsd']!, fb['expectedCostUsd']!) ||
        byPriority(a, b)
      );
    });
  },
};

/** Comparison that treats two infinities as equal (Infinity - Infinity is NaN). */
function cmp(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { byPriority, observedLatency, noOptions } from './util.js';

/**
 * `least-loaded`: lowest load first, load = in-flight calls / `limits.maxConcurrency` (a deployment
 * without that limit counts as capacity 1, i.e. load = in-flight); ties by EWMA latency (unmeasured
 * first), then priority.
 */
export const leastLoadedStrategy: Strategy = {
  name: 'least-loaded',
  spreads: true,
  description: 'Lowest in-flight / maxConcurrency, then lowest latency, then priority.',
  checkOptions: noOptions('least-loaded'),
  rank(ctx: StrategyContext): RankedCandidate[] {
    const n = ctx.candidates.length;
    const out: RankedCandidate[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const d = ctx.candidates[i]!;
      const inFlight = ctx.stats(d.name).inFlight;
      const capacity = d.config.limits?.maxConcurrency ?? 1;
      const load = inFlight / capacity;
      out[i] = { deployment: d, score: -load, factors: { load, inFlight, capacity, latencyMs: observedLatency(ctx, d.name) ?? 0 } };
    }
    return out.sort((a, b) => b.score! - a.score! || a.factors!['latencyMs']! - b.factors!['latencyMs']! || byPriority(a, b));
  },
};

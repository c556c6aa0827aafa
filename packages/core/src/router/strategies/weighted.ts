import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { byPriority, noOptions } from './util.js';

/**
 * `weighted`: weighted random order by `config.weight` (the first pick has probability weight / sum;
 * later positions are drawn without replacement, Efraimidis-Spirakis keys u^(1/w)). Weight 0 goes
 * last, by priority.
 */
export const weightedStrategy: Strategy = {
  name: 'weighted',
  spreads: true,
  description: 'Weighted random by config weight (without replacement); weight 0 last.',
  checkOptions: noOptions('weighted'),
  rank(ctx: StrategyContext): RankedCandidate[] {
    const n = ctx.candidates.length;
    const out: RankedCandidate[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const d = ctx.candidates[i]!;
      const w = d.config.weight;
      if (w > 0) {
        const key = Math.pow(ctx.random(), 1 / w);
        out[i] = { deployment: d, score: key, factors: { weight: w, key } };
      } else {
        out[i] = { deployment: d, score: -1, factors: { weight: 0 }, note: 'weight 0: last' };
      }
    }
    return out.sort((a, b) => b.score! - a.score! || byPriority(a, b));
  },
};

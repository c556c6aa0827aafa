import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { byScoreThenPriority, noOptions } from './util.js';

/** `quality-first`: highest `config.quality` first (deployments without one last), then priority. */
export const qualityFirstStrategy: Strategy = {
  name: 'quality-first',
  description: 'Highest configured quality first (unknown quality last), then priority.',
  checkOptions: noOptions('quality-first'),
  rank(ctx: StrategyContext): RankedCandidate[] {
    const out: RankedCandidate[] = new Array(ctx.candidates.length);
    for (let i = 0; i < ctx.candidates.length; i++) {
      const d = ctx.candidates[i]!;
      const q = d.config.quality;
      out[i] =
        q === undefined
          ? { deployment: d, factors: { priority: d.config.priority }, note: 'no quality configured' }
          : { deployment: d, score: q, factors: { quality: q, priority: d.config.priority } };
    }
    return out.sort(byScoreThenPriority);
  },
};

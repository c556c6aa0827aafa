import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { noOptions } from './util.js';

/** `random`: a uniform shuffle with the router's (injectable) random source. */
export const randomStrategy: Strategy = {
  name: 'random',
  spreads: true,
  description: 'Uniform random order (Fisher-Yates with the injected random source).',
  checkOptions: noOptions('random'),
  rank(ctx: StrategyContext): RankedCandidate[] {
    const n = ctx.candidates.length;
    const out: RankedCandidate[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = { deployment: ctx.candidates[i]! };
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(ctx.random() * (i + 1));
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    for (let i = 0; i < n; i++) out[i]!.factors = { position: i };
    return out;
  },
};

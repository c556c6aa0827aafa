import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { noOptions } from './util.js';

const MAX_SETS = 1_024;

/**
 * `round-robin`: rotates through the candidates, one counter per distinct candidate set (so a
 * request needing tools rotates among the tool-capable deployments independently). State lives in
 * the instance: each router gets its own from `createRoundRobinStrategy()`.
 */
export function createRoundRobinStrategy(): Strategy {
  const counters = new Map<string, number>();
  return {
    name: 'round-robin',
    spreads: true,
    description: 'Rotates through the candidates, one counter per candidate set.',
    checkOptions: noOptions('round-robin'),
    rank(ctx: StrategyContext): RankedCandidate[] {
      const n = ctx.candidates.length;
      let key = '';
      for (let i = 0; i < n; i++) key += ctx.candidates[i]!.name + '\u0000';
      const turn = counters.get(key) ?? 0;
      if (ctx.preview !== true) {
        if (counters.size >= MAX_SETS && !counters.has(key)) counters.clear();
        counters.set(key, (turn + 1) % Math.max(1, n));
      }
      const out: RankedCandidate[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const d = ctx.candidates[(turn + i) % n]!;
        out[i] = { deployment: d, score: n - i, factors: { turn, offset: i } };
      }
      return out;
    },
  };
}

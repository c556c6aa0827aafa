import type { RankedCandidate, Strategy, StrategyContext } from '../types.js';
import { noOptions } from './util.js';

/** Counters kept (one per tenant and candidate set); past it they all start again. */
const MAX_SETS = 10_000;

/**
 * `round-robin`: rotates through the candidates, one counter per tenant and distinct candidate set (so a
 * request needing tools rotates among the tool-capable deployments independently). Per tenant: a counter shared by
 * tenants would let one tenant's calls decide another's picks, and let a tenant count the others' calls on shared
 * deployments from its own picks (traffic the gateway shows a tenant of its own models only). State lives in
 * the instance: each router gets its own from `createRoundRobinStrategy()`.
 */
export function createRoundRobinStrategy(): Strategy {
  const counters = new Map<string, number>();
  return {
    name: 'round-robin',
    spreads: true,
    description: 'Rotates through the candidates, one counter per tenant and candidate set.',
    checkOptions: noOptions('round-robin'),
    rank(ctx: StrategyContext): RankedCandidate[] {
      const n = ctx.candidates.length;
      // (A tenant id has no control characters: `\u0001` ends it.)
      let key = ctx.tenant === undefined ? '' : `${ctx.tenant}\u0001`;
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
    forgetTenant(tenant: string): void {
      const prefix = `${tenant}\u0001`;
      for (const key of counters.keys()) if (key.startsWith(prefix)) counters.delete(key);
    },
  };
}

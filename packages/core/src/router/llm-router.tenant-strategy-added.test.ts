/**
 * A v3 tenant's preferences.strategy may name a strategy registered with `router.addStrategy` after the router is
 * built (the public API, and what @llmrr/migrate's validator tells users to do for an unknown
 * `tenants.N.preferences.strategy`): the constructor does not refuse it; `checkTenantStrategies()` checks it once
 * the strategies are registered.
 */
import { describe, expect, it } from 'vitest';
import { LLMRouter } from './llm-router.js';

describe('a tenant strategy registered with addStrategy after the router is built', () => {
  it('a tenant preferring a strategy added with addStrategy is served by it', async () => {
    const build = () =>
      new LLMRouter({
        version: 3,
        models: [
          { name: 'a', engine: 'mock', priority: 1 },
          { name: 'b', engine: 'mock', priority: 2 },
        ],
        routing: { strategy: 'priority', retries: { max: 0 } },
        tenants: [{ id: 'acme', preferences: { strategy: 'last-first' } }],
      });
    let router: LLMRouter | undefined;
    expect(() => (router = build())).not.toThrow();
    router!.addStrategy('last-first', (ctx) => [...ctx.candidates].reverse().map((deployment, i) => ({ deployment, score: -i })));
    const r = await router!.generate('hi', { tenant: 'acme' });
    expect(r.deployment).toBe('b');
    await router!.close();
  });
});

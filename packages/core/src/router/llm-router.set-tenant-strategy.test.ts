/**
 * `setTenant` refuses a tenant whose `preferences.strategy` the router does not have (built in, given in
 * `options.strategies` or added with `addStrategy` before the call): a `config_invalid` naming
 * `preferences.strategy`, the router left as it was, rather than a tenant each of whose calls fails. A strategy
 * added later is taken once it is registered.
 */
import { describe, expect, it } from 'vitest';
import { rejection } from '../test/async.test-helpers.js';
import { LLMRouter } from './llm-router.js';
import type { StrategyFn } from './types.js';

const lastFirst: StrategyFn = (ctx) => [...ctx.candidates].reverse().map((deployment, i) => ({ deployment, score: -i }));

function build(version: 2 | 3): LLMRouter {
  return new LLMRouter({
    ...(version === 3 ? { version: 3, tenants: [{ id: 'base' }] } : {}),
    models: [
      { name: 'a', engine: 'mock', priority: 1, options: { reply: 'from a' } },
      { name: 'b', engine: 'mock', priority: 2, options: { reply: 'from b' } },
    ],
    routing: { strategy: 'priority', retries: { max: 0 } },
  } as ConstructorParameters<typeof LLMRouter>[0]);
}

describe.each([2, 3] as const)('setTenant with a preferred strategy (v%i config)', (version) => {
  it('an unknown strategy is refused, naming preferences.strategy; the router keeps the tenant it had', async () => {
    const router = build(version).setTenant({ id: 'acme', preferences: { strategy: 'priority' } });
    const e = (() => {
      try {
        router.setTenant({ id: 'acme', preferences: { strategy: 'last-frist' } });
      } catch (err) {
        return err as { code?: string; param?: string; message?: string };
      }
      return undefined;
    })();
    expect(e).toMatchObject({ code: 'config_invalid', param: 'preferences.strategy' });
    expect(e!.message).toContain('unknown strategy "last-frist"');
    expect(e!.message).toContain('priority');
    // The tenant is as before: its calls are served with the strategy it had.
    const r = await router.generate('hi', { tenant: 'acme' });
    expect(r.deployment).toBe('a');
    const cfg = router.routerConfig;
    if (cfg.version === 3) expect(cfg.tenants.map((t) => [t.id, t.preferences.strategy])).toEqual([['base', undefined], ['acme', 'priority']]);
    await router.close();
  });

  it('a new tenant with an unknown strategy is not added', async () => {
    const router = build(version);
    expect(() => router.setTenant({ id: 'fresh', preferences: { strategy: 'nope' } })).toThrow(expect.objectContaining({ param: 'preferences.strategy' }));
    if (version === 3) {
      expect((await rejection(router.generate('hi', { tenant: 'fresh' }))).param).toBe('tenant');
      const cfg = router.routerConfig;
      expect(cfg.version === 3 && cfg.tenants.map((t) => t.id)).toEqual(['base']);
    }
    await router.close();
  });

  it('a strategy added with addStrategy (after the router was built) is taken, and serves the tenant', async () => {
    const router = build(version).addStrategy('last-first', lastFirst);
    router.setTenant({ id: 'acme', preferences: { strategy: 'last-first' } });
    const r = await router.generate('hi', { tenant: 'acme' });
    expect(r.deployment).toBe('b');
    expect(r.text).toBe('from b');
    await router.close();
  });
});

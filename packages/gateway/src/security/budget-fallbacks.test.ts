import type { StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../auth/principal.js';
import { resolveModel } from '../calls/resolve-model.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

async function tenantWithBudget(stores: StateStores, amountUsd: number) {
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd, period: 'month' } });
  const key = await stores.tenants.createKey('acme', { name: 'test' });
  return { authorization: `Bearer ${key.secret}` };
}

describe('budget reservation covers configured fallbacks', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  // The reservation's cost bound covers the requested model and the fallbacks the router may use
  // (per-call `llmrr.fallbacks`, else `routing.fallbacks` from the config, a list or a map by model).
  it('a request that falls back to a pricier deployment cannot spend past the budget', async () => {
    h = await createHarness({
      stores: 'memory',
      models: [
        mockModel('cheap', { failures: [{ code: 'provider_error', times: 100 }] }, { price: { input: 0, output: 1 } }),
        mockModel('pricey', {}, { price: { input: 1000, output: 1000 } }),
      ],
      routing: { strategy: 'priority', retries: { max: 0 }, fallbacks: ['pricey'] },
    });
    // 16 output tokens at $1/M on cheap fit; the fallback's answer costs far more than the budget.
    const auth = await tenantWithBudget(h.stores!, 0.001);
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'cheap', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 16 }, auth);
    const state = await h.stores!.budgets.spent('acme', 'month');
    expect(state.spentUsd).toBeLessThanOrEqual(0.001);
    expect([200, 402]).toContain(res.status);
  });

  it('refuses up front (402) when a configured fallback could cost more than the budget left', async () => {
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('cheap', {}, { price: { input: 0, output: 1 } }), mockModel('pricey', {}, { price: { input: 1000, output: 1000 } })],
      routing: { strategy: 'priority', fallbacks: { cheap: ['pricey'] } },
    });
    const auth = await tenantWithBudget(h.stores!, 0.001);
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'cheap', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 16 }, auth);
    expect(res.status).toBe(402);
    expect((await h.stores!.budgets.spent('acme', 'month')).reservedUsd).toBe(0);
  });

  it('resolveModel counts per-call fallbacks (which replace the config), routing.fallbacks lists and maps', async () => {
    h = await createHarness({ models: [mockModel('a'), mockModel('b'), mockModel('c'), mockModel('d')] });
    const all = h.router.models();
    const names = (fb?: string[], routing?: Parameters<typeof resolveModel>[4]) => resolveModel('a', all, ANONYMOUS, fb, routing).candidates.map((d) => d.name);
    expect(names()).toEqual(['a']);
    expect(names(undefined, { fallbacks: ['b', 'c'] })).toEqual(['a', 'b', 'c']);
    expect(names(['d'], { fallbacks: ['b'] })).toEqual(['a', 'd']);
    expect(names(undefined, { fallbacks: { a: ['b'], '*': ['c'], d: ['d'] } })).toEqual(['a', 'b', 'c']);
    expect(names(undefined, { fallbacks: { __proto__: ['b'] } as Record<string, string[]> })).toEqual(['a']);
    expect(resolveModel('auto', all, ANONYMOUS, undefined, { fallbackToRanked: true }).candidates.map((d) => d.name)).toEqual(['a', 'b', 'c', 'd']);
  });
});

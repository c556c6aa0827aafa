import type { StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
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

  // KNOWN BUG (not fixed here: calls/resolve-model.ts belongs to the hot-path work). The reservation's cost
  // bound covers only the requested model (and per-call `llmrr.fallbacks`), not `routing.fallbacks` from the
  // config: a request that falls back to a pricier deployment reserves too little and overspends the budget.
  it.fails('a request that falls back to a pricier deployment cannot spend past the budget', async () => {
    h = await createHarness({
      stores: 'memory',
      models: [
        mockModel('cheap', { failures: [{ code: 'server_error', times: 100 }] }, { price: { input: 0, output: 1 } }),
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
});

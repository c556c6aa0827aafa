/**
 * The gateway reserves a request's worst-case cost before the call and settles the router's `cost`. With a
 * semantic-cache model guard, a lookup may pay a guard call to `guardModel` (another deployment, another price,
 * a prompt holding the cached answer) before the model call: the reservation adds the guard call's bound
 * (`verify` answers in 3 tokens, `adapt` in the request's `maxTokens`), so a guarded hit settles within its
 * reservation and the tenant's spend within its budget.
 */
import type { BudgetReserveRequest } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('semantic guard cost against the budget reservation', () => {
  it.each(['verify', 'adapt'] as const)('a semantic hit let through by guard %s settles no more than its reservation, and the tenant stays within its budget', async (guard) => {
    h = await createHarness({
      models: [
        mockModel('main', { reply: 'Mount Everest is 8,849 m tall.' }, { price: { input: 1, output: 1 } }),
        // The guard model is priced higher than the model the client asked for.
        mockModel('judge', { reply: 'YES' }, { price: { input: 200, output: 200 } }),
        mockModel('emb', {}, { capabilities: ['embeddings'] }),
      ],
      stores: 'memory',
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard, guardModel: 'judge' } },
    });
    const stores = h.stores!;
    const reserved = new Map<string, number>();
    const settled = new Map<string, number>();
    const budgets = stores.budgets;
    const reserve = budgets.reserve.bind(budgets);
    const settle = budgets.settle.bind(budgets);
    budgets.reserve = (r: BudgetReserveRequest) => {
      reserved.set(r.reservationId, r.estimateUsd);
      return reserve(r);
    };
    budgets.settle = (id: string, usd: number) => {
      settled.set(id, usd);
      return settle(id, usd);
    };
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 1, period: 'month' } });
    const auth = { authorization: `Bearer ${(await stores.tenants.createKey('acme', { name: 'k' })).secret}` };
    const ask = (content: string) => ({ model: 'main', max_tokens: 50, messages: [{ role: 'user', content }] });

    const first = await post(h.gateway, '/v1/chat/completions', ask('how tall is mount everest'), auth);
    expect(first.headers.get('x-llmrr-cache')).toBe('miss');
    await first.text();
    const firstReservation = [...reserved.values()][0]!;
    const spentAfterFirst = (await budgets.spent('acme', 'month')).spentUsd;
    // Room for one more call like the first: the second request is admitted.
    await stores.tenants.updateTenant('acme', { budget: { amountUsd: spentAfterFirst + 1.5 * firstReservation, period: 'month' } });
    reserved.clear();
    settled.clear();

    const hit = await post(h.gateway, '/v1/chat/completions', ask('how tall is mount everest today'), auth);
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-llmrr-cache')).toBe('hit-semantic');
    await hit.text();
    const [id, reservation] = [...reserved.entries()][0]!;
    const state = await budgets.spent('acme', 'month');
    expect({ settled: settled.get(id)!, reservedUsd: reservation, spentUsd: state.spentUsd }).toEqual({
      settled: expect.toSatisfy((usd: number) => usd <= reservation) as unknown as number,
      reservedUsd: reservation,
      spentUsd: expect.toSatisfy((usd: number) => usd <= spentAfterFirst + 1.5 * firstReservation) as unknown as number,
    });
  });
});

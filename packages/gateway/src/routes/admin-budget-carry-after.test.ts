/**
 * The second budget carry (after the tenant update) can fail (the ledger read or the budget store's raise: Redis or
 * PostgreSQL briefly unreachable) after the update committed: the change is in force, so it is answered as done,
 * audited (and, for PATCH, synced to the router), the failure logged (`carryAfterUpdate`).
 */
import { LLMError, LLMRouter, createStateStores, type StateStores } from '@llmrr/core';
import { afterEach, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { TEST_ADMIN_KEY, adminApi } from '../test-support/admin-api.js';
import type { Gateway } from '../types.js';

let stores: StateStores | undefined;
let gateway: Gateway | undefined;
let router: LLMRouter | undefined;
afterEach(async () => {
  await gateway?.close();
  await router?.close();
  await stores?.close();
});

for (const route of ['PUT budget', 'PATCH tenant'] as const) {
  it(`${route}: a budget store failing the carry after the update still leaves the committed change audited and answered as done`, async () => {
    const memory = await createStateStores({ mode: 'memory' });
    let raises = 0;
    const budgets = Object.create(memory.budgets) as typeof memory.budgets;
    budgets.raiseSpent = async (...args) => {
      raises++;
      if (raises === 2) throw new LLMError({ code: 'store_unavailable', message: 'budget store unreachable (simulated, second raise)' });
      return memory.budgets.raiseSpent!(...args);
    };
    stores = { ...memory, budgets };
    router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] } as never, { env: {} });
    gateway = createGateway({ router, stores, log: () => {}, auth: { adminKey: TEST_ADMIN_KEY } });
    const admin = adminApi(() => gateway!);
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
    await stores.ledger.record({ requestId: 'r1', tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 2, latencyMs: 1, status: 'success', createdAt: Date.now() });

    const res =
      route === 'PUT budget'
        ? await admin('PUT', '/admin/tenants/acme/budget', { amountUsd: 10, period: 'day' })
        : await admin('PATCH', '/admin/tenants/acme', { budget: { amountUsd: 10, period: 'day' } });
    const stored = (await stores.tenants.getTenant('acme'))?.budget;
    const audit = (await (await admin('GET', '/admin/audit?order=desc&limit=10')).json()) as { data: Array<{ action: string }> };
    expect({ stored, status: res.status, audited: audit.data.map((e) => e.action) }).toEqual({
      stored: { amountUsd: 10, period: 'day' },
      status: 200,
      audited: [route === 'PUT budget' ? 'budget.update' : 'tenant.update'],
    });
  });
}

/**
 * A tenant's first `total` budget (no budget before, or one set again after `null`, or another period switched to
 * `total`) starts at the tenant's whole spend in the usage ledger, all of its history: a `total` budget caps what the
 * tenant spends in all, as LiteLLM's `max_budget` caps a key's lifetime `spend`. (Portkey and Langfuse count a new
 * budget from when it is set; here that is an amount of the spend so far plus the allowance: the README says so.)
 * SQLite stores (memory mode), and shared mode (Redis budgets, PostgreSQL ledger). Admin API through `gateway.fetch`.
 */
import { randomBytes } from 'node:crypto';
import { LLMRouter, createStateStores, type StateStores } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { TEST_ADMIN_KEY, adminApi } from '../test-support/admin-api.js';
import { startTestPostgres, type TestPostgres } from '../test-support/test-postgres.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';
import type { Gateway } from '../types.js';

const DAY = 86_400_000;

for (const mode of ['memory', 'shared'] as const) {
  describe(`a first total budget (${mode === 'memory' ? 'SQLite stores' : 'Redis budgets, PostgreSQL ledger'})`, () => {
    let redis: TestRedis | undefined;
    let postgres: TestPostgres | undefined;
    let stores: StateStores;
    let router: LLMRouter;
    let gateway: Gateway;
    const admin = adminApi(() => gateway);

    beforeAll(async () => {
      if (mode === 'shared') {
        [redis, postgres] = await Promise.all([startTestRedis(), startTestPostgres()]);
        const id = randomBytes(4).toString('hex');
        stores = await createStateStores({ mode: 'shared', redisUrl: redis.url, postgresUrl: postgres.url, redisKeyPrefix: `total${id}:`, postgresSchema: `total_${id}` });
      } else {
        stores = await createStateStores({ mode: 'memory' });
      }
      router = new LLMRouter({ models: [{ name: 'm', engine: 'mock' }] }, { env: {} });
      gateway = createGateway({ router, stores, log: () => {}, auth: { adminKey: TEST_ADMIN_KEY } });
    }, 120_000);
    afterAll(async () => {
      await gateway?.close();
      await router?.close();
      await stores?.close();
      redis?.stop();
      postgres?.stop();
    });

    /** A tenant with no budget and $8 of ledger history: 400 days ago, last month, today. */
    const tenantWithHistory = async (id: string) => {
      await stores.tenants.createTenant({ id, name: id });
      const now = Date.now();
      for (const [i, [daysAgo, costUsd]] of ([[400, 5], [40, 2], [0, 1]] as const).entries()) {
        await stores.ledger.record({ requestId: `${id}-r${i}`, tenantId: id, model: 'm', inputTokens: 1, outputTokens: 1, costUsd, latencyMs: 1, status: 'success', createdAt: now - daysAgo * DAY });
      }
      return (await stores.ledger.summary({ tenantId: id })).costUsd;
    };
    const budget = async (id: string) => (await (await admin('GET', `/admin/tenants/${id}/budget`)).json()) as { periodKey: string; spentUsd: number; remainingUsd: number };
    const fits = async (id: string, estimateUsd: number) =>
      (await stores.budgets.reserve({ tenantId: id, period: 'total', limitUsd: 10, estimateUsd, reservationId: `${id}-${randomBytes(4).toString('hex')}` })).ok;

    it('set with PUT: spent is the whole ledger history, so only what is left of the amount can be reserved', async () => {
      const history = await tenantWithHistory('acme');
      expect(history).toBe(8);
      expect((await admin('PUT', '/admin/tenants/acme/budget', { amountUsd: 10, period: 'total' })).status).toBe(200);
      expect(await budget('acme')).toMatchObject({ periodKey: 'total', spentUsd: 8, remainingUsd: 2 });
      expect(await fits('acme', 2.5)).toBe(false);
      expect(await fits('acme', 2)).toBe(true);
    });

    it('set with PATCH after a monthly budget: the month held $1, the total starts at all $8', async () => {
      await tenantWithHistory('beta');
      expect((await admin('PATCH', '/admin/tenants/beta', { budget: { amountUsd: 10, period: 'month' } })).status).toBe(200);
      expect((await budget('beta')).spentUsd).toBe(1);
      expect((await admin('PATCH', '/admin/tenants/beta', { budget: { amountUsd: 10, period: 'total' } })).status).toBe(200);
      expect(await budget('beta')).toMatchObject({ periodKey: 'total', spentUsd: 8 });
    });

    it('to give a tenant an allowance from now on, the amount is its spend so far plus the allowance', async () => {
      await tenantWithHistory('gamma');
      const sofar = (await stores.ledger.summary({ tenantId: 'gamma' })).costUsd;
      expect((await admin('PUT', '/admin/tenants/gamma/budget', { amountUsd: sofar + 3, period: 'total' })).status).toBe(200);
      expect(await budget('gamma')).toMatchObject({ spentUsd: 8, remainingUsd: 3 });
    });
  });
}

/**
 * The seed's budget carry after the tenant update failing (the budget store briefly unreachable) does not throw out of
 * seedTenants after the config's budget is in force: the change is audited (a start that failed there would find no
 * difference at the next start, and the change would never be audited).
 */
import { createStateStores, LLMError, parseConfig } from '@llmrr/core';
import { expect, it } from 'vitest';
import { seedTenants } from './seed-tenants.js';

const v3 = (tenants: unknown[]) => parseConfig({ version: 3, models: [{ name: 'shared-mock', engine: 'mock' }], tenants });

it('a config budget change whose second carry fails is still audited (now or at the next start)', async () => {
  const memory = await createStateStores({ mode: 'memory' });
  try {
    let raises = 0;
    const budgets = Object.create(memory.budgets) as typeof memory.budgets;
    budgets.raiseSpent = async (...args) => {
      if (++raises === 2) throw new LLMError({ code: 'store_unavailable', message: 'simulated' });
      return memory.budgets.raiseSpent!(...args);
    };
    const stores = { ...memory, budgets };
    const seed = (budget: unknown) => seedTenants(stores, v3([{ id: 'acme', name: 'Acme', budget }]), { demo: false, source: 'llmrr.config.yaml', log: () => {} });
    await seed({ amountUsd: 10, period: 'month' });
    await memory.ledger.record({ requestId: 'r1', tenantId: 'acme', model: 'shared-mock', inputTokens: 1, outputTokens: 1, costUsd: 2, latencyMs: 1, status: 'success', createdAt: Date.now() });
    const first = await seed({ amountUsd: 10, period: 'day' }).then(() => 'ok', (e: unknown) => String(e));
    const second = await seed({ amountUsd: 10, period: 'day' }).then(() => 'ok', (e: unknown) => String(e));
    const updates = await memory.audit.list({ actor: 'config-file', action: 'tenant.update' });
    expect({ first, second, stored: (await memory.tenants.getTenant('acme'))?.budget, updates: updates.length }).toEqual({
      first: 'ok',
      second: 'ok',
      stored: { amountUsd: 10, period: 'day' },
      updates: 1,
    });
  } finally {
    await memory.close();
  }
});

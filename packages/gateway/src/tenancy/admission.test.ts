import { createStateStores, type DeploymentInfo, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { admit } from './admission.js';

let stores: StateStores | undefined;
afterEach(async () => {
  await stores?.close();
  stores = undefined;
});

const candidate = { name: 'm', config: {}, price: { input: 1, output: 2 } } as unknown as DeploymentInfo;

describe('admit: budget reservations', () => {
  it('gives every reservation its own id, also for a repeated request id, each settled on its own', async () => {
    stores = await createStateStores({ mode: 'memory' });
    const tenant = await stores.tenants.createTenant({ id: 't', name: 'T', budget: { amountUsd: 100, period: 'total' } });
    const principal = { tenantId: 't', tenant, key: undefined, demo: false };
    const ids: string[] = [];
    const reserve = stores.budgets.reserve.bind(stores.budgets);
    stores.budgets.reserve = (r) => {
      ids.push(r.reservationId);
      return reserve(r);
    };
    const admissions = [];
    // A custom `generateId` that repeats: the same request id for every request.
    for (let i = 0; i < 50; i++) {
      admissions.push(
        await admit({ stores, principal, request: { messages: [{ role: 'user', content: 'hi' }], maxTokens: 10 }, requestId: 'same', candidates: [candidate], defaultMaxOutputTokens: 10, rateLimitOutputTokens: 10 }),
      );
    }
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) {
      expect(id.startsWith('same~')).toBe(true);
      // Never longer than the random UUID suffix it replaces.
      expect(id.length).toBeLessThanOrEqual('same~'.length + 36);
    }
    expect((await stores.budgets.spent('t', 'total')).reservedUsd).toBeGreaterThan(0);
    for (const a of admissions) await a.finish({ usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, costUsd: 0.01, charged: true });
    const state = await stores.budgets.spent('t', 'total');
    expect(state.spentUsd).toBeCloseTo(0.5, 9);
    expect(state.reservedUsd).toBe(0);
  });
});

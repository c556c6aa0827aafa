import type { StateStores } from '@llmrr/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, post, type Harness } from '../test-support/harness.js';

const chat = { model: 'mock', messages: [{ role: 'user', content: 'hello there' }] };

async function tenantWithKey(stores: StateStores, id: string, budgetUsd?: number) {
  await stores.tenants.createTenant({ id, name: id, ...(budgetUsd !== undefined ? { budget: { amountUsd: budgetUsd, period: 'month' as const } } : {}) });
  const key = await stores.tenants.createKey(id, { name: 'test' });
  return { authorization: `Bearer ${key.secret}` };
}

describe('client-chosen x-request-id cannot bypass budgets or charge another tenant', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ stores: 'memory' });
  });
  afterEach(() => h.close());

  it('repeating one x-request-id still charges the budget for every request', async () => {
    const auth = await tenantWithKey(h.stores!, 'acme', 100);
    const first = await post(h.gateway, '/v1/chat/completions', chat, { ...auth, 'x-request-id': 'same-id' });
    expect(first.status).toBe(200);
    const afterOne = (await h.stores!.budgets.spent('acme', 'month')).spentUsd;
    expect(afterOne).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) {
      expect((await post(h.gateway, '/v1/chat/completions', chat, { ...auth, 'x-request-id': 'same-id' })).status).toBe(200);
    }
    const afterFour = (await h.stores!.budgets.spent('acme', 'month')).spentUsd;
    expect(afterFour).toBeCloseTo(4 * afterOne, 9);
  });

  it("another tenant's request id does not move spend between tenants", async () => {
    const a = await tenantWithKey(h.stores!, 'a', 100);
    const b = await tenantWithKey(h.stores!, 'b', 100);
    expect((await post(h.gateway, '/v1/chat/completions', chat, { ...a, 'x-request-id': 'shared' })).status).toBe(200);
    const aSpent = (await h.stores!.budgets.spent('a', 'month')).spentUsd;
    expect((await post(h.gateway, '/v1/chat/completions', chat, { ...b, 'x-request-id': 'shared' })).status).toBe(200);
    expect((await h.stores!.budgets.spent('a', 'month')).spentUsd).toBeCloseTo(aSpent, 12);
    expect((await h.stores!.budgets.spent('b', 'month')).spentUsd).toBeCloseTo(aSpent, 9);
  });
});

describe('client-chosen x-request-id and the usage ledger', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ stores: 'memory' });
  });
  afterEach(() => h.close());

  // The ledger is idempotent by request id: the gateway keys it by its own id, never the client's
  // x-request-id (that one is only echoed as x-client-request-id), so no repeated id drops a record.
  it('every answered request is in the ledger of its own tenant, whatever x-request-id it sent', async () => {
    const a = await tenantWithKey(h.stores!, 'a');
    const b = await tenantWithKey(h.stores!, 'b');
    for (let i = 0; i < 2; i++) expect((await post(h.gateway, '/v1/chat/completions', chat, { ...a, 'x-request-id': 'dup' })).status).toBe(200);
    expect((await post(h.gateway, '/v1/chat/completions', chat, { ...b, 'x-request-id': 'dup' })).status).toBe(200);
    expect((await h.stores!.ledger.summary({ tenantId: 'a' })).requests).toBe(2);
    expect((await h.stores!.ledger.summary({ tenantId: 'b' })).requests).toBe(1);
    expect(await h.stores!.ledger.get('dup')).toBeUndefined();
  });

  it('feedback uses the id the gateway returned, not the client one', async () => {
    const a = await tenantWithKey(h.stores!, 'a');
    const res = await post(h.gateway, '/v1/chat/completions', chat, { ...a, 'x-request-id': 'mine' });
    expect(res.headers.get('x-client-request-id')).toBe('mine');
    const own = res.headers.get('x-request-id')!;
    expect(own).not.toBe('mine');
    expect((await post(h.gateway, '/v1/feedback', { request_id: own, score: 1 }, a)).status).toBe(200);
    expect((await post(h.gateway, '/v1/feedback', { request_id: 'mine', score: 1 }, a)).status).toBe(404);
  });
});

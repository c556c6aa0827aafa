import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminApi, createAdminHarness } from '../test-support/admin-api.js';
import type { Harness } from '../test-support/harness.js';

/**
 * A budget's `amountUsd` is at most Number.MAX_SAFE_INTEGER nano-USD (9007199.254740991 USD), else a 400 naming
 * the field. Core's budget stores count in whole nano-USD: above that a number no longer holds every whole
 * nano-USD, and past about 1.8e299 USD the count is Infinity, so the reservations answered `remainingUsd: NaN`
 * (null in JSON) in SQLite and Redis alike.
 */
const MAX = Number.MAX_SAFE_INTEGER / 1e9;

describe('admin budget amountUsd', () => {
  let h: Harness;
  const request = adminApi(() => h.gateway);
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await request(method, path, body);
    return { status: res.status, body: (await res.json()) as { error?: { param?: string }; budget?: { amountUsd?: number } | null } };
  };

  beforeEach(async () => {
    h = await createAdminHarness();
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  });
  afterEach(() => h.close());

  for (const amountUsd of [1e300, 1e10, MAX + 0.001]) {
    it(`${amountUsd} is a 400 naming the field in every admin input that takes a budget`, async () => {
      const put = await admin('PUT', '/admin/tenants/acme/budget', { amountUsd, period: 'month' });
      expect(put.status).toBe(400);
      expect(put.body.error?.param).toBe('amountUsd');
      const patch = await admin('PATCH', '/admin/tenants/acme', { budget: { amountUsd } });
      expect(patch.status).toBe(400);
      expect(patch.body.error?.param).toBe('budget.amountUsd');
      const create = await admin('POST', '/admin/tenants', { id: 'beta', name: 'Beta', budget: { amountUsd } });
      expect(create.status).toBe(400);
      expect(create.body.error?.param).toBe('budget.amountUsd');
      expect((await h.stores!.tenants.getTenant('acme'))?.budget).toBeUndefined();
    });
  }

  it('the largest amount is taken and reserves against exactly', async () => {
    expect((await admin('PUT', '/admin/tenants/acme/budget', { amountUsd: MAX, period: 'total' })).status).toBe(200);
    const r = await h.stores!.budgets.reserve({ tenantId: 'acme', reservationId: 'r1', period: 'total', limitUsd: MAX, estimateUsd: 1 });
    expect(r).toMatchObject({ ok: true, remainingUsd: MAX - 1 });
    const state = await admin('GET', '/admin/tenants/acme/budget');
    expect(state.body.budget?.amountUsd).toBe(MAX);
  });
});

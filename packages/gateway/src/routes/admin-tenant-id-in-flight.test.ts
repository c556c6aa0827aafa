import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminApi, createAdminHarness } from '../test-support/admin-api.js';
import { mockModel, post, type Harness } from '../test-support/harness.js';

/**
 * A deleted tenant id is not created again even before the ledger holds a row of it (found in review: the check
 * looked only at the ledger). A call of the old tenant still in flight when it is deleted records its row (and settles
 * its budget spend) after the deletion: a new tenant under the id would inherit them, so the id is refused.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('re-creating a deleted tenant id while a call of the old tenant is in flight', () => {
  let h: Harness;
  const admin = adminApi(() => h.gateway);

  beforeEach(async () => {
    h = await createAdminHarness({ models: [mockModel('mock', { delayMs: 1500 })] });
  });
  afterEach(() => h.close());

  it('the new tenant does not inherit the old tenant\'s usage and budget spend', async () => {
    expect((await admin('POST', '/admin/tenants', { id: 'acme', name: 'Old customer', budget: { amountUsd: 100, period: 'month' } })).status).toBe(201);
    const { secret } = (await (await admin('POST', '/admin/tenants/acme/keys', { name: 'k' })).json()) as { secret: string };
    const inFlight = post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'old customer call' }] }, { authorization: `Bearer ${secret}` });
    // Admitted (its budget reservation is held), waiting for the model.
    for (let i = 0; i < 200; i++) {
      const budget = (await (await admin('GET', '/admin/tenants/acme/budget')).json()) as { reservedUsd?: number };
      if ((budget.reservedUsd ?? 0) > 0) break;
      await sleep(5);
    }
    expect((await admin('DELETE', '/admin/tenants/acme')).status).toBe(200);
    const recreated = await admin('POST', '/admin/tenants', { id: 'acme', name: 'New customer', budget: { amountUsd: 100, period: 'month' } });
    const res = await inFlight;
    await res.text();

    // Refused: the call in flight records its usage under the old tenant's id, and no new tenant holds that id.
    expect(recreated.status).toBe(409);
    expect(((await recreated.json()) as { error?: { code?: string } }).error?.code).toBe('tenant_id_in_use');
    expect(res.status).toBe(200);
    expect(await h.stores!.ledger.query({ tenantId: 'acme' })).toHaveLength(1);
    expect((await admin('GET', '/admin/tenants/acme')).status).toBe(404);
  });
});

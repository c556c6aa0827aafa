import { vi, expect } from 'vitest';
import type { SdkGateway } from './served-gateway.js';

/** The ledger row of request `id`, once the gateway has written it (settling runs after the answer ends). */
export function ledgerRow(gw: Pick<SdkGateway, 'ledger'>, id: string) {
  return vi.waitFor(
    async () => {
      const row = await gw.ledger.get(id);
      if (!row) throw new Error(`no ledger row for ${id} yet`);
      return row;
    },
    { timeout: 8000, interval: 20 },
  );
}

/** Waits until every budget reservation of `tenant` (default `acme`, the served gateway's) is settled. */
export async function reservationsSettled(gw: Pick<SdkGateway, 'harness'>, tenant = 'acme'): Promise<void> {
  await vi.waitFor(
    async () => {
      expect((await gw.harness.stores!.budgets.spent(tenant, 'month')).reservedUsd).toBe(0);
    },
    { timeout: 8000, interval: 20 },
  );
}

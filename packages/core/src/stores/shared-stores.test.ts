import { describe, expect, it, vi } from 'vitest';
import { createStateStores } from './create-state-stores.js';
import { auditLogContract } from './__fixtures__/audit-log.contract.js';
import { budgetStoreContract } from './__fixtures__/budget-store.contract.js';
import { rateLimiterContract } from './__fixtures__/rate-limiter.contract.js';
import { sharedFixture, sharedSkipReason } from './__fixtures__/store-fixtures.js';
import { tenantStoreContract } from './__fixtures__/tenant-store.contract.js';
import { usageLedgerContract } from './__fixtures__/usage-ledger.contract.js';

// Shared mode against real servers started by vitest.global-setup.ts (tools/services/*.sh):
// Redis for rate limits and budgets, PostgreSQL for tenants, keys, ledger and audit.
const skip = sharedSkipReason();
if (skip) console.warn(skip);

describe.skipIf(skip !== undefined)(skip ?? 'shared mode (Redis + PostgreSQL)', () => {
  tenantStoreContract('postgres', sharedFixture);
  usageLedgerContract('postgres', sharedFixture);
  auditLogContract('postgres', sharedFixture, {
    disableGuard: ['DROP TRIGGER llmrr_audit_no_change ON llmrr_audit'],
    ph: (i) => `$${i}`,
  });
  budgetStoreContract('redis', sharedFixture);
  rateLimiterContract('redis', async () => {
    const fx = await sharedFixture();
    return { limiter: fx.stores.rateLimiter, close: () => fx.close() };
  });

  it('tenantEvents: a deletion told through one process is heard by every process on the same Redis prefix, not by another prefix', async () => {
    const fx = await sharedFixture();
    const other = await createStateStores(fx.childConfig);
    const elsewhere = await createStateStores({ ...fx.childConfig, redisKeyPrefix: `${(fx.childConfig as { redisKeyPrefix: string }).redisKeyPrefix}x:` } as typeof fx.childConfig);
    try {
      const heard: string[] = [];
      const heardElsewhere: string[] = [];
      const sub = await other.tenantEvents!.onDeleted((id) => heard.push(id));
      const subElsewhere = await elsewhere.tenantEvents!.onDeleted((id) => heardElsewhere.push(id));
      await fx.stores.tenantEvents!.deleted('acme');
      await fx.stores.tenantEvents!.deleted('globex');
      await vi.waitFor(() => expect(heard).toEqual(['acme', 'globex']), { timeout: 10_000 });
      await subElsewhere.caughtUp();
      expect(heardElsewhere).toEqual([]);
      sub.close();
      subElsewhere.close();
    } finally {
      await Promise.all([other.close(), elsewhere.close()]);
      await fx.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { auditLogContract } from '../__fixtures__/audit-log.contract.js';
import { budgetStoreContract } from '../__fixtures__/budget-store.contract.js';
import { sqliteFixture } from '../__fixtures__/store-fixtures.js';
import { tenantStoreContract } from '../__fixtures__/tenant-store.contract.js';
import { usageLedgerContract } from '../__fixtures__/usage-ledger.contract.js';

// Embedded mode: one SQLite file (WAL) holds tenants, keys, budgets, ledger and audit.
tenantStoreContract('sqlite', sqliteFixture);
budgetStoreContract('sqlite', sqliteFixture);
usageLedgerContract('sqlite', sqliteFixture);
auditLogContract('sqlite', sqliteFixture, {
  disableGuard: ['DROP TRIGGER llmrr_audit_no_update', 'DROP TRIGGER llmrr_audit_no_delete'],
  ph: () => '?',
});

// The admin API looks up a deleted tenant's id in the audit log (action tenant.delete, its id as target, latest
// first): an index serves it instead of a scan of the whole chain (a schema upgrade step, as on PostgreSQL).
describe('SQLite audit log: listing by action and target', () => {
  it('reads the (action, target, seq) index, newest first without a sort', async () => {
    const fx = await sqliteFixture();
    try {
      await fx.stores.audit.append({ actor: 'admin', action: 'tenant.delete', target: 'acme' });
      await fx.stores.audit.append({ actor: 'admin', action: 'tenant.create', target: 'acme' });
      await fx.stores.audit.append({ actor: 'admin', action: 'tenant.delete', target: 'acme' });
      expect((await fx.stores.audit.list({ action: 'tenant.delete', target: 'acme', order: 'desc', limit: 1 })).map((e) => e.seq)).toEqual([3]);
      const plan = (await fx.sql(`EXPLAIN QUERY PLAN SELECT * FROM llmrr_audit WHERE action = ? AND target = ? ORDER BY seq DESC LIMIT ?`, ['tenant.delete', 'acme', 1])).map((r) => String(r['detail']));
      expect(plan).toEqual(['SEARCH llmrr_audit USING INDEX llmrr_audit_action_target (action=? AND target=?)']);
    } finally {
      await fx.close();
    }
  });
});

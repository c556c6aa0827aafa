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

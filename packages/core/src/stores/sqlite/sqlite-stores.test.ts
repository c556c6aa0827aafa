import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditLogContract } from '../__fixtures__/audit-log.contract.js';
import { budgetStoreContract } from '../__fixtures__/budget-store.contract.js';
import { sqliteFixture } from '../__fixtures__/store-fixtures.js';
import { tenantStoreContract } from '../__fixtures__/tenant-store.contract.js';
import { usageLedgerContract } from '../__fixtures__/usage-ledger.contract.js';
import { openSqlite } from './sqlite-database.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';

// Embedded mode: one SQLite file (WAL) holds tenants, keys, budgets, ledger and audit.
tenantStoreContract('sqlite', sqliteFixture);
budgetStoreContract('sqlite', sqliteFixture);
usageLedgerContract('sqlite', sqliteFixture);
auditLogContract('sqlite', sqliteFixture, {
  disableGuard: ['DROP TRIGGER llmrr_audit_no_update', 'DROP TRIGGER llmrr_audit_no_delete'],
  ph: () => '?',
});

// The admin API looks up a deleted tenant's id in the audit log (whether there is a tenant.delete with its id as
// target): an index serves it, in either order, instead of a scan of the whole chain (a schema upgrade step, as on
// PostgreSQL).
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

  it('an existing file of the previous schema version gets the index and the new version on open, its chain kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-sqlite-upgrade-'));
    const path = join(dir, 'state.db');
    try {
      const first = await openSqlite(path);
      first.db.exec(`DROP INDEX llmrr_audit_action_target`);
      // (A later step adds a column: dropped, as a file of that version has none.)
      first.db.exec(`ALTER TABLE llmrr_budget_spend DROP COLUMN written_at`);
      // (The version before the step that made it: later steps run again too, the others being IF NOT EXISTS.)
      first.db.pragma(`user_version = ${SQLITE_MIGRATIONS.findIndex((step) => step.includes('llmrr_audit_action_target'))}`);
      first.db.exec(`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 2000)
        INSERT INTO llmrr_audit (seq, ts, actor, action, target, details, ip, prev_hash, hash)
        SELECT n, n, 'admin', CASE n % 2 WHEN 0 THEN 'tenant.delete' ELSE 'tenant.create' END, 't' || (n % 100), NULL, NULL, 'p' || n, 'h' || n FROM g`);
      first.db.close();
      const again = await openSqlite(path);
      try {
        expect(again.db.pragma('user_version', { simple: true })).toBe(SQLITE_MIGRATIONS.length);
        // The admin API's lookup (ascending seq, the first deletion) reads the index.
        const plan = again.db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM llmrr_audit WHERE action = ? AND target = ? ORDER BY seq ASC LIMIT ?`).all('tenant.delete', 't2', 1) as Array<{ detail: string }>;
        expect(plan.map((r) => r.detail)).toEqual(['SEARCH llmrr_audit USING INDEX llmrr_audit_action_target (action=? AND target=?)']);
        expect(again.db.prepare(`SELECT seq FROM llmrr_audit WHERE action = ? AND target = ? ORDER BY seq ASC LIMIT 1`).get('tenant.delete', 't2')).toEqual({ seq: 2 });
        expect(again.db.prepare(`SELECT count(*) AS n FROM llmrr_audit`).get()).toEqual({ n: 2000 });
      } finally {
        again.db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

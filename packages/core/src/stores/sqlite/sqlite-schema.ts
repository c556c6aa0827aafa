/**
 * SQLite schema, applied in order; `PRAGMA user_version` records how many steps ran. Append new steps,
 * never edit old ones. Table names carry an `llmrr_` prefix so the file can be shared.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE llmrr_tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    tier TEXT NOT NULL,
    allowed_models TEXT,
    models TEXT,
    preferences TEXT NOT NULL,
    limits TEXT,
    budget TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE llmrr_api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES llmrr_tenants(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    limits TEXT,
    created_at INTEGER NOT NULL,
    rotated_at INTEGER,
    revoked_at INTEGER,
    expires_at INTEGER,
    last_used_at INTEGER
  );
  CREATE INDEX llmrr_api_keys_tenant ON llmrr_api_keys(tenant_id);

  CREATE TABLE llmrr_usage (
    request_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    key_id TEXT,
    model TEXT NOT NULL,
    deployment TEXT,
    provider TEXT,
    endpoint TEXT,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_input_tokens INTEGER NOT NULL,
    cost_nano INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    ttft_ms REAL,
    status TEXT NOT NULL,
    error_code TEXT,
    cache_hit INTEGER NOT NULL,
    stream INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX llmrr_usage_tenant_time ON llmrr_usage(tenant_id, created_at);

  CREATE TABLE llmrr_audit (
    seq INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    details TEXT,
    ip TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX llmrr_audit_ts ON llmrr_audit(ts);
  -- Append-only: the store never updates or deletes; these make accidents fail loudly.
  CREATE TRIGGER llmrr_audit_no_update BEFORE UPDATE ON llmrr_audit
    BEGIN SELECT RAISE(ABORT, 'llmrr_audit is append-only'); END;
  CREATE TRIGGER llmrr_audit_no_delete BEFORE DELETE ON llmrr_audit
    BEGIN SELECT RAISE(ABORT, 'llmrr_audit is append-only'); END;

  CREATE TABLE llmrr_budget_spend (
    tenant_id TEXT NOT NULL,
    period_key TEXT NOT NULL,
    settled_nano INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, period_key)
  ) WITHOUT ROWID;
  CREATE TABLE llmrr_budget_reservations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    period_key TEXT NOT NULL,
    amount_nano INTEGER NOT NULL,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  -- Only live reservations, covering the sum that reserve() needs.
  CREATE INDEX llmrr_budget_reservations_live ON llmrr_budget_reservations(tenant_id, period_key, expires_at, amount_nano)
    WHERE state = 'reserved';
  `,
  `
  -- Budgets without a row per reservation: each process keeps its open reservations in memory and
  -- publishes their sum per tenant and period here (one row per process), so processes sharing the file
  -- still see each other's reservations. A dead process's row counts until expires_at (its last TTL).
  CREATE TABLE llmrr_budget_holds (
    tenant_id TEXT NOT NULL,
    period_key TEXT NOT NULL,
    owner TEXT NOT NULL,
    reserved_nano INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, period_key, owner)
  ) WITHOUT ROWID;
  -- Reservations open at the upgrade keep counting (as one hold per tenant and period until their last
  -- expiry) so the upgrade frees no budget room. Stop every process sharing the file before upgrading.
  INSERT INTO llmrr_budget_holds (tenant_id, period_key, owner, reserved_nano, expires_at)
    SELECT tenant_id, period_key, 'pre-upgrade', SUM(amount_nano), MAX(expires_at)
    FROM llmrr_budget_reservations WHERE state = 'reserved' GROUP BY tenant_id, period_key;
  DROP TABLE llmrr_budget_reservations;
  `,
  `
  -- Prompt-cache writes (part of input_tokens, like cached_input_tokens) and their 1-hour-TTL part, which
  -- is priced higher again: together they say what a call's input cost. Rows from before read 0. ADD COLUMN
  -- with a constant default rewrites no rows; writers of the previous version (explicit column lists) still work.
  ALTER TABLE llmrr_usage ADD COLUMN cache_write_input_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE llmrr_usage ADD COLUMN cache_write_1h_input_tokens INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Audit entries start at seq 1: a row below it would be listed first but sit outside the chain. SQLite
  -- cannot add a CHECK to an existing table, so a trigger refuses the INSERT (verification reports such a
  -- row in any case, for files written before this step or by someone who drops the trigger).
  CREATE TRIGGER llmrr_audit_seq_from_1 BEFORE INSERT ON llmrr_audit WHEN NEW.seq < 1
    BEGIN SELECT RAISE(ABORT, 'llmrr_audit entries start at seq 1'); END;
  `,
  `
  -- Audit listings by action and target (the admin API's lookup of a deleted tenant: whether the log has a
  -- tenant.delete of its id, the first in seq order) read an index instead of scanning the chain, in either order.
  -- IF NOT EXISTS for a file where an operator created it by hand.
  CREATE INDEX IF NOT EXISTS llmrr_audit_action_target ON llmrr_audit(action, target, seq);
  `,
  `
  -- Spend rows by period: the budget store's prune of ended day and week rows finds them (and the keys in between)
  -- by seeks instead of scanning every tenant's rows. Building it reads the table once, at the upgrade.
  CREATE INDEX IF NOT EXISTS llmrr_budget_spend_period ON llmrr_budget_spend(period_key);
  `,
  `
  -- When (wall clock, epoch ms) a spend row was last written: the prune of ended day and week rows leaves a row
  -- written since its cut (a settlement of a call dated long past just counted there). Rows from before read 0.
  ALTER TABLE llmrr_budget_spend ADD COLUMN written_at INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- Usage rows by time: a listing or summary without a tenant (newest first, a from/to range, a page after a cursor)
  -- reads this index instead of scanning and sorting the whole ledger (a tenant's reads the tenant's index). The
  -- listing's other filters (status, model, key) are in it too, so a filter matching few rows is tested on the index
  -- entries, reading only the rows it keeps: on created_at alone each entry cost a row lookup, and a filter matching
  -- none read the whole table in time order, 2-4.5 times the scan this replaces. Rows of the same millisecond are put
  -- in request id order as they are read (a small sort). Building it reads the table once, at the upgrade, under the
  -- write lock. IF NOT EXISTS for a file where an operator made it.
  CREATE INDEX IF NOT EXISTS llmrr_usage_time ON llmrr_usage(created_at, status, model, key_id);
  `,
];

/**
 * PostgreSQL schema steps, applied in order under an advisory lock (several gateways may start at
 * once); `llmrr_schema_version` records how many ran. Append new steps, never edit old ones.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE llmrr_tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    tier TEXT NOT NULL,
    allowed_models JSONB,
    models JSONB,
    preferences JSONB NOT NULL,
    limits JSONB,
    budget JSONB,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE llmrr_api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES llmrr_tenants(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    limits JSONB,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT,
    expires_at BIGINT,
    last_used_at BIGINT
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
    input_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    cached_input_tokens BIGINT NOT NULL,
    cost_nano BIGINT NOT NULL,
    latency_ms DOUBLE PRECISION NOT NULL,
    ttft_ms DOUBLE PRECISION,
    status TEXT NOT NULL,
    error_code TEXT,
    cache_hit BOOLEAN NOT NULL,
    stream BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX llmrr_usage_tenant_time ON llmrr_usage(tenant_id, created_at);
  CREATE INDEX llmrr_usage_time ON llmrr_usage(created_at);

  CREATE TABLE llmrr_audit (
    seq BIGINT PRIMARY KEY,
    ts BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    details TEXT,
    ip TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX llmrr_audit_ts ON llmrr_audit(ts);
  CREATE FUNCTION llmrr_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'llmrr_audit is append-only'; END $$;
  CREATE TRIGGER llmrr_audit_no_change BEFORE UPDATE OR DELETE ON llmrr_audit
    FOR EACH ROW EXECUTE FUNCTION llmrr_audit_append_only();
  `,
  `
  -- Prompt-cache writes (part of input_tokens, like cached_input_tokens) and their 1-hour-TTL part, which
  -- is priced higher again: together they say what a call's input cost. Rows from before read 0. A constant
  -- default rewrites no rows (PostgreSQL 11+); writers of the previous version (explicit column lists) still work.
  ALTER TABLE llmrr_usage
    ADD COLUMN cache_write_input_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_1h_input_tokens BIGINT NOT NULL DEFAULT 0;
  `,
  `
  -- Audit entries start at seq 1: a row below it would be listed first but sit outside the chain. NOT VALID
  -- checks new rows only (instant, no scan); verification reports an older such row in any case.
  ALTER TABLE llmrr_audit ADD CONSTRAINT llmrr_audit_seq_from_1 CHECK (seq >= 1) NOT VALID;
  `,
  `
  -- Version 4 adds the audit log's (action, target, seq) index (POSTGRES_INDEXES below). It is not built here: in
  -- the migration's transaction its build would hold llmrr_audit's ShareLock until the commit, failing every other
  -- process's audit appends for the length of the build; it is built after this transaction, CONCURRENTLY.
  SELECT 1;
  `,
];

/**
 * Indexes built outside the migration's transaction (`CREATE INDEX CONCURRENTLY`, which does not block writes of
 * the table), after it, on every start that finds one missing or INVALID (a build that failed or whose process
 * died): the schema version does not tell whether they are there. A new database gets them in the transaction
 * that creates its (empty) tables.
 */
export const POSTGRES_INDEXES: ReadonlyArray<{ name: string; on: string }> = [
  // Audit listings by action and target (the admin API's lookup of a deleted tenant: whether the audit log has a
  // tenant.delete of its id, the first one in seq order) read this index instead of scanning the chain.
  { name: 'llmrr_audit_action_target', on: 'llmrr_audit(action, target, seq)' },
  // The tenants list in byte order and its `after` cursor (`id COLLATE "C"`: the primary key's index follows the
  // database's collation, so it serves neither).
  { name: 'llmrr_tenants_id_c', on: 'llmrr_tenants(id COLLATE "C")' },
];

import { LLMError } from '../../errors/llm-error.js';
import { apiKeyDisplayPrefix, generateApiKeySecret, hashApiKeySecret, hashesEqual, isWellFormedApiKeySecret } from '../../tenancy/api-key-secret.js';
import { applyApiKeyPatch, applyTenantPatch, newId, notFound, parseApiKeyInput, revokedKeyConflict, rotatedKeyConflict, tenantFromInput } from '../../tenancy/tenant-input.js';
import type { ApiKey, ApiKeyInput, ApiKeyPatch, AuthResult, CreatedApiKey, ListOptions, RevokedApiKey, RotateKeyOptions, Tenant, TenantInput, TenantPatch, TenantStore } from '../../tenancy/types.js';
import { AuthCache } from '../auth-cache.js';
import { checkKey, clampLimit, clampOffset } from '../check-key.js';
import { LastUsedThrottle } from '../last-used-throttle.js';
import { jsonOrNull, rowToApiKey, rowToTenant, splitJoinedRow, type Row } from '../row-mapping.js';
import type { PostgresHandle } from './postgres-database.js';

const TENANT_COLS = 'id, name, tier, allowed_models, models, preferences, limits, budget, disabled, created_at, updated_at';
const BY_HASH = `SELECT k.id AS k_id, k.tenant_id AS k_tenant_id, k.name AS k_name, k.prefix AS k_prefix, k.hash AS k_hash,
  k.limits AS k_limits, k.created_at AS k_created_at, k.rotated_at AS k_rotated_at, k.revoked_at AS k_revoked_at,
  k.expires_at AS k_expires_at, k.last_used_at AS k_last_used_at,
  t.id AS t_id, t.name AS t_name, t.tier AS t_tier, t.allowed_models AS t_allowed_models, t.models AS t_models,
  t.preferences AS t_preferences, t.limits AS t_limits, t.budget AS t_budget, t.disabled AS t_disabled,
  t.created_at AS t_created_at, t.updated_at AS t_updated_at
  FROM llmrr_api_keys k LEFT JOIN llmrr_tenants t ON t.id = k.tenant_id WHERE k.hash = $1`;
/**
 * First keys of the advisory locks of new rows (`PostgresTenantStore.newRowLock`), one per table ("llmt", "llmk"
 * in ASCII): the second key is the row's id hashed.
 */
const NEW_TENANT_LOCK = 0x6c6c6d74;
const NEW_KEY_LOCK = 0x6c6c6d6b;
/** The read-back of a change of a key: waits for its row's lock (see `PostgresTenantStore.change`). */
const KEY_ROW_LOCK = `SELECT 1 FROM llmrr_api_keys WHERE id = $1 FOR SHARE`;
/**
 * Bound of a background `lastUsedAt` write (ms; at most the handle's `queryTimeoutMs`): its wait for a lock on the
 * keys table (`lock_timeout`) and its statement, so a table locked against writes holds its one connection briefly.
 */
const LAST_USED_WRITE_TIMEOUT_MS = 500;
/** Keys whose `lastUsedAt` write waits for the next one (`PostgresTenantStore.touched`) at most; past it, a use is dropped. */
const LAST_USED_PENDING_MAX = 10_000;
/**
 * The background `lastUsedAt` write of a batch of keys (`$1` ids, `$2` times): one statement, idempotent, skipping a
 * row locked by a change (see `PostgresTenantStore.touched`); SKIP LOCKED takes no lock it waits for, so two
 * processes' batches never deadlock.
 */
const LAST_USED_WRITE = `UPDATE llmrr_api_keys k SET last_used_at = v.t FROM unnest($1::text[], $2::bigint[]) AS v(id, t)
  WHERE k.id = v.id AND k.id IN (SELECT id FROM llmrr_api_keys WHERE id = ANY($1::text[]) FOR NO KEY UPDATE SKIP LOCKED)`;

export interface PostgresTenantStoreOptions {
  /**
   * How long a successful key lookup is reused in this process; default 0 (off). With a TTL, a revoke,
   * rotation or change made through ANOTHER process takes effect here within the TTL (this process's own
   * changes at once); without it, on the next request.
   */
  authCacheTtlMs?: number;
  /**
   * Hears what fails in the background, where no caller can: a key's `lastUsedAt` write (dropped; see
   * `PostgresTenantStore.touched`), with a one-line message naming no secret, and the error. At most one call a
   * minute (the failures since counted in the next). The gateway server passes its log.
   */
  onError?: (message: string, error: unknown) => void;
}

/** How often `onError` is called at most (ms): a PostgreSQL refusing every write says so once a minute, not per login. */
const ERROR_REPORT_INTERVAL_MS = 60_000;

/** Tenants and API keys in PostgreSQL (shared mode). */
export class PostgresTenantStore implements TenantStore {
  private readonly lastUsed = new LastUsedThrottle();
  /** The `lastUsedAt` write in flight, if any (at most one at a time: `touched`). */
  private touching: Promise<void> | undefined;
  /** Keys due a `lastUsedAt` write that waits for the next one (key id -> its latest use; `touched`). */
  private pending = new Map<string, number>();
  private closing: Promise<void> | undefined;
  private readonly cache: AuthCache;
  private readonly onError: ((message: string, error: unknown) => void) | undefined;
  /** When `onError` was last called (`clock`), and the failed writes not reported since. */
  private reportedAt = -Infinity;
  private unreported = 0;

  constructor(
    private readonly pg: PostgresHandle,
    private readonly clock: () => number = Date.now,
    options: PostgresTenantStoreOptions = {},
  ) {
    pg.retain();
    this.cache = new AuthCache(options.authCacheTtlMs ?? 0);
    this.onError = options.onError;
  }

  async createTenant(input: TenantInput): Promise<Tenant> {
    const t = tenantFromInput(input, this.clock());
    const lock = this.newRowLock(NEW_TENANT_LOCK, t.id);
    // The lock and the INSERT in one statement (one round trip): the INSERT's row comes from the lock's.
    const rows = await this.pg.transaction(
      async (c) =>
        (
          await c.query(
            `WITH l AS (${newRowLockSql(NEW_TENANT_LOCK, '$12')}) INSERT INTO llmrr_tenants (${TENANT_COLS})
             SELECT $1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11 FROM l
             ON CONFLICT (id) DO NOTHING RETURNING id`,
            [...tenantParams(t), ...lock.params],
          )
        ).rows,
      // An id taken already (no row inserted) changed nothing: its 409, whatever became of the COMMIT.
      { readBack: lock, changed: (inserted) => inserted.length > 0 },
    ).catch((e: unknown) => {
      throw naming(e, t.id);
    });
    if (rows.length === 0) throw new LLMError({ code: 'conflict', message: `tenant "${t.id}" already exists`, param: 'id' });
    return t;
  }

  async getTenant(id: string): Promise<Tenant | undefined> {
    const rows = await this.pg.query(`SELECT ${TENANT_COLS} FROM llmrr_tenants WHERE id = $1`, [id]);
    return rows[0] ? rowToTenant(rows[0]) : undefined;
  }

  async listTenants(options: ListOptions = {}): Promise<Tenant[]> {
    const page = [clampLimit(options.limit), clampOffset(options.offset)];
    // By id in byte order (`COLLATE "C"`, as SQLite's); `after`, a cursor no tenant deleted or created meanwhile moves.
    const rows =
      options.after !== undefined
        ? await this.pg.query(`SELECT ${TENANT_COLS} FROM llmrr_tenants WHERE id COLLATE "C" > $3 ORDER BY id COLLATE "C" LIMIT $1 OFFSET $2`, [...page, options.after])
        : await this.pg.query(`SELECT ${TENANT_COLS} FROM llmrr_tenants ORDER BY id COLLATE "C" LIMIT $1 OFFSET $2`, page);
    return rows.map(rowToTenant);
  }

  async updateTenant(id: string, patch: TenantPatch): Promise<Tenant> {
    return this.invalidating(() => this.cache.invalidateTenant(id), () => this.pg.transaction(async (c) => {
      const row = (await c.query<Row>(`SELECT ${TENANT_COLS} FROM llmrr_tenants WHERE id = $1 FOR UPDATE`, [id])).rows[0];
      if (!row) throw notFound('tenant', id, 'id');
      const t = applyTenantPatch(rowToTenant(row), patch, this.clock());
      await c.query(
        `UPDATE llmrr_tenants SET name = $2, tier = $3, allowed_models = $4::jsonb, models = $5::jsonb, preferences = $6::jsonb,
         limits = $7::jsonb, budget = $8::jsonb, disabled = $9, updated_at = $11 WHERE id = $1 AND created_at = $10`,
        tenantParams(t),
      );
      return t;
      // A COMMIT whose answer is lost is read back behind the row's lock (see PostgresHandle.transaction).
    }, { readBack: { sql: `SELECT 1 FROM llmrr_tenants WHERE id = $1 FOR SHARE`, params: [id] } }));
  }

  /**
   * Drops this process's cached key lookups (`authCacheTtlMs`) of a tenant, or of every tenant without an id: for a
   * tenant deleted through another process (its notice, `RedisTenantEvents`), whose keys must not authenticate here
   * from the cache for the rest of the TTL. A lookup already reading the database does not fill the cache then.
   */
  invalidateCached(tenantId?: string): void {
    if (tenantId === undefined) this.cache.clear();
    else this.cache.invalidateTenant(tenantId);
  }

  async deleteTenant(id: string): Promise<boolean> {
    const rows = await this.invalidating(
      () => this.cache.invalidateTenant(id),
      () => this.change(`DELETE FROM llmrr_tenants WHERE id = $1 RETURNING id`, [id], `SELECT 1 FROM llmrr_tenants WHERE id = $1 FOR SHARE`, [id]),
    );
    return rows.length > 0;
  }

  async createKey(tenantId: string, input: ApiKeyInput): Promise<CreatedApiKey> {
    const v = parseApiKeyInput(input);
    const secret = generateApiKeySecret();
    const key: ApiKey = { id: newId('key'), tenantId, name: v.name, prefix: apiKeyDisplayPrefix(secret), hash: hashApiKeySecret(secret), createdAt: this.clock() };
    if (v.limits) key.limits = v.limits;
    if (v.expiresAt !== undefined) key.expiresAt = v.expiresAt;
    // Its secret is shown once: a creation reported failed must not leave the key behind (see `newRowLock`).
    const lock = this.newRowLock(NEW_KEY_LOCK, key.id);
    try {
      await this.pg.transaction(async (c) => {
        await c.query(
          `WITH l AS (${newRowLockSql(NEW_KEY_LOCK, '$9')}) INSERT INTO llmrr_api_keys (id, tenant_id, name, prefix, hash, limits, created_at, expires_at)
           SELECT $1, $2, $3, $4, $5, $6::jsonb, $7, $8 FROM l`,
          [key.id, tenantId, key.name, key.prefix, key.hash, jsonOrNull(key.limits), key.createdAt, key.expiresAt ?? null, ...lock.params],
        );
      }, { readBack: lock });
    } catch (e) {
      if ((e as { code?: string }).code === '23503') throw notFound('tenant', tenantId, 'tenantId');
      throw naming(e, key.id);
    }
    return { key, secret };
  }

  async rotateKey(keyId: string, options: RotateKeyOptions = {}): Promise<CreatedApiKey> {
    const secret = generateApiKeySecret();
    // With an expected hash, a compare-and-set: a concurrent UPDATE of the row (another process's rotation) makes this
    // one wait, then re-check the condition against the row it committed (READ COMMITTED), so one of them wins.
    const rows = await this.invalidating(
      () => this.cache.invalidateKey(keyId),
      () =>
        this.change(
          `UPDATE llmrr_api_keys SET hash = $1, prefix = $2, rotated_at = $3 WHERE id = $4 AND revoked_at IS NULL AND hash = coalesce($5, hash) RETURNING *`,
          [hashApiKeySecret(secret), apiKeyDisplayPrefix(secret), this.clock(), keyId, options.expectedHash ?? null],
          KEY_ROW_LOCK,
          [keyId],
        ),
    );
    if (rows[0]) return { key: rowToApiKey(rows[0]), secret };
    const existing = await this.getKey(keyId);
    if (!existing) throw notFound('API key', keyId, 'keyId');
    if (existing.revokedAt === undefined) throw rotatedKeyConflict(keyId);
    throw revokedKeyConflict(keyId, 'rotated');
  }

  async updateKey(keyId: string, patch: ApiKeyPatch): Promise<ApiKey> {
    return this.invalidating(() => this.cache.invalidateKey(keyId), () => this.pg.transaction(async (c) => {
      const row = (await c.query<Row>(`SELECT * FROM llmrr_api_keys WHERE id = $1 FOR UPDATE`, [keyId])).rows[0];
      if (!row) throw notFound('API key', keyId, 'keyId');
      const key = rowToApiKey(row);
      const next = applyApiKeyPatch(key, patch);
      if (key.revokedAt !== undefined) throw revokedKeyConflict(keyId, 'changed');
      await c.query(`UPDATE llmrr_api_keys SET name = $2, limits = $3::jsonb, expires_at = $4 WHERE id = $1`, [keyId, next.name, jsonOrNull(next.limits), next.expiresAt ?? null]);
      return next;
    }, { readBack: { sql: KEY_ROW_LOCK, params: [keyId] }, unconfirmed: (key) => ({ tenantId: key.tenantId }) }));
  }

  async revokeKey(keyId: string): Promise<RevokedApiKey> {
    // The UPDATE changes the row only while it is not revoked (the row lock orders concurrent ones): one call of any
    // number, in any process, gets the row back.
    const rows = await this.invalidating(
      () => this.cache.invalidateKey(keyId),
      () => this.change(`UPDATE llmrr_api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING *`, [this.clock(), keyId], KEY_ROW_LOCK, [keyId]),
    );
    if (rows[0]) return { key: rowToApiKey(rows[0]), changed: true };
    const key = await this.getKey(keyId);
    if (!key) throw notFound('API key', keyId, 'keyId');
    return { key, changed: false };
  }

  async getKey(keyId: string): Promise<ApiKey | undefined> {
    const rows = await this.pg.query(`SELECT * FROM llmrr_api_keys WHERE id = $1`, [keyId]);
    return rows[0] ? rowToApiKey(rows[0]) : undefined;
  }

  async listKeys(tenantId: string): Promise<ApiKey[]> {
    return (await this.pg.query(`SELECT * FROM llmrr_api_keys WHERE tenant_id = $1 ORDER BY created_at, id COLLATE "C"`, [tenantId])).map(rowToApiKey);
  }

  async authenticate(secret: string): Promise<AuthResult> {
    if (typeof secret !== 'string' || !isWellFormedApiKeySecret(secret)) return { ok: false, reason: 'malformed' };
    const hash = hashApiKeySecret(secret);
    if (this.cache.enabled) {
      const now = this.clock();
      const hit = this.cache.get(hash, now);
      if (hit) return this.touched(checkKey(hit.key, hit.tenant, now), now);
    }
    const generation = this.cache.begin();
    const row = (await this.pg.query(BY_HASH, [hash]))[0];
    if (!row) return { ok: false, reason: 'unknown_key' };
    const { key: keyRow, tenant: tenantRow } = splitJoinedRow(row);
    const key = rowToApiKey(keyRow);
    if (!hashesEqual(key.hash, hash)) return { ok: false, reason: 'unknown_key' };
    const now = this.clock();
    const verdict = checkKey(key, tenantRow ? rowToTenant(tenantRow) : undefined, now);
    if (verdict.ok) this.cache.set(hash, verdict.tenant, verdict.key, now, generation);
    return this.touched(verdict, now);
  }

  /**
   * Writes `lastUsedAt` at most about once a minute per key, best-effort and in the background: a login never waits
   * for, nor fails on, it (the verdict's key says this use's time when a write starts with it). At most one write is
   * in flight (one pool connection): a login due a write while one is, or while the pool has no connection free at
   * once (checkouts waiting, none idle), is kept for the next write (its latest use per key; at most
   * `LAST_USED_PENDING_MAX` keys, a use past that is dropped) and not counted as written until then. The next write
   * starts, for all the keys kept, when the one in flight settles or at the next login, whichever finds the pool with a
   * connection free first (a table locked against writes - a non-concurrent CREATE INDEX, LOCK TABLE ... SHARE -
   * piled writes up that took the whole pool from the ledger; skipping the logins instead left a key always used right
   * after another never written). A write has a short bound of its own (`LAST_USED_WRITE_TIMEOUT_MS`, its lock wait
   * included), and skips a key's row locked by a change (a rotation or revocation holds it until its COMMIT, which a
   * gateway cut off may never send). Any failure (the bound, PostgreSQL not answering, a read-only session on a
   * standby, 25006) is dropped and reported to `onError` (at most once a minute), and the next login past the minute
   * writes again.
   * One write at a time also keeps a key's writes in order (a clock stepped back writes the earlier time last).
   * `close()` waits for the one in flight, then writes the keys kept once (within the same bound).
   */
  private touched(verdict: AuthResult, now: number): AuthResult {
    if (!verdict.ok || this.closing) return verdict;
    const keyId = verdict.key.id;
    const pending = this.pending;
    if (this.lastUsed.isDue(keyId, now) && (pending.size < LAST_USED_PENDING_MAX || pending.has(keyId))) pending.set(keyId, now);
    if (pending.size > 0 && this.touching === undefined && this.pg.connectionFree) {
      if (pending.has(keyId)) verdict.key.lastUsedAt = now;
      this.writePending();
    }
    return verdict;
  }

  /** Starts the write of the keys kept (`touched`), counting them as written; the next one starts when it settles. */
  private writePending(): void {
    const batch = this.pending;
    this.pending = new Map();
    for (const [keyId, at] of batch) this.lastUsed.markWritten(keyId, at);
    const write = this.writeLastUsed(batch);
    this.touching = write;
    void write.then(() => {
      if (this.touching === write) this.touching = undefined;
      if (this.pending.size > 0 && this.touching === undefined && !this.closing && this.pg.connectionFree) this.writePending();
    });
  }

  /** Never rejects (see `touched`). */
  private async writeLastUsed(batch: Map<string, number>): Promise<void> {
    try {
      // One statement, idempotent: a lost answer needs no read-back. A transaction of its own for its bound (its
      // lock wait, its statement, the checkout and the COMMIT), far shorter than the queries'.
      await this.pg.transaction((c) => c.query(LAST_USED_WRITE, [[...batch.keys()], [...batch.values()]]), {
        timeoutMs: Math.min(LAST_USED_WRITE_TIMEOUT_MS, this.pg.queryTimeoutMs),
      });
    } catch (e) {
      // Dropped (see `touched`), and reported (`onError`).
      this.reportFailedWrite(batch.size, e);
    }
  }

  /** Tells `onError` of a failed `lastUsedAt` write of `keys` keys: at most once per `ERROR_REPORT_INTERVAL_MS`. */
  private reportFailedWrite(keys: number, e: unknown): void {
    if (!this.onError) return;
    this.unreported += keys;
    const now = this.clock();
    if (now - this.reportedAt < ERROR_REPORT_INTERVAL_MS) return;
    const n = this.unreported;
    this.reportedAt = now;
    this.unreported = 0;
    try {
      this.onError(`PostgreSQL: the lastUsedAt of ${n} API key${n === 1 ? '' : 's'} could not be written (dropped; the next use a minute later writes it)`, e);
    } catch {
      // A throwing hook must not fail the write's bookkeeping (nor leave a rejection unhandled).
    }
  }

  /**
   * One statement changing existing rows (`sql`, `params`; its rows), in a transaction of its own: one whose COMMIT's
   * answer is lost is read back (its status; while still in progress, behind the lock of the row it changed: `lockSql`,
   * `lockParams`, `FOR SHARE` of it; see PostgresHandle.transaction), so it is reported done when it was, and failed only when it was not (or, when
   * that cannot tell, saying it may have been written). As a single statement its answer could be lost after it ran:
   * a rotation reported failed had changed the secret (the new one known to no one).
   */
  private async change(sql: string, params: unknown[], lockSql: string, lockParams: unknown[]): Promise<Row[]> {
    return this.pg.transaction(async (c) => (await c.query<Row>(sql, params)).rows, {
      readBack: { sql: lockSql, params: lockParams },
      // A statement that matched no row (a key not there, or revoked, or rotated meanwhile; a tenant not there) changed
      // nothing: answered as such whatever became of its COMMIT (a lost one left no row lock for the read-back to wait on).
      changed: (rows) => rows.length > 0,
      // A key's row names its tenant (the admin API's entry of an unconfirmed key change).
      unconfirmed: (rows) => (typeof rows[0]?.['tenant_id'] === 'string' ? { tenantId: rows[0]['tenant_id'] } : {}),
    });
  }

  /**
   * The lock of a row an INSERT adds (`lockClass`: its table's, `id`), a transaction-level advisory lock (the two-key
   * form: the one-key locks of the audit chain and the migration are another key space) its INSERT takes first (a
   * CTE the row comes from) and its read-back waits for (see PostgresHandle.transaction): a row not yet committed is seen by no other
   * statement, so no row lock can tell when its transaction ended. As a single statement, a creation whose answer
   * was lost after it ran was reported failed and left its row (a key active with a secret no one has; a retry made
   * a second one).
   */
  private newRowLock(lockClass: number, id: string): { sql: string; params: unknown[] } {
    return { sql: newRowLockSql(lockClass, '$1'), params: [`${this.pg.schema}:${id}`] };
  }

  /** Runs a change and drops the cached lookups it affects, before and after (a lookup racing the change cannot re-fill them). */
  private async invalidating<T>(invalidate: () => void, change: () => Promise<T>): Promise<T> {
    invalidate();
    try {
      return await change();
    } finally {
      invalidate();
    }
  }

  /**
   * Waits for the `lastUsedAt` write in flight, then writes the keys kept for the next one once (each within its bound;
   * none starts after this), then lets the pool go.
   */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      await this.touching;
      const batch = this.pending;
      this.pending = new Map();
      if (batch.size > 0) await this.writeLastUsed(batch);
      await this.pg.release();
    })());
  }
}

/**
 * A creation's failure that says it may have been written (`details.mayHaveBeenWritten`) with the id of the row it
 * would have made (`details.id`), which no one else knows (an id the store chose): the admin API's audit entry of the
 * unconfirmed creation names it. Other failures unchanged.
 */
function naming(e: unknown, id: string): unknown {
  if (!LLMError.isInstance(e) || (e.details as { mayHaveBeenWritten?: unknown } | undefined)?.mayHaveBeenWritten !== true) return e;
  return e.with({ details: { ...(e.details as Record<string, unknown>), id } });
}

/** The statement taking a new row's advisory lock (`lockClass`), its key (schema and id) the parameter `at` (`$n`). */
function newRowLockSql(lockClass: number, at: string): string {
  return `SELECT pg_advisory_xact_lock(${lockClass}, hashtext(${at}))`;
}

function tenantParams(t: Tenant): unknown[] {
  return [
    t.id,
    t.name,
    t.tier,
    jsonOrNull(t.allowedModels),
    jsonOrNull(t.models),
    JSON.stringify(t.preferences),
    jsonOrNull(t.limits),
    jsonOrNull(t.budget),
    t.disabled,
    t.createdAt,
    t.updatedAt,
  ];
}

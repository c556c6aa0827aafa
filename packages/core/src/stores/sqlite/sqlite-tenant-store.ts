import { LLMError } from '../../errors/llm-error.js';
import { apiKeyDisplayPrefix, generateApiKeySecret, hashApiKeySecret, hashesEqual, isWellFormedApiKeySecret } from '../../tenancy/api-key-secret.js';
import { applyApiKeyPatch, applyTenantPatch, newId, notFound, parseApiKeyInput, revokedKeyConflict, rotatedKeyConflict, tenantFromInput } from '../../tenancy/tenant-input.js';
import type { ApiKey, ApiKeyInput, ApiKeyPatch, AuthResult, CreatedApiKey, ListOptions, RevokedApiKey, RotateKeyOptions, Tenant, TenantInput, TenantPatch, TenantStore } from '../../tenancy/types.js';
import { AuthCache } from '../auth-cache.js';
import { LastUsedThrottle } from '../last-used-throttle.js';
import { checkKey, clampLimit, clampOffset } from '../check-key.js';
import { jsonOrNull, rowToApiKey, rowToTenant, splitJoinedRow, type Row } from '../row-mapping.js';
import type { SqliteHandle } from './sqlite-database.js';

const TENANT_COLS = 'id, name, tier, allowed_models, models, preferences, limits, budget, disabled, created_at, updated_at';
const JOINED = `SELECT k.id AS k_id, k.tenant_id AS k_tenant_id, k.name AS k_name, k.prefix AS k_prefix, k.hash AS k_hash,
  k.limits AS k_limits, k.created_at AS k_created_at, k.rotated_at AS k_rotated_at, k.revoked_at AS k_revoked_at,
  k.expires_at AS k_expires_at, k.last_used_at AS k_last_used_at,
  t.id AS t_id, t.name AS t_name, t.tier AS t_tier, t.allowed_models AS t_allowed_models, t.models AS t_models,
  t.preferences AS t_preferences, t.limits AS t_limits, t.budget AS t_budget, t.disabled AS t_disabled,
  t.created_at AS t_created_at, t.updated_at AS t_updated_at
  FROM llmrr_api_keys k LEFT JOIN llmrr_tenants t ON t.id = k.tenant_id WHERE k.hash = ?`;

/** Default TTL of the authentication cache in embedded mode (a backstop: see `authenticate`). */
export const SQLITE_AUTH_CACHE_TTL_MS = 30_000;

export interface SqliteTenantStoreOptions {
  /** How long a successful key lookup is reused; 0 turns the cache off. Default 30 s. */
  authCacheTtlMs?: number;
}

/** Tenants and API keys in SQLite (embedded mode). Calls are synchronous underneath. */
export class SqliteTenantStore implements TenantStore {
  private readonly lastUsed = new LastUsedThrottle();
  private readonly cache: AuthCache;
  private readonly stmt;
  private seenVersion: number;

  constructor(
    private readonly handle: SqliteHandle,
    private readonly clock: () => number = Date.now,
    options: SqliteTenantStoreOptions = {},
  ) {
    handle.retain();
    const db = handle.db;
    this.cache = new AuthCache(options.authCacheTtlMs ?? SQLITE_AUTH_CACHE_TTL_MS);
    this.stmt = {
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      insertTenant: db.prepare(`INSERT INTO llmrr_tenants (${TENANT_COLS}) VALUES (@id, @name, @tier, @allowed_models, @models, @preferences, @limits, @budget, @disabled, @created_at, @updated_at)`),
      updateTenant: db.prepare(`UPDATE llmrr_tenants SET name=@name, tier=@tier, allowed_models=@allowed_models, models=@models, preferences=@preferences, limits=@limits, budget=@budget, disabled=@disabled, updated_at=@updated_at WHERE id=@id`),
      getTenant: db.prepare(`SELECT ${TENANT_COLS} FROM llmrr_tenants WHERE id = ?`),
      listTenants: db.prepare(`SELECT ${TENANT_COLS} FROM llmrr_tenants ORDER BY id LIMIT ? OFFSET ?`),
      listTenantsAfter: db.prepare(`SELECT ${TENANT_COLS} FROM llmrr_tenants WHERE id > ? ORDER BY id LIMIT ? OFFSET ?`),
      deleteTenant: db.prepare(`DELETE FROM llmrr_tenants WHERE id = ?`),
      insertKey: db.prepare(`INSERT INTO llmrr_api_keys (id, tenant_id, name, prefix, hash, limits, created_at, expires_at) VALUES (@id, @tenant_id, @name, @prefix, @hash, @limits, @created_at, @expires_at)`),
      getKey: db.prepare(`SELECT * FROM llmrr_api_keys WHERE id = ?`),
      listKeys: db.prepare(`SELECT * FROM llmrr_api_keys WHERE tenant_id = ? ORDER BY created_at, id`),
      // `hash = coalesce(?, hash)`: with an expected hash, a compare-and-set (`rotateKey`).
      rotateKey: db.prepare(`UPDATE llmrr_api_keys SET hash = ?, prefix = ?, rotated_at = ? WHERE id = ? AND revoked_at IS NULL AND hash = coalesce(?, hash)`),
      updateKey: db.prepare(`UPDATE llmrr_api_keys SET name = @name, limits = @limits, expires_at = @expires_at WHERE id = @id`),
      revokeKey: db.prepare(`UPDATE llmrr_api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
      byHash: db.prepare(JOINED),
      touch: db.prepare(`UPDATE llmrr_api_keys SET last_used_at = ? WHERE id = ?`),
    };
    this.seenVersion = this.stmt.dataVersion.get() as number;
  }

  async createTenant(input: TenantInput): Promise<Tenant> {
    const tenant = tenantFromInput(input, this.clock());
    try {
      this.stmt.insertTenant.run(tenantParams(tenant));
    } catch (e) {
      if (isConstraint(e, 'PRIMARYKEY')) throw new LLMError({ code: 'conflict', message: `tenant "${tenant.id}" already exists`, param: 'id' });
      throw e;
    }
    return tenant;
  }

  async getTenant(id: string): Promise<Tenant | undefined> {
    const row = this.stmt.getTenant.get(id) as Row | undefined;
    return row ? rowToTenant(row) : undefined;
  }

  async listTenants(options: ListOptions = {}): Promise<Tenant[]> {
    const page = [clampLimit(options.limit), clampOffset(options.offset)];
    // By id (BINARY collation: byte order); `after`, a cursor no tenant deleted or created meanwhile moves.
    const rows = (options.after !== undefined ? this.stmt.listTenantsAfter.all(options.after, ...page) : this.stmt.listTenants.all(...page)) as Row[];
    return rows.map(rowToTenant);
  }

  async updateTenant(id: string, patch: TenantPatch): Promise<Tenant> {
    return this.handle.db
      .transaction(() => {
        const row = this.stmt.getTenant.get(id) as Row | undefined;
        if (!row) throw notFound('tenant', id, 'id');
        const next = applyTenantPatch(rowToTenant(row), patch, this.clock());
        this.stmt.updateTenant.run(tenantParams(next));
        this.cache.invalidateTenant(id);
        return next;
      })
      .immediate();
  }

  async deleteTenant(id: string): Promise<boolean> {
    const deleted = this.stmt.deleteTenant.run(id).changes > 0;
    this.cache.invalidateTenant(id);
    return deleted;
  }

  async createKey(tenantId: string, input: ApiKeyInput): Promise<CreatedApiKey> {
    const v = parseApiKeyInput(input);
    if (!this.stmt.getTenant.get(tenantId)) throw notFound('tenant', tenantId, 'tenantId');
    const secret = generateApiKeySecret();
    const key: ApiKey = { id: newId('key'), tenantId, name: v.name, prefix: apiKeyDisplayPrefix(secret), hash: hashApiKeySecret(secret), createdAt: this.clock() };
    if (v.limits) key.limits = v.limits;
    if (v.expiresAt !== undefined) key.expiresAt = v.expiresAt;
    try {
      this.stmt.insertKey.run({ id: key.id, tenant_id: tenantId, name: key.name, prefix: key.prefix, hash: key.hash, limits: jsonOrNull(key.limits), created_at: key.createdAt, expires_at: key.expiresAt ?? null });
    } catch (e) {
      if (isConstraint(e, 'FOREIGNKEY')) throw notFound('tenant', tenantId, 'tenantId');
      throw e;
    }
    return { key, secret };
  }

  async rotateKey(keyId: string, options: RotateKeyOptions = {}): Promise<CreatedApiKey> {
    const secret = generateApiKeySecret();
    const now = this.clock();
    const changed = this.stmt.rotateKey.run(hashApiKeySecret(secret), apiKeyDisplayPrefix(secret), now, keyId, options.expectedHash ?? null).changes;
    this.cache.invalidateKey(keyId);
    if (changed === 0) {
      const existing = this.stmt.getKey.get(keyId) as Row | undefined;
      if (!existing) throw notFound('API key', keyId, 'keyId');
      if (existing.revoked_at === null) throw rotatedKeyConflict(keyId);
      throw revokedKeyConflict(keyId, 'rotated');
    }
    return { key: rowToApiKey(this.stmt.getKey.get(keyId) as Row), secret };
  }

  async updateKey(keyId: string, patch: ApiKeyPatch): Promise<ApiKey> {
    return this.handle.db
      .transaction(() => {
        const row = this.stmt.getKey.get(keyId) as Row | undefined;
        if (!row) throw notFound('API key', keyId, 'keyId');
        const key = rowToApiKey(row);
        const next = applyApiKeyPatch(key, patch);
        if (key.revokedAt !== undefined) throw revokedKeyConflict(keyId, 'changed');
        this.stmt.updateKey.run({ id: keyId, name: next.name, limits: jsonOrNull(next.limits), expires_at: next.expiresAt ?? null });
        this.cache.invalidateKey(keyId);
        return next;
      })
      .immediate();
  }

  async revokeKey(keyId: string): Promise<RevokedApiKey> {
    // The UPDATE changes the row only while it is not revoked: one call of any number (any connection) changes it.
    const changed = this.stmt.revokeKey.run(this.clock(), keyId).changes > 0;
    this.cache.invalidateKey(keyId);
    const row = this.stmt.getKey.get(keyId) as Row | undefined;
    if (!row) throw notFound('API key', keyId, 'keyId');
    return { key: rowToApiKey(row), changed };
  }

  async getKey(keyId: string): Promise<ApiKey | undefined> {
    const row = this.stmt.getKey.get(keyId) as Row | undefined;
    return row ? rowToApiKey(row) : undefined;
  }

  async listKeys(tenantId: string): Promise<ApiKey[]> {
    return (this.stmt.listKeys.all(tenantId) as Row[]).map(rowToApiKey);
  }

  /**
   * Looks the key up by the SHA-256 of the secret. Successful lookups are cached in this process
   * (`AuthCache`): this store's own changes drop the entries at once, and any commit by ANOTHER connection
   * to the file (another process's admin API or CLI) clears the whole cache before the next lookup
   * (`PRAGMA data_version`, one cheap read), so a revoke, rotation, key or tenant change takes effect on the
   * next request in every process; the TTL is only a backstop.
   */
  async authenticate(secret: string): Promise<AuthResult> {
    if (typeof secret !== 'string' || !isWellFormedApiKeySecret(secret)) return { ok: false, reason: 'malformed' };
    const hash = hashApiKeySecret(secret);
    const now = this.clock();
    if (this.cache.enabled) {
      const version = this.stmt.dataVersion.get() as number;
      if (version !== this.seenVersion) {
        this.seenVersion = version;
        this.cache.clear();
      }
      const hit = this.cache.get(hash, now);
      if (hit) return this.touched(checkKey(hit.key, hit.tenant, now), now);
    }
    const generation = this.cache.begin();
    const row = this.stmt.byHash.get(hash) as Row | undefined;
    if (!row) return { ok: false, reason: 'unknown_key' };
    const { key: keyRow, tenant: tenantRow } = splitJoinedRow(row);
    const key = rowToApiKey(keyRow);
    if (!hashesEqual(key.hash, hash)) return { ok: false, reason: 'unknown_key' };
    const verdict = checkKey(key, tenantRow ? rowToTenant(tenantRow) : undefined, now);
    if (verdict.ok) this.cache.set(hash, verdict.tenant, verdict.key, now, generation);
    return this.touched(verdict, now);
  }

  /** Writes `lastUsedAt` at most about once a minute per key. */
  private touched(verdict: AuthResult, now: number): AuthResult {
    if (verdict.ok && this.lastUsed.shouldWrite(verdict.key.id, now)) {
      this.stmt.touch.run(now, verdict.key.id);
      verdict.key.lastUsedAt = now;
    }
    return verdict;
  }

  async close(): Promise<void> {
    this.handle.release();
  }
}

function tenantParams(t: Tenant): Record<string, unknown> {
  return {
    id: t.id,
    name: t.name,
    tier: t.tier,
    allowed_models: jsonOrNull(t.allowedModels),
    models: jsonOrNull(t.models),
    preferences: JSON.stringify(t.preferences),
    limits: jsonOrNull(t.limits),
    budget: jsonOrNull(t.budget),
    disabled: t.disabled ? 1 : 0,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  };
}

function isConstraint(e: unknown, kind: 'PRIMARYKEY' | 'FOREIGNKEY' | 'UNIQUE'): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code === `SQLITE_CONSTRAINT_${kind}`;
}

import { MAX_QUERY_LIMIT } from '../metering/usage-input.js';
import type { ApiKey, AuthResult, Tenant } from '../tenancy/types.js';

/** The shared rules after a key was found by hash. */
export function checkKey(key: ApiKey, tenant: Tenant | undefined, now: number): AuthResult {
  if (key.revokedAt !== undefined) return { ok: false, reason: 'revoked', keyId: key.id, tenantId: key.tenantId };
  if (key.expiresAt !== undefined && key.expiresAt <= now) return { ok: false, reason: 'expired', keyId: key.id, tenantId: key.tenantId };
  if (!tenant) return { ok: false, reason: 'tenant_missing', keyId: key.id, tenantId: key.tenantId };
  if (tenant.disabled) return { ok: false, reason: 'tenant_disabled', keyId: key.id, tenantId: key.tenantId };
  return { ok: true, tenant, key };
}

/** A list limit (default 100) capped at MAX_QUERY_LIMIT (1000) and raised to 1, silently, as `queryLimit`. */
export function clampLimit(limit: number | undefined): number {
  const n = Math.trunc(limit ?? 100);
  return Number.isNaN(n) ? 100 : Math.min(Math.max(n, 1), MAX_QUERY_LIMIT);
}

/** A list offset the databases accept: a non-negative safe integer (past the end just lists nothing). */
export function clampOffset(offset: number | undefined): number {
  const n = Math.trunc(offset ?? 0);
  return Number.isNaN(n) ? 0 : Math.min(Math.max(n, 0), Number.MAX_SAFE_INTEGER);
}

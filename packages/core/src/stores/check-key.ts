import type { ApiKey, AuthResult, Tenant } from '../tenancy/types.js';

/** The shared rules after a key was found by hash. */
export function checkKey(key: ApiKey, tenant: Tenant | undefined, now: number): AuthResult {
  if (key.revokedAt !== undefined) return { ok: false, reason: 'revoked', keyId: key.id, tenantId: key.tenantId };
  if (key.expiresAt !== undefined && key.expiresAt <= now) return { ok: false, reason: 'expired', keyId: key.id, tenantId: key.tenantId };
  if (!tenant) return { ok: false, reason: 'tenant_missing', keyId: key.id, tenantId: key.tenantId };
  if (tenant.disabled) return { ok: false, reason: 'tenant_disabled', keyId: key.id, tenantId: key.tenantId };
  return { ok: true, tenant, key };
}

export function clampLimit(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? 100), 1), 1000);
}

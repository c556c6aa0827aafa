import { LLMError, authFailureAuditFor, isWellFormedApiKeySecret, type AuditLog, type AuthFailure } from '@llmrr/core';
import type { HeaderSource } from '../http/incoming.js';
import type { GatewayAuthOptions, GatewayStores } from '../types.js';
import { extractApiKey } from './extract-key.js';
import { ANONYMOUS, type Principal } from './principal.js';

export interface AuthContext {
  stores: GatewayStores | undefined;
  auth: GatewayAuthOptions;
  requestId: string;
  clientIp: string | undefined;
  log: (message: string, error: unknown) => void;
}

/** Prefix of the gateway's API key secrets. */
const KEY_PREFIX = 'llmrr_';

const UNAUTHORIZED = 'Invalid or missing API key (send Authorization: Bearer <key> or X-API-Key: <key>)';

/** Characters of a well-formed unknown secret kept in the audit row (`llmrr_` + 6, as admins see a key's prefix). */
const AUDIT_PREFIX_LENGTH = 12;

/**
 * Identifies the tenant of a request. Every failure is the same 401 for the client (which keys exist is
 * never revealed) and is audited as `auth.failure` with the reason, bounded per source and window
 * (`auditAuthFailure`), so failed logins cannot grow the audit log without limit.
 */
export async function authenticate(headers: HeaderSource, ctx: AuthContext): Promise<Principal> {
  const { stores } = ctx;
  if (!stores) return ANONYMOUS;
  let secret = extractApiKey(headers);
  // Demo mode: clients that insist on sending some key (OPENAI_API_KEY=anything) still get the demo
  // tenant, unless the key looks like one of ours, which must then be valid.
  if (secret !== undefined && ctx.auth.demoTenantId !== undefined && !secret.startsWith(KEY_PREFIX)) secret = undefined;
  if (secret === undefined) {
    if (ctx.auth.demoTenantId !== undefined) {
      const tenant = await stores.tenants.getTenant(ctx.auth.demoTenantId);
      if (tenant && !tenant.disabled) return { tenantId: tenant.id, tenant, key: undefined, demo: true };
      throw new LLMError({ code: 'authentication', message: `Demo tenant "${ctx.auth.demoTenantId}" is not available; send an API key` });
    }
    await auditFailure(ctx, { reason: 'missing_key' });
    throw new LLMError({ code: 'authentication', message: UNAUTHORIZED });
  }
  const result = await stores.tenants.authenticate(secret);
  if (result.ok) return { tenantId: result.tenant.id, tenant: result.tenant, key: result.key, demo: false };
  await auditFailure(ctx, {
    reason: result.reason,
    ...(result.keyId ? { keyId: result.keyId } : {}),
    ...(result.tenantId ? { tenantId: result.tenantId } : {}),
    ...(result.reason === 'unknown_key' && isWellFormedApiKeySecret(secret) ? { keyPrefix: secret.slice(0, AUDIT_PREFIX_LENGTH) } : {}),
  });
  throw new LLMError({ code: 'authentication', message: UNAUTHORIZED });
}

async function auditFailure(ctx: AuthContext, failure: AuthFailure): Promise<void> {
  if (!ctx.stores) return;
  await auditAuthFailure(ctx.stores.audit, { ...failure, requestId: ctx.requestId, ...(ctx.clientIp ? { ip: ctx.clientIp } : {}) }, ctx.log);
}

/**
 * Audits one authentication failure through the audit log's `AuthFailureAudit` (core): the first failure
 * of a source (IP + reason + key id/prefix) per minute is a row at once, repeats become one row with a
 * count at the end of the minute, and at most 100 such first rows per minute are written over all sources
 * (the rest are counted in one `auth.failure.suppressed` row). Never throws. `log` is this request's: a failed write
 * of this failure's own row is logged through it as `audit append failed` (the auditor is one per process and audit
 * log; the gateway gives it its own logger, without a request id, for the counts of ended windows, whether its timer
 * or another request's failed login writes them).
 */
export async function auditAuthFailure(audit: AuditLog, failure: AuthFailure, log: (message: string, error: unknown) => void): Promise<void> {
  try {
    await authFailureAuditFor(audit).record(failure, (e) => log('audit append failed', e));
  } catch (e) {
    log('audit append failed', e);
  }
}

import { LLMError } from '@llmrr/core';
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

/**
 * Identifies the tenant of a request. Every failure is the same 401 for the client (which keys exist is
 * never revealed) and an `auth.failure` audit entry with the reason.
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
    await auditFailure(ctx, 'missing_key', {});
    throw new LLMError({ code: 'authentication', message: UNAUTHORIZED });
  }
  const result = await stores.tenants.authenticate(secret);
  if (result.ok) return { tenantId: result.tenant.id, tenant: result.tenant, key: result.key, demo: false };
  await auditFailure(ctx, result.reason, { ...(result.keyId ? { keyId: result.keyId } : {}), ...(result.tenantId ? { tenantId: result.tenantId } : {}) });
  throw new LLMError({ code: 'authentication', message: UNAUTHORIZED });
}

async function auditFailure(ctx: AuthContext, reason: string, details: Record<string, unknown>): Promise<void> {
  try {
    await ctx.stores?.audit.append({
      actor: 'anonymous',
      action: 'auth.failure',
      ...(typeof details.keyId === 'string' ? { target: details.keyId } : {}),
      details: { reason, requestId: ctx.requestId, ...details },
      ...(ctx.clientIp ? { ip: ctx.clientIp } : {}),
    });
  } catch (e) {
    ctx.log('audit append failed', e);
  }
}

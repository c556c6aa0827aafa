import { createHmac } from 'node:crypto';
import type { GenerateRequest } from '../spec/index.js';

/** What every tenant-scoped id starts with (`tenantScopedId`). */
export const TENANT_SCOPED_ID_PREFIX = 'llmrr-';

/**
 * The value a shared deployment (the operator's own provider account) receives for a tenant's end-user id (`user`,
 * Anthropic's `metadata.user_id`) or prompt-cache key (`prompt_cache_key`): `llmrr-` and the base64url HMAC-SHA256
 * of `tenant + "\0" + value` keyed by the tenant id, 49 characters (OpenAI takes at most 64 for `user`,
 * `safety_identifier` and `prompt_cache_key`; Anthropic 256 for `metadata.user_id`). The same for the same pair in
 * every process and after restarts (so the provider's per-user abuse signals and prompt caching still work per end
 * user), different for two tenants' same value (their "bob"s are two end users to the provider, and one tenant's
 * cached prefixes never show as cached to another). An operator given such an id by its provider finds its end user
 * by computing this for its candidates.
 */
export function tenantScopedId(tenant: string, value: string): string {
  return TENANT_SCOPED_ID_PREFIX + createHmac('sha256', tenant).update(`${tenant}\0${value}`, 'utf8').digest('base64url');
}

/**
 * `request` as a shared deployment receives it on a call of `tenant`: its non-empty `user` and `promptCacheKey` as
 * `tenantScopedId`s. The request itself (no copy) when the call has no tenant or the request neither field.
 */
export function tenantScopedRequest(request: GenerateRequest, tenant: string | undefined): GenerateRequest {
  if (tenant === undefined) return request;
  const { user, promptCacheKey: key } = request;
  const scopeUser = typeof user === 'string' && user !== '';
  const scopeKey = typeof key === 'string' && key !== '';
  if (!scopeUser && !scopeKey) return request;
  const scoped = { ...request };
  if (scopeUser) scoped.user = tenantScopedId(tenant, user);
  if (scopeKey) scoped.promptCacheKey = tenantScopedId(tenant, key);
  return scoped;
}

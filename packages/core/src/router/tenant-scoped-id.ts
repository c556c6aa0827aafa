import { createHmac } from 'node:crypto';
import type { GenerateRequest } from '../spec/index.js';

/** What every tenant-scoped id starts with (`tenantScopedId`). */
export const TENANT_SCOPED_ID_PREFIX = 'llmrr-';

/**
 * The value a shared deployment (the operator's provider account) receives for a tenant's end-user id (`user`,
 * Anthropic's `metadata.user_id`, `safety_identifier`) or prompt-cache key (`prompt_cache_key`): `llmrr-` and the
 * base64url HMAC-SHA256 of `tenant + "\0" + value`, 49 characters (OpenAI takes at most 64 for `user`,
 * `safety_identifier` and `prompt_cache_key`; Anthropic 256 for `metadata.user_id`). Keyed by `secret` (the operator's
 * `RouterOptions.endUserIdSecret`) when given and not empty, else by the tenant id, which is not secret: then anyone
 * who knows the tenant id can check a guessed end-user id against a scoped one, and a tenant id used again (another
 * customer) maps its end users to the old one's ids (their abuse history at the provider). The same for the same
 * pair (and secret) in every process and after restarts (so the provider's per-user abuse signals still work per end
 * user, and one end user's prompt-cache key still routes its requests together), different for two tenants' same
 * value: their "bob"s are two end users to the provider, and one tenant's key no longer steers its requests toward
 * the cache routing of another tenant's requests. It is no cache isolation: OpenAI keeps prompt caches per
 * organization and uses `prompt_cache_key` as a routing hint combined with the prompt prefix's hash, so two
 * tenants' identical prefixes on one account may still share cached tokens. An operator given such an id by its
 * provider finds its end user by computing this for its candidates.
 */
export function tenantScopedId(tenant: string, value: string, secret?: string): string {
  return TENANT_SCOPED_ID_PREFIX + createHmac('sha256', secret || tenant).update(`${tenant}\0${value}`, 'utf8').digest('base64url');
}

/** The `providerOptions` fields (of any provider's options) that carry an end-user id or prompt-cache key. */
const PROVIDER_ID_FIELDS = ['user', 'safety_identifier', 'prompt_cache_key'] as const;

/**
 * `request` as a shared deployment receives it on a call of `tenant`: its non-empty `user` and `promptCacheKey` as
 * `tenantScopedId`s, and so the same fields given through `providerOptions` (any provider's `user`,
 * `safety_identifier`, `prompt_cache_key` and `metadata.user_id`, non-empty strings), in copies (the caller's
 * objects are never changed). The request itself (no copy) when the call has no tenant or the request none of them.
 */
export function tenantScopedRequest(request: GenerateRequest, tenant: string | undefined, secret?: string): GenerateRequest {
  if (tenant === undefined) return request;
  const { user, promptCacheKey: key, providerOptions } = request;
  const scopeUser = typeof user === 'string' && user !== '';
  const scopeKey = typeof key === 'string' && key !== '';
  const options = providerOptions === undefined ? undefined : scopedProviderOptions(providerOptions, tenant, secret);
  if (!scopeUser && !scopeKey && options === undefined) return request;
  const scoped = { ...request };
  if (scopeUser) scoped.user = tenantScopedId(tenant, user, secret);
  if (scopeKey) scoped.promptCacheKey = tenantScopedId(tenant, key, secret);
  if (options !== undefined) scoped.providerOptions = options;
  return scoped;
}

/** A non-empty string: an id to scope. */
function isId(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `options` with its ids scoped (copies of the namespaces holding one), or undefined when it holds none. */
function scopedProviderOptions(options: GenerateRequest['providerOptions'], tenant: string, secret: string | undefined): GenerateRequest['providerOptions'] {
  if (!isRecord(options)) return undefined;
  let out: Record<string, Record<string, unknown>> | undefined;
  for (const ns of Object.keys(options)) {
    const given = options[ns];
    // (`__proto__` names no provider: no engine reads it, and an assignment of it would set the copy's prototype.)
    if (ns === '__proto__' || !isRecord(given)) continue;
    let copy: Record<string, unknown> | undefined;
    for (const field of PROVIDER_ID_FIELDS) {
      const value = Object.hasOwn(given, field) ? given[field] : undefined;
      if (isId(value)) (copy ??= { ...given })[field] = tenantScopedId(tenant, value, secret);
    }
    const metadata = Object.hasOwn(given, 'metadata') ? given.metadata : undefined;
    if (isRecord(metadata) && Object.hasOwn(metadata, 'user_id') && isId(metadata.user_id)) {
      (copy ??= { ...given }).metadata = { ...metadata, user_id: tenantScopedId(tenant, metadata.user_id, secret) };
    }
    if (copy !== undefined) (out ??= { ...options })[ns] = copy;
  }
  return out;
}

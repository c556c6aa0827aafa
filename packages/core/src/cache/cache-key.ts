import { LLMError } from '../errors/llm-error.js';
import type { GenerateRequest } from '../spec/index.js';
import { canonicalJson } from './canonical-json.js';

/** What a cached answer is shared across: never across tenants, never across model sets. */
export interface CacheScope {
  /** The candidate deployments of the call (or the one model requested). Order does not matter. */
  models: readonly string[];
  tenant?: string;
  /** Separates caches sharing one store (apps, environments). Default `llmrr`. */
  namespace?: string;
}

/** Bumped when the key recipe changes, so old entries are simply never hit again. */
export const CACHE_KEY_VERSION = 1;

/** The request fields that decide the answer. `user` (end-user id for abuse tracking) is not one of them. */
const KEY_FIELDS = ['messages', 'tools', 'toolChoice', 'responseFormat', 'maxTokens', 'temperature', 'topP', 'stop', 'seed', 'reasoning', 'providerOptions'] as const;

/**
 * The prefix shared by every key of one tenant in one namespace (for `CacheStore.deleteByPrefix`).
 * The tenant is URI-encoded and the prefix ends with `:`, so tenant `a` never matches tenant `ab`.
 */
export function cacheKeyPrefix(scope: Pick<CacheScope, 'tenant' | 'namespace'>): string {
  return `${scope.namespace ?? 'llmrr'}:exact:v${CACHE_KEY_VERSION}:${encodeURIComponent(scope.tenant ?? '')}:`;
}

/**
 * Exact-cache key: the scope prefix plus SHA-256 (Web Crypto, so it runs on Node, edge runtimes and
 * Lambda alike) of the canonical JSON of the scope and the answer-deciding request fields.
 *
 * - Object key order does not matter (canonical JSON sorts keys); array order does.
 * - Text is hashed byte for byte: different whitespace is a different key.
 * - SHA-256 makes collisions practically impossible (a fast 64-bit hash would not, at cache scale).
 */
export async function cacheKey(request: GenerateRequest, scope: CacheScope): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new LLMError({ code: 'unsupported', message: 'The exact cache needs Web Crypto (globalThis.crypto.subtle), which this runtime lacks' });
  }
  const picked: Record<string, unknown> = {};
  for (const field of KEY_FIELDS) if (request[field] !== undefined) picked[field] = request[field];
  const material = canonicalJson({
    v: CACHE_KEY_VERSION,
    namespace: scope.namespace ?? 'llmrr',
    tenant: scope.tenant ?? null,
    models: [...new Set(scope.models)].sort(),
    request: picked,
  });
  const digest = await subtle.digest('SHA-256', new TextEncoder().encode(material));
  return cacheKeyPrefix(scope) + toHex(new Uint8Array(digest));
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

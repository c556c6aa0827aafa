import { LLMError } from '../errors/llm-error.js';
import type { ChatMessage, GenerateRequest, ToolDefinition } from '../spec/index.js';
import { requestFieldsFor } from '../spec/request-fields.js';
import { canonicalJson } from './canonical-json.js';

/** What a cached answer is shared across: never across tenants, never across model sets. */
export interface CacheScope {
  /** The candidate deployments of the call (or the one model requested). Order does not matter. */
  models: readonly string[];
  tenant?: string;
  /** Separates caches sharing one store (apps, environments). Default `llmrr`. */
  namespace?: string;
}

/**
 * Bumped when the key recipe changes, so old entries are simply never hit again. 2: keys of version 1 did not
 * always cover `topK`, the penalties, `parallelToolCalls` and `verbosity`, so an entry stored for a request that set
 * them was keyed like the plain request and could answer it; version 1 entries are never hit again.
 */
export const CACHE_KEY_VERSION = 2;

/**
 * The request fields that decide the answer (`exactKey` in `REQUEST_FIELDS`, which says why each is or is not
 * one). `cacheControl` is also taken off messages, their parts and tools (see `withoutCacheControl`).
 */
const KEY_FIELDS = requestFieldsFor('exactKey');

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
  if (request.messages !== undefined) picked.messages = withoutCacheControl(request.messages);
  if (request.tools !== undefined) picked.tools = withoutCacheControl(request.tools);
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

type Marked = { cacheControl?: unknown };

function hasMark(item: unknown): boolean {
  return typeof item === 'object' && item !== null && 'cacheControl' in item;
}

function unmarked<T>(item: T): T {
  if (!hasMark(item)) return item;
  const { cacheControl: _, ...rest } = item as T & Marked;
  return rest as T;
}

/** A system message's `parts` (its text in the client's blocks, for their marks): its text is `content`. */
function hasSystemParts(item: unknown): boolean {
  return typeof item === 'object' && item !== null && (item as { role?: unknown }).role === 'system' && 'parts' in item;
}

/**
 * Messages or tools without their `cacheControl` (and message parts without theirs, and system messages without
 * their `parts`, whose text is their `content`), so that breakpoints never split the cache. The array itself is
 * returned when nothing carries one: requests without breakpoints hash exactly as before (no key version bump),
 * and pay no copy. Also used by the semantic cache's namespace.
 */
export function withoutCacheControl<T extends ChatMessage | ToolDefinition>(items: readonly T[]): readonly T[] {
  if (!Array.isArray(items)) return items;
  const partMarked = (item: T) => Array.isArray((item as { content?: unknown }).content) && ((item as { content: unknown[] }).content).some(hasMark);
  if (!items.some((item) => hasMark(item) || partMarked(item) || hasSystemParts(item))) return items;
  return items.map((item) => {
    let out = unmarked(item);
    if (hasSystemParts(out)) {
      const { parts: _, ...rest } = out as T & { parts?: unknown };
      out = rest as T;
    }
    if (!partMarked(item)) return out;
    return { ...out, content: (item as { content: unknown[] }).content.map(unmarked) } as T;
  });
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

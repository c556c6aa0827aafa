import { LLMError } from '../errors/llm-error.js';
import type { ChatMessage, GenerateRequest, ToolDefinition } from '../spec/index.js';
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
 * Whether each request field decides the answer: a `Record` over every `GenerateRequest` field, so a field added
 * to the request must be placed here (penalties and `parallelToolCalls` were once left out, and a cached answer
 * made without them answered a call that asked for them). `user` (end-user id for abuse tracking) does not
 * decide it, nor `cacheControl` or `promptCacheKey` (prompt-cache hints change the bill, never the answer):
 * `cacheControl` is also taken off messages, their parts and tools (see `withoutCacheControl`). A field that is
 * absent adds nothing to the key, so adding one here leaves the keys of requests without it as they were; but
 * entries stored while it was missing hold answers made with it under plain requests' keys: bump
 * `CACHE_KEY_VERSION` with it.
 */
const DECIDES_ANSWER: Readonly<Record<keyof GenerateRequest, boolean>> = {
  messages: true,
  maxTokens: true,
  temperature: true,
  topP: true,
  topK: true,
  stop: true,
  seed: true,
  frequencyPenalty: true,
  presencePenalty: true,
  tools: true,
  toolChoice: true,
  parallelToolCalls: true,
  responseFormat: true,
  verbosity: true,
  logprobs: true,
  user: false,
  reasoning: true,
  cacheControl: false,
  promptCacheKey: false,
  providerOptions: true,
};
const KEY_FIELDS = (Object.keys(DECIDES_ANSWER) as (keyof GenerateRequest)[]).filter((field) => DECIDES_ANSWER[field]);

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

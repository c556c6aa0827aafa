import { withoutCacheControl, type CacheScope } from '../cache/cache-key.js';
import { canonicalJson } from '../cache/canonical-json.js';
import { LLMError } from '../errors/llm-error.js';
import { messageText, type ChatMessage, type GenerateRequest } from '../spec/index.js';
import { requestFieldsFor } from '../spec/request-fields.js';

/**
 * Bumped when the recipe changes, so old entries are never matched again. 2: version 1 left out `topK`, the
 * penalties, `parallelToolCalls` and `verbosity`, so an entry stored for a request that set them sat in the plain
 * requests' namespace and could answer them; version 1 entries are never matched again. 3: the question is
 * embedded lower-cased (`embeddingInput`); version 2 entries hold vectors of the text as asked, which would not
 * compare with the new ones, so they are never matched again (they expire with their TTL).
 */
export const SEMANTIC_NAMESPACE_VERSION = 3;

/**
 * The request fields besides the messages that decide the answer, so that they must match exactly
 * (`semanticNamespace` in `REQUEST_FIELDS`, which says why each is or is not one). `cacheControl` is also taken off
 * tools and the context messages and their parts (and a system message's `parts`, whose text is its `content`), as
 * the exact-cache key does (`withoutCacheControl`). An absent field adds nothing to the material.
 */
const EXACT_FIELDS = requestFieldsFor('semanticNamespace');

/** The question of a request (its last message, when that is a text-only user message), or undefined. */
export function questionOf(request: GenerateRequest): string | undefined {
  const last = request.messages.at(-1);
  if (!last || last.role !== 'user') return undefined;
  if (Array.isArray(last.content) && last.content.some((p) => p.type !== 'text')) return undefined; // images: not comparable by text
  const text = messageText(last).trim();
  return text.length > 0 ? text : undefined;
}

/**
 * The namespace a request's semantic entries live in: SHA-256 of the tenant, the model set, the embedder,
 * the sampling and output parameters and the conversation before the question (all compared exactly).
 * Only the question itself is compared by meaning. Starts with the URI-encoded tenant and `:`.
 */
export async function semanticNamespace(request: GenerateRequest, scope: CacheScope, embedderId: string): Promise<string> {
  return namespaceOf(namespaceMaterial(request, scope, embedderId), scope.tenant);
}

/** The canonical JSON the namespace hashes (everything that must match exactly). */
export function namespaceMaterial(request: GenerateRequest, scope: CacheScope, embedderId: string): string {
  const picked: Record<string, unknown> = {};
  for (const f of EXACT_FIELDS) if (request[f] !== undefined) picked[f] = request[f];
  if (request.tools !== undefined) picked.tools = withoutCacheControl(request.tools);
  const context: readonly ChatMessage[] = withoutCacheControl(request.messages.slice(0, -1));
  return canonicalJson({
    v: SEMANTIC_NAMESPACE_VERSION,
    namespace: scope.namespace ?? 'llmrr',
    tenant: scope.tenant ?? null,
    models: [...new Set(scope.models)].sort(),
    embedder: embedderId,
    request: picked,
    context,
  });
}

/** `<URI-encoded tenant>:<SHA-256 hex of material>`. */
export async function namespaceOf(material: string, tenant: string | undefined): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new LLMError({ code: 'unsupported', message: 'The semantic cache needs Web Crypto (globalThis.crypto.subtle)' });
  const digest = new Uint8Array(await subtle.digest('SHA-256', new TextEncoder().encode(material)));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return `${encodeURIComponent(tenant ?? '')}:${hex}`;
}

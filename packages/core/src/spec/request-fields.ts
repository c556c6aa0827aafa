import type { GenerateRequest } from './messages.js';

/** What core does with one `GenerateRequest` field: one flag per use. */
export interface RequestFieldUses {
  /**
   * Accepted next to the routing options (`RequestParams` of `generate`/`chat`/`stream`/`route`), where it fills in
   * (or overrides) the request's own. Every field but `messages` (the request itself); `cacheControl` and
   * `promptCacheKey` were once left out and silently dropped from the options.
   */
  readonly requestParam: boolean;
  /**
   * Decides the answer, so it enters the exact-cache key (cache/cache-key.ts). `user` (end-user id for abuse
   * tracking) does not, nor `cacheControl` or `promptCacheKey` (prompt-cache hints change the bill, never the
   * answer). An absent field adds nothing to the key, so setting a flag here leaves the keys of requests without
   * the field as they were; but entries stored while it was unset hold answers made with it under plain requests'
   * keys: bump `CACHE_KEY_VERSION` with it (the penalties and `parallelToolCalls` were once left out).
   */
  readonly exactKey: boolean;
  /**
   * Decides the answer besides the messages, so it must match exactly: it enters the semantic cache's namespace
   * (semantic-cache/semantic-namespace.ts; the messages enter it as the context before the question, compared
   * there, so `messages` is not flagged). Bump `SEMANTIC_NAMESPACE_VERSION` with a field flagged here (`topK`, the
   * penalties, `parallelToolCalls` and `verbosity` were once left out, and an answer made with them could answer a
   * paraphrase asked without them). `logprobs` requests never reach the semantic cache; it is flagged so the two
   * caches agree.
   */
  readonly semanticNamespace: boolean;
  /**
   * A user's next request of the same conversation is assumed to keep it: a predicted follow-up copies it from the
   * live request (semantic-cache/predictive/next-request.ts). `messages` is built there and `user` is the live
   * request's, set apart. (`topK`, the penalties, `parallelToolCalls`, `verbosity` and `logprobs` were once left
   * out, and every prefetch for such a conversation was stored under a key and namespace the client's follow-up
   * never looks in.)
   */
  readonly keptInFollowUp: boolean;
}

/**
 * Every `GenerateRequest` field with its uses, in one place: a `Record` over the fields, so a field added to the
 * request cannot be forgotten by any of them. The uses' field lists (`requestFieldsFor`) keep this order.
 */
export const REQUEST_FIELDS: Readonly<Record<keyof GenerateRequest, RequestFieldUses>> = {
  messages: { requestParam: false, exactKey: true, semanticNamespace: false, keptInFollowUp: false },
  maxTokens: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  temperature: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  topP: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  topK: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  stop: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  seed: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  frequencyPenalty: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  presencePenalty: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  // Never reached core before it was added (no cache entry was made with it): no key version bump.
  logitBias: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  // New: no entry was made with it (an uncontinued prefill's answer is not stored either, `answerNotAsAsked`). Not kept
  // in a follow-up: the next request of a conversation ends with the user's message, not a prefill.
  continueFinalMessage: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: false },
  tools: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  toolChoice: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  parallelToolCalls: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  responseFormat: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  verbosity: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  logprobs: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  user: { requestParam: true, exactKey: false, semanticNamespace: false, keptInFollowUp: false },
  reasoning: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
  cacheControl: { requestParam: true, exactKey: false, semanticNamespace: false, keptInFollowUp: true },
  promptCacheKey: { requestParam: true, exactKey: false, semanticNamespace: false, keptInFollowUp: true },
  providerOptions: { requestParam: true, exactKey: true, semanticNamespace: true, keptInFollowUp: true },
};

/** The request fields flagged for one use, in `REQUEST_FIELDS` order. */
export function requestFieldsFor(use: keyof RequestFieldUses): ReadonlyArray<keyof GenerateRequest> {
  return (Object.keys(REQUEST_FIELDS) as (keyof GenerateRequest)[]).filter((field) => REQUEST_FIELDS[field][use]);
}

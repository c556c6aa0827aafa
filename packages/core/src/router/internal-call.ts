import type { GenerateOptions } from './types.js';

/**
 * Marks the router's own calls (the semantic cache's embeddings and guard): planned over the shared deployments,
 * never in a tenant's view (nor the `defaultTenant`'s). A symbol, not exported from the package: no client input
 * (JSON) can set it.
 */
export const INTERNAL_CALL: unique symbol = Symbol('llmrr.internalCall');

/** A call that writes the caches as any call does but reads none (a prefetch its probe found nothing for). */
export const NO_CACHE_READ: unique symbol = Symbol('llmrr.noCacheRead');

/**
 * Marks the router's own calls made in a tenant's view (a prefetch): nobody rates them, so strategies see them as
 * internal (`StrategyContext.internal`: `adaptive` keeps no pending decision for them and learns nothing from them).
 */
export const UNRATED_CALL: unique symbol = Symbol('llmrr.unratedCall');

/** Call options with the router's internal marks. */
export type InternalCallOptions = GenerateOptions & { [INTERNAL_CALL]?: true; [NO_CACHE_READ]?: true; [UNRATED_CALL]?: true };

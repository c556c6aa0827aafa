import { z } from 'zod';
import { sectionConfigError } from '../../config/validate.js';

const positiveInt = z.number().int().positive();

/** Default of `maxQueueBytes` and `maxTrackedBytes` (and of `PrefetchRegistry`'s `maxBytes`). */
export const DEFAULT_PREDICTIVE_MAX_BYTES = 16_000_000;

/** A per-tenant prefetch budget: calls and/or USD per period. At least one of the two is required. */
export const PrefetchBudgetSchema = z
  .object({
    /** Most prefetch calls per period (calls answered from the cache do not count). */
    maxCalls: z.number().int().nonnegative().optional(),
    /** Most USD spent on prefetch calls per period (the router's cost of each call). */
    maxUsd: z.number().nonnegative().optional(),
    /** Sliding window the budget applies to. Default one hour. */
    periodMs: positiveInt.default(3_600_000),
  })
  .strict()
  .refine((b) => b.maxCalls !== undefined || b.maxUsd !== undefined, { message: 'set maxCalls and/or maxUsd (an unbounded prefetch budget is refused)' });

/** `cache.predictive`: pre-computing the likely next requests of each tenant's users while the router is idle. */
export const PredictiveCacheSchema = z
  .object({
    enabled: z.boolean().default(false),
    idle: z
      .object({
        /**
         * A prefetch starts only while every limited deployment the tenant sees stays within this fraction of
         * its `limits` after it: in flight (live + prefetch) + 1 <= fraction x maxConcurrency, attempts in the
         * last minute + 1 <= fraction x rpm, tokens in the last minute <= fraction x tpm.
         */
        fraction: z.number().gt(0).max(1).default(0.5),
        /** A prefetch starts only while fewer live (not prefetch) calls than this are in flight, over all tenants. Default 1: none. */
        maxLiveInFlight: positiveInt.default(1),
        /** Most prefetches running at once. */
        concurrency: positiveInt.default(1),
      })
      .strict()
      .default({ fraction: 0.5, maxLiveInFlight: 1, concurrency: 1 }),
    /** Every tenant's budget, unless `tenantBudgets` names it. Default 100 calls per hour. */
    budget: PrefetchBudgetSchema.default({ maxCalls: 100, periodMs: 3_600_000 }),
    tenantBudgets: z.record(z.string(), PrefetchBudgetSchema).default({}),
    predictions: z
      .object({
        /** Predicted next requests per observed request. */
        limit: positiveInt.default(1),
        /** Least estimated probability of a predicted transition. */
        minProbability: z.number().min(0).max(1).default(0.3),
        /** Least number of observed transitions behind a prediction. */
        minSupport: positiveInt.default(2),
      })
      .strict()
      .default({ limit: 1, minProbability: 0.3, minSupport: 2 }),
    sequences: z
      .object({
        /** Cosine similarity from which a request joins a cluster of the sequence model. */
        clusterThreshold: z.number().min(0).max(1).default(0.85),
        maxClusters: positiveInt.default(256),
        /** A longer gap between two requests of a user starts a new session. */
        sessionGapMs: positiveInt.default(1_800_000),
        maxSequences: positiveInt.default(10_000),
        /**
         * Bound per tenant on the requests kept as transition exemplars (whole requests: a prediction pre-computes
         * one), in characters of their JSON: past it the least recently seen transitions are forgotten; a request
         * larger on its own is not learned as a transition. Default 16 000 000.
         */
        maxExemplarBytes: positiveInt.default(16_000_000),
      })
      .strict()
      .default({ clusterThreshold: 0.85, maxClusters: 256, sessionGapMs: 1_800_000, maxSequences: 10_000, maxExemplarBytes: 16_000_000 }),
    /** `local-use` or a deployment that embeds. Default: `cache.semantic.embedder`, else `local-use`. */
    embedder: z.string().min(1).optional(),
    /** Most queued prefetches (the oldest is dropped past it). */
    maxQueue: positiveInt.default(100),
    /**
     * Bound on the bytes the queued prefetches hold (each a whole request: the conversation so far, the answer and the
     * predicted question; counted as the caches count entries, UTF-8 bytes of its JSON, twice: the request and its
     * de-duplication key). Past it the oldest are dropped; a prefetch larger on its own is not queued. Default 16 000 000.
     */
    maxQueueBytes: positiveInt.default(DEFAULT_PREDICTIVE_MAX_BYTES),
    /** A queued prefetch older than this is dropped (the user has likely asked by then). */
    maxQueueAgeMs: positiveInt.default(60_000),
    /** How long a prefetched entry is tracked for use; unused past it, it is reported. Default: the cache's TTL. */
    trackMs: positiveInt.optional(),
    /**
     * Bound on the bytes tracking prefetched answers holds (at most 10 000 are tracked; each keeps its predicted question
     * and tenant, as UTF-8, and a 43-character key of the user id, not the id itself). Past it the least recently used (stored or hit) stop being tracked, those never
     * hit reported as unused. Default 16 000 000.
     */
    maxTrackedBytes: positiveInt.default(DEFAULT_PREDICTIVE_MAX_BYTES),
    /** Tenants never prefetched for (their requests are not learned either). */
    optOutTenants: z.array(z.string()).default([]),
  })
  .strict();

export type PredictiveCacheConfig = z.output<typeof PredictiveCacheSchema>;
export type PredictiveCacheConfigInput = z.input<typeof PredictiveCacheSchema>;
export type PrefetchBudgetConfig = z.output<typeof PrefetchBudgetSchema>;

/** Parses `cache.predictive`, throwing `config_invalid` naming the field (`cache.predictive.budget`). */
export function parsePredictiveConfig(input: unknown): PredictiveCacheConfig {
  const parsed = PredictiveCacheSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw sectionConfigError(parsed.error, ['cache', 'predictive'], 'predictive cache config');
  }
  return parsed.data;
}

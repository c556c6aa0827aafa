export { nextRequest } from './next-request.js';
export type { ObservedCall } from './next-request.js';
export { parsePredictiveConfig, PredictiveCacheSchema, PrefetchBudgetSchema } from './predictive-config.js';
export type { PredictiveCacheConfig, PredictiveCacheConfigInput, PrefetchBudgetConfig } from './predictive-config.js';
export { PrefetchBudget } from './prefetch-budget.js';
export type { BudgetTicket } from './prefetch-budget.js';
export { PrefetchRegistry } from './prefetch-registry.js';
export type { AnswerIdentity, PrefetchedEntry } from './prefetch-registry.js';
export { Prefetcher } from './prefetcher.js';
export type { PrefetcherOptions, PrefetcherStats } from './prefetcher.js';
export { SequenceModel } from './sequence-model.js';
export type { Prediction, SequenceModelOptions } from './sequence-model.js';
export { replayTrace, syntheticTrace } from './replay-trace.js';
export type { ReplayOptions, ReplayResult, TraceEvent } from './replay-trace.js';
// The router wiring lives beside the router; re-exported here so `@llmrr/core` exposes it with the rest.
export * from '../../router/prefetch/index.js';

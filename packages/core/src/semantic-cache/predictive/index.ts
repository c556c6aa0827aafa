export { Prefetcher } from './prefetcher.js';
export type { PrefetcherOptions, PrefetcherStats } from './prefetcher.js';
export { SequenceModel } from './sequence-model.js';
export type { Prediction, SequenceModelOptions } from './sequence-model.js';
export { replayTrace, syntheticTrace } from './replay-trace.js';
export type { ReplayOptions, ReplayResult, TraceEvent } from './replay-trace.js';

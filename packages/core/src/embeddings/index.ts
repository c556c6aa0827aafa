export { BatchingEmbedder } from './batching-embedder.js';
export type { BatchingEmbedderOptions } from './batching-embedder.js';
export { CachedEmbedder } from './cached-embedder.js';
export type { CachedEmbedderOptions } from './cached-embedder.js';
export type { EmbedOptions, Embedder, EmbedderCoverage } from './embedder.js';
export { EngineEmbedder } from './engine-embedder.js';
export { LocalUseEmbedder, USE_LITE_MAX_CHARS, truncateForEmbedding } from './local-use-embedder.js';
export { sharedLocalUseEmbedder } from './shared-local-use-embedder.js';
export type { LocalUseEmbedderOptions } from './local-use-embedder.js';

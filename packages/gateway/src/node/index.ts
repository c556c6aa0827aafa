export { DEFAULT_REQUEST_TIMEOUT_MS, serveGateway } from './serve-gateway.js';
export { trustedProxies, type TrustedProxies } from './client-address.js';
export type { ServeOptions, ServedGateway } from './serve-gateway.js';
export { createUpstreamFetch } from './upstream-fetch.js';
export type { UpstreamFetch, UpstreamFetchOptions } from './upstream-fetch.js';
export { GATEWAY_HEAP_GROWING_PERCENT, tuneHeapForGateway } from './heap-tuning.js';
export { cLibrary, mallocMmapThreshold, mallocMmapThresholdSetting, mallocSummary, type CLibrary } from './malloc-threshold.js';
export { GATEWAY_MALLOC_MMAP_THRESHOLD, GATEWAY_NODE_ENV, GATEWAY_NODE_FLAGS, GATEWAY_SEMI_SPACE_MB, GATEWAY_V8_POOL_SIZE, nodeMemoryBytes, semiSpaceSizeMb, v8DefaultSemiSpaceMb, youngGenerationWarning, type YoungGenerationHost } from './young-generation.js';

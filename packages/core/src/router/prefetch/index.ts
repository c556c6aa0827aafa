export { IdleGate } from './idle-gate.js';
export type { IdleGateOptions } from './idle-gate.js';
export { withPrefetch } from './prefetching-router.js';
export type { PrefetchingRouter } from './prefetching-router.js';
export { PREFETCH_METADATA_KEY, RouterPrefetch } from './router-prefetch.js';
export type { PrefetchHost, PrefetchStats, RouterPrefetchOptions } from './router-prefetch.js';

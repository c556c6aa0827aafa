export { affinityKeys, hasAffinitySignal, AFFINITY_LOOKBACK, AFFINITY_MAX_MARKS, type AffinityKey, type AffinityKeys, type AffinityScope, type AffinityTtls } from './affinity-keys.js';
export { MemoryAffinityStore, type AffinityHit, type MemoryAffinityStoreOptions, type PromptCacheAffinityStore } from './affinity-store.js';
export { preferAffinity } from './prefer-affinity.js';
export { PromptCacheAffinity, type AffinityLookup, type PromptCacheAffinityOptions } from './prompt-cache-affinity.js';

export type { StateStores, StateStoresConfig, TenantEvents, TenantEventsSubscription } from './types.js';
export { EMBEDDED_DB_FILE, UNKNOWN_MAXMEMORY_CACHE_MAX_BYTES, createStateStores, sharesGroupCommit } from './create-state-stores.js';

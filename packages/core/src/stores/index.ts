export type { StateStores, StateStoresConfig, TenantEvents, TenantEventsSubscription } from './types.js';
export { EMBEDDED_DB_FILE, createStateStores } from './create-state-stores.js';

export type { StateStores, StateStoresConfig } from './types.js';
export { EMBEDDED_DB_FILE, createStateStores } from './create-state-stores.js';

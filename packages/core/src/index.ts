export * from './spec/index.js';
export * from './errors/index.js';
export * from './config/index.js';
export type * from './router/types.js';
export { parseRetryAfter } from './util/retry-after.js';

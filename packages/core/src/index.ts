export * from './spec/index.js';
export * from './errors/index.js';
export * from './config/index.js';
export * from './engines/index.js';
export * from './router/index.js';
export * from './cache/index.js';
export * from './pricing/index.js';
export { parseRetryAfter } from './util/retry-after.js';
export { anySignal, sleep, withTimeout } from './util/abort.js';

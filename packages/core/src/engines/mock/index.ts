export { MockEngine, createMockEngine } from './mock-engine.js';
export { MockOptionsSchema } from './mock-options.js';
export type { MockEngineOptions, MockFailure } from './mock-engine.js';

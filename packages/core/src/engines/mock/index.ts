export { MockEngine, createMockEngine } from './mock-engine.js';
export type { MockEngineOptions, MockFailure } from './mock-engine.js';

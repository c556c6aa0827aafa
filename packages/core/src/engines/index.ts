export { assertEngineKnown, createEngine, engineFactory, hasEngine, registerEngine, registeredEngines, unregisterEngine } from './registry.js';
export { defaultEngineContext, resolveApiKey } from './types.js';
export type { EngineContext, EngineFactory } from './types.js';
export * from './openai-compatible/index.js';
export * from './anthropic/index.js';
export * from './gemini/index.js';
export { MockEngine, createMockEngine } from './mock/index.js';
export type { MockEngineOptions, MockFailure } from './mock/index.js';

/**
 * Test helpers for code built on @llmrr/core (Node only: the wire servers use node:http).
 * Each server speaks one provider's real wire format on 127.0.0.1 and is scriptable per request.
 */
export { MockEngine, createMockEngine } from '../engines/mock/index.js';
export type { MockEngineOptions, MockFailure } from '../engines/mock/index.js';
export * from './openai-wire-server.js';
export * from './anthropic-wire-server.js';
export * from './gemini-wire-server.js';
export * from './tcp-relay.js';
export * from './event-loop-gap.js';
/** Seeded PRNG (mulberry32) for reproducible generated test inputs. */
export { seededRandom } from '../util/seeded-random.js';

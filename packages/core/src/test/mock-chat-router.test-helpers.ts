/**
 * A router over mock engines for the router's cache tests (test-only: `*.test-helpers.ts` is left out of the
 * build).
 */
import type { RouterConfigInput } from '../config/schema.js';
import { MockEngine, type MockEngineOptions } from '../engines/mock/mock-engine.js';
import { LLMRouter } from '../router/llm-router.js';

/**
 * Two mock deployments under the `priority` strategy with no retries: 'chat' (chat, streaming; a
 * `MockEngine(chat)`) and 'emb' (embeddings; model 'mock-embed', the semantic cache's embedder), and `cache`
 * when given. The router is pushed to `routers` for the caller's afterEach to close.
 */
export function mockChatRouter(routers: LLMRouter[], cache?: RouterConfigInput['cache'], chat: MockEngineOptions = {}) {
  const engine = new MockEngine(chat);
  const embedder = new MockEngine({ modelId: 'mock-embed' });
  const config: RouterConfigInput = {
    models: [
      { name: 'chat', engine: 'mock', capabilities: ['chat', 'streaming'] },
      { name: 'emb', engine: 'mock', capabilities: ['embeddings'] },
    ],
    routing: { strategy: 'priority', retries: { max: 0 } },
    ...(cache ? { cache } : {}),
  };
  const router = new LLMRouter(config, { engines: { chat: engine, emb: embedder } });
  routers.push(router);
  return { router, engine, embedder };
}

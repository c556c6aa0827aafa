/**
 * The router config of the prefetch tests (test-only: `*.test-helpers.ts` is left out of the build).
 */
import type { ModelConfigInput, RouterConfigInput } from '../../config/schema.js';

type CacheInput = NonNullable<RouterConfigInput['cache']>;

/**
 * Two mock deployments, `chat` (chat, streaming) and `emb` (embeddings), under `priority` routing without retries;
 * the semantic cache embeds with `emb` (threshold 0.95) and predictive caching is on. Each part given is merged over
 * its default: `chat` over the chat deployment, `exact` over `{ enabled: true }`, `semantic` and `predictive` over theirs.
 */
export function mockChatAndEmbedConfig(
  o: { chat?: Partial<ModelConfigInput>; exact?: CacheInput['exact']; semantic?: Partial<NonNullable<CacheInput['semantic']>>; predictive?: CacheInput['predictive'] } = {},
): RouterConfigInput {
  return {
    models: [
      { name: 'chat', engine: 'mock', capabilities: ['chat', 'streaming'], ...o.chat },
      { name: 'emb', engine: 'mock', capabilities: ['embeddings'], enabled: true },
    ],
    routing: { strategy: 'priority', retries: { max: 0 } },
    cache: {
      exact: { enabled: true, ...o.exact },
      semantic: { enabled: true, embedder: 'emb', threshold: 0.95, ...o.semantic },
      predictive: { enabled: true, ...o.predictive },
    },
  };
}

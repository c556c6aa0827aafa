/**
 * The router's prefetcher shares the semantic cache's embedder and embeds the question as the cache does
 * (`embeddingInput`, lower-cased), so each question is embedded once (docs/caching.md): with `embedder: <deployment>`
 * a second run would be a second paid embedding call.
 */
import { afterEach, expect, it } from 'vitest';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import type { EmbedCallOptions } from '../../spec/index.js';
import { LLMRouter } from '../llm-router.js';
import { mockChatAndEmbedConfig } from './prefetch-config.test-helpers.js';

class CountingEmbedEngine extends MockEngine {
  readonly texts: string[] = [];
  override async embed(input: string[], options: EmbedCallOptions = {}) {
    this.texts.push(...input);
    return super.embed(input, options);
  }
}

const open: LLMRouter[] = [];
afterEach(async () => {
  for (const r of open.splice(0)) await r.close();
});

it('a live call with predictive caching on embeds its question once (the prefetcher shares the semantic cache embedder)', async () => {
  const emb = new CountingEmbedEngine({ modelId: 'mock-embed' });
  const config = mockChatAndEmbedConfig({ exact: { enabled: false } });
  const router = new LLMRouter(config, { engines: { chat: new MockEngine(), emb }, unknownTenant: 'shared' });
  open.push(router);
  expect(router.prefetch).toBeDefined();
  await router.generate({ messages: [{ role: 'user', content: 'How do I reset my password?' }], user: 'u1' });
  await router.prefetch!.settled();
  // Expected: one text embedded (lookup, store and the prefetcher's observe share one LRU entry).
  // Actual: ['how do i reset my password?', 'How do I reset my password?'] - two embeddings (two paid calls).
  expect(emb.texts).toHaveLength(1);
});

/**
 * With `cache.semantic.embedder` naming a provider deployment, the semantic cache embeds each question through
 * the router's `embed`: every paid `/v1/embeddings` call is a `request:end` (kind `embed`) with its cost, marked
 * `llmrr.semanticEmbed`, and the deployment's own limits (rpm) count it. A refused embedding is a cache miss
 * (`cache:error`), never a failed call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIWireServer, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { LLMRouter } from '../router/llm-router.js';
import type { RouterEvents } from '../router/types.js';
import { SEMANTIC_EMBED_METADATA_KEY } from './semantic-cache-hook.js';

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer({ script: { text: 'Paris.' } });
});
afterAll(async () => {
  await server.close();
});

function router(limits?: { rpm: number }) {
  return new LLMRouter({
    models: [
      { name: 'chat', engine: 'openai-compatible', baseURL: server.baseURL, model: 'gpt-4o-mini', apiKey: 'k', capabilities: ['chat'] },
      // A priced embedding deployment (the shipped price table knows the model).
      { name: 'emb', engine: 'openai-compatible', baseURL: server.baseURL, model: 'text-embedding-3-large', apiKey: 'k', capabilities: ['embeddings'], ...(limits ? { limits } : {}) },
    ],
    routing: { strategy: 'priority', retries: { max: 0 } },
    cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.99 } },
  });
}

const embeddingRequests = () => server.requests.filter((q) => q.url.endsWith('/embeddings')).length;

describe('semantic cache embeddings on a provider deployment', () => {
  it('the paid embedding calls the semantic cache makes are visible to metering (request:end with their cost)', async () => {
    const r = router();
    const ends: Array<RouterEvents['request:end']> = [];
    r.on('request:end', (e) => ends.push(e));
    const before = embeddingRequests();
    const questions = ['What is the capital of France?', 'Who wrote Hamlet?', 'How far is the Moon?'];
    for (const q of questions) await r.generate(q, { model: 'chat' });
    const embeddingCalls = embeddingRequests() - before;
    expect(embeddingCalls).toBe(questions.length); // one per question (lookup, reused by the store)
    const metered = ends.filter((e) => e.kind === 'embed');
    expect({ embeddingCalls, meteredEmbeddingCalls: metered.length }).toEqual({ embeddingCalls, meteredEmbeddingCalls: embeddingCalls });
    for (const e of metered) {
      expect(e.metadata[SEMANTIC_EMBED_METADATA_KEY]).toBe(true);
      expect(e.embedResult?.deployment).toBe('emb');
      expect(e.embedResult?.cost.totalUsd).toBeGreaterThan(0);
    }
    await r.close();
  });

  it("the embedding deployment's rpm limit counts the semantic cache's calls; a refused embedding is a miss", async () => {
    const r = router({ rpm: 1 });
    const errors: Array<RouterEvents['cache:error']> = [];
    r.on('cache:error', (e) => errors.push(e));
    const before = embeddingRequests();
    const answers: string[] = [];
    for (const q of ['alpha question one', 'beta question two', 'gamma question three']) answers.push((await r.generate(q, { model: 'chat' })).text);
    // rpm 1: one request a minute reaches the embedding deployment; the calls are answered all the same.
    expect(embeddingRequests() - before).toBe(1);
    expect(answers).toEqual(['Paris.', 'Paris.', 'Paris.']);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.kind === 'semantic')).toBe(true);
    await r.close();
  });
});

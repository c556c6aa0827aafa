import { describe, expect, it } from 'vitest';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { namespaceMaterial, semanticNamespace } from '../semantic-cache/semantic-namespace.js';
import { cacheKey } from './cache-key.js';
import { ExactCache } from './exact-cache.js';
import { FIXED_VECTOR_KEY, FIXED_VECTOR_REQUEST, FIXED_VECTOR_SCOPE } from './cache-key.test-helpers.js';

// `promptCacheKey` (OpenAI's `prompt_cache_key`) groups requests for the provider's prompt cache and the router's
// affinity; it never changes the answer, so neither the exact-cache key nor the semantic namespace depends on it.
// Two agents' sessions asking the same question share the cached answer.

const scope = FIXED_VECTOR_SCOPE;
const base: GenerateRequest = FIXED_VECTOR_REQUEST;

describe('promptCacheKey and the gateway caches', () => {
  it('leaves the exact-cache key as it was (the fixed vector of cache-key.test.ts) whatever the key', async () => {
    const fixed = FIXED_VECTOR_KEY;
    expect(await cacheKey(base, scope)).toBe(fixed);
    for (const promptCacheKey of ['session-a', 'session-b', '', 'k'.repeat(64)]) {
      expect(await cacheKey({ ...base, promptCacheKey }, scope)).toBe(fixed);
    }
  });

  it('leaves the semantic namespace as it was', async () => {
    const embedder = 'use-lite';
    const material = namespaceMaterial(base, scope, embedder);
    expect(material).not.toContain('promptCacheKey');
    expect(namespaceMaterial({ ...base, promptCacheKey: 'session-a' }, scope, embedder)).toBe(material);
    expect(await semanticNamespace({ ...base, promptCacheKey: 'session-b' }, scope, embedder)).toBe(await semanticNamespace(base, scope, embedder));
  });

  it('an answer stored under one key is a hit for another key and for none', async () => {
    const cache = new ExactCache({ config: { enabled: true }, now: () => 1_000 });
    const answer = { text: '4', toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(5, 1), deployment: 'gpt-4o', model: 'gpt-4o', provider: 'openai' };
    expect(await cache.store({ ...base, promptCacheKey: 'session-a' }, scope, answer)).toBe(true);
    expect((await cache.lookup({ ...base, promptCacheKey: 'session-b' }, scope))?.text).toBe('4');
    expect((await cache.lookup(base, scope))?.text).toBe('4');
    // Still an exact cache: another question misses.
    expect(await cache.lookup({ ...base, messages: [base.messages[0]!, { role: 'user', content: 'What is 3+3?' }], promptCacheKey: 'session-a' }, scope)).toBeUndefined();
  });
});

import type { GenerateRequest } from '../spec/index.js';

/**
 * The request, scope and key of the exact-cache key's fixed vector (cache-key.test.ts): tests that check a field
 * leaves the key unchanged compare against the same vector, so they share one copy. The key is that of
 * `CACHE_KEY_VERSION` 2 (version 1's was `llmrr:exact:v1:acme:c7d9375b...bc658`): it changes only with a version
 * bump, never with a change that should leave existing keys alone.
 */
export const FIXED_VECTOR_SCOPE = { models: ['gpt-4o', 'claude'], tenant: 'acme' };
export const FIXED_VECTOR_REQUEST: GenerateRequest = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is 2+2?' },
  ],
  temperature: 0,
  maxTokens: 50,
  tools: [{ name: 'calc', description: 'math', parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } }],
  providerOptions: { openai: { logprobs: false, top_logprobs: 0 } },
};
export const FIXED_VECTOR_KEY = 'llmrr:exact:v2:acme:4f4722541653e8a8199d04da1ec017f9f1f37f3b8620eee6bafb90b4bf7ba87a';

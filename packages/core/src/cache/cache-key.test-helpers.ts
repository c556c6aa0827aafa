import type { GenerateRequest } from '../spec/index.js';

/**
 * The request and scope of the exact-cache key's fixed vector (cache-key.test.ts): tests that check a field leaves
 * the key unchanged compare against the same vector, so they share one copy.
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

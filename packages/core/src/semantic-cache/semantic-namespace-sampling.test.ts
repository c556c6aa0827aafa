import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../spec/index.js';
import { canonicalJson } from '../cache/canonical-json.js';
import { namespaceMaterial, SEMANTIC_NAMESPACE_VERSION } from './semantic-namespace.js';

// Every sampling and output setting decides the answer, so a paraphrase asked with other settings must not meet
// the entry: topK, the penalties, parallelToolCalls and verbosity were once left out of the namespace.

const scope = { models: ['m'] };
const base: GenerateRequest = { messages: [{ role: 'user', content: 'What is the capital of France?' }], temperature: 0 };

describe('semantic namespace: the settings that decide the answer', () => {
  it.each([
    ['topK', { topK: 1 }],
    ['frequencyPenalty', { frequencyPenalty: 0.5 }],
    ['presencePenalty', { presencePenalty: 0.5 }],
    ['parallelToolCalls', { parallelToolCalls: false }],
    ['verbosity', { verbosity: 'low' }],
    ['logprobs', { logprobs: {} }],
  ] as const)('%s gets a namespace of its own', (_, extra) => {
    expect(namespaceMaterial({ ...base, ...extra }, scope, 'e')).not.toBe(namespaceMaterial(base, scope, 'e'));
  });

  it('user, promptCacheKey and cacheControl do not; a request without the added fields hashes the material it always did', () => {
    const material = namespaceMaterial(base, scope, 'e');
    expect(namespaceMaterial({ ...base, user: 'u', promptCacheKey: 'k', cacheControl: { type: 'ephemeral' } }, scope, 'e')).toBe(material);
    expect(material).toBe(canonicalJson({ v: SEMANTIC_NAMESPACE_VERSION, namespace: 'llmrr', tenant: null, models: ['m'], embedder: 'e', request: { temperature: 0 }, context: [] }));
  });
});

import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../spec/index.js';
import { canonicalJson } from '../cache/canonical-json.js';
import { namespaceMaterial, semanticNamespace, SEMANTIC_NAMESPACE_VERSION } from './semantic-namespace.js';

// Prompt-cache breakpoints change the bill, never the answer: the semantic cache's namespace (the exact part of
// its match: context messages, their parts and tools) ignores `cacheControl` as the exact-cache key does, so a
// conversation that gains a breakpoint (e.g. a client marking the last turn, as Anthropic's guide recommends)
// still meets the semantic entries of the same conversation unmarked (found in review of c0d31e0).

const scope = { models: ['claude'], tenant: 'acme' };
const m5 = { type: 'ephemeral' } as const;

const plain: GenerateRequest = {
  messages: [
    { role: 'system', content: 'You answer questions about the attached contract.' },
    { role: 'user', content: [{ type: 'text', text: 'The contract text ...' }] },
    { role: 'assistant', content: 'Understood.' },
    { role: 'user', content: 'Who pays the fees?' },
  ],
  tools: [{ name: 'lookup', parameters: { type: 'object' } }],
};

const marked: GenerateRequest = {
  cacheControl: m5,
  messages: [
    { role: 'system', content: 'You answer questions about the attached contract.', cacheControl: m5 },
    { role: 'user', content: [{ type: 'text', text: 'The contract text ...', cacheControl: m5 }] },
    { role: 'assistant', content: 'Understood.', cacheControl: m5 },
    { role: 'user', content: 'Who pays the fees?' },
  ],
  tools: [{ name: 'lookup', parameters: { type: 'object' }, cacheControl: m5 }],
};

describe('breakpoints and the semantic cache', () => {
  it('gives a marked request the semantic namespace of the same request unmarked', async () => {
    expect(await semanticNamespace(marked, scope, 'emb')).toBe(await semanticNamespace(plain, scope, 'emb'));
  });

  it('leaves out a system message\'s parts (the client\'s marked blocks; its text is content)', async () => {
    const withParts: GenerateRequest = {
      ...plain,
      messages: [
        {
          role: 'system',
          content: 'You answer questions about the attached contract.',
          parts: [{ type: 'text', text: 'You answer questions ' }, { type: 'text', text: 'about the attached contract.', cacheControl: m5 }],
        },
        ...plain.messages.slice(1),
      ],
    };
    const before = structuredClone(withParts);
    expect(await semanticNamespace(withParts, scope, 'emb')).toBe(await semanticNamespace(plain, scope, 'emb'));
    expect(withParts).toEqual(before);
  });

  it('leaves the namespace of an unmarked request as it was (the same material, nothing stripped)', () => {
    const material = canonicalJson({
      v: SEMANTIC_NAMESPACE_VERSION,
      namespace: 'llmrr',
      tenant: 'acme',
      models: ['claude'],
      embedder: 'emb',
      request: { tools: plain.tools },
      context: plain.messages.slice(0, -1),
    });
    expect(namespaceMaterial(plain, scope, 'emb')).toBe(material);
  });

  it('still separates requests whose context or tools differ besides the marks', async () => {
    const otherContext: GenerateRequest = {
      ...marked,
      messages: marked.messages.map((m, i) => (i === 2 ? { role: 'assistant', content: 'Understood!', cacheControl: m5 } : m)),
    };
    const otherTools: GenerateRequest = { ...marked, tools: [{ name: 'search', parameters: { type: 'object' }, cacheControl: m5 }] };
    const base = await semanticNamespace(marked, scope, 'emb');
    expect(await semanticNamespace(otherContext, scope, 'emb')).not.toBe(base);
    expect(await semanticNamespace(otherTools, scope, 'emb')).not.toBe(base);
  });

  it('does not change the request it reads (the marks stay for the provider call)', () => {
    namespaceMaterial(marked, scope, 'emb');
    expect(marked.tools?.[0]?.cacheControl).toEqual(m5);
    expect(marked.messages[0]?.cacheControl).toEqual(m5);
    const part = marked.messages[1]?.content;
    expect(Array.isArray(part) && part[0]?.type === 'text' ? part[0].cacheControl : undefined).toEqual(m5);
  });
});

import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../spec/index.js';
import { cacheKey, cacheKeyPrefix } from './cache-key.js';
import { canonicalJson } from './canonical-json.js';
import { isCacheable } from './is-cacheable.js';
import { FIXED_VECTOR_KEY, FIXED_VECTOR_REQUEST, FIXED_VECTOR_SCOPE } from './cache-key.test-helpers.js';

const scope = FIXED_VECTOR_SCOPE;
const base: GenerateRequest = FIXED_VECTOR_REQUEST;

describe('canonicalJson', () => {
  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: 2 } })).toBe('{"a":{"c":2,"d":[3,1]},"b":1}');
  });

  it('drops undefined members like JSON.stringify, keeps __proto__ as data', () => {
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1}}');
  });

  it('refuses circular structures', () => {
    const o: Record<string, unknown> = {};
    o['self'] = o;
    expect(() => canonicalJson(o)).toThrow(/circular/);
  });
});

describe('cacheKey', () => {
  it('is a SHA-256 hex under the tenant prefix', async () => {
    const key = await cacheKey(base, scope);
    expect(key.startsWith(cacheKeyPrefix(scope))).toBe(true);
    expect(key.slice(cacheKeyPrefix(scope).length)).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKeyPrefix(scope)).toBe('llmrr:exact:v2:acme:');
  });

  it('is stable and ignores object key order at any depth', async () => {
    const reordered: GenerateRequest = {
      providerOptions: { openai: { top_logprobs: 0, logprobs: false } },
      tools: [{ parameters: { properties: { b: { type: 'number' }, a: { type: 'number' } }, type: 'object' }, description: 'math', name: 'calc' }],
      maxTokens: 50,
      temperature: 0,
      messages: [
        { content: 'Be brief.', role: 'system' },
        { content: 'What is 2+2?', role: 'user' },
      ],
    };
    expect(await cacheKey(reordered, scope)).toBe(await cacheKey(base, scope));
    expect(await cacheKey(base, scope)).toBe(await cacheKey(structuredClone(base), { ...scope }));
  });

  it('ignores the order and duplicates of the model set', async () => {
    expect(await cacheKey(base, { tenant: 'acme', models: ['claude', 'gpt-4o', 'claude'] })).toBe(await cacheKey(base, scope));
  });

  it('separates tenants, namespaces and model sets', async () => {
    const k = await cacheKey(base, scope);
    expect(await cacheKey(base, { ...scope, tenant: 'globex' })).not.toBe(k);
    expect(await cacheKey(base, { models: scope.models })).not.toBe(k);
    expect(await cacheKey(base, { ...scope, namespace: 'staging' })).not.toBe(k);
    expect(await cacheKey(base, { ...scope, models: ['gpt-4o'] })).not.toBe(k);
  });

  it('encodes the tenant so prefixes of different tenants never overlap', () => {
    expect(cacheKeyPrefix({ tenant: 'a:b' })).toBe('llmrr:exact:v2:a%3Ab:');
    expect(cacheKeyPrefix({ tenant: 'a' }).startsWith(cacheKeyPrefix({ tenant: 'ab' }))).toBe(false);
    expect(cacheKeyPrefix({})).toBe('llmrr:exact:v2::');
  });

  it('changes with every answer-deciding field', async () => {
    const k = await cacheKey(base, scope);
    const variants: GenerateRequest[] = [
      { ...base, messages: [base.messages[0]!, { role: 'user', content: 'What is 2+2? ' }] }, // whitespace matters
      { ...base, messages: [base.messages[0]!, { role: 'user', content: 'what is 2+2?' }] },
      { ...base, messages: [...base.messages].reverse() },
      { ...base, temperature: 0.0001 },
      { ...base, maxTokens: 51 },
      { ...base, topP: 0.9 },
      { ...base, topK: 40 },
      { ...base, stop: ['\n'] },
      { ...base, frequencyPenalty: 0.5 },
      { ...base, presencePenalty: 0.5 },
      { ...base, parallelToolCalls: false },
      { ...base, verbosity: 'low' },
      { ...base, logprobs: {} },
      { ...base, logprobs: { topLogprobs: 2 } },
      { ...base, seed: 7 },
      { ...base, toolChoice: 'required' },
      { ...base, responseFormat: { type: 'json_object' } },
      { ...base, tools: [] },
      { ...base, providerOptions: { openai: { logprobs: true, top_logprobs: 0 } } },
    ];
    const keys = await Promise.all(variants.map((v) => cacheKey(v, scope)));
    for (const key of keys) expect(key).not.toBe(k);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('ignores the end-user id', async () => {
    expect(await cacheKey({ ...base, user: 'u-1' }, scope)).toBe(await cacheKey(base, scope));
  });
});

describe('cacheKey and prompt-cache breakpoints', () => {
  const rich: GenerateRequest = {
    messages: [
      { role: 'system', content: 'S' },
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', url: 'https://x/y.png' }] },
      { role: 'assistant', content: null, toolCalls: [{ id: 't1', name: 'calc', arguments: '{}' }] },
      { role: 'tool', toolCallId: 't1', content: '4' },
    ],
  };

  // Fixed vectors of key version 2 (version 1's held since before breakpoints existed): they change only with a bump.
  it('keeps the keys of requests without cacheControl exactly (fixed vectors)', async () => {
    expect(await cacheKey(base, scope)).toBe(FIXED_VECTOR_KEY);
    expect(await cacheKey(rich, { models: ['m'] })).toBe('llmrr:exact:v2::17abe001a122b2429532469e00fc1f907ee9213558c8b179cdb6615fc06d01be');
  });

  it('gives the same key whatever the breakpoints: request, messages, parts, tools', async () => {
    const m1h = { type: 'ephemeral', ttl: '1h' } as const;
    const m5 = { type: 'ephemeral' } as const;
    const marked: GenerateRequest = {
      ...rich,
      cacheControl: m5,
      messages: [
        { role: 'system', content: 'S', cacheControl: m1h },
        { role: 'user', content: [{ type: 'text', text: 'look', cacheControl: m5 }, { type: 'image', url: 'https://x/y.png', cacheControl: m1h }], cacheControl: m5 },
        { role: 'assistant', content: null, toolCalls: [{ id: 't1', name: 'calc', arguments: '{}' }], cacheControl: m5 },
        { role: 'tool', toolCallId: 't1', content: '4', cacheControl: m1h },
      ],
      tools: [{ name: 'calc', parameters: { type: 'object' }, cacheControl: m5 }],
    };
    const unmarkedTools: GenerateRequest = { ...rich, tools: [{ name: 'calc', parameters: { type: 'object' } }] };
    expect(await cacheKey(marked, scope)).toBe(await cacheKey(unmarkedTools, scope));
    expect(await cacheKey({ ...base, cacheControl: m1h }, scope)).toBe(await cacheKey(base, scope));
    // Only one part marked: still the same key; the request given is not modified.
    const onePart: GenerateRequest = { messages: [{ role: 'user', content: [{ type: 'text', text: 'look', cacheControl: m5 }] }] };
    const before = structuredClone(onePart);
    expect(await cacheKey(onePart, scope)).toBe(await cacheKey({ messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }] }] }, scope));
    expect(onePart).toEqual(before);
  });

  it('leaves out a system message\'s parts (its text is content): marked parts share the unmarked key', async () => {
    const m5 = { type: 'ephemeral' } as const;
    const joined = 'Header\nIdentity\nLong prompt';
    const plain: GenerateRequest = { messages: [{ role: 'system', content: joined }, { role: 'user', content: 'q' }] };
    const withParts: GenerateRequest = {
      messages: [
        { role: 'system', content: joined, parts: [{ type: 'text', text: 'Header' }, { type: 'text', text: 'Identity', cacheControl: m5 }, { type: 'text', text: 'Long prompt', cacheControl: m5 }] },
        { role: 'user', content: 'q' },
      ],
    };
    const before = structuredClone(withParts);
    expect(await cacheKey(withParts, scope)).toBe(await cacheKey(plain, scope));
    expect(withParts).toEqual(before);
    // The text is content: another content is another key, whatever the parts say.
    const other: GenerateRequest = { messages: [{ role: 'system', content: 'Header\n\nIdentity\nLong prompt', parts: withParts.messages[0]!.role === 'system' ? withParts.messages[0]!.parts! : [] }, { role: 'user', content: 'q' }] };
    expect(await cacheKey(other, scope)).not.toBe(await cacheKey(plain, scope));
  });

  it('still tells apart requests that differ in anything else', async () => {
    const a: GenerateRequest = { messages: [{ role: 'user', content: 'Hi', cacheControl: { type: 'ephemeral' } }] };
    const b: GenerateRequest = { messages: [{ role: 'user', content: 'Hi!', cacheControl: { type: 'ephemeral' } }] };
    expect(await cacheKey(a, scope)).not.toBe(await cacheKey(b, scope));
  });
});

describe('isCacheable', () => {
  const strict = { allowNonZeroTemperature: false };
  const loose = { allowNonZeroTemperature: true };
  it('caches temperature 0 and requests without temperature', () => {
    expect(isCacheable({ messages: [] }, strict)).toBe(true);
    expect(isCacheable({ messages: [], temperature: 0 }, strict)).toBe(true);
  });
  it('caches temperature > 0 only when allowed', () => {
    expect(isCacheable({ messages: [], temperature: 0.7 }, strict)).toBe(false);
    expect(isCacheable({ messages: [], temperature: 0.7 }, loose)).toBe(true);
  });
});

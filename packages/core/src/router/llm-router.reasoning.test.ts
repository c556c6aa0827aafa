/**
 * `reasoning` through `LLMRouter`: given on the request or next to the routing options it reaches the engine;
 * a bad value is refused before any engine call; the exact and semantic caches keep answers of different
 * efforts apart (the field is part of the exact key and of the semantic namespace).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cacheKey } from '../cache/cache-key.js';
import type { RouterConfigInput } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import { namespaceMaterial } from '../semantic-cache/semantic-namespace.js';
import type { GenerateRequest } from '../spec/index.js';
import { mockChatRouter } from '../test/mock-chat-router.test-helpers.js';
import { LLMRouter } from './llm-router.js';

const routers: LLMRouter[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

const setup = (cache: RouterConfigInput['cache'] = undefined) => mockChatRouter(routers, cache);

describe('LLMRouter: reasoning', () => {
  it('reaches the engine from the request or from the options (options win), in generate and stream', async () => {
    const { router } = setup();
    const a = await router.generate({ messages: [{ role: 'user', content: 'hi' }], reasoning: { effort: 'high' } });
    expect(a.reasoning).toBe('Mock reasoning at effort high.');
    const b = await router.generate({ messages: [{ role: 'user', content: 'hi' }], reasoning: { effort: 'high' } }, { reasoning: { budgetTokens: 3000 } });
    expect(b.reasoning).toBe('Mock reasoning within 3000 tokens.');
    let streamed = '';
    for await (const p of router.stream('hi', { reasoning: { effort: 'low' } })) if (p.type === 'reasoning-delta') streamed += p.delta;
    expect(streamed).toBe('Mock reasoning at effort low.');
  });

  it('refuses a bad value naming the field, before any engine call', async () => {
    const { router, engine } = setup();
    const e = await router.generate('hi', { reasoning: { effort: 'ultra' } as never }).catch((x: unknown) => x);
    expect(LLMError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ code: 'invalid_request', param: 'reasoning.effort' });
    const f = await router.generate('hi', { reasoning: { budgetTokens: -1 } }).catch((x: unknown) => x);
    expect(f).toMatchObject({ code: 'invalid_request', param: 'reasoning.budgetTokens' });
    expect(engine.calls).toBe(0);
  });

  it('the exact cache answers the same effort again, and never across efforts', async () => {
    const { router, engine } = setup({ exact: { enabled: true } });
    const q = 'What is 2+2?';
    expect((await router.generate(q, { reasoning: { effort: 'low' } })).cached).toBe(false);
    expect((await router.generate(q, { reasoning: { effort: 'low' } })).cached).toBe('exact');
    const high = await router.generate(q, { reasoning: { effort: 'high' } });
    expect(high.cached).toBe(false);
    expect(high.reasoning).toBe('Mock reasoning at effort high.');
    expect((await router.generate(q)).cached).toBe(false);
    expect(engine.calls).toBe(3);
  });

  it('the semantic cache keeps efforts apart too', async () => {
    const { router, engine } = setup({ semantic: { enabled: true, embedder: 'emb', threshold: 0.9, guardAbove: 0.9 } });
    await router.generate('What is the capital of France?', { reasoning: { effort: 'low' } });
    expect((await router.generate('what is the capital of france', { reasoning: { effort: 'low' } })).cached).toBe('semantic');
    expect((await router.generate('what is the capital of france', { reasoning: { effort: 'max' } })).cached).toBe(false);
    expect(engine.calls).toBe(2);
  });
});

describe('cache key fields', () => {
  const scope = { models: ['chat'] };
  const base: GenerateRequest = { messages: [{ role: 'user', content: 'What is 2+2?' }] };

  it('the exact key differs by effort and by budget, and is unchanged for requests without reasoning', async () => {
    const keys = await Promise.all([
      cacheKey(base, scope),
      cacheKey({ ...base, reasoning: { effort: 'low' } }, scope),
      cacheKey({ ...base, reasoning: { effort: 'high' } }, scope),
      cacheKey({ ...base, reasoning: { budgetTokens: 1024 } }, scope),
    ]);
    expect(new Set(keys).size).toBe(4);
    expect(await cacheKey({ ...base, reasoning: undefined }, scope)).toBe(keys[0]);
    expect(await cacheKey({ ...base, reasoning: { effort: 'low' } }, scope)).toBe(keys[1]);
  });

  it('the semantic namespace material holds the reasoning', () => {
    const low = namespaceMaterial({ ...base, reasoning: { effort: 'low' } }, scope, 'emb');
    const high = namespaceMaterial({ ...base, reasoning: { effort: 'high' } }, scope, 'emb');
    expect(low).not.toBe(high);
    expect(low).toContain('"reasoning":{"effort":"low"}');
  });
});

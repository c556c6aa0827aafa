import { describe, expect, it } from 'vitest';
import { MockEngine } from '../engines/mock/mock-engine.js';
import type { LLMError } from '../errors/llm-error.js';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { BagOfWordsEmbedder } from './__fixtures__/bag-of-words-embedder.js';
import { SemanticCache } from './semantic-cache.js';
import { SemanticCacheHook } from './semantic-cache-hook.js';

const scope = { models: ['a'], tenant: 't1' };
const ask = (content: string, user?: string): GenerateRequest => ({ messages: [{ role: 'user', content }], ...(user ? { user } : {}) });
const answer = (text: string) => ({ text, toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(3, 1), deployment: 'a', model: 'mock', provider: 'mock' });

describe('SemanticCacheHook (what the router calls)', () => {
  it('does nothing when disabled or absent', async () => {
    const hook = new SemanticCacheHook(undefined);
    expect(hook.enabled).toBe(false);
    expect(await hook.store(ask('q'), scope, answer('x'))).toBe(false);
    expect(await hook.lookup(ask('q'), scope)).toBeUndefined();
    expect(await new SemanticCacheHook({ enabled: false }).cache()).toBeUndefined();
  });

  it('builds from config with a deployment as embedder, and records the end user for erasure', async () => {
    const engine = new MockEngine();
    const asked: string[] = [];
    const hook = new SemanticCacheHook(
      { enabled: true, embedder: 'emb', threshold: 0.9, guardAbove: 0.9 },
      { engineFor: (name) => (asked.push(name), name === 'emb' ? engine : undefined) },
    );
    expect(await hook.store(ask('what is the tallest mountain', 'u7'), scope, answer('Everest'))).toBe(true);
    expect(asked).toEqual(['emb']);
    expect((await hook.lookup(ask('what is the tallest mountain'), scope))?.answer.text).toBe('Everest');
    expect(await hook.lookup(ask('what is the tallest mountain'), { ...scope, tenant: 't2' })).toBeUndefined();
    const cache = (await hook.cache())!;
    expect(cache.embedder.id).toBe('deployment:emb');
    expect(await cache.eraseUser('t1', 'u7')).toBe(1);
    await hook.close();
  });

  it('reports a cache that cannot be built and keeps missing, never throwing', async () => {
    const errors: LLMError[] = [];
    const hook = new SemanticCacheHook({ enabled: true, embedder: 'missing' }, { onError: (e) => errors.push(e) });
    expect(await hook.lookup(ask('q'), scope)).toBeUndefined();
    expect(await hook.store(ask('q'), scope, answer('x'))).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'config_invalid', param: 'cache.semantic.embedder' });
  });

  it('reports a failing store as a miss', async () => {
    const errors: LLMError[] = [];
    const cache = new SemanticCache({ config: { enabled: true }, embedder: new BagOfWordsEmbedder() });
    cache.backend.search = () => Promise.reject(new Error('disk on fire'));
    const hook = new SemanticCacheHook({ enabled: true }, { cache, onError: (e) => errors.push(e) });
    expect(await hook.lookup(ask('q'), scope)).toBeUndefined();
    expect(errors[0]?.message).toContain('disk on fire');
  });

  it('guard verify calls guardModel through generateWith', async () => {
    const calls: string[] = [];
    const engine = new MockEngine();
    const hook = new SemanticCacheHook(
      { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'verify', guardModel: 'cheap' },
      {
        engineFor: () => engine,
        generateWith: async (deployment, request) => {
          calls.push(`${deployment}:${request.maxTokens}`);
          return { text: 'YES' };
        },
      },
    );
    await hook.store(ask('how tall is mount everest'), scope, answer('8,849 m'));
    const hit = await hook.lookup(ask('how tall is mount everest today'), scope);
    expect(hit).toMatchObject({ guarded: 'verified', answer: { text: '8,849 m' } });
    expect(calls).toEqual(['cheap:3']);
  });
});

/**
 * A guard call's reported tokens are cleaned where they enter the semantic cache (`guardUsage` on a hit, on a
 * lookup's `spent`): each count a non-negative integer, anything else (negative, NaN, infinite, not a number) 0, so
 * a consumer that sums several guard calls' tokens (a cascade's two steps) sums counts. The rule of which requests a
 * semantic cache looks up, `semanticLookupEligible`, is the one `lookup` applies (a consumer bounding a guard call
 * before the call, the gateway's admission, reads it).
 */
import { describe, expect, it } from 'vitest';
import { makeUsage, type GenerateRequest, type Usage } from '../spec/index.js';
import type { Cost } from '../router/types.js';
import { BagOfWordsEmbedder } from './__fixtures__/bag-of-words-embedder.js';
import { SemanticCache, semanticLookupEligible, type SemanticLookupDetails, type SemanticLookupSpend } from './semantic-cache.js';

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature: 0 });
const COST: Cost = { inputUsd: 0.001, outputUsd: 0, totalUsd: 0.001, estimated: false };
const answer = { text: 'It is sunny.', toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(12, 9), deployment: 'm1', model: 'mock-1', provider: 'mock' };

async function guardedBy(ok: boolean, usage: unknown): Promise<{ hit: Usage | undefined; spent: Usage | undefined }> {
  const cache = new SemanticCache({
    config: { enabled: true, threshold: 0.8, guardAbove: 0.95, guard: 'verify' },
    embedder: new BagOfWordsEmbedder(),
    guard: { verify: async () => ({ ok, cost: COST, usage: usage as Usage }) },
  });
  await cache.store(ask('what is the weather in paris today'), scope, answer);
  const details: SemanticLookupDetails = {};
  const spent: SemanticLookupSpend = {};
  // 6 of 7 words shared: cosine 0.857, in the guard band [0.8, 0.95).
  const hit = await cache.lookup(ask('what is the weather in paris now'), scope, { details, spent });
  expect(details.outcome).toBe('guard-band');
  return { hit: hit?.guardUsage, spent: spent.guardUsage };
}

describe('SemanticCache: a guard call\u2019s tokens', () => {
  it('odd counts are 0 and fractional ones rounded, on a verified hit and on a miss the guard made', async () => {
    const odd = { inputTokens: -1000, outputTokens: Number.NaN, totalTokens: -999, cachedInputTokens: Infinity, reasoningTokens: 2.4 };
    const clean = { inputTokens: 0, outputTokens: 0, totalTokens: 0, cachedInputTokens: 0, reasoningTokens: 2 };
    expect(await guardedBy(true, odd)).toEqual({ hit: clean, spent: undefined });
    expect(await guardedBy(false, odd)).toEqual({ hit: undefined, spent: clean });
    expect(await guardedBy(false, { inputTokens: 450, outputTokens: 1, totalTokens: 0 })).toEqual({ hit: undefined, spent: { inputTokens: 450, outputTokens: 1, totalTokens: 451 } });
    expect(await guardedBy(false, 'lots')).toEqual({ hit: undefined, spent: undefined });
  });
});

describe('semanticLookupEligible', () => {
  const config = { enabled: true, optOutTenants: ['beta'] };
  it('looks up a cacheable request of a tenant not opted out, with the cache enabled', () => {
    expect(semanticLookupEligible(ask('hi'), config, 'acme')).toBe(true);
    expect(semanticLookupEligible(ask('hi'), config, undefined)).toBe(true);
    expect(semanticLookupEligible(ask('hi'), { ...config, enabled: false }, 'acme')).toBe(false);
    expect(semanticLookupEligible(ask('hi'), config, 'beta')).toBe(false);
    expect(semanticLookupEligible({ ...ask('hi'), logprobs: {} }, config, 'acme')).toBe(false);
    expect(semanticLookupEligible({ ...ask('hi'), temperature: 0.7 }, config, 'acme')).toBe(false);
    expect(semanticLookupEligible({ ...ask('hi'), temperature: 0.7 }, { ...config, allowNonZeroTemperature: true }, 'acme')).toBe(true);
  });

  it('is the rule lookup applies: a lookup it leaves out is bypassed', async () => {
    const cache = new SemanticCache({ config: { enabled: true, threshold: 0.8, optOutTenants: ['beta'] }, embedder: new BagOfWordsEmbedder() });
    for (const [request, tenant] of [
      [ask('what is the weather in paris today'), 'beta'],
      [{ ...ask('what is the weather in paris today'), temperature: 0.7 }, 'acme'],
    ] as const) {
      const details: SemanticLookupDetails = {};
      await cache.lookup(request, { ...scope, tenant }, { details });
      expect({ outcome: details.outcome, eligible: semanticLookupEligible(request, cache.config, tenant) }).toEqual({ outcome: 'bypassed', eligible: false });
    }
  });
});

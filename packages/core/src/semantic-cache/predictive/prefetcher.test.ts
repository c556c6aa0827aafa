/**
 * The public `Prefetcher` checks whether a predicted question is already cached with `SemanticCache.probe`,
 * not the live lookup: no guard call (`verify`/`adapt` call a model: paid, outside the prefetch budget, even
 * when the router is busy), no hit counted in the cache's stats. A match in the guard band counts as not cached.
 */
import { describe, expect, it } from 'vitest';
import { makeUsage, type GenerateRequest } from '../../spec/index.js';
import { BagOfWordsEmbedder } from '../__fixtures__/bag-of-words-embedder.js';
import { SemanticCache } from '../semantic-cache.js';
import { Prefetcher } from './prefetcher.js';
import { SequenceModel } from './sequence-model.js';

const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }] });
const scope = { tenant: 'acme', models: ['m'] };
const answer = (text: string) => ({ text, toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(3, 1), deployment: 'm', model: 'm', provider: 'mock' });

describe('Prefetcher and a guarded semantic cache', () => {
  it('with a prefetch budget of 0 calls and no idle capacity, makes no model calls (the guard model included) and serves no hits', async () => {
    let t = 1_000;
    let guardCalls = 0;
    const cache = new SemanticCache({
      config: { enabled: true, threshold: 0.5, guardAbove: 0.999, guard: 'verify', ttlMs: 3_600_000 },
      embedder: new BagOfWordsEmbedder(),
      guard: {
        verify: async () => {
          guardCalls++; // a call of guardModel: paid
          return true;
        },
      },
      now: () => t,
    });
    // A live user's answer, cached earlier.
    await cache.store(ask('please change the billing address'), scope, answer('Settings > Billing'));
    const generated: string[] = [];
    const prefetcher = new Prefetcher({
      model: new SequenceModel({ now: () => t }),
      cache,
      generate: async (request) => {
        generated.push(String(request.messages.at(-1)?.content));
        return answer('prefetched');
      },
      isIdle: () => false, // the router is busy: no prefetch work now
      budget: { maxCalls: 0, windowMs: 3_600_000 }, // and none allowed at all
      predictions: { minSupport: 2, minProbability: 0.5 },
      now: () => t,
    });
    const live = async (q: string, user: string) => {
      t += 1_000;
      const [v] = await cache.embedder.embed([q]);
      await prefetcher.onRequest({ ...ask(q), user }, scope, v!, user);
      await prefetcher.idle();
    };
    for (const user of ['u1', 'u2']) {
      await live('open the account settings', user);
      await live('change the billing address', user);
    }
    const hitsBefore = cache.stats.hits;
    await live('open the account settings', 'u3'); // predicts "change the billing address"
    expect(generated).toEqual([]);
    expect({ guardModelCalls: guardCalls, hitsCounted: cache.stats.hits - hitsBefore }).toEqual({ guardModelCalls: 0, hitsCounted: 0 });
      // The guard-band match counts as not cached: the prediction waits in the queue (busy router, no budget).
    expect(prefetcher.stats).toMatchObject({ queued: 1, alreadyCached: 0 });
  });

  it('probe: a match the lookup would serve without the guard is cached; a guard-band one is not; nothing is counted', async () => {
    let guardCalls = 0;
    const cache = new SemanticCache({
      config: { enabled: true, threshold: 0.5, guardAbove: 0.999, guard: 'verify' },
      embedder: new BagOfWordsEmbedder(),
      guard: { verify: async () => (guardCalls++, true) },
    });
    await cache.store(ask('please change the billing address'), scope, answer('Settings > Billing'));
    const before = cache.stats;
    expect(await cache.probe(ask('please change the billing address'), scope)).toBe(true);
    expect(await cache.probe(ask('change the billing address'), scope)).toBe(false); // guard band
    expect(await cache.probe(ask('open the account settings'), scope)).toBe(false); // below the threshold
    expect(await cache.probe(ask('please change the billing address'), { ...scope, tenant: 'other' })).toBe(false);
    expect({ guardCalls, stats: cache.stats }).toEqual({ guardCalls: 0, stats: before });
  });
});

// A question the cache's embedder does not tell from others (local-use on Chinese text: one vector for all) joined one
// cluster with every such question, and predictions were made from it.
describe('Prefetcher and questions its cache skips', () => {
  it('learns nothing from a question the embedder does not cover, and does not take the next one as following the one before', async () => {
    let t = 1_000;
    // Bag of words, with a coverage that reports text without a Latin letter as not covered.
    const embedder = Object.assign(new BagOfWordsEmbedder(), { coverage: (text: string) => ({ characters: 4, covered: /[a-z]/.test(text) ? 4 : 0, unknown: [] }) });
    const cache = new SemanticCache({ config: { enabled: true, threshold: 0.5, ttlMs: 3_600_000 }, embedder, now: () => t });
    const model = new SequenceModel({ now: () => t });
    const prefetcher = new Prefetcher({
      model,
      cache,
      generate: async () => answer('prefetched'),
      isIdle: () => false,
      budget: { maxCalls: 10, windowMs: 3_600_000 },
      predictions: { minSupport: 2, minProbability: 0.5 },
      now: () => t,
    });
    const live = async (q: string, user: string) => {
      t += 1_000;
      const [v] = await cache.embedder.embed([q]);
      await prefetcher.onRequest({ ...ask(q), user }, scope, v!, user);
    };
    for (const user of ['u1', 'u2']) {
      await live('\u4f60\u597d\u5417', user);
      await live('\u4eca\u5929\u5929\u6c14\u600e\u4e48\u6837', user);
      await live('open the account settings', user);
      await live('\u518d\u89c1', user);
      await live('change the billing address', user);
    }
    expect(model.exemplarBytes('acme').transitions).toBe(0);
    await live('open the account settings', 'u3');
    expect(prefetcher.stats.queued).toBe(0);
  });
});

/**
 * What a semantic guard may serve besides a YES or a rewritten text. An `adapt` rewrite is served only when the
 * guard call ended with `stop` and said something: a content-filtered (empty) or length-cut rewrite is a guard miss
 * (the main model answers), never an empty or truncated answer labelled complete. Only the text is rewritten, so an
 * answer with tool calls (whose arguments belong to the old question) or with signed reasoning blocks is never
 * adapted, and no guard call is paid for it; `verify` sees only the answer's text, so it does not judge an answer
 * with tool calls either. A rewrite drops the old answer's reasoning text and stop sequence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedAnswer } from '../cache/cached-answer.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import { LLMRouter } from '../router/llm-router.js';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { startOpenAIWireServer, type OpenAIWireScript, type OpenAIWireServer } from '../test/openai-wire-server.js';
import { BagOfWordsEmbedder } from './__fixtures__/bag-of-words-embedder.js';
import { SemanticCache, type SemanticGuard, type SemanticLookupSpend } from './semantic-cache.js';

let guardUpstream: OpenAIWireServer;
beforeAll(async () => {
  guardUpstream = await startOpenAIWireServer();
});
afterAll(() => guardUpstream?.close());

function router() {
  return new LLMRouter(
    {
      models: [
        { name: 'main', engine: 'mock', capabilities: ['chat'], price: { input: 5, output: 15 }, options: { reply: 'Mount Everest is 8,849 m tall.' } },
        { name: 'cheap', engine: 'openai-compatible', baseURL: guardUpstream.baseURL, model: 'guard-test', apiKey: 'k', capabilities: ['chat'], price: { input: 1, output: 2 } },
        { name: 'emb', engine: 'mock', capabilities: ['embeddings'] },
      ],
      routing: { strategy: 'priority', retries: { max: 0 } },
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'adapt', guardModel: 'cheap' } },
    },
    { env: {}, engines: { emb: new MockEngine({ modelId: 'mock-embed' }) } },
  );
}

/**
 * With the guard model answering `script`: a new router asks a question, then a near one (a guard-band match the
 * guard is asked about). The two results, and how many guard calls they made.
 */
async function askTwiceThroughGuard(script: OpenAIWireScript) {
  guardUpstream.setScript(script);
  const before = guardUpstream.requests.length;
  const r = router();
  try {
    const first = await r.generate('how tall is mount everest', { model: 'main', tenant: 'acme' });
    const second = await r.generate('how tall is mount everest today', { model: 'main', tenant: 'acme' });
    return { first, second, guardCalls: guardUpstream.requests.length - before };
  } finally {
    await r.close();
  }
}

/** What a caller sees of an answer: cached or not, its text, how it finished. */
const answerOf = (r: { cached: unknown; text: string; finishReason: unknown }) => ({ cached: r.cached, text: r.text, finishReason: r.finishReason });
/** The main model's own answer (a miss), not a rewritten cached one. */
const MAIN_ANSWER = { cached: false, text: 'Mount Everest is 8,849 m tall.', finishReason: 'stop' };

describe('semantic adapt guard through the router: how the guard call ended', () => {
  it('a content-filtered guard rewrite (empty text) is a miss: the main model answers', async () => {
    const { first, second, guardCalls } = await askTwiceThroughGuard({ text: '', finishReason: 'content_filter' });
    expect(first.cached).toBe(false);
    expect(guardCalls, 'the guard was called').toBe(1);
    expect(answerOf(second)).toEqual(MAIN_ANSWER);
  });

  it('a guard rewrite cut at its output cap (finish_reason length) is a miss, not a complete answer', async () => {
    const { second, guardCalls } = await askTwiceThroughGuard({ text: 'Mount Everest is', finishReason: 'length' });
    expect(guardCalls, 'the guard was called').toBe(1);
    expect(answerOf(second)).toEqual(MAIN_ANSWER);
  });

  it('a complete rewrite (stop) is still served as an adapted hit', async () => {
    const { second } = await askTwiceThroughGuard({ text: 'Mount Everest is 8,849 m tall today.' });
    expect(answerOf(second)).toEqual({
      cached: 'semantic',
      text: 'Mount Everest is 8,849 m tall today.',
      finishReason: 'stop',
    });
  });

  for (const guard of ['adapt', 'verify'] as const) {
    it(`guard ${guard}: an answer with tool calls is a guard miss without a guard call (its arguments are the old question's)`, async () => {
      const mainUpstream = await startOpenAIWireServer({
        script: { text: 'Let me look up the weather in Paris.', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
      });
      // Would rewrite the text for the new question (adapt) or accept the answer (verify), if asked.
      guardUpstream.setScript({ text: guard === 'adapt' ? 'Let me look up the weather in Lyon.' : 'YES' });
      const before = guardUpstream.requests.length;
      const r = new LLMRouter(
        {
          models: [
            { name: 'main', engine: 'openai-compatible', baseURL: mainUpstream.baseURL, model: 'main-test', apiKey: 'k', capabilities: ['chat', 'tools'], price: { input: 5, output: 15 } },
            { name: 'cheap', engine: 'openai-compatible', baseURL: guardUpstream.baseURL, model: 'guard-test', apiKey: 'k', capabilities: ['chat'], price: { input: 1, output: 2 } },
            { name: 'emb', engine: 'mock', capabilities: ['embeddings'] },
          ],
          routing: { strategy: 'priority', retries: { max: 0 } },
          cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard, guardModel: 'cheap' } },
        },
        { env: {}, engines: { emb: new MockEngine({ modelId: 'mock-embed' }) } },
      );
      const tools = [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
      try {
        const first = await r.generate({ messages: [{ role: 'user', content: 'what is the weather in paris' }], tools }, { model: 'main', tenant: 'acme' });
        expect(first.toolCalls.map((c) => c.arguments)).toEqual(['{"city":"Paris"}']);
        const second = await r.generate({ messages: [{ role: 'user', content: 'what is the weather in lyon' }], tools }, { model: 'main', tenant: 'acme' });
        expect(second.cached, 'answered by the main model').toBe(false);
        expect(mainUpstream.requests).toHaveLength(2);
        expect(guardUpstream.requests.length - before, 'no guard call was paid for').toBe(0);
      } finally {
        await r.close();
        await mainUpstream.close();
      }
    });
  }
});

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature: 0 });
const Q = 'what is the capital city of france';
const CLOSE = 'what is the capital city of spain'; // cosine 6/7 with Q (bag of words): in the guard band below 0.95

function answer(over: Partial<CachedAnswer> = {}): Omit<CachedAnswer, 'createdAt'> {
  return { text: 'Paris.', toolCalls: [], finishReason: 'stop', usage: makeUsage(7, 2), deployment: 'm1', model: 'mock-1', provider: 'mock', ...over };
}

function adaptCache(adapt: NonNullable<SemanticGuard['adapt']>) {
  const calls: string[] = [];
  const cache = new SemanticCache({
    config: { enabled: true, threshold: 0.8, guardAbove: 0.95, guard: 'adapt' },
    embedder: new BagOfWordsEmbedder(),
    guard: {
      adapt: async (input) => {
        calls.push(input.question);
        return adapt(input);
      },
    },
  });
  return { cache, calls };
}

describe('SemanticCache adapt guard', () => {
  it('an empty rewrite from a custom guard (a plain string) is a guard miss', async () => {
    const { cache, calls } = adaptCache(async () => '  ');
    await cache.store(ask(Q), scope, answer());
    expect(await cache.lookup(ask(CLOSE), scope)).toBeUndefined();
    expect(calls).toEqual([CLOSE]);
    expect(cache.stats).toMatchObject({ adapted: 0, guardMisses: 1 });
  });

  it('a rewrite whose finishReason is not stop is a guard miss; its cost is not put on a hit but reported as spent', async () => {
    const cost = { inputUsd: 0.001, outputUsd: 0.002, totalUsd: 0.003, estimated: false };
    const { cache } = adaptCache(async () => ({ text: 'Madrid', cost, finishReason: 'length' }));
    await cache.store(ask(Q), scope, answer());
    const spent: SemanticLookupSpend = {};
    expect(await cache.lookup(ask(CLOSE), scope, { spent })).toBeUndefined();
    expect(cache.stats).toMatchObject({ adapted: 0, guardMisses: 1, misses: 1 });
    // The caller pays the guard call on top of the answer it now fetches.
    expect(spent).toEqual({ guardCost: cost });
  });

  it('a served rewrite leaves spent untouched (its cost is the hit\u2019s guardCost); so does a guard that throws', async () => {
    const cost = { inputUsd: 0.001, outputUsd: 0.002, totalUsd: 0.003, estimated: false };
    const { cache } = adaptCache(async () => ({ text: 'Madrid.', cost, finishReason: 'stop' }));
    await cache.store(ask(Q), scope, answer());
    const spent: SemanticLookupSpend = {};
    expect((await cache.lookup(ask(CLOSE), scope, { spent }))?.guardCost).toEqual(cost);
    expect(spent).toEqual({});
    const failing = adaptCache(async () => {
      throw new Error('guard down');
    });
    await failing.cache.store(ask(Q), scope, answer());
    const none: SemanticLookupSpend = {};
    expect(await failing.cache.lookup(ask(CLOSE), scope, { spent: none })).toBeUndefined();
    expect(none).toEqual({});
  });

  for (const totalUsd of [-0.003, Number.NaN, Number.POSITIVE_INFINITY, 1e308]) {
    it(`a guard reporting a cost of ${totalUsd} USD (no amount a ledger records) fails its check: a miss, nothing reported as spent`, async () => {
      const cost = { inputUsd: 0, outputUsd: 0, totalUsd, estimated: false };
      const { cache } = adaptCache(async () => ({ text: 'Madrid.', cost, finishReason: 'stop' }));
      await cache.store(ask(Q), scope, answer());
      const spent: SemanticLookupSpend = {};
      expect(await cache.lookup(ask(CLOSE), scope, { spent })).toBeUndefined();
      expect(spent).toEqual({});
      const verifying = new SemanticCache({
        config: { enabled: true, threshold: 0.8, guardAbove: 0.95, guard: 'verify' },
        embedder: new BagOfWordsEmbedder(),
        guard: { verify: async () => ({ ok: true, cost }) },
      });
      await verifying.store(ask(Q), scope, answer());
      expect(await verifying.lookup(ask(CLOSE), scope, { spent })).toBeUndefined();
      expect(spent).toEqual({});
      expect([cache.stats, verifying.stats]).toMatchObject([
        { hits: 0, guardMisses: 1 },
        { hits: 0, guardMisses: 1 },
      ]);
    });
  }

  it('an answer with signed or encrypted reasoning blocks is never adapted (no guard call)', async () => {
    const { cache, calls } = adaptCache(async () => 'Madrid.');
    await cache.store(ask(Q), scope, answer({ reasoningParts: [{ type: 'reasoning', text: 'France: Paris.', signature: 'sig' }] }));
    expect(await cache.lookup(ask(CLOSE), scope)).toBeUndefined();
    const other = 'which city is the capital of germany';
    await cache.store(ask(other), scope, answer({ text: 'Berlin.', reasoningParts: [{ type: 'reasoning', text: '', redactedData: 'enc' }] }));
    expect(await cache.lookup(ask('which city is the capital of italy'), scope)).toBeUndefined();
    expect(calls).toEqual([]);
    expect(cache.stats.guardMisses).toBe(2);
    // Above guardAbove no guard is asked: the answer is served as stored, its blocks with it.
    expect((await cache.lookup(ask(Q), scope))?.answer.reasoningParts).toEqual([{ type: 'reasoning', text: 'France: Paris.', signature: 'sig' }]);
  });

  it('a served rewrite keeps the answer but not what described the old text: its reasoning and stop sequence', async () => {
    const { cache } = adaptCache(async () => ({ text: 'Madrid.', finishReason: 'stop' }));
    await cache.store(ask(Q), scope, answer({ reasoning: 'The capital of France is Paris.', reasoningParts: [{ type: 'reasoning', text: 'The capital of France is Paris.' }], stopSequence: 'END', id: 'resp-1' }));
    const hit = await cache.lookup(ask(CLOSE), scope);
    expect(hit).toMatchObject({ guarded: 'adapted', answer: { text: 'Madrid.', finishReason: 'stop', deployment: 'm1', id: 'resp-1' } });
    expect(hit?.answer).not.toHaveProperty('reasoning');
    expect(hit?.answer).not.toHaveProperty('reasoningParts');
    expect(hit?.answer).not.toHaveProperty('stopSequence');
    // The stored answer is unchanged.
    expect((await cache.lookup(ask(Q), scope))?.answer).toMatchObject({ text: 'Paris.', reasoning: 'The capital of France is Paris.', stopSequence: 'END' });
  });
});

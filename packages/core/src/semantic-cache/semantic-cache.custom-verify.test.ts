/**
 * A caller's own `verify` guard (`SemanticCacheOptions.guard`) receives the whole cached answer, tool calls
 * included, so it is asked about an answer with tool calls as about any other: its YES serves it. Only the model
 * guard, whose prompt shows the answer's text only, says NO to such an answer without a call (`createModelGuard`).
 */
import { describe, expect, it } from 'vitest';
import type { CachedAnswer } from '../cache/cached-answer.js';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { BagOfWordsEmbedder } from './__fixtures__/bag-of-words-embedder.js';
import { SemanticCache, type SemanticGuardInput, type SemanticLookupDetails } from './semantic-cache.js';

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature: 0 });

function toolAnswer(city: string): Omit<CachedAnswer, 'createdAt'> {
  return {
    text: '',
    toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: JSON.stringify({ city }) }],
    finishReason: 'tool-calls',
    usage: makeUsage(12, 9),
    deployment: 'm1',
    model: 'mock-1',
    provider: 'mock',
  };
}

describe('SemanticCache: a caller-given verify guard and answers with tool calls', () => {
  it('a custom verify that checks the tool call arguments is asked, and its YES is served', async () => {
    const asked: string[] = [];
    // The caller's guard judges the structured answer: the call's city must be the one the new question names.
    const verify = async (input: SemanticGuardInput) => {
      asked.push(input.question);
      return input.answer.toolCalls.every((c) => input.question.includes(String((JSON.parse(c.arguments) as { city: string }).city).toLowerCase()));
    };
    const cache = new SemanticCache({
      config: { enabled: true, threshold: 0.8, guardAbove: 0.95, guard: 'verify' },
      embedder: new BagOfWordsEmbedder(),
      guard: { verify },
    });
    await cache.store(ask('what is the weather in paris today'), scope, toolAnswer('Paris'));
    // 6 of 7 words shared: cosine 0.857, in the guard band [0.8, 0.95).
    const details: SemanticLookupDetails = {};
    const hit = await cache.lookup(ask('what is the weather in paris now'), scope, { details });
    expect(details.outcome, 'the match is in the guard band').toBe('guard-band');
    expect({ asked, guarded: hit?.guarded, calls: hit?.answer.toolCalls.map((c) => c.arguments) }).toEqual({
      asked: ['what is the weather in paris now'],
      guarded: 'verified',
      calls: ['{"city":"Paris"}'],
    });
  });
});

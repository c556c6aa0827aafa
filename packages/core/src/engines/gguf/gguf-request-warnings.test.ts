import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { expectNoWarnings, expectNotSentInGenerateAndStream } from '../../test/call-warnings.test-helpers.js';
import { hasStoriesModel, storiesEngineForSuite, warnIfNoStoriesModel } from './stories-model.test-helpers.js';

// What the gguf engine leaves out of a request it accepts is said, not done in silence: `warnings` on the result,
// and one `warnings` part first in the stream. Against the real stories260K model (node-llama-cpp on the CPU).

warnIfNoStoriesModel('gguf warnings tests');

const ASKED: GenerateRequest = {
  messages: [{ role: 'user', content: 'Once upon a time', name: 'lily' }],
  maxTokens: 8,
  user: 'u-1',
  promptCacheKey: 'conv-1',
  reasoning: { effort: 'high' },
};

describe.skipIf(!hasStoriesModel)('gguf engine: warnings', () => {
  const e = storiesEngineForSuite();

  it('user message name, user, promptCacheKey and thinking: not used, and said so, in generate and stream', async () => {
    const r = await expectNotSentInGenerateAndStream(e(), ASKED, ['messages.0.name', 'user', 'promptCacheKey', 'reasoning']);
    expect(r.text.length).toBeGreaterThan(0);
  });

  it('verbosity: not used, and said so (logprobs, which it computes, is no warning)', async () => {
    const r = await expectNotSentInGenerateAndStream(e(), { messages: [{ role: 'user', content: 'Once upon a time' }], maxTokens: 4, verbosity: 'low', logprobs: { topLogprobs: 2 } }, ['verbosity']);
    expect(r.logprobs!.length).toBeGreaterThan(0);
  });

  it('what it does (sampling, topK, seed, stop, maxTokens, JSON mode, thinking off, cache marks): no warnings', async () => {
    const request: GenerateRequest = {
      messages: [
        { role: 'system', content: 'Tell a story.', cacheControl: { type: 'ephemeral' } },
        { role: 'user', content: 'Once upon a time' },
      ],
      maxTokens: 8,
      temperature: 0.5,
      topP: 0.9,
      topK: 5,
      seed: 1,
      stop: ['zzz'],
      reasoning: { effort: 'none' },
      tools: [{ name: 'f', parameters: { type: 'object' } }],
      toolChoice: 'none',
    };
    await expectNoWarnings(e(), request);
  });

  it('what it refuses is an error, with no warnings part before it', async () => {
    const parts = await collect(e().stream({ ...ASKED, tools: [{ name: 'f', parameters: { type: 'object' } }] }));
    expect(parts.map((p) => p.type)).toEqual(['error']);
  });
});

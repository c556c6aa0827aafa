import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import type { StreamPart } from '../../spec/index.js';
import { makeUsage } from '../../spec/usage.js';
import { rejection } from '../../test/async.test-helpers.js';
import { generateFromStream } from './generate-from-stream.js';

async function* parts(...list: StreamPart[]): AsyncGenerator<StreamPart> {
  yield* list;
}

const context = { provider: 'gguf', deployment: 'd' };

describe('generateFromStream', () => {
  it('joins the text deltas and takes the finish part', async () => {
    const usage = makeUsage(3, 2);
    const result = await generateFromStream(
      parts({ type: 'response-metadata', model: 'x' }, { type: 'text-delta', delta: 'a' }, { type: 'text-delta', delta: 'b' }, { type: 'finish', finishReason: 'stop', usage }),
      'model-1',
      context,
    );
    expect(result).toEqual({ text: 'ab', toolCalls: [], finishReason: 'stop', usage, providerModel: 'model-1' });
  });

  it('collects the logprobs parts, in order, as the result\'s logprobs (absent when the stream has none)', async () => {
    const usage = makeUsage(1, 2);
    const result = await generateFromStream(
      parts(
        { type: 'text-delta', delta: 'a' },
        { type: 'logprobs', logprobs: [{ token: 'a', logprob: -0.5 }] },
        { type: 'text-delta', delta: 'b' },
        { type: 'logprobs', logprobs: [{ token: 'b', logprob: -1, topLogprobs: [{ token: 'b', logprob: -1 }] }] },
        { type: 'finish', finishReason: 'stop', usage },
      ),
      'm',
      context,
    );
    expect(result.logprobs).toEqual([
      { token: 'a', logprob: -0.5 },
      { token: 'b', logprob: -1, topLogprobs: [{ token: 'b', logprob: -1 }] },
    ]);
    expect(result.text).toBe('ab');
  });

  it('throws the error of an error part', async () => {
    const error = new LLMError({ code: 'overloaded', message: 'busy', ...context });
    await expect(generateFromStream(parts({ type: 'text-delta', delta: 'a' }, { type: 'error', error }), 'm', context)).rejects.toBe(error);
  });

  it('refuses a stream without a finish part with an internal error', async () => {
    const rejected = await rejection(generateFromStream(parts({ type: 'text-delta', delta: 'a' }), 'm', context));
    expect([rejected.code, rejected.message, rejected.deployment]).toEqual(['internal', 'gguf stream ended without a finish part', 'd']);
  });
});

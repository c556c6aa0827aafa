import { describe, expect, it } from 'vitest';
import type { StreamPart } from '../../spec/index.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

/**
 * A server or proxy that ignores `stream: true` and answers a stream request with the whole chat completion
 * (200, `application/json`): the stream gives what the completion holds (as `generate` reads it), ending with a
 * finish carrying the provider's usage; a JSON error object is the error part an error chunk would be; any other
 * JSON stays `stream_interrupted`.
 */
const fixture = useOpenAIWireServer({ script: { ignoresStream: true } });

async function collect(iterable: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of iterable) parts.push(part);
  return parts;
}

const hello = { messages: [{ role: 'user' as const, content: 'hi' }] };
const tools = [{ name: 'lookup', description: 'look up', parameters: { type: 'object', properties: { q: { type: 'string' } } } }];

describe('a stream request answered with a whole JSON chat completion', () => {
  it('streams its text, reasoning and tool calls, and finishes with the usage generate reads', async () => {
    fixture.server.setScript({
      ignoresStream: true,
      id: 'chatcmpl-whole',
      model: 'gpt-4o-2024',
      reasoning: 'think first',
      text: 'the answer',
      toolCalls: [{ id: 'call_a', name: 'lookup', arguments: '{"q":"x"}' }],
      usage: { prompt_tokens: 12, completion_tokens: 7 },
    });
    const parts = await collect(fixture.engine().stream({ ...hello, tools }));
    expect(fixture.lastBody().stream).toBe(true);
    expect(parts).toEqual([
      { type: 'response-metadata', id: 'chatcmpl-whole', model: 'gpt-4o-2024' },
      { type: 'reasoning-delta', delta: 'think first' },
      { type: 'text-delta', delta: 'the answer' },
      { type: 'tool-call-delta', index: 0, id: 'call_a', name: 'lookup', argumentsDelta: '{"q":"x"}' },
      { type: 'tool-call', index: 0, toolCall: { id: 'call_a', name: 'lookup', arguments: '{"q":"x"}' } },
      { type: 'usage', usage: { inputTokens: 12, outputTokens: 7, totalTokens: 19 } },
      { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 12, outputTokens: 7, totalTokens: 19 } },
    ]);
    const generated = await fixture.engine().generate({ ...hello, tools });
    expect(parts.at(-1)).toMatchObject({ finishReason: generated.finishReason, usage: generated.usage });
  });

  it('gives logprobs after the text when asked, and an estimated usage (no usage part) when the body has none', async () => {
    fixture.server.setScript({ ignoresStream: true, text: 'hello there', usage: null });
    const parts = await collect(fixture.engine().stream({ ...hello, logprobs: {} }));
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'text-delta', 'logprobs', 'finish']);
    const logprobs = parts.find((p) => p.type === 'logprobs');
    expect(logprobs?.type === 'logprobs' && logprobs.logprobs.map((t) => t.token).join('')).toBe('hello there');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', usage: { estimated: true } });
  });

  it('a JSON error object is an error part classified as an error chunk is; other JSON is stream_interrupted', async () => {
    fixture.server.setScript({ ignoresStream: true, json: { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } } });
    expect(await collect(fixture.engine().stream(hello))).toMatchObject([{ type: 'error', error: { code: 'budget_exceeded', isRetryable: false, deployment: 'd' } }]);

    fixture.server.setScript({ ignoresStream: true, json: { object: 'error', message: 'engine dead', code: 500 } });
    expect(await collect(fixture.engine().stream(hello))).toMatchObject([{ type: 'error', error: { code: 'provider_error', upstreamStatus: 500 } }]);

    for (const json of [{ id: 'x', object: 'list', data: [] }, { choices: [] }, [1, 2]]) {
      fixture.server.setScript({ ignoresStream: true, json });
      expect(await collect(fixture.engine().stream(hello)), JSON.stringify(json)).toMatchObject([{ type: 'error', error: { code: 'stream_interrupted' } }]);
    }
  });

  it('an event stream labelled application/json is still read as SSE', async () => {
    fixture.server.setScript({
      rawSSE: 'data: {"id":"x","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
      headers: { 'content-type': 'application/json' },
    });
    const parts = await collect(fixture.engine().stream(hello));
    expect(parts.filter((p) => p.type === 'text-delta')).toEqual([{ type: 'text-delta', delta: 'Hi' }]);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });
});

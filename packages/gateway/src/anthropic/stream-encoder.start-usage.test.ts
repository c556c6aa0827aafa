import { LLMError, type RouterResult, type StreamPart, type Usage } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { AnthropicStreamEventSchema, type AnthropicStreamEvent } from '../schemas/anthropic-messages.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { parseSse } from '../test-support/harness.js';
import { AnthropicStreamEncoder } from './stream-encoder.js';

// message_start carries the prompt's usage when the parts before the first content reported it (the Anthropic
// engine's `usage` part from the upstream's own message_start: input, cache reads and writes, output 0), counted
// as the final usage is (input_tokens without the cache reads and writes); zeros otherwise, as before.

const route = (cached: RoutePart['cached'] = false): RoutePart => ({ type: 'route', requestId: 'req_1', deployment: 'dep', model: 'm', provider: 'anthropic', cached });
const prompt: Usage = { inputTokens: 5050, outputTokens: 0, totalTokens: 5050, cachedInputTokens: 4000, cacheWriteInputTokens: 1000, cacheWrite1hInputTokens: 400 };
const final: Usage = { ...prompt, outputTokens: 20, totalTokens: 5070 };
const result = (usage: Usage, cached: RouterResult['cached'] = false) =>
  ({ requestId: 'req_1', deployment: 'dep', provider: 'anthropic', text: 'Hi', toolCalls: [], finishReason: 'stop', usage, cost: { totalUsd: 0, estimated: false }, cached, latencyMs: 1 }) as unknown as RouterResult;

function decode(frames: string[]): AnthropicStreamEvent[] {
  return parseSse(frames.join('')).map((f) => AnthropicStreamEventSchema.parse(JSON.parse(f.data)));
}

/** The frames of a stream as the gateway sends it: the start with the head's parts, then the rest, then the finish. */
function stream(parts: StreamPart[], options: { cached?: RoutePart['cached']; usage?: Usage } = {}): AnthropicStreamEvent[] {
  const enc = new AnthropicStreamEncoder({ explain: false });
  const frames = [...enc.start(route(options.cached))];
  for (const p of parts) frames.push(...enc.part(p));
  frames.push(...enc.finish({ type: 'finish', finishReason: 'stop', usage: options.usage ?? final }, result(options.usage ?? final, options.cached)));
  return decode(frames);
}

const startUsage = (events: AnthropicStreamEvent[]) => {
  const start = events[0];
  if (start?.type !== 'message_start') throw new Error(`expected message_start first, got ${start?.type}`);
  return start.message.usage;
};

describe('AnthropicStreamEncoder: message_start usage', () => {
  it('a usage part before the first content: input without cache reads and writes, the cache counts and the writes by TTL, output 0', () => {
    const events = stream([{ type: 'response-metadata', id: 'msg_1' }, { type: 'usage', usage: prompt }, { type: 'text-delta', delta: 'Hi' }]);
    expect(events.map((e) => e.type)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(startUsage(events)).toEqual({
      input_tokens: 50,
      output_tokens: 0,
      cache_read_input_tokens: 4000,
      cache_creation_input_tokens: 1000,
      cache_creation: { ephemeral_5m_input_tokens: 600, ephemeral_1h_input_tokens: 400 },
    });
    // message_delta's totals agree with it (the SDK takes each number present over message_start's).
    expect(events.find((e) => e.type === 'message_delta')).toMatchObject({ usage: { input_tokens: 50, output_tokens: 20, cache_read_input_tokens: 4000, cache_creation_input_tokens: 1000 } });
  });

  it('no usage part before the first content (OpenAI-compatible, Gemini: usage at the end): zeros as before; a usage part after it changes nothing sent', () => {
    const events = stream([{ type: 'text-delta', delta: 'Hi' }, { type: 'usage', usage: prompt }]);
    expect(startUsage(events)).toEqual({ input_tokens: 0, output_tokens: 0 });
    expect(events.filter((e) => e.type === 'message_start')).toHaveLength(1);
  });

  it('a deployment that reports no cache: input and output only (output 0 even when the part has some)', () => {
    const events = stream([{ type: 'usage', usage: { inputTokens: 12, outputTokens: 3, totalTokens: 15 } }, { type: 'text-delta', delta: 'Hi' }]);
    expect(startUsage(events)).toEqual({ input_tokens: 12, output_tokens: 0 });
  });

  it('a router cache hit read and wrote nothing in the provider cache: its usage part (from SseFrames: those counts 0) is sent as it is', () => {
    const hit: Usage = { ...prompt, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 };
    const events = stream([{ type: 'usage', usage: hit }, { type: 'text-delta', delta: 'Hi' }], { cached: 'exact' });
    expect(startUsage(events)).toEqual({ input_tokens: 5050, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } });
  });

  it('afterHead sends message_start and ping once the head went through part, even when nothing in it sent anything', () => {
    const enc = new AnthropicStreamEncoder({ explain: false });
    enc.start(route());
    expect(enc.part({ type: 'usage', usage: prompt })).toEqual([]);
    const opening = decode(enc.afterHead());
    expect(opening.map((e) => e.type)).toEqual(['message_start', 'ping']);
    expect(startUsage(opening)).toMatchObject({ input_tokens: 50, cache_creation: { ephemeral_5m_input_tokens: 600, ephemeral_1h_input_tokens: 400 } });
    expect(enc.afterHead()).toEqual([]);
    const rest = decode(enc.finish({ type: 'finish', finishReason: 'stop', usage: final }, result(final)));
    expect(rest.map((e) => e.type)).toEqual(['message_delta', 'message_stop']);
  });

  it('the last usage part before the content counts; parts that send nothing (metadata, warnings) do not open the message', () => {
    const enc = new AnthropicStreamEncoder({ explain: false });
    expect(enc.start(route())).toEqual([]);
    expect(enc.part({ type: 'usage', usage: { inputTokens: 7, outputTokens: 0, totalTokens: 7 } })).toEqual([]);
    expect(enc.part({ type: 'warnings', warnings: [{ code: 'x', message: 'y' }] })).toEqual([]);
    expect(enc.part({ type: 'usage', usage: { inputTokens: 9, outputTokens: 0, totalTokens: 9 } })).toEqual([]);
    const first = decode(enc.part({ type: 'reasoning-delta', delta: 'Hmm' }));
    expect(first.map((e) => e.type)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta']);
    expect(startUsage(first)).toEqual({ input_tokens: 9, output_tokens: 0 });
  });

  it('an empty answer (the finish right after the usage): message_start with the usage, then the finish frames', () => {
    const events = stream([{ type: 'usage', usage: prompt }]);
    expect(events.map((e) => e.type)).toEqual(['message_start', 'ping', 'message_delta', 'message_stop']);
    expect(startUsage(events)).toMatchObject({ input_tokens: 50, cache_read_input_tokens: 4000 });
  });

  it('a stream that fails before any content still starts the message before its error event, once', () => {
    const enc = new AnthropicStreamEncoder({ explain: false });
    enc.start(route());
    enc.part({ type: 'usage', usage: prompt });
    const events = decode(enc.error(new LLMError({ code: 'overloaded', message: 'Overloaded' }), 'req_1'));
    expect(events.map((e) => e.type)).toEqual(['message_start', 'ping', 'error']);
    expect(startUsage(events)).toMatchObject({ input_tokens: 50 });
    expect(decode(enc.error(new LLMError({ code: 'overloaded', message: 'Overloaded' }), 'req_1')).map((e) => e.type)).toEqual(['error']);
  });
});

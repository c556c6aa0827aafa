import type { RouterResult, Usage } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { parseSse } from '../test-support/harness.js';
import type { RoutePart } from '../streaming/open-stream.js';
import { AnthropicMessageSchema, AnthropicStreamEventSchema } from '../schemas/anthropic-messages.js';
import { toAnthropicMessage } from './message-response.js';
import { AnthropicStreamEncoder } from './stream-encoder.js';
import { toAnthropicDeltaUsage, toAnthropicUsage } from './usage.js';

// Our usage counts all input; Anthropic's `input_tokens` excludes cache reads and writes. Before, /v1/messages
// sent our input as `input_tokens` and the reads again as `cache_read_input_tokens`: clients counted them twice.

const usage = (u: Partial<Usage>): Usage => ({ inputTokens: 0, outputTokens: 0, totalTokens: 0, ...u });

describe('toAnthropicUsage', () => {
  it('reads and writes come out of input_tokens; the writes by TTL in cache_creation', () => {
    const u = usage({ inputTokens: 1000, outputTokens: 50, cachedInputTokens: 600, cacheWriteInputTokens: 300, cacheWrite1hInputTokens: 100 });
    expect(toAnthropicUsage(u)).toEqual({
      input_tokens: 100,
      output_tokens: 50,
      cache_read_input_tokens: 600,
      cache_creation_input_tokens: 300,
      cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 100 },
    });
    expect(toAnthropicDeltaUsage(u)).toEqual({ input_tokens: 100, output_tokens: 50, cache_read_input_tokens: 600, cache_creation_input_tokens: 300 });
  });

  it('a deployment reporting only cache reads (OpenAI, Gemini): no double count, zero writes', () => {
    expect(toAnthropicUsage(usage({ inputTokens: 2006, outputTokens: 300, cachedInputTokens: 1920 }))).toEqual({
      input_tokens: 86,
      output_tokens: 300,
      cache_read_input_tokens: 1920,
      cache_creation_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    });
  });

  it('no cache numbers reported: input and output only, as before', () => {
    expect(toAnthropicUsage(usage({ inputTokens: 12, outputTokens: 3 }))).toEqual({ input_tokens: 12, output_tokens: 3 });
    expect(toAnthropicDeltaUsage(usage({ inputTokens: 12, outputTokens: 3 }))).toEqual({ input_tokens: 12, output_tokens: 3 });
  });

  it('inconsistent numbers never give a negative input_tokens nor a 1h part above the writes', () => {
    const out = toAnthropicUsage(usage({ inputTokens: 10, cachedInputTokens: 8, cacheWriteInputTokens: 5, cacheWrite1hInputTokens: 9 }));
    expect(out).toMatchObject({ input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 5 } });
  });
});

const result = (u: Usage) =>
  ({ requestId: 'req_1', deployment: 'dep', provider: 'anthropic', text: 'hi', toolCalls: [], finishReason: 'stop', usage: u, cost: { totalUsd: 0, estimated: false }, cached: false, latencyMs: 1 }) as unknown as RouterResult;

describe('the /v1/messages answer and message_delta carry it', () => {
  const u = usage({ inputTokens: 1000, outputTokens: 50, totalTokens: 1050, cachedInputTokens: 600, cacheWriteInputTokens: 300 });

  it('JSON: the message usage (valid against the message schema)', () => {
    const message = AnthropicMessageSchema.parse(toAnthropicMessage(result(u), { explain: false }));
    expect(message.usage).toEqual({ input_tokens: 100, output_tokens: 50, cache_read_input_tokens: 600, cache_creation_input_tokens: 300, cache_creation: { ephemeral_5m_input_tokens: 300, ephemeral_1h_input_tokens: 0 } });
  });

  it('streamed: message_delta has the totals (valid against the event schema)', () => {
    const enc = new AnthropicStreamEncoder({ explain: false });
    const route = { type: 'route', requestId: 'req_1', deployment: 'dep', model: 'm', provider: 'anthropic' } as unknown as RoutePart;
    const frames = [...enc.start(route), ...enc.part({ type: 'text-delta', delta: 'hi' }), ...enc.finish({ type: 'finish', finishReason: 'stop', usage: u }, result(u))];
    const events = parseSse(frames.join('')).map((f) => AnthropicStreamEventSchema.parse(JSON.parse(f.data)));
    const delta = events.find((e) => e.type === 'message_delta');
    expect(delta?.usage).toEqual({ output_tokens: 50, input_tokens: 100, cache_read_input_tokens: 600, cache_creation_input_tokens: 300 });
  });
});

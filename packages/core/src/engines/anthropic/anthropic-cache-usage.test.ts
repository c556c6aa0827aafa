import { describe, expect, it } from 'vitest';
import { computeCost } from '../../pricing/compute-cost.js';
import { collect } from '../../test/async.test-helpers.js';
import type { AnthropicWireUsage } from '../../test/anthropic-wire-server.js';
import type { AnthropicUsageWire } from './anthropic-api-types.js';
import { convertAnthropicUsage, mergeAnthropicUsage } from './anthropic-usage.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';
import { decodeAnthropicStream, type SseMessage } from './decode-anthropic-stream.js';

// Cache writes in Anthropic usage: `cache_creation_input_tokens` and its breakdown by TTL
// (`cache_creation: { ephemeral_5m_input_tokens, ephemeral_1h_input_tokens }`, the prompt-caching guide's
// "1-hour cache duration" example), in JSON answers and in streams.

const wire = useAnthropicWireServer({ keepRequests: true });
const { engine } = wire;

const hello = { messages: [{ role: 'user' as const, content: 'Hi' }] };

// The shape of the guide's example (whose own figures do not add up: 248 written, 456 + 100 in the breakdown).
const wireUsage: AnthropicUsageWire = {
  input_tokens: 2048,
  output_tokens: 503,
  cache_read_input_tokens: 1800,
  cache_creation_input_tokens: 300,
  cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
};
const expected = {
  inputTokens: 2048 + 1800 + 300,
  outputTokens: 503,
  totalTokens: 2048 + 1800 + 300 + 503,
  cachedInputTokens: 1800,
  cacheWriteInputTokens: 300,
  cacheWrite1hInputTokens: 200,
};

describe('anthropic usage with cache writes', () => {
  it('reads the writes and their 1-hour part from a JSON answer', async () => {
    wire.server.enqueue({ content: 'ok', usage: wireUsage as AnthropicWireUsage });
    expect((await engine().generate(hello)).usage).toEqual(expected);
  });

  it('reads them from a stream (message_start usage, then message_delta)', async () => {
    wire.server.enqueue({ content: 'ok', chunks: 2, usage: wireUsage as AnthropicWireUsage });
    const parts = await collect(engine().stream(hello));
    expect(parts.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: expected });
  });

  it('merges a message_delta that updates the breakdown field by field', async () => {
    const events: SseMessage[] = [
      {
        event: 'message_start',
        data: JSON.stringify({
          type: 'message_start',
          message: {
            id: 'msg_1',
            model: 'claude-test-1',
            content: [],
            usage: { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 } },
          },
        }),
      },
      { event: 'content_block_start', data: JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) },
      { event: 'content_block_delta', data: JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } }) },
      { event: 'content_block_stop', data: JSON.stringify({ type: 'content_block_stop', index: 0 }) },
      {
        event: 'message_delta',
        data: JSON.stringify({
          type: 'message_delta',
          delta: { stop_reason: 'end_turn' },
          usage: { output_tokens: 7, cache_creation_input_tokens: 500, cache_creation: { ephemeral_1h_input_tokens: 400 } },
        }),
      },
      { event: 'message_stop', data: JSON.stringify({ type: 'message_stop' }) },
    ];
    async function* source() {
      for (const e of events) yield e;
    }
    const parts = await collect(decodeAnthropicStream(source(), { provider: 'anthropic' }));
    expect(parts.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: 510, outputTokens: 7, totalTokens: 517, cachedInputTokens: 0, cacheWriteInputTokens: 500, cacheWrite1hInputTokens: 400 },
    });
  });

  it('mergeAnthropicUsage keeps breakdown numbers the update does not carry', () => {
    const merged = mergeAnthropicUsage(
      { input_tokens: 5, cache_creation: { ephemeral_5m_input_tokens: 30, ephemeral_1h_input_tokens: 0 } },
      { output_tokens: 2, cache_creation: { ephemeral_1h_input_tokens: 70, ephemeral_5m_input_tokens: null } },
    );
    expect(merged).toEqual({ input_tokens: 5, output_tokens: 2, cache_creation: { ephemeral_5m_input_tokens: 30, ephemeral_1h_input_tokens: 70 } });
    expect(mergeAnthropicUsage({ input_tokens: 5 }, { cache_creation: null })).toEqual({ input_tokens: 5 });
  });

  it('convertAnthropicUsage: the breakdown alone gives the total; 1-hour writes never exceed the total; no fields when absent', () => {
    expect(convertAnthropicUsage({ input_tokens: 1, output_tokens: 1, cache_creation: { ephemeral_5m_input_tokens: 3, ephemeral_1h_input_tokens: 4 } })).toEqual({
      inputTokens: 8,
      outputTokens: 1,
      totalTokens: 9,
      cacheWriteInputTokens: 7,
      cacheWrite1hInputTokens: 4,
    });
    expect(convertAnthropicUsage({ input_tokens: 1, output_tokens: 0, cache_creation_input_tokens: 5, cache_creation: { ephemeral_1h_input_tokens: 9 } })).toMatchObject({
      cacheWriteInputTokens: 5,
      cacheWrite1hInputTokens: 5,
    });
    expect(convertAnthropicUsage({ input_tokens: 3, output_tokens: 2 })).toEqual({ inputTokens: 3, outputTokens: 2, totalTokens: 5 });
    expect(convertAnthropicUsage({ input_tokens: 3, output_tokens: 2, cache_creation_input_tokens: 0 })).toEqual({ inputTokens: 3, outputTokens: 2, totalTokens: 5, cacheWriteInputTokens: 0 });
  });

  it('prices the converted usage: fresh, reads, 5-minute and 1-hour writes each at their own price', () => {
    // Claude Sonnet 4.6 prices (USD per 1M): input 3, hits 0.30, 5m writes 3.75, 1h writes 6, output 15.
    const cost = computeCost(convertAnthropicUsage(wireUsage), { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 });
    // 2048 x 3 + 1800 x 0.3 + 100 x 3.75 + 200 x 6 = 6144 + 540 + 375 + 1200 = 8259 micro-USD; output 503 x 15 = 7545.
    expect(cost).toEqual({ inputUsd: 0.008259, outputUsd: 0.007545, totalUsd: 0.015804, estimated: false });
  });
});

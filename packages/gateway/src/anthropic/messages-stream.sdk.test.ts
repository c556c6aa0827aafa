import { describe, expect, it } from 'vitest';
import { CHAT_DONE, chatChunk as chunk, chatUsageChunk, interleavedWeatherCalls, toolCallDelta as call, weatherCallsCompletion } from '../test-support/openai-chat-sse.js';
import { openAIOverWire } from '../test-support/openai-over-wire.js';

// The official Anthropic SDK's `messages.stream(...)` through a real gateway over node:http, to an
// OpenAI-wire upstream (a local server sending a scripted SSE body) whose parallel tool calls interleave
// their argument pieces, as OpenAI's chat wire allows (pieces are keyed by index).

const wire = openAIOverWire();

const client = () => wire.gw.anthropic();
const request = {
  model: 'gpt',
  max_tokens: 100,
  messages: [{ role: 'user' as const, content: 'Weather in Oslo and Bergen?' }],
  tools: [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }],
};

describe('official anthropic client: messages.stream over an upstream that interleaves parallel tool calls', () => {
  it('both tool_use blocks have their full input', async () => {
    wire.upstream.setScript({ rawSSE: interleavedWeatherCalls() });
    const stream = client().messages.stream(request);
    const events: string[] = [];
    stream.on('streamEvent', (e) => events.push(e.type));
    const message = await stream.finalMessage();
    expect(message.content).toEqual([
      { type: 'text', text: 'Checking both. ' },
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } },
      { type: 'tool_use', id: 'call_b', name: 'get_weather', input: { city: 'Bergen' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(events.filter((t) => t === 'content_block_start')).toHaveLength(3);
    expect(events.at(-1)).toBe('message_stop');
  });

  it('text that comes between the pieces of a call waits for it: the call is whole, the text follows, the ledger row is the non-streamed one', async () => {
    const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
    wire.upstream.setScript({
      rawSSE:
        chunk({ role: 'assistant', tool_calls: [call(0, '{"city":', { id: 'call_a', name: 'get_weather' })] }) +
        chunk({ content: 'One moment.' }) +
        chunk({ tool_calls: [call(0, '"Oslo"}')] }) +
        chunk({ content: ' Then Bergen.' }) +
        chunk({ tool_calls: [call(1, '{"city":"Bergen"}', { id: 'call_b', name: 'get_weather' })] }) +
        chunk({}, 'tool_calls') +
        chatUsageChunk(usage) +
        CHAT_DONE,
    });
    const before = new Set((await wire.gw.ledger.query({ tenantId: 'acme' })).map((r) => r.requestId));
    const message = await client().messages.stream(request).finalMessage();
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } },
      { type: 'text', text: 'One moment. Then Bergen.' },
      { type: 'tool_use', id: 'call_b', name: 'get_weather', input: { city: 'Bergen' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 11, output_tokens: 7 });

    // The same answer, not streamed: the same ledger record (status, tokens, cost).
    wire.upstream.setScript({ json: weatherCallsCompletion('One moment. Then Bergen.', usage) });
    const plain = await client().messages.create(request);
    expect(plain.content.filter((b) => b.type === 'tool_use')).toEqual(message.content.filter((b) => b.type === 'tool_use'));
    const rows = (await wire.gw.ledger.query({ tenantId: 'acme' })).filter((r) => !before.has(r.requestId));
    expect(rows).toHaveLength(2);
    const [a, b] = rows.map((r) => ({ status: r.status, inputTokens: r.inputTokens, outputTokens: r.outputTokens, costUsd: r.costUsd }));
    expect(a).toEqual(b);
    expect(a).toMatchObject({ status: 'success', inputTokens: 11, outputTokens: 7 });
    expect(rows.map((r) => r.stream).sort()).toEqual([false, true]);
  });
});

import Anthropic from '@anthropic-ai/sdk';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServedGateway } from '../node/serve-gateway.js';
import { createHarness, serveWithKey, type Harness } from '../test-support/harness.js';

// The official Anthropic SDK's `messages.stream(...)` through a real gateway over node:http, to an
// OpenAI-wire upstream (a local server sending a scripted SSE body) whose parallel tool calls interleave
// their argument pieces, as OpenAI's chat wire allows (pieces are keyed by index).

let upstream: OpenAIWireServer;
let h: Harness;
let served: ServedGateway;
let secret: string;

beforeAll(async () => {
  upstream = await startOpenAIWireServer();
  h = await createHarness({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools'] }],
    stores: 'memory',
    routerOptions: { env: {} },
  });
  ({ secret, served } = await serveWithKey(h));
});
afterAll(async () => {
  await served?.close(1000);
  await h?.close();
  await upstream?.close();
});

/** A chat.completion.chunk SSE frame. */
const chunk = (delta: unknown, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-a1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const call = (index: number, args: string, start?: { id: string; name: string }) => ({
  index,
  ...(start ? { id: start.id, type: 'function' } : {}),
  function: { ...(start ? { name: start.name } : {}), arguments: args },
});

const client = () => new Anthropic({ baseURL: served.url, apiKey: secret, maxRetries: 0 });
const request = {
  model: 'gpt',
  max_tokens: 100,
  messages: [{ role: 'user' as const, content: 'Weather in Oslo and Bergen?' }],
  tools: [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }],
};

describe('official anthropic client: messages.stream over an upstream that interleaves parallel tool calls', () => {
  it('both tool_use blocks have their full input', async () => {
    upstream.setScript({
      rawSSE:
        chunk({ role: 'assistant', content: 'Checking both. ' }) +
        chunk({ tool_calls: [call(0, '', { id: 'call_a', name: 'get_weather' }), call(1, '', { id: 'call_b', name: 'get_weather' })] }) +
        chunk({ tool_calls: [call(0, '{"ci')] }) +
        chunk({ tool_calls: [call(1, '{"city":')] }) +
        chunk({ tool_calls: [call(0, 'ty":"Oslo"}')] }) +
        chunk({ tool_calls: [call(1, '"Bergen"}')] }) +
        chunk({}, 'tool_calls') +
        'data: [DONE]\n\n',
    });
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
    upstream.setScript({
      rawSSE:
        chunk({ role: 'assistant', tool_calls: [call(0, '{"city":', { id: 'call_a', name: 'get_weather' })] }) +
        chunk({ content: 'One moment.' }) +
        chunk({ tool_calls: [call(0, '"Oslo"}')] }) +
        chunk({ content: ' Then Bergen.' }) +
        chunk({ tool_calls: [call(1, '{"city":"Bergen"}', { id: 'call_b', name: 'get_weather' })] }) +
        chunk({}, 'tool_calls') +
        `data: ${JSON.stringify({ id: 'chatcmpl-a1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [], usage })}\n\n` +
        'data: [DONE]\n\n',
    });
    const before = new Set((await h.stores!.ledger.query({ tenantId: 'acme' })).map((r) => r.requestId));
    const message = await client().messages.stream(request).finalMessage();
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { city: 'Oslo' } },
      { type: 'text', text: 'One moment. Then Bergen.' },
      { type: 'tool_use', id: 'call_b', name: 'get_weather', input: { city: 'Bergen' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ input_tokens: 11, output_tokens: 7 });

    // The same answer, not streamed: the same ledger record (status, tokens, cost).
    upstream.setScript({
      json: {
        id: 'chatcmpl-a2',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-test',
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            message: {
              role: 'assistant',
              content: 'One moment. Then Bergen.',
              tool_calls: [
                { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
                { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Bergen"}' } },
              ],
            },
          },
        ],
        usage,
      },
    });
    const plain = await client().messages.create(request);
    expect(plain.content.filter((b) => b.type === 'tool_use')).toEqual(message.content.filter((b) => b.type === 'tool_use'));
    const rows = (await h.stores!.ledger.query({ tenantId: 'acme' })).filter((r) => !before.has(r.requestId));
    expect(rows).toHaveLength(2);
    const [a, b] = rows.map((r) => ({ status: r.status, inputTokens: r.inputTokens, outputTokens: r.outputTokens, costUsd: r.costUsd }));
    expect(a).toEqual(b);
    expect(a).toMatchObject({ status: 'success', inputTokens: 11, outputTokens: 7 });
    expect(rows.map((r) => r.stream).sort()).toEqual([false, true]);
  });
});

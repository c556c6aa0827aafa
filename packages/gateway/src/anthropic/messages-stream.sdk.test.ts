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

  it('a call whose pieces go on after text closed its block: the client gets an error, not a cut call', async () => {
    upstream.setScript({
      rawSSE:
        chunk({ role: 'assistant', tool_calls: [call(0, '{"city":', { id: 'call_a', name: 'get_weather' })] }) +
        chunk({ content: 'One moment.' }) +
        chunk({ tool_calls: [call(0, '"Oslo"}')] }) +
        chunk({}, 'tool_calls') +
        'data: [DONE]\n\n',
    });
    const error = await client().messages.stream(request).finalMessage().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(String((error as Error).message)).toContain('call_a');
    // The stream counts as failed, not as a success with a cut call.
    const rows = await h.stores!.ledger.query({ tenantId: 'acme' });
    expect(rows.map((r) => r.status).sort()).toEqual(['error', 'success']);
  });
});

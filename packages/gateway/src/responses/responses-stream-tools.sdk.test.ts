import { createOpenAI } from '@ai-sdk/openai';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { jsonSchema, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServedGateway } from '../node/serve-gateway.js';
import { createHarness, serveWithKey, type Harness } from '../test-support/harness.js';

// The official `openai` client (`responses.stream().finalResponse()`) and the Vercel AI SDK (`streamText` on
// `openai.responses(model)`) through a real gateway over node:http, to an OpenAI-wire upstream (a local
// server sending a scripted SSE body) that sends text between the argument pieces of a tool call.

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

const chunk = (delta: unknown, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-a1', object: 'chat.completion.chunk', created: 1, model: 'gpt-test', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const call = (index: number, args: string, start?: { id: string; name: string }) => ({
  index,
  ...(start ? { id: start.id, type: 'function' } : {}),
  function: { ...(start ? { name: start.name } : {}), arguments: args },
});

/** Call 0 starts, text comes between its pieces, then call 1 starts after the text. */
const script = {
  rawSSE:
    chunk({ role: 'assistant', tool_calls: [call(0, '{"city":', { id: 'call_a', name: 'get_weather' })] }) +
    chunk({ content: 'One moment.' }) +
    chunk({ tool_calls: [call(0, '"Oslo"}')] }) +
    chunk({ tool_calls: [call(1, '{"city":"Bergen"}', { id: 'call_b', name: 'get_weather' })] }) +
    chunk({}, 'tool_calls') +
    'data: [DONE]\n\n',
};

const weatherTool = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false };

describe('Responses streaming over an upstream that sends text inside a tool call', () => {
  it('openai responses.stream: the call whole, the message after it, then the next call', async () => {
    upstream.setScript(script);
    const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
    const stream = client.responses.stream({ model: 'gpt', input: 'Weather in Oslo and Bergen?', tools: [weatherTool] });
    const doneArgs: string[] = [];
    stream.on('response.function_call_arguments.done', (e) => doneArgs.push(e.arguments));
    const final = await stream.finalResponse();
    expect(final.output.map((o) => (o.type === 'function_call' ? [o.call_id, o.arguments] : o.type === 'message' ? ['message', final.output_text] : [o.type]))).toEqual([
      ['call_a', '{"city":"Oslo"}'],
      ['message', 'One moment.'],
      ['call_b', '{"city":"Bergen"}'],
    ]);
    expect(doneArgs).toEqual(['{"city":"Oslo"}', '{"city":"Bergen"}']);
  });

  it('AI SDK streamText: both tool calls with their full input, and the text', async () => {
    upstream.setScript(script);
    const provider = createOpenAI({ baseURL: `${served.url}/v1`, apiKey: secret });
    const tools = { get_weather: tool({ inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } } }) }) };
    const result = streamText({ model: provider.responses('gpt'), prompt: 'Weather in Oslo and Bergen?', tools });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('One moment.');
    expect((await result.toolCalls).map((c) => [c.toolCallId, c.input])).toEqual([
      ['call_a', { city: 'Oslo' }],
      ['call_b', { city: 'Bergen' }],
    ]);
  });
});

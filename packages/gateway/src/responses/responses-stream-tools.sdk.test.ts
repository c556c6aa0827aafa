import { createOpenAI } from '@ai-sdk/openai';
import { jsonSchema, streamText, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import { CHAT_DONE, chatChunk as chunk, toolCallDelta as call } from '../test-support/openai-chat-sse.js';
import { openAIOverWire } from '../test-support/openai-over-wire.js';

// The official `openai` client (`responses.stream().finalResponse()`) and the Vercel AI SDK (`streamText` on
// `openai.responses(model)`) through a real gateway over node:http, to an OpenAI-wire upstream (a local
// server sending a scripted SSE body) that sends text between the argument pieces of a tool call.

const wire = openAIOverWire();

/** Call 0 starts, text comes between its pieces, then call 1 starts after the text. */
const script = {
  rawSSE:
    chunk({ role: 'assistant', tool_calls: [call(0, '{"city":', { id: 'call_a', name: 'get_weather' })] }) +
    chunk({ content: 'One moment.' }) +
    chunk({ tool_calls: [call(0, '"Oslo"}')] }) +
    chunk({ tool_calls: [call(1, '{"city":"Bergen"}', { id: 'call_b', name: 'get_weather' })] }) +
    chunk({}, 'tool_calls') +
    CHAT_DONE,
};

const weatherTool = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false };

describe('Responses streaming over an upstream that sends text inside a tool call', () => {
  it('openai responses.stream: the call whole, the message after it, then the next call', async () => {
    wire.upstream.setScript(script);
    const client = wire.gw.openai();
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
    wire.upstream.setScript(script);
    const provider = createOpenAI({ baseURL: `${wire.gw.url}/v1`, apiKey: wire.gw.secret });
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

import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// An OpenAI-compatible upstream that answers a tool call with `id: ""`: the client gets an id made up for it
// (`call_<response id>_<index>`), streamed (`OpenAIStreamDecoder`) or not (`convertOpenAIChatResponse`), so it can
// answer the call: the gateway's own schema refuses `tool_call_id: ""` (and `tool_calls[].id: ""`,
// `function_call_output.call_id: ""`) on the next turn. The official openai client against the served gateway.

const answer = {
  id: 'chatcmpl-empty-id',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-test',
  choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: '', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] }, logprobs: null, finish_reason: 'tool_calls' }],
  usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
};
const sse = (): string => {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-empty-id', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-test', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  return (
    chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: '', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] }) +
    chunk({}, 'tool_calls') +
    'data: [DONE]\n\n'
  );
};

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
const ask: OpenAI.Chat.Completions.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Paris?' };

let upstream: OpenAIWireServer;
let gw: SdkGateway;
beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: { rawSSE: sse() } });
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools'] }],
    upstreams: [upstream],
  });
});
afterAll(() => gw?.close());

describe('a tool call id "" from an OpenAI-compatible upstream', () => {
  it('streamed, the client gets a made-up id it can answer', async () => {
    upstream.setScript({ rawSSE: sse() });
    const final = await gw.openai().chat.completions.stream({ model: 'gpt', messages: [ask], tools }).finalChatCompletion();
    const id = final.choices[0]!.message.tool_calls![0]!.id;
    expect(id).toBe('call_chatcmpl-empty-id_0');
  });

  it('not streamed, the client gets an id it can answer (as streamed), and its next turn is accepted', async () => {
    upstream.setScript({ json: answer });
    const first = await gw.openai().chat.completions.create({ model: 'gpt', messages: [ask], tools });
    const message = first.choices[0]!.message;
    expect(message.tool_calls![0]!.id).toBe('call_chatcmpl-empty-id_0');
    const call = message.tool_calls![0]! as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    upstream.setScript({ text: 'It is sunny.' });
    const next = await gw.openai().chat.completions.create({
      model: 'gpt',
      tools,
      messages: [ask, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '{"sky":"sunny"}' }],
    });
    expect(next.choices[0]!.message.content).toBe('It is sunny.');
  });

  it('/v1/responses, not streamed: the function_call gets a call_id the client can answer with a function_call_output', async () => {
    upstream.setScript({ json: answer });
    const weather: OpenAI.Responses.FunctionTool[] = [{ type: 'function', name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }];
    const first = await gw.openai().responses.create({ model: 'gpt', input: 'Weather in Paris?', tools: weather });
    const call = first.output.find((i): i is OpenAI.Responses.ResponseFunctionToolCall => i.type === 'function_call');
    expect(call?.call_id).toBe('call_chatcmpl-empty-id_0');
    upstream.setScript({ text: 'It is sunny.' });
    const input: OpenAI.Responses.ResponseInputItem[] = [
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: call!.call_id, name: call!.name, arguments: call!.arguments },
      { type: 'function_call_output', call_id: call!.call_id, output: '{"sky":"sunny"}' },
    ];
    expect((await gw.openai().responses.create({ model: 'gpt', input, tools: weather })).output_text).toBe('It is sunny.');
  });
});

import { createOpenAI } from '@ai-sdk/openai';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { sharedServedGateway } from '../test-support/served-gateway.js';

/*
 * The Responses endpoint against the two clients that use it most: the official `openai` SDK
 * (`client.responses.*`) and the Vercel AI SDK's OpenAI provider (`openai.responses(model)`), over a real
 * server, with the mock engine and an OpenAI-wire upstream (which records what the gateway sent it).
 */

let upstream: OpenAIWireServer;

type ChatBody = { messages: Array<{ role: string; content?: unknown; tool_calls?: unknown[] }> };

const THINK = 'Think, then answer.';

/** The upstream "model": reasons first when asked to (THINK); else calls get_weather unless the conversation already holds the tool's answer. */
function weatherScript(request: { body: unknown }) {
  const messages = (request.body as ChatBody).messages;
  const text = (c: unknown) => (typeof c === 'string' ? c : Array.isArray(c) ? c.map((p: { text?: string }) => p.text ?? '').join('') : '');
  if (messages.some((m) => m.role === 'user' && text(m.content) === THINK)) return { reasoning: 'Think first.', text: 'Answer.' };
  const result = messages.find((m) => m.role === 'tool');
  if (result) return { text: `It is ${JSON.parse(String(result.content)).temp} degrees in Oslo.` };
  return { toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] };
}

const served = sharedServedGateway(async () => {
  upstream = await startOpenAIWireServer({ script: weatherScript });
  return {
    models: [
      mockModel('mock', { chunkDelayMs: 1 }),
      mockModel('breaks', { failures: [{ code: 'provider_error', message: 'upstream broke', afterChunks: 2, times: 1000 }] }),
      { name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming', 'tools', 'json'] },
    ],
    upstreams: [upstream],
  };
});
beforeEach(() => {
  upstream.requests.length = 0;
});

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

describe('official openai client: client.responses', () => {
  const client = () => served.gw.openai();

  it('create, non-streamed', async () => {
    const res = await client().responses.create({ model: 'mock', input: 'hello there', instructions: 'Be kind.' });
    expect(res.object).toBe('response');
    expect(res.status).toBe('completed');
    expect(res.output_text).toBe('Mock answer to: hello there');
    expect(res.instructions).toBe('Be kind.');
    expect(res.usage).toMatchObject({ input_tokens: 4, output_tokens: 5, total_tokens: 9 });
    const row = await served.gw.ledger.get(`req_${res.id.slice(5)}`);
    expect(row).toMatchObject({ endpoint: '/v1/responses', stream: false, status: 'success' });
  });

  it('create with stream: true, through the raw event iterator', async () => {
    const stream = await client().responses.create({ model: 'mock', input: 'hello there', stream: true });
    const types: string[] = [];
    let text = '';
    let final: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') final = event.response;
    }
    expect(text).toBe('Mock answer to: hello there');
    expect(types[0]).toBe('response.created');
    expect(types.at(-1)).toBe('response.completed');
    expect(final?.usage).toMatchObject({ input_tokens: 2, output_tokens: 5 });
  });

  it('responses.stream(...).finalResponse() accumulates the events into the response', async () => {
    const runner = client().responses.stream({ model: 'mock', input: 'hello there' });
    const deltas: string[] = [];
    runner.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await runner.finalResponse();
    expect(final.output_text).toBe('Mock answer to: hello there');
    expect(deltas.join('')).toBe('Mock answer to: hello there');
    expect(final.status).toBe('completed');
    expect(final.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
  });

  it('a function tool round trip: function_call, then function_call_output, streamed and not', async () => {
    const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'Weather in Oslo?' }];
    const first = await client().responses.create({ model: 'gpt', input, tools: [weatherTool] });
    const call = first.output.find((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'get_weather', call_id: 'call_w1', arguments: '{"city":"Oslo"}' });
    expect(first.output_text).toBe('');
    const followUp: OpenAI.Responses.ResponseInput = [...input, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call!.call_id, output: '{"temp":3}' }];
    const second = await client().responses.create({ model: 'gpt', input: followUp, tools: [weatherTool] });
    expect(second.output_text).toBe('It is 3 degrees in Oslo.');
    // The upstream got one assistant turn with the call, then the tool's answer.
    expect((upstream.requests.at(-1)!.body as ChatBody).messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);

    const streamedCall = await client().responses.stream({ model: 'gpt', input, tools: [weatherTool] }).finalResponse();
    expect(streamedCall.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Oslo"}', status: 'completed' });
    const streamedAnswer = await client().responses.stream({ model: 'gpt', input: followUp, tools: [weatherTool] }).finalResponse();
    expect(streamedAnswer.output_text).toBe('It is 3 degrees in Oslo.');
  });

  it('a json_schema text format', async () => {
    const res = await client().responses.create({
      model: 'mock',
      input: 'answer in JSON',
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'], additionalProperties: false }, strict: true } },
    });
    expect(JSON.parse(res.output_text)).toEqual({ answer: 'Mock answer to: answer in JSON' });
    expect(res.text?.format).toMatchObject({ type: 'json_schema', name: 'answer' });
  });

  it('reasoning, non-streamed and accumulated from the stream: in summary and in content', async () => {
    const reasoning = { summary: [{ type: 'summary_text', text: 'Think first.' }], content: [{ type: 'reasoning_text', text: 'Think first.' }] };
    const res = await client().responses.create({ model: 'gpt', input: THINK });
    expect(res.output[0]).toMatchObject({ type: 'reasoning', ...reasoning });
    expect(res.output_text).toBe('Answer.');
    const final = await client().responses.stream({ model: 'gpt', input: THINK }).finalResponse();
    expect(final.output[0]).toMatchObject({ type: 'reasoning', ...reasoning });
    expect(final.output_text).toBe('Answer.');
  });

  it('reasoning.effort is applied (the mock engine names the effort it got) and echoed; an unknown effort is a 400 naming it', async () => {
    const res = await client().responses.create({ model: 'mock', input: 'hello there', reasoning: { effort: 'max' } });
    expect(res.output_text).toBe('Mock answer to: hello there');
    expect(res.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'Mock reasoning at effort max.' }] });
    expect(res.reasoning).toEqual({ effort: 'max', summary: null });
    const bad = await client()
      .responses.create({ model: 'mock', input: 'hi', reasoning: { effort: 'turbo' as 'high' } })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('reasoning.effort');
  });

  it('refused input is a BadRequestError naming the field', async () => {
    const bad = await client()
      .responses.create({ model: 'mock', input: 'hi', tools: [{ type: 'web_search' }] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tools.0.type');
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('unsupported');
    const chained = await client()
      .responses.create({ model: 'mock', input: 'hi', previous_response_id: 'resp_123' })
      .catch((e: unknown) => e);
    expect((chained as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('previous_response_id');
  });

  it('retrieve, delete, cancel and inputItems.list of a response it answered: a NotFoundError saying no responses are kept, not "No route"', async () => {
    const { id } = await client().responses.create({ model: 'mock', input: 'hi' });
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['retrieve', () => client().responses.retrieve(id)],
      ['delete', () => client().responses.delete(id)],
      ['cancel', () => client().responses.cancel(id)],
      ['input_items', () => client().responses.inputItems.list(id)],
    ];
    for (const [name, call] of calls) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(OpenAI.NotFoundError);
      const e = err as InstanceType<typeof OpenAI.NotFoundError>;
      expect({ code: e.code, param: e.param }, name).toEqual({ code: 'not_found', param: 'response_id' });
      expect(e.message, name).toContain(`Response ${id} not found: the gateway keeps no responses`);
    }
  });

  it('a stream that breaks mid-way throws an APIError in the client', async () => {
    const stream = await client().responses.create({ model: 'breaks', input: 'hello there', stream: true });
    let text = '';
    const error = await (async () => {
      for await (const event of stream) if (event.type === 'response.output_text.delta') text += event.delta;
    })().catch((e: unknown) => e);
    expect(text).toBe('Mock answer ');
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain('upstream broke');
    const helper = await client()
      .responses.stream({ model: 'breaks', input: 'hello there' })
      .finalResponse()
      .catch((e: unknown) => e);
    expect(helper).toBeInstanceOf(OpenAI.APIError);
  });
});

describe('Vercel AI SDK: @ai-sdk/openai responses model', () => {
  const provider = () => createOpenAI({ baseURL: `${served.gw.url}/v1`, apiKey: served.gw.secret });

  it('generateText', async () => {
    const result = await generateText({ model: provider().responses('mock'), prompt: 'hello there' });
    expect(result.text).toBe('Mock answer to: hello there');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({ inputTokens: 2, outputTokens: 5, totalTokens: 7 });
  });

  it('openai(model) is the Responses model too', async () => {
    const result = await generateText({ model: provider()('mock'), system: 'Be brief.', prompt: 'hello there' });
    expect(result.text).toBe('Mock answer to: hello there');
  });

  it('streamText', async () => {
    const result = streamText({ model: provider().responses('mock'), prompt: 'hello there' });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('Mock answer to: hello there');
    expect(await result.finishReason).toBe('stop');
    expect(await result.usage).toMatchObject({ inputTokens: 2, outputTokens: 5 });
  });

  it('generateText and streamText see the reasoning (the AI SDK reads it from the summary)', async () => {
    const result = await generateText({ model: provider().responses('gpt'), prompt: THINK });
    expect(result.text).toBe('Answer.');
    expect(result.reasoningText).toBe('Think first.');

    const streamed = streamText({ model: provider().responses('gpt'), prompt: THINK });
    let reasoning = '';
    for await (const part of streamed.fullStream) if (part.type === 'reasoning-delta') reasoning += part.text;
    expect(await streamed.text).toBe('Answer.');
    expect(reasoning).toBe('Think first.');
    expect(await streamed.reasoningText).toBe('Think first.');
  });

  it('a multi-step tool round trip, streamed and not', async () => {
    const tools = {
      get_weather: tool({
        description: 'Weather for a city',
        inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
        execute: async ({ city }) => ({ city, temp: 3 }),
      }),
    };
    const result = await generateText({ model: provider().responses('gpt'), prompt: 'Weather in Oslo?', tools, stopWhen: stepCountIs(3) });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]!.toolCalls[0]).toMatchObject({ toolName: 'get_weather', input: { city: 'Oslo' } });
    expect(result.text).toBe('It is 3 degrees in Oslo.');

    const streamed = streamText({ model: provider().responses('gpt'), prompt: 'Weather in Oslo?', tools, stopWhen: stepCountIs(3) });
    let text = '';
    for await (const delta of streamed.textStream) text += delta;
    expect(text).toBe('It is 3 degrees in Oslo.');
    expect((await streamed.steps).length).toBe(2);
  });

  it('a later turn that refers to stored items is refused (item_reference); with store: false it works', async () => {
    const first = await generateText({ model: provider().responses('mock'), prompt: 'hello there' });
    const messages = [...first.response.messages, { role: 'user' as const, content: 'and again' }];
    const refused = await generateText({ model: provider().responses('mock'), messages }).catch((e: unknown) => e);
    expect(String((refused as Error).message)).toMatch(/item_reference.*store = false/);
    const ok = await generateText({ model: provider().responses('mock'), messages, providerOptions: { openai: { store: false } } });
    expect(ok.text).toBe('Mock answer to: and again');
  });

  it('a stream that breaks mid-way surfaces as an error part', async () => {
    const result = streamText({ model: provider().responses('breaks'), prompt: 'hello there', onError: () => {} });
    const errors: unknown[] = [];
    let text = '';
    for await (const part of result.fullStream) {
      if (part.type === 'text-delta') text += part.text;
      if (part.type === 'error') errors.push(part.error);
    }
    expect(text).toBe('Mock answer ');
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors[0])).toContain('upstream broke');
  });
});

import Anthropic from '@anthropic-ai/sdk';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';

let h: Harness;
let served: ServedGateway;
let secret: string;

beforeAll(async () => {
  h = await createHarness({
    stores: 'memory',
    models: [
      mockModel('mock', { chunkDelayMs: 1 }),
      mockModel('tool-model', { toolArguments: { city: 'Oslo' } }),
      mockModel('breaks', { failures: [{ code: 'provider_error', message: 'upstream broke', afterChunks: 2, times: 1000 }] }),
    ],
  });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  secret = (await h.stores!.tenants.createKey('acme', { name: 'sdk' })).secret;
  const limited = await h.stores!.tenants.createTenant({ id: 'tiny', name: 'Tiny', limits: { rpm: 1 } });
  tinySecret = (await h.stores!.tenants.createKey(limited.id, { name: 'sdk' })).secret;
  served = await serveGateway(h.gateway, { port: 0 });
});
afterAll(async () => {
  await served?.close(1000);
  await h?.close();
});
let tinySecret: string;

const messages = [{ role: 'user' as const, content: 'hello there' }];
const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

describe('official openai client', () => {
  const client = () => new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });

  it('non-streamed chat', async () => {
    const res = await client().chat.completions.create({ model: 'mock', messages });
    expect(res.choices[0]!.message.content).toBe('Mock answer to: hello there');
    expect(res.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
  });

  it('streamed chat with usage, through the raw iterator and the stream helper', async () => {
    const stream = await client().chat.completions.create({ model: 'mock', messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Mock answer to: hello there');
    expect(usage).toMatchObject({ completion_tokens: 5 });

    // The helper accumulates chunks into a completion and rejects malformed sequences.
    const final = await client().chat.completions.stream({ model: 'mock', messages, stream_options: { include_usage: true } }).finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe('Mock answer to: hello there');
    expect(final.choices[0]!.finish_reason).toBe('stop');
  });

  it('tools, streamed and not', async () => {
    const res = await client().chat.completions.create({ model: 'tool-model', messages, tools: [weatherTool] });
    const call = res.choices[0]!.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Oslo' });
    expect(res.choices[0]!.finish_reason).toBe('tool_calls');

    const final = await client().chat.completions.stream({ model: 'tool-model', messages, tools: [weatherTool] }).finalChatCompletion();
    const streamed = final.choices[0]!.message.tool_calls![0]!;
    expect(streamed.type === 'function' && streamed.function.name).toBe('get_weather');
    expect(streamed.type === 'function' && JSON.parse(streamed.function.arguments)).toEqual({ city: 'Oslo' });
  });

  it('JSON mode, completions and model list', async () => {
    const json = await client().chat.completions.create({ model: 'mock', messages, response_format: { type: 'json_object' } });
    expect(JSON.parse(json.choices[0]!.message.content!)).toHaveProperty('answer');
    const completion = await client().completions.create({ model: 'mock', prompt: 'once upon' });
    expect(completion.choices[0]!.text).toBe('Mock answer to: once upon');
    const models = [];
    for await (const m of client().models.list()) models.push(m.id);
    expect(models).toEqual(['mock', 'tool-model', 'breaks']);
  });

  it('errors surface as the SDK typed errors', async () => {
    await expect(client().chat.completions.create({ model: 'nope', messages })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const bad = await client()
      .chat.completions.create({ model: 'mock', messages, temperature: 9 })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('temperature');
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('invalid_request');
    const anon = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'llmrr_wrong', maxRetries: 0 });
    await expect(anon.chat.completions.create({ model: 'mock', messages })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const tiny = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: tinySecret, maxRetries: 0 });
    await tiny.chat.completions.create({ model: 'mock', messages });
    const limited = await tiny.chat.completions.create({ model: 'mock', messages }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(Number((limited as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('a stream that breaks mid-way throws an APIError in the client', async () => {
    const stream = await client().chat.completions.create({ model: 'breaks', messages, stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(text).toBe('Mock answer ');
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain('upstream broke');
  });
});

describe('official anthropic client', () => {
  const client = () => new Anthropic({ baseURL: served.url, apiKey: secret, maxRetries: 0 });

  it('messages.create', async () => {
    const msg = await client().messages.create({ model: 'mock', max_tokens: 100, messages });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'Mock answer to: hello there' });
    expect(msg.usage.output_tokens).toBe(5);
    expect(msg.stop_reason).toBe('end_turn');
  });

  it('messages.stream accumulates the event sequence', async () => {
    const stream = client().messages.stream({ model: 'mock', max_tokens: 100, messages });
    const deltas: string[] = [];
    stream.on('text', (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(deltas.join('')).toBe('Mock answer to: hello there');
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Mock answer to: hello there' });
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({ input_tokens: 2, output_tokens: 5 });
  });

  it('tool use through the stream helper', async () => {
    const final = await client()
      .messages.stream({ model: 'tool-model', max_tokens: 100, messages, tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }] })
      .finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Oslo' } });
    expect(final.stop_reason).toBe('tool_use');
  });

  it('errors: typed, and a mid-stream break rejects the stream', async () => {
    await expect(client().messages.create({ model: 'nope', max_tokens: 10, messages })).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const broken = await client()
      .messages.stream({ model: 'breaks', max_tokens: 100, messages })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(broken).toBeInstanceOf(Anthropic.APIError);
  });
});

describe('Vercel AI SDK through @ai-sdk/openai-compatible', () => {
  const provider = () => createOpenAICompatible({ name: 'llmrr', baseURL: `${served.url}/v1`, apiKey: secret, includeUsage: true });

  it('generateText', async () => {
    const { text, usage, finishReason } = await generateText({ model: provider()('mock'), prompt: 'hello there', maxRetries: 0 });
    expect(text).toBe('Mock answer to: hello there');
    expect(finishReason).toBe('stop');
    expect(usage.outputTokens).toBe(5);
  });

  it('streamText', async () => {
    const result = streamText({ model: provider()('mock'), prompt: 'hello there', maxRetries: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe('Mock answer to: hello there');
    expect((await result.usage).outputTokens).toBe(5);
    expect(await result.finishReason).toBe('stop');
  });
});

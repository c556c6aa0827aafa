import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest, StreamPart } from '../../spec/index.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine, createOpenAICompatibleEngine } from './index.js';
import { collect, rejection } from '../../test/async.test-helpers.js';

let server: OpenAIWireServer;

beforeEach(async () => {
  server = await startOpenAIWireServer();
});

afterEach(async () => {
  await server.close();
});

function engineFor(config: Partial<ModelConfigInput> = {}, env: Record<string, string | undefined> = {}): OpenAICompatibleEngine {
  const model = ModelConfigSchema.parse({ name: 'test-deployment', model: 'gpt-test', baseURL: server.baseURL, ...config });
  return new OpenAICompatibleEngine(model, defaultEngineContext({ env }));
}

const hello: GenerateRequest = { messages: [{ role: 'user', content: 'Hello there' }] };

function textOf(parts: StreamPart[]): string {
  return parts.map((p) => (p.type === 'text-delta' ? p.delta : '')).join('');
}

function lastPart(parts: StreamPart[]): StreamPart {
  const last = parts.at(-1);
  if (!last) throw new Error('no parts');
  return last;
}

function errorOf(parts: StreamPart[]): LLMError {
  const last = lastPart(parts);
  if (last.type !== 'error') throw new Error(`expected an error part, got ${last.type}`);
  return last.error;
}

describe('generate (non-streaming)', () => {
  it('sends the chat body and maps the answer, usage, id and model', async () => {
    server.setScript({ text: 'Hi! How can I help?', usage: { prompt_tokens: 9, completion_tokens: 6 }, id: 'chatcmpl-1', model: 'gpt-test-2025' });
    const engine = engineFor({ apiKey: 'sk-test' });
    const result = await engine.generate({ ...hello, temperature: 0.2 });
    expect(result).toMatchObject({
      text: 'Hi! How can I help?',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 9, outputTokens: 6, totalTokens: 15 },
      id: 'chatcmpl-1',
      providerModel: 'gpt-test-2025',
    });
    expect(result.usage.estimated).toBeUndefined();
    const [request] = server.requests;
    expect(request?.url).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe('Bearer sk-test');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.body).toEqual({ model: 'gpt-test', messages: [{ role: 'user', content: 'Hello there' }], temperature: 0.2 });
  });

  it('maps every request field to the wire body, with providerOptions.openai merged last', async () => {
    const engine = engineFor();
    await engine.generate({
      messages: [
        { role: 'system', content: 'Be brief.', name: 'moderator' },
        {
          role: 'user',
          name: 'ana',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image', url: 'https://example.com/cat.png' },
            { type: 'image', data: 'iVBORw0KGgo=', mediaType: 'image/png' },
          ],
        },
        { role: 'assistant', content: null, name: 'looker', toolCalls: [{ id: 'call_1', name: 'look', arguments: '{"x":1}' }] },
        { role: 'tool', toolCallId: 'call_1', content: 'a cat' },
        { role: 'assistant', content: 'A cat.', name: 'looker' },
      ],
      maxTokens: 50,
      temperature: 0,
      topP: 0.9,
      stop: ['END'],
      seed: 42,
      user: 'user-7',
      tools: [{ name: 'look', description: 'Look at things', parameters: { type: 'object', properties: { x: { type: 'number' } } } }],
      toolChoice: { name: 'look' },
      providerOptions: { openai: { logit_bias: { '50256': -100 }, temperature: 0.5 }, anthropic: { ignored: true } },
    });
    expect(server.requests[0]?.body).toEqual({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'Be brief.', name: 'moderator' },
        {
          role: 'user',
          name: 'ana',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
        { role: 'assistant', content: null, name: 'looker', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'look', arguments: '{"x":1}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
        { role: 'assistant', content: 'A cat.', name: 'looker' },
      ],
      max_tokens: 50,
      temperature: 0.5,
      top_p: 0.9,
      stop: ['END'],
      seed: 42,
      user: 'user-7',
      tools: [{ type: 'function', function: { name: 'look', description: 'Look at things', parameters: { type: 'object', properties: { x: { type: 'number' } } } } }],
      tool_choice: { type: 'function', function: { name: 'look' } },
      logit_bias: { '50256': -100 },
    });
  });

  it('sends logitBias as logit_bias, without a warning; an empty map asks for nothing and is not sent', async () => {
    const engine = engineFor();
    const result = await engine.generate({ ...hello, logitBias: { '9642': 100, '2822': 100 }, maxTokens: 1 });
    expect(server.requests.at(-1)?.body).toMatchObject({ logit_bias: { '9642': 100, '2822': 100 }, max_tokens: 1 });
    expect(result.warnings).toBeUndefined();
    await engine.generate({ ...hello, logitBias: {} });
    expect(server.requests.at(-1)?.body).not.toHaveProperty('logit_bias');
  });

  it('sends JSON mode and JSON schema response formats', async () => {
    const engine = engineFor();
    server.setScript({ text: '{"answer":4}' });
    const result = await engine.generate({ ...hello, responseFormat: { type: 'json_object' } });
    expect(JSON.parse(result.text)).toEqual({ answer: 4 });
    expect((server.requests[0]?.body as Record<string, unknown>).response_format).toEqual({ type: 'json_object' });

    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false };
    await engine.generate({ ...hello, responseFormat: { type: 'json_schema', name: 'math', schema, strict: true } });
    expect((server.requests[1]?.body as Record<string, unknown>).response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'math', schema, strict: true },
    });

    await engine.generate({ ...hello, responseFormat: { type: 'text' } });
    expect(server.requests[2]?.body).not.toHaveProperty('response_format');
  });

  it('returns tool calls, reasoning and cached/reasoning token usage', async () => {
    server.setScript({
      reasoning: 'Need the weather tool.',
      toolCalls: [{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' }],
      usage: {
        prompt_tokens: 120,
        completion_tokens: 40,
        total_tokens: 160,
        prompt_tokens_details: { cached_tokens: 100 },
        completion_tokens_details: { reasoning_tokens: 25 },
      },
    });
    const result = await engineFor().generate({ ...hello, tools: [{ name: 'get_weather', parameters: { type: 'object' } }] });
    expect(result.text).toBe('');
    expect(result.reasoning).toBe('Need the weather tool.');
    expect(result.finishReason).toBe('tool-calls');
    expect(result.toolCalls).toEqual([{ id: 'call_a', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    expect(result.usage).toEqual({ inputTokens: 120, outputTokens: 40, totalTokens: 160, cachedInputTokens: 100, reasoningTokens: 25 });
  });

  it('estimates usage (marked) when the answer reports none', async () => {
    server.setScript({ text: 'abcdefgh', usage: null });
    const result = await engineFor().generate({ messages: [{ role: 'user', content: 'x'.repeat(40) }] });
    // Input: the shared estimate, 10 tokens of text + 4 per message + 3 reply priming.
    expect(result.usage).toEqual({ inputTokens: 17, outputTokens: 2, totalTokens: 19, estimated: true });
  });

  it('rejects bad input with a typed error naming the field, before any request', async () => {
    const engine = engineFor();
    const noMessages = await rejection(engine.generate({ messages: [] }));
    expect(noMessages).toMatchObject({ code: 'invalid_request', param: 'messages' });
    const badChoice = await rejection(engine.generate({ ...hello, tools: [{ name: 'a', parameters: {} }], toolChoice: { name: 'b' } }));
    expect(badChoice).toMatchObject({ code: 'invalid_request', param: 'toolChoice.name' });
    const badImage = await rejection(engine.generate({ messages: [{ role: 'user', content: [{ type: 'image', data: 'AAAA' }] }] }));
    expect(badImage).toMatchObject({ code: 'invalid_request', param: 'messages.0.content.0.mediaType' });
    expect(server.requests).toHaveLength(0);
  });

  it('maps an invalid answer body to invalid_response', async () => {
    server.setScript({ json: { id: 'x', choices: [] } });
    const error = await rejection(engineFor().generate(hello));
    expect(error.code).toBe('invalid_response');
    expect(error.isRetryable).toBe(true);
  });
});

describe('stream', () => {
  it('streams metadata, text deltas, usage and finish, asking for usage', async () => {
    server.setScript({ text: 'One two three four five', chunks: 5, id: 'chatcmpl-s1', model: 'gpt-test-2025' });
    const parts = await collect(engineFor().stream(hello));
    expect(parts[0]).toEqual({ type: 'response-metadata', id: 'chatcmpl-s1', model: 'gpt-test-2025' });
    expect(parts.filter((p) => p.type === 'text-delta')).toHaveLength(5);
    expect(textOf(parts)).toBe('One two three four five');
    const usage = parts.find((p) => p.type === 'usage');
    expect(usage).toBeDefined();
    const finish = lastPart(parts);
    expect(finish).toMatchObject({ type: 'finish', finishReason: 'stop' });
    if (finish.type === 'finish') expect(finish.usage.estimated).toBeUndefined();
    expect(parts.indexOf(usage!)).toBeLessThan(parts.length - 1);
    expect(server.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(server.requests[0]?.headers.accept).toBe('text/event-stream');
  });

  it('streams tool calls in pieces and reassembles them', async () => {
    server.setScript({
      toolCalls: [
        { id: 'call_p', name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' },
        { id: 'call_t', name: 'get_time', arguments: '{"tz":"Asia/Tokyo"}' },
      ],
      toolArgumentChunks: 4,
    });
    const parts = await collect(engineFor().stream({ ...hello, tools: [{ name: 'get_weather', parameters: {} }, { name: 'get_time', parameters: {} }] }));
    const deltas = parts.filter((p) => p.type === 'tool-call-delta');
    expect(deltas).toHaveLength(2 * (1 + 4));
    expect(deltas[0]).toEqual({ type: 'tool-call-delta', index: 0, id: 'call_p', name: 'get_weather', argumentsDelta: '' });
    expect(deltas.filter((d) => d.type === 'tool-call-delta' && d.index === 1).map((d) => (d.type === 'tool-call-delta' ? d.argumentsDelta : '')).join('')).toBe(
      '{"tz":"Asia/Tokyo"}',
    );
    const calls = parts.filter((p) => p.type === 'tool-call');
    expect(calls).toEqual([
      { type: 'tool-call', index: 0, toolCall: { id: 'call_p', name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' } },
      { type: 'tool-call', index: 1, toolCall: { id: 'call_t', name: 'get_time', arguments: '{"tz":"Asia/Tokyo"}' } },
    ]);
    // complete tool calls come after all their deltas, before finish
    expect(parts.indexOf(calls[0]!)).toBeGreaterThan(parts.indexOf(deltas.at(-1)!));
    expect(lastPart(parts)).toMatchObject({ type: 'finish', finishReason: 'tool-calls' });
  });

  it('streams reasoning_content as reasoning deltas and reports cached/reasoning tokens', async () => {
    server.setScript({
      reasoning: 'Two plus two is four.',
      text: 'It is 4.',
      usage: { prompt_tokens: 30, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 16 }, completion_tokens_details: { reasoning_tokens: 12 } },
    });
    const parts = await collect(engineFor().stream(hello));
    const reasoning = parts.filter((p) => p.type === 'reasoning-delta').map((p) => (p.type === 'reasoning-delta' ? p.delta : '')).join('');
    expect(reasoning).toBe('Two plus two is four.');
    expect(textOf(parts)).toBe('It is 4.');
    expect(parts.findIndex((p) => p.type === 'reasoning-delta')).toBeLessThan(parts.findIndex((p) => p.type === 'text-delta'));
    expect(lastPart(parts)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      usage: { inputTokens: 30, outputTokens: 20, totalTokens: 50, cachedInputTokens: 16, reasoningTokens: 12 },
    });
  });

  it('ends with an estimated usage when the provider sends none', async () => {
    server.setScript({ text: 'abcdefghij', usage: null });
    const parts = await collect(engineFor().stream({ messages: [{ role: 'user', content: 'y'.repeat(20) }] }));
    expect(parts.some((p) => p.type === 'usage')).toBe(false);
    expect(lastPart(parts)).toEqual({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 5 + 4 + 3, outputTokens: 3, totalTokens: 15, estimated: true } });
  });

  it('ends with a stream_interrupted error after the text deltas when the connection is cut', async () => {
    server.setScript({ text: 'a b c d e f', chunks: 6, cutAfterChunks: 3 });
    const parts = await collect(engineFor().stream(hello));
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'text-delta', 'text-delta', 'text-delta', 'error']);
    expect(textOf(parts)).toBe('a b c');
    const error = errorOf(parts);
    expect(error.code).toBe('stream_interrupted');
    expect(error.isRetryable).toBe(true);
    expect(error.provider).toBe('openai-compatible');
    expect(error.deployment).toBe('test-deployment');
  });

  it('treats a clean end without [DONE] and without finish_reason as interrupted', async () => {
    server.setScript({ text: 'partial answer', finishReason: null, omitDone: true });
    const parts = await collect(engineFor().stream(hello));
    expect(textOf(parts)).toBe('partial answer');
    expect(errorOf(parts).code).toBe('stream_interrupted');
  });

  it('accepts a finish_reason without [DONE] as a complete stream', async () => {
    server.setScript({ text: 'whole answer', omitDone: true });
    const parts = await collect(engineFor().stream(hello));
    expect(lastPart(parts)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('turns an error object inside the stream into an error part', async () => {
    server.setScript({
      rawSSE: [
        'data: {"id":"gen-1","model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}',
        'data: {"error":{"message":"Upstream overloaded","code":502}}',
      ].join('\n\n'),
    });
    const parts = await collect(engineFor({ preset: 'openrouter', apiKey: 'k' }).stream(hello));
    expect(textOf(parts)).toBe('Hel');
    expect(errorOf(parts)).toMatchObject({ code: 'provider_error', provider: 'openrouter', upstreamStatus: 502 });
  });

  it('yields HTTP errors as a single error part before any content', async () => {
    server.setScript({ error: { status: 503, message: 'The engine is currently overloaded' } });
    const parts = await collect(engineFor().stream(hello));
    expect(parts).toHaveLength(1);
    expect(errorOf(parts)).toMatchObject({ code: 'provider_unavailable', upstreamStatus: 503, isRetryable: true });
  });
});

describe('error mapping', () => {
  const cases: Array<{ name: string; error: Parameters<OpenAIWireServer['setScript']>[0]; expected: Partial<LLMError> }> = [
    {
      name: '400 context_length_exceeded',
      error: { error: { status: 400, code: 'context_length_exceeded', param: 'messages', message: "This model's maximum context length is 8192 tokens." } },
      expected: { code: 'context_length_exceeded', isRetryable: false, upstreamStatus: 400, param: 'messages' },
    },
    {
      name: '400 invalid request',
      error: { error: { status: 400, code: null, param: 'temperature', message: 'Invalid temperature' } },
      expected: { code: 'invalid_request', isRetryable: false, param: 'temperature' },
    },
    {
      name: '401 invalid key',
      error: { error: { status: 401, code: 'invalid_api_key', type: 'invalid_request_error', message: 'Incorrect API key provided' } },
      expected: { code: 'authentication', isRetryable: false, upstreamStatus: 401 },
    },
    {
      name: '429 rate limit with Retry-After',
      error: { error: { status: 429, code: 'rate_limit_exceeded', type: 'requests', message: 'Rate limit reached', headers: { 'retry-after': '2' } } },
      expected: { code: 'rate_limited', isRetryable: true, retryAfterMs: 2000 },
    },
    {
      name: '429 rate limit with retry-after-ms',
      error: { error: { status: 429, code: 'rate_limit_exceeded', headers: { 'retry-after-ms': '350' } } },
      expected: { code: 'rate_limited', isRetryable: true, retryAfterMs: 350 },
    },
    {
      name: '429 insufficient_quota',
      error: { error: { status: 429, code: 'insufficient_quota', type: 'insufficient_quota', message: 'You exceeded your current quota', headers: { 'retry-after': '1' } } },
      expected: { code: 'budget_exceeded', isRetryable: false, retryAfterMs: undefined },
    },
    // A 404 is the deployment's model only in the provider's words; OpenRouter's "No endpoints found that support ..."
    // is this request's ask (unsupported: falls over, out of the circuit); any other 404 is an address not there.
    {
      name: '404 model_not_found (OpenAI)',
      error: { error: { status: 404, code: 'model_not_found', type: 'invalid_request_error', message: 'The model `gpt-4o-typo` does not exist or you do not have access to it.' } },
      expected: { code: 'provider_model_not_found', isRetryable: false, upstreamStatus: 404 },
    },
    {
      name: '404 "The model `x` does not exist" (vLLM)',
      error: { error: { status: 404, body: { object: 'error', message: 'The model `llama-typo` does not exist.', type: 'NotFoundError', param: null, code: 404 } } },
      expected: { code: 'provider_model_not_found', isRetryable: false, upstreamStatus: 404 },
    },
    {
      name: '404 `model "x" not found` (Ollama)',
      error: { error: { status: 404, body: { error: { message: 'model "llama3-typo" not found, try pulling it first', type: 'api_error', param: null, code: null } } } },
      expected: { code: 'provider_model_not_found', isRetryable: false, upstreamStatus: 404 },
    },
    {
      name: '404 DeploymentNotFound (Azure OpenAI: the deployment in the URL stands for the model)',
      error: { error: { status: 404, body: { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.' } } } },
      expected: { code: 'provider_model_not_found', isRetryable: false, upstreamStatus: 404 },
    },
    {
      name: '404 "Model not found, inaccessible, and/or not deployed", param model (Fireworks)',
      error: { error: { status: 404, body: { error: { message: 'Model not found, inaccessible, and/or not deployed', param: 'model', code: 'NOT_FOUND', type: 'error' } } } },
      expected: { code: 'provider_model_not_found', isRetryable: false, upstreamStatus: 404, param: 'model' },
    },
    // Unknown-model answers sent as a 400: the deployment's model id, not the caller's request (falls over).
    {
      name: '400 "Model Not Exist" (DeepSeek)',
      error: { error: { status: 400, body: { error: { message: 'Model Not Exist', type: 'invalid_request_error', param: null, code: 'invalid_request_error' } } } },
      expected: { code: 'provider_model_not_found', isRetryable: false, upstreamStatus: 400 },
    },
    {
      name: '400 "Invalid model: x", type invalid_model (Mistral)',
      error: { error: { status: 400, body: { object: 'error', message: 'Invalid model: mistral-larg-latest', type: 'invalid_model', param: null, code: '1500' } } },
      expected: { code: 'provider_model_not_found', isRetryable: false, upstreamStatus: 400 },
    },
    {
      name: '400 model_not_available (Together: a non-serverless model)',
      error: { error: { status: 400, body: { error: { message: 'Unable to access non-serverless model meta-llama/Llama-3-8b-chat-hf. Please visit https://api.together.ai/models/meta-llama/Llama-3-8b-chat-hf to create and start a new dedicated endpoint for the model.', type: 'invalid_request_error', param: null, code: 'model_not_available' } } } },
      expected: { code: 'provider_model_not_found', isRetryable: false, upstreamStatus: 400 },
    },
    {
      name: '400 naming the model without saying it is unknown (stays the request\'s fault)',
      error: { error: { status: 400, body: { error: { message: 'model does not support tools', type: 'invalid_request_error', param: 'tools', code: null } } } },
      expected: { code: 'invalid_request', isRetryable: false, upstreamStatus: 400, param: 'tools' },
    },
    {
      name: '404 "No endpoints found that support tool use" (OpenRouter)',
      error: { error: { status: 404, body: { error: { message: 'No endpoints found that support tool use. To learn more about provider routing, visit: https://openrouter.ai/docs/provider-routing', code: 404 } } } },
      expected: { code: 'unsupported', isRetryable: false, upstreamStatus: 404, message: 'openai-compatible responded 404: No endpoints found that support tool use. To learn more about provider routing, visit: https://openrouter.ai/docs/provider-routing' },
    },
    {
      name: '404 of a path the server does not serve (FastAPI)',
      error: { error: { status: 404, body: { detail: 'Not Found' } } },
      expected: { code: 'provider_error', isRetryable: false, upstreamStatus: 404, message: 'openai-compatible answered 404 for /v1/chat/completions: wrong base URL or endpoint? (Not Found)' },
    },
    { name: '500', error: { error: { status: 500, type: 'server_error' } }, expected: { code: 'provider_error', isRetryable: true, upstreamStatus: 500 } },
    { name: '503', error: { error: { status: 503 } }, expected: { code: 'provider_unavailable', isRetryable: true, upstreamStatus: 503 } },
  ];

  for (const c of cases) {
    it(`maps ${c.name}`, async () => {
      server.setScript(c.error);
      const error = await rejection(engineFor().generate(hello));
      expect(error).toMatchObject(c.expected);
      expect(error.deployment).toBe('test-deployment');
    });
  }

  it("keeps the provider's message and maps vLLM-style bodies", async () => {
    server.setScript({
      error: {
        status: 400,
        body: { object: 'error', message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.", type: 'BadRequestError', param: null, code: 400 },
      },
    });
    const error = await rejection(engineFor({ preset: 'vllm', baseURL: server.baseURL }).generate(hello));
    expect(error.code).toBe('context_length_exceeded');
    expect(error.message).toContain('vllm responded 400');
    expect(error.message).toContain('maximum context length is 4096');
  });

  it('follows a redirect within the origin (generate, stream, embed), and refuses one to another origin, sending it nothing', async () => {
    const origin = new URL(server.baseURL).origin;
    const asked: string[] = [];
    // A proxy's fetch seam: /old/... answers a relative 308 to the same path without /old; elsewhere.test a 307 to the server.
    const fetch = (async (input: string, init?: RequestInit) => {
      const url = new URL(input);
      asked.push(`${url.host}${url.pathname}`);
      if (url.pathname.startsWith('/old/')) return new Response(null, { status: 308, headers: { location: url.pathname.slice('/old'.length) } });
      if (url.host === 'elsewhere.test') return new Response(null, { status: 307, headers: { location: `${server.baseURL}${url.pathname.slice('/v1'.length)}` } });
      return globalThis.fetch(input, init);
    }) as typeof globalThis.fetch;
    const over = (baseURL: string) => new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'test-deployment', model: 'gpt-test', baseURL, apiKey: 'k' }), defaultEngineContext({ fetch }));
    const moved = over(`${origin}/old/v1`);
    expect((await moved.generate(hello)).text).toBeTruthy();
    expect(lastPart(await collect(moved.stream(hello))).type).toBe('finish');
    expect((await moved.embed(['a'])).embeddings).toHaveLength(1);
    expect(server.requests.map((r) => [r.method, r.url])).toEqual([
      ['POST', '/v1/chat/completions'],
      ['POST', '/v1/chat/completions'],
      ['POST', '/v1/embeddings'],
    ]);
    const host = new URL(origin).host;
    expect(asked).toEqual([`${host}/old/v1/chat/completions`, `${host}/v1/chat/completions`, `${host}/old/v1/chat/completions`, `${host}/v1/chat/completions`, `${host}/old/v1/embeddings`, `${host}/v1/embeddings`]);
    const away = over('http://elsewhere.test/v1');
    const errors = [await rejection(away.generate(hello)), errorOf(await collect(away.stream(hello))), await rejection(away.embed(['a']))];
    for (const error of errors) expect(error).toMatchObject({ code: 'provider_error', isRetryable: false, upstreamStatus: 307, message: expect.stringContaining('redirect (HTTP 307) to another address') });
    expect(server.requests).toHaveLength(3);
  });

  it('maps a refused connection to a retryable network_error', async () => {
    const url = server.baseURL;
    await server.close();
    const model = ModelConfigSchema.parse({ name: 'gone', baseURL: url });
    const error = await rejection(new OpenAICompatibleEngine(model, defaultEngineContext({ env: {} })).generate(hello));
    expect(error).toMatchObject({ code: 'network_error', isRetryable: true });
    server = await startOpenAIWireServer();
  });
});

describe('abort', () => {
  it('closes the upstream socket when a stream is aborted mid-way', async () => {
    server.setScript({ text: 'one two three four five six', hangAfterChunks: 2 });
    const controller = new AbortController();
    const parts: StreamPart[] = [];
    let deltas = 0;
    for await (const part of engineFor().stream(hello, { signal: controller.signal })) {
      parts.push(part);
      if (part.type === 'text-delta' && ++deltas === 2) controller.abort();
    }
    expect(textOf(parts)).toBe('one two ');
    expect(errorOf(parts).code).toBe('aborted');
    await server.waitForSocketClose(1);
    expect(server.responsesAborted).toBe(1);
  });

  it('closes the upstream socket when a non-streaming call is aborted while waiting', async () => {
    server.setScript({ hang: true });
    const controller = new AbortController();
    const pending = engineFor().generate(hello, { signal: controller.signal });
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    const error = await rejection(pending);
    expect(error.code).toBe('aborted');
    await server.waitForSocketClose(1);
    expect(server.responsesAborted).toBe(1);
  });

  it('maps a timeout signal to timeout', async () => {
    server.setScript({ hang: true });
    const error = await rejection(engineFor().generate(hello, { signal: AbortSignal.timeout(50) }));
    expect(error.code).toBe('timeout');
  });

  it('does not call the server when already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const parts = await collect(engineFor().stream(hello, { signal: controller.signal }));
    expect(errorOf(parts).code).toBe('aborted');
    expect(server.requests).toHaveLength(0);
  });

  it('releases the connection when the consumer stops reading early', async () => {
    server.setScript({ text: 'a b c d e f g h', hangAfterChunks: 3 });
    for await (const part of engineFor().stream(hello)) {
      if (part.type === 'text-delta') break;
    }
    await server.waitForSocketClose(1);
    expect(server.responsesAborted).toBe(1);
  });
});

describe('presets', () => {
  it('azure-openai: deployment in the path, api-version query, api-key header, no model in body', async () => {
    const engine = engineFor({ preset: 'azure-openai', name: 'azure-gpt', model: 'my-gpt4o', baseURL: server.url, options: { apiVersion: '2024-10-21' } }, {
      AZURE_OPENAI_API_KEY: 'azure-secret',
    });
    await engine.generate(hello);
    const [request] = server.requests;
    expect(request?.url).toBe('/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21');
    expect(request?.headers['api-key']).toBe('azure-secret');
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).not.toHaveProperty('model');
  });

  it('azure-openai: endpoint from AZURE_OPENAI_ENDPOINT, deployment option, default api-version', async () => {
    const model = ModelConfigSchema.parse({ name: 'az', preset: 'azure-openai', options: { deployment: 'prod-deploy' } });
    const engine = createOpenAICompatibleEngine(model, defaultEngineContext({ env: { AZURE_OPENAI_ENDPOINT: `${server.url}/`, AZURE_OPENAI_API_KEY: 'k' } }));
    await collect(engine.stream(hello));
    expect(server.requests[0]?.url).toBe('/openai/deployments/prod-deploy/chat/completions?api-version=2024-10-21');
  });

  it('ollama: no auth header, no key needed', async () => {
    const engine = engineFor({ preset: 'ollama', model: 'llama3.2' });
    const result = await engine.generate(hello);
    expect(result.text).toBe('echo: Hello there');
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
    expect(server.requests[0]?.headers['api-key']).toBeUndefined();
    expect(engine.providerName).toBe('ollama');
  });

  it('a missing API key fails at call time with authentication naming the env var, sending nothing', async () => {
    const engine = engineFor({ preset: 'groq' });
    const error = await rejection(engine.generate(hello));
    expect(error.code).toBe('authentication');
    expect(error.message).toContain('GROQ_API_KEY');
    const parts = await collect(engine.stream(hello));
    expect(errorOf(parts).message).toContain('GROQ_API_KEY');
    const explicit = await rejection(engineFor({ preset: 'ollama', apiKeyEnv: 'MY_OLLAMA_PROXY_KEY' }).generate(hello));
    expect(explicit).toMatchObject({ code: 'authentication' });
    expect(explicit.message).toContain('MY_OLLAMA_PROXY_KEY');
    expect(server.requests).toHaveLength(0);
  });

  it('reads the preset key variable, and apiKeyEnv over it', async () => {
    await engineFor({ preset: 'together' }, { TOGETHER_API_KEY: 'tg' }).generate(hello);
    await engineFor({ preset: 'together', apiKeyEnv: 'OTHER' }, { TOGETHER_API_KEY: 'tg', OTHER: 'other' }).generate(hello);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer tg', 'Bearer other']);
  });

  it('sends config and call headers, the key winning over a configured Authorization in any case', async () => {
    const engine = engineFor({ preset: 'openrouter', apiKey: 'right', headers: { 'HTTP-Referer': 'https://app.example', Authorization: 'Bearer wrong' } });
    await engine.generate(hello, { headers: { 'X-Title': 'llmrr tests' } });
    const headers = server.requests[0]?.headers;
    expect(headers?.authorization).toBe('Bearer right');
    expect(headers?.['http-referer']).toBe('https://app.example');
    expect(headers?.['x-title']).toBe('llmrr tests');
  });

  it('maxTokens: max_completion_tokens for the openai preset (its reasoning models refuse max_tokens), max_tokens elsewhere, options.maxTokensField overrides', async () => {
    const sent = async (config: Partial<ModelConfigInput>): Promise<Record<string, unknown>> => {
      server.setScript({ text: 'ok' });
      await engineFor(config).generate({ ...hello, maxTokens: 64 });
      return server.requests.at(-1)?.body as Record<string, unknown>;
    };
    const openai = await sent({ preset: 'openai', apiKey: 'k' });
    expect(openai.max_completion_tokens).toBe(64);
    expect(openai).not.toHaveProperty('max_tokens');
    const generic = await sent({});
    expect(generic.max_tokens).toBe(64);
    expect(generic).not.toHaveProperty('max_completion_tokens');
    const azure = await sent({ preset: 'azure-openai', apiKey: 'k', options: { apiVersion: '2024-10-21' } });
    expect(azure.max_tokens).toBe(64);
    const azureReasoning = await sent({ preset: 'azure-openai', apiKey: 'k', options: { apiVersion: '2024-12-01-preview', maxTokensField: 'max_completion_tokens' } });
    expect(azureReasoning.max_completion_tokens).toBe(64);
    expect(azureReasoning).not.toHaveProperty('max_tokens');
    const groq = await sent({ preset: 'groq', apiKey: 'k', options: { maxTokensField: 'max_completion_tokens' } });
    expect(groq.max_completion_tokens).toBe(64);
    expect(() => engineFor({ options: { maxTokensField: 'max_output_tokens' } })).toThrowError(/options\.maxTokensField/);
  });

  it('mistral: random_seed, no user, no stream_options; usage arriving on the finish chunk', async () => {
    server.setScript({ text: 'Bonjour', streamUsage: 'always', usage: { prompt_tokens: 5, completion_tokens: 2 } });
    const parts = await collect(engineFor({ preset: 'mistral', apiKey: 'm' }).stream({ ...hello, seed: 7, user: 'u' }));
    const body = server.requests[0]?.body as Record<string, unknown>;
    expect(body.random_seed).toBe(7);
    expect(body).not.toHaveProperty('seed');
    expect(body).not.toHaveProperty('user');
    expect(body).not.toHaveProperty('stream_options');
    expect(lastPart(parts)).toEqual({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 } });
  });

  it('without preset and baseURL uses OpenAI; unknown presets and missing Azure endpoints are config errors', () => {
    const openai = new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'gpt-4o-mini' }), defaultEngineContext({ env: {} }));
    expect(openai.providerName).toBe('openai');
    expect(() => engineFor({ preset: 'nope' })).toThrowError(/unknown preset "nope"/);
    try {
      new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'az', preset: 'azure-openai' }), defaultEngineContext({ env: {} }));
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'config_invalid', param: 'models.az.baseURL' });
      expect((e as Error).message).toContain('AZURE_OPENAI_ENDPOINT');
    }
    expect(() => engineFor({ options: { apiVersion: 5 } })).toThrowError(/options\.apiVersion/);
  });
});

describe('embed and countTokens', () => {
  it('embeds via POST /embeddings, in input order, with usage', async () => {
    server.setScript({ embeddingDimensions: 16 });
    const engine = engineFor({ model: 'text-embedding-3-small', apiKey: 'k' });
    const result = await engine.embed(['first text', 'second text', 'first text']);
    expect(server.requests[0]?.url).toBe('/v1/embeddings');
    expect(server.requests[0]?.body).toEqual({ model: 'text-embedding-3-small', input: ['first text', 'second text', 'first text'], encoding_format: 'float' });
    expect(result.embeddings).toHaveLength(3);
    expect(result.embeddings[0]).toHaveLength(16);
    expect(result.embeddings[0]).toEqual(result.embeddings[2]);
    expect(result.embeddings[0]).not.toEqual(result.embeddings[1]);
    expect(result.usage).toEqual({ inputTokens: 9, outputTokens: 0, totalTokens: 9 });
  });

  it('sends dimensions as OpenAI takes it, and the server answers vectors of that length', async () => {
    server.setScript({ embeddingDimensions: 16 });
    const engine = engineFor({ model: 'text-embedding-3-small', apiKey: 'k' });
    expect(engine.embedDimensions).toBe(true);
    const result = await engine.embed(['first text', 'second text'], { dimensions: 5 });
    expect(server.requests[0]?.body).toEqual({ model: 'text-embedding-3-small', input: ['first text', 'second text'], encoding_format: 'float', dimensions: 5 });
    expect(result.embeddings.map((v) => v.length)).toEqual([5, 5]);
  });

  it('embedTokens sends the token ids unchanged (one array per input) with dimensions; usage counts them without a server count', async () => {
    const engine = engineFor({ model: 'text-embedding-3-small', apiKey: 'k' });
    const result = await engine.embedTokens([[1, 2, 3], [40, 50]], { dimensions: 4 });
    expect(server.requests[0]?.body).toEqual({ model: 'text-embedding-3-small', input: [[1, 2, 3], [40, 50]], encoding_format: 'float', dimensions: 4 });
    expect(result.embeddings.map((v) => v.length)).toEqual([4, 4]);
    expect(result.usage).toEqual({ inputTokens: 5, outputTokens: 0, totalTokens: 5 });
    server.setScript({ usage: null });
    const unreported = await engine.embedTokens([[7, 8, 9, 10]]);
    // The length of the ids is their count: not marked estimated.
    expect(unreported.usage).toEqual({ inputTokens: 4, outputTokens: 0, totalTokens: 4 });
    for (const bad of [[], [[]], [[1, -2]], [[1.5]], [['a']]]) {
      expect(await rejection(engine.embedTokens(bad as number[][]))).toMatchObject({ code: 'invalid_request', param: 'input' });
    }
    expect(server.requests).toHaveLength(2);
  });

  it('embeds through Azure deployments and rejects empty input', async () => {
    const engine = engineFor({ preset: 'azure-openai', model: 'emb-deploy', baseURL: server.url, apiKey: 'k' });
    await engine.embed(['x']);
    expect(server.requests[0]?.url).toBe('/openai/deployments/emb-deploy/embeddings?api-version=2024-10-21');
    const error = await rejection(engine.embed([]));
    expect(error).toMatchObject({ code: 'invalid_request', param: 'input' });
  });

  it("puts vectors in input order by index (a missing index is the item's position); indexes that are not 0..n-1 once each are an invalid_response", async () => {
    let data: Array<{ index?: number; embedding: number[] }> = [];
    const model = ModelConfigSchema.parse({ name: 'test-deployment', model: 'emb', baseURL: 'http://upstream.test/v1', apiKey: 'k' });
    const fetch = async () => new Response(JSON.stringify({ object: 'list', data }), { headers: { 'content-type': 'application/json' } });
    const engine = new OpenAICompatibleEngine(model, defaultEngineContext({ fetch }));
    data = [{ index: 1, embedding: [2, 2] }, { index: 0, embedding: [1, 1] }];
    expect((await engine.embed(['a', 'b'])).embeddings).toEqual([[1, 1], [2, 2]]);
    // Without indexes, in the order given.
    data = [{ embedding: [1, 1] }, { embedding: [2, 2] }];
    expect((await engine.embed(['a', 'b'])).embeddings).toEqual([[1, 1], [2, 2]]);
    // A missing index is the item's position: Gemini's OpenAI-compatible endpoint leaves out an index of 0.
    data = [{ embedding: [1, 1] }, { index: 1, embedding: [2, 2] }];
    expect((await engine.embed(['a', 'b'])).embeddings).toEqual([[1, 1], [2, 2]]);
    data = [{ index: 2, embedding: [2, 2] }, { embedding: [1, 1] }, { index: 0, embedding: [0, 0] }];
    expect((await engine.embed(['a', 'b', 'c'])).embeddings).toEqual([[0, 0], [1, 1], [2, 2]]);
    // A duplicated index would give input 1 the vector of input 0 (also when a missing index is that position); an
    // index past the inputs or not a whole number.
    for (const indexes of [[0, 0], [0, 2], [1, 2], [1, undefined], [undefined, 0], [-1, 1], [0.5, 1]]) {
      data = indexes.map((index, i) => ({ ...(index === undefined ? {} : { index }), embedding: [i, i] }));
      expect(await rejection(engine.embed(['a', 'b'])), JSON.stringify(indexes)).toMatchObject({ code: 'invalid_response', message: expect.stringContaining('indexes') });
    }
  });

  it('maps embedding errors like chat errors', async () => {
    server.setScript({ error: { status: 429, code: 'rate_limit_exceeded', headers: { 'retry-after': '3' } } });
    const error = await rejection(engineFor().embed(['x']));
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 3000 });
  });

  it('estimates prompt tokens at ~4 characters per token, plus per-message framing', () => {
    const engine = engineFor();
    // 1 + 2 tokens of text, 4 per message, 3 to prime the reply (the shared estimateRequestTokens).
    expect(engine.countTokens({ messages: [{ role: 'system', content: 'abcd' }, { role: 'user', content: 'efghijkl' }] })).toBe(3 + 2 * 4 + 3);
    expect(engine.capabilities).toEqual({ streaming: true, tools: true, json: true });
  });

  it("OpenAI's embedding models, without a capabilities list, embed only (the factory says so before creating the engine)", () => {
    const config = (model: string, extra: Partial<ModelConfigInput> = {}) => ModelConfigSchema.parse({ name: 'm', engine: 'openai-compatible', baseURL: server.baseURL, apiKey: 'k', model, ...extra });
    for (const model of ['text-embedding-3-small', 'text-embedding-ada-002', 'openai/text-embedding-3-large']) {
      expect(createOpenAICompatibleEngine.capabilities(config(model)), model).toEqual(['embeddings']);
      expect(new OpenAICompatibleEngine(config(model), defaultEngineContext()).capabilities, model).toEqual({ streaming: false, tools: false, json: false, embeddings: true });
    }
    expect(createOpenAICompatibleEngine.capabilities(config('gpt-4o'))).toBeUndefined();
    // A configured list wins.
    expect(createOpenAICompatibleEngine.capabilities(config('text-embedding-3-small', { capabilities: ['chat', 'embeddings'] }))).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest } from '../../spec/messages.js';
import type { AnthropicMessagesRequest } from './anthropic-api-types.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';
import { collect } from '../../test/async.test-helpers.js';
import { describeAbortContract } from '../../test/engine-abort-contract.test-helpers.js';
import { describeStreamContract } from '../../test/engine-stream-contract.test-helpers.js';
import { kinds, lastError, textOf } from '../../test/sse-decoder.test-helpers.js';

const wire = useAnthropicWireServer();
const { engine } = wire;

const hello: GenerateRequest = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi there' },
  ],
};

function lastBody(): AnthropicMessagesRequest {
  return wire.server.requests.at(-1)!.body as unknown as AnthropicMessagesRequest;
}

describe('anthropic engine: answers', () => {
  it('generates a non-streamed answer with the documented headers and body', async () => {
    wire.server.enqueue({ content: 'Hello!', usage: { input_tokens: 12, output_tokens: 3 }, id: 'msg_abc' });
    const result = await engine().generate(hello);
    expect(result).toEqual({
      text: 'Hello!',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 12, outputTokens: 3, totalTokens: 15 },
      id: 'msg_abc',
      providerModel: 'claude-test-1',
    });
    const req = wire.server.requests.at(-1)!;
    expect(req.path).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe('sk-ant-test');
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(lastBody()).toEqual({
      model: 'claude-test-1',
      max_tokens: 4096,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi there' }] }],
      stream: false,
    });
  });

  it('sends sampling fields, max_tokens from the model config, user id, and config/call headers', async () => {
    await engine({ maxOutputTokens: 512, headers: { 'anthropic-beta': 'tools-2024' } }).generate(
      { ...hello, temperature: 0.2, topP: 0.9, stop: ['END'], user: 'u-1', seed: 7 },
      { headers: { 'x-trace': 't1' } },
    );
    const body = lastBody();
    expect(body).toMatchObject({ max_tokens: 512, temperature: 0.2, top_p: 0.9, stop_sequences: ['END'], metadata: { user_id: 'u-1' } });
    expect(body).not.toHaveProperty('seed');
    expect(wire.server.requests.at(-1)!.headers['anthropic-beta']).toBe('tools-2024');
    expect(wire.server.requests.at(-1)!.headers['x-trace']).toBe('t1');
    await engine().generate({ ...hello, maxTokens: 9 });
    expect(lastBody().max_tokens).toBe(9);
  });

  it('streams text in chunks, then one finish with usage', async () => {
    wire.server.enqueue({ content: 'The quick brown fox jumps', chunks: 5, usage: { input_tokens: 20, output_tokens: 6 } });
    const parts = await collect(engine().stream(hello));
    expect(lastBody().stream).toBe(true);
    expect(parts[0]).toMatchObject({ type: 'response-metadata', model: 'claude-test-1' });
    expect(parts.filter((p) => p.type === 'text-delta')).toHaveLength(5);
    expect(textOf(parts)).toBe('The quick brown fox jumps');
    expect(parts.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 20, outputTokens: 6, totalTokens: 26 } });
  });

  it('reports cache reads as cachedInputTokens and cache writes as cacheWriteInputTokens, both counted as input', async () => {
    const usage = { input_tokens: 10, output_tokens: 4, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000 };
    const expected = { inputTokens: 1110, outputTokens: 4, totalTokens: 1114, cachedInputTokens: 1000, cacheWriteInputTokens: 100 };
    wire.server.enqueue({ content: 'ok', usage });
    expect((await engine().generate(hello)).usage).toEqual(expected);
    wire.server.enqueue({ content: 'ok', usage });
    expect((await collect(engine().stream(hello))).at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: expected });
  });

  it('maps stop reasons: max_tokens -> length, refusal -> content-filter', async () => {
    wire.server.enqueue({ content: 'cut sh', stopReason: 'max_tokens' }, { content: '', stopReason: 'refusal' });
    expect((await engine().generate(hello)).finishReason).toBe('length');
    expect((await engine().generate(hello)).finishReason).toBe('content-filter');
  });

  it('reports thinking blocks as reasoning', async () => {
    wire.server.enqueue({ content: [{ type: 'thinking', thinking: 'Let me think.' }, { type: 'text', text: '42' }] });
    const result = await engine().generate(hello);
    expect(result.reasoning).toBe('Let me think.');
    expect(result.text).toBe('42');
    wire.server.enqueue({ content: [{ type: 'thinking', thinking: 'Let me think.' }, { type: 'text', text: '42' }], chunks: 3 });
    const parts = await collect(engine().stream(hello));
    expect(parts.filter((p) => p.type === 'reasoning-delta').map((p) => (p as { delta: string }).delta).join('')).toBe('Let me think.');
    expect(textOf(parts)).toBe('42');
  });
});

describe('anthropic engine: tools', () => {
  const weather: GenerateRequest = {
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools: [{ name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
    toolChoice: 'required',
  };

  it('sends tools with input_schema and maps tool_choice', async () => {
    wire.server.enqueue({ content: [{ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' }, id: 'toolu_1' }] });
    const result = await engine().generate(weather);
    expect(lastBody().tools).toEqual([
      { name: 'get_weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
    ]);
    expect(lastBody().tool_choice).toEqual({ type: 'any' });
    expect(result.finishReason).toBe('tool-calls');
    expect(result.toolCalls).toEqual([{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);

    for (const [choice, wire] of [
      ['auto', { type: 'auto' }],
      ['none', { type: 'none' }],
      [{ name: 'get_weather' }, { type: 'tool', name: 'get_weather' }],
    ] as const) {
      await engine().generate({ ...weather, toolChoice: choice });
      expect(lastBody().tool_choice).toEqual(wire);
    }
  });

  it('streams tool use: input_json_delta pieces reassemble into the call', async () => {
    const input = { city: 'Paris', days: 3, units: { temp: 'celsius' } };
    wire.server.enqueue({ content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', name: 'get_weather', input, id: 'toolu_9' }], chunks: 6 });
    const parts = await collect(engine().stream(weather));
    const deltas = parts.filter((p) => p.type === 'tool-call-delta');
    expect(deltas.length).toBeGreaterThanOrEqual(6);
    expect(deltas[0]).toMatchObject({ index: 0, id: 'toolu_9', name: 'get_weather' });
    const joined = deltas.map((p) => (p as { argumentsDelta: string }).argumentsDelta).join('');
    expect(JSON.parse(joined)).toEqual(input);
    expect(parts.find((p) => p.type === 'tool-call')).toEqual({ type: 'tool-call', index: 0, toolCall: { id: 'toolu_9', name: 'get_weather', arguments: joined } });
    expect(textOf(parts)).toBe('Checking.');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls' });
  });

  it('sends assistant tool calls as tool_use blocks and tool results as user tool_result blocks', async () => {
    await engine().generate({
      ...weather,
      toolChoice: 'auto',
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Looking.',
          toolCalls: [
            { id: 'toolu_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
            { id: 'toolu_b', name: 'get_weather', arguments: '{"city":"Rome"}' },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_a', content: '18C' },
        { role: 'tool', toolCallId: 'toolu_b', content: '24C' },
        { role: 'user', content: 'Thanks, and?' },
      ],
    });
    expect(lastBody().messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Looking.' },
          { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_b', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_a', content: '18C' },
          { type: 'tool_result', tool_use_id: 'toolu_b', content: '24C' },
          { type: 'text', text: 'Thanks, and?' },
        ],
      },
    ]);
  });

  it('sends images as base64 and url sources', async () => {
    await engine().generate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image', data: 'iVBORw0KGgo=', mediaType: 'image/png' },
            { type: 'image', url: 'data:image/jpeg;base64,/9j/4AAQ' },
            { type: 'image', url: 'https://example.com/cat.webp' },
          ],
        },
      ],
    });
    expect(lastBody().messages[0]!.content).toEqual([
      { type: 'text', text: 'Compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.webp' } },
    ]);
  });
});

describe('anthropic engine: JSON mode (a forced tool)', () => {
  const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] };

  it('forces the json_answer tool and returns its input as the text', async () => {
    wire.server.enqueue({ content: [{ type: 'tool_use', name: 'json_answer', input: { answer: 42 } }] });
    const result = await engine().generate({ ...hello, responseFormat: { type: 'json_schema', name: 'result', schema } });
    expect(lastBody().tools).toEqual([expect.objectContaining({ name: 'json_answer', input_schema: schema })]);
    expect(lastBody().tool_choice).toEqual({ type: 'tool', name: 'json_answer' });
    expect(JSON.parse(result.text)).toEqual({ answer: 42 });
    expect(result.toolCalls).toEqual([]);
    expect(result.finishReason).toBe('stop');
  });

  it('streams the JSON answer as text deltas', async () => {
    wire.server.enqueue({ content: [{ type: 'tool_use', name: 'json_answer', input: { answer: 42, note: 'forty two' } }], chunks: 4 });
    const parts = await collect(engine().stream({ ...hello, responseFormat: { type: 'json_object' } }));
    expect(lastBody().tools![0]!.input_schema).toEqual({ type: 'object', additionalProperties: true });
    expect(parts.filter((p) => p.type === 'text-delta').length).toBeGreaterThanOrEqual(4);
    expect(JSON.parse(textOf(parts))).toEqual({ answer: 42, note: 'forty two' });
    expect(parts.some((p) => p.type === 'tool-call')).toBe(false);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('keeps real tools callable next to the JSON tool (tool_choice any)', async () => {
    wire.server.enqueue({ content: [{ type: 'tool_use', name: 'lookup', input: { q: 'x' }, id: 'toolu_l' }] });
    const result = await engine().generate({
      ...hello,
      tools: [{ name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }],
      responseFormat: { type: 'json_object' },
    });
    expect(lastBody().tools!.map((t) => t.name)).toEqual(['lookup', 'json_answer']);
    expect(lastBody().tool_choice).toEqual({ type: 'any' });
    expect(result.toolCalls).toEqual([{ id: 'toolu_l', name: 'lookup', arguments: '{"q":"x"}' }]);
    expect(result.finishReason).toBe('tool-calls');
  });

  it('toolChoice required or a named tool: no JSON tool is offered, so the answer is a call of a client tool', async () => {
    const tools = [{ name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }];
    for (const [toolChoice, sent] of [
      ['required', { type: 'any' }],
      [{ name: 'lookup' }, { type: 'tool', name: 'lookup' }],
    ] as const) {
      wire.server.enqueue({ content: [{ type: 'tool_use', name: 'lookup', input: { q: 'x' }, id: 'toolu_r' }] });
      const result = await engine().generate({ ...hello, tools, toolChoice, responseFormat: { type: 'json_object' } });
      expect(lastBody().tools!.map((t) => t.name)).toEqual(['lookup']);
      expect(lastBody().tool_choice).toEqual(sent);
      expect(result.toolCalls).toEqual([{ id: 'toolu_r', name: 'lookup', arguments: '{"q":"x"}' }]);
      expect(result.finishReason).toBe('tool-calls');
      expect(result).not.toHaveProperty('warnings');
    }
    // Not offered, the JSON tool's name is no reserved name: a client tool may carry it.
    await engine().generate({ ...hello, tools: [{ name: 'json_answer', parameters: {} }], toolChoice: 'required', responseFormat: { type: 'json_object' } });
    expect(lastBody().tools!.map((t) => t.name)).toEqual(['json_answer']);
  });

  it('toolChoice none: the client tools stay (the history refers to them) and the JSON tool is forced', async () => {
    wire.server.enqueue({ content: [{ type: 'tool_use', name: 'json_answer', input: { weather: 'sunny' } }] }, { content: [{ type: 'tool_use', name: 'json_answer', input: { weather: 'sunny' } }], chunks: 3 });
    const request: GenerateRequest = {
      messages: [
        { role: 'user', content: 'Weather in Paris? Then answer as JSON.' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'toolu_1', name: 'lookup', arguments: '{"q":"Paris"}' }] },
        { role: 'tool', toolCallId: 'toolu_1', content: 'sunny' },
      ],
      tools: [{ name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } }],
      toolChoice: 'none',
      responseFormat: { type: 'json_object' },
    };
    const result = await engine().generate(request);
    expect(lastBody().tools!.map((t) => t.name)).toEqual(['lookup', 'json_answer']);
    expect(lastBody().tool_choice).toEqual({ type: 'tool', name: 'json_answer' });
    expect(result).toMatchObject({ text: '{"weather":"sunny"}', toolCalls: [], finishReason: 'stop' });
    const parts = await collect(engine().stream(request));
    expect(JSON.parse(textOf(parts))).toEqual({ weather: 'sunny' });
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
  });

  it('rejects what it cannot honour, naming the field', async () => {
    await expect(engine().generate({ ...hello, responseFormat: { type: 'json_schema', schema: { type: 'array' } } })).rejects.toMatchObject({
      code: 'unsupported',
      param: 'responseFormat.schema.type',
    });
    await expect(
      engine().generate({ ...hello, tools: [{ name: 'json_answer', parameters: {} }], responseFormat: { type: 'json_object' } }),
    ).rejects.toMatchObject({ code: 'invalid_request', param: 'tools.0.name' });
    expect(wire.server.requests).toHaveLength(0);
  });
});

describe('anthropic engine: errors', () => {
  const cases = [
    { status: 400, type: 'invalid_request_error', code: 'invalid_request', retryable: false },
    { status: 401, type: 'authentication_error', code: 'authentication', retryable: false },
    { status: 403, type: 'permission_error', code: 'permission_denied', retryable: false },
    // A not_found_error that names no model: an address the upstream (a proxy) does not serve.
    { status: 404, type: 'not_found_error', code: 'provider_error', retryable: false },
    { status: 413, type: 'request_too_large', code: 'payload_too_large', retryable: false },
    { status: 429, type: 'rate_limit_error', code: 'rate_limited', retryable: true },
    { status: 500, type: 'api_error', code: 'provider_error', retryable: true },
    { status: 529, type: 'overloaded_error', code: 'overloaded', retryable: true },
  ] as const;

  for (const c of cases) {
    it(`maps ${c.status} ${c.type} -> ${c.code} (generate and stream)`, async () => {
      const error = { status: c.status, type: c.type, message: `scripted ${c.type}` };
      wire.server.enqueue({ error });
      const thrown = await engine().generate(hello).catch((e: unknown) => e);
      expect(LLMError.isInstance(thrown)).toBe(true);
      const e = thrown as LLMError;
      expect(e).toMatchObject({ code: c.code, isRetryable: c.retryable, upstreamStatus: c.status, provider: 'anthropic', deployment: 'claude' });
      expect(e.message).toContain(`scripted ${c.type}`);

      wire.server.enqueue({ error });
      const parts = await collect(engine().stream(hello));
      expect(parts).toHaveLength(1);
      expect(lastError(parts)).toMatchObject({ code: c.code, isRetryable: c.retryable, upstreamStatus: c.status });
    });
  }

  it('a 404 not_found_error naming the model (`model: x`) is provider_model_not_found; any other 404 names the path asked', async () => {
    wire.server.enqueue({ error: { status: 404, type: 'not_found_error', message: 'model: claude-typo' } });
    await expect(engine().generate(hello)).rejects.toMatchObject({ code: 'provider_model_not_found', isRetryable: false, upstreamStatus: 404, message: 'anthropic responded 404: not_found_error: model: claude-typo' });
    wire.server.enqueue({ error: { status: 404, type: 'not_found_error', message: 'Not found' } });
    await expect(engine().generate(hello)).rejects.toMatchObject({
      code: 'provider_error',
      isRetryable: false,
      message: 'anthropic answered 404 for /v1/messages: wrong base URL or endpoint? (not_found_error: Not found)',
    });
  });

  it('honours retry-after on 429 and 529', async () => {
    wire.server.enqueue({ error: { status: 429, headers: { 'retry-after': '7' } } });
    await expect(engine().generate(hello)).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 7000 });
    wire.server.enqueue({ error: { status: 529, headers: { 'retry-after': '2' } } });
    expect(lastError(await collect(engine().stream(hello)))).toMatchObject({ code: 'overloaded', retryAfterMs: 2000 });
  });

  it('recognises an oversized prompt as context_length_exceeded', async () => {
    wire.server.enqueue({ error: { status: 400, message: 'prompt is too long: 208310 tokens > 200000 maximum' } });
    await expect(engine().generate(hello)).rejects.toMatchObject({ code: 'context_length_exceeded', isRetryable: false });
  });

  it('a wrong key is the server answering 401; a missing key fails before any request', async () => {
    await expect(engine({ apiKey: 'wrong' }).generate(hello)).rejects.toMatchObject({ code: 'authentication', upstreamStatus: 401 });
    const before = wire.server.requests.length;
    const noKey = engine({ apiKey: undefined, apiKeyEnv: 'MY_KEY' });
    await expect(noKey.generate(hello)).rejects.toMatchObject({ code: 'authentication', message: expect.stringContaining('MY_KEY') });
    expect(wire.server.requests.length).toBe(before);
    // The fallback env var is read from the context's env.
    await expect(engine({ apiKey: undefined }, { ANTHROPIC_API_KEY: 'sk-ant-test' }).generate(hello)).resolves.toMatchObject({ text: 'Echo: Hi there' });
  });

  it('turns a mid-stream error event into an error part after the text', async () => {
    // Events: message_start, content_block_start, ping, 'ab', 'cd', then the error event.
    wire.server.enqueue({ content: 'abcdefgh', chunks: 4, streamError: { afterEvents: 5, type: 'overloaded_error' } });
    const parts = await collect(engine().stream(hello));
    expect(textOf(parts)).toBe('abcd');
    expect(lastError(parts)).toMatchObject({ code: 'overloaded', isRetryable: true });
    expect(parts.some((p) => p.type === 'finish')).toBe(false);
  });

  it('a connection cut mid-stream ends with stream_interrupted after the text', async () => {
    wire.server.enqueue({ content: 'abcdefgh', chunks: 4, cutAfterEvents: 5 });
    const parts = await collect(engine().stream(hello));
    expect(textOf(parts)).toBe('abcd');
    expect(lastError(parts)).toMatchObject({ code: 'stream_interrupted', isRetryable: true });
  });

  it('a clean HTTP end without message_stop is stream_interrupted too', async () => {
    wire.server.enqueue({ content: 'abcdefgh', chunks: 4, endAfterEvents: 7 });
    const parts = await collect(engine().stream(hello));
    expect(textOf(parts)).toBe('abcdefgh');
    expect(lastError(parts).code).toBe('stream_interrupted');
  });

  it('invalid requests fail locally with the field named', async () => {
    await expect(engine().generate({ messages: [{ role: 'system', content: 'only system' }] })).rejects.toMatchObject({ code: 'invalid_request', param: 'messages' });
    await expect(
      engine().generate({ messages: [{ role: 'user', content: [{ type: 'image', data: 'AAAA' }] }] }),
    ).rejects.toMatchObject({ code: 'invalid_request', param: 'messages.0.content.0.mediaType' });
    await expect(engine().generate({ ...hello, tools: [{ name: 'f', parameters: {} }], toolChoice: { name: 'g' } })).rejects.toMatchObject({
      param: 'toolChoice.name',
    });
    const parts = await collect(engine().stream({ ...hello, maxTokens: 0 }));
    expect(lastError(parts)).toMatchObject({ code: 'invalid_request', param: 'maxTokens' });
    expect(wire.server.requests).toHaveLength(0);
  });
});

describeAbortContract({
  name: 'anthropic engine',
  engine: () => engine(),
  server: () => wire.server,
  hello,
  streamed: ({ text, ...rest }) => ({ content: text, ...rest }),
  hang: { hang: true },
  eventsThroughFirstDelta: 4,
  eventsBeforeHang: 6,
  maxEventsAfterAbort: 15,
});

const sse = (data: object) => `event: ${(data as { type: string }).type}\ndata: ${JSON.stringify(data)}\n\n`;

describeStreamContract({
  name: 'anthropic engine',
  engine: (baseURL = wire.server.url) => engine({ baseURL }),
  server: () => wire.server,
  hello,
  context: { provider: 'anthropic', deployment: 'claude' },
  rateLimited: { error: { status: 429, headers: { 'retry-after': '3' } } },
  errorEvent: 'an error event',
  errorFrames: [
    sse({ type: 'message_start', message: { id: 'msg_1', model: 'claude-test-1', usage: { input_tokens: 3 } } }),
    sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } }),
    sse({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
  ],
  errorKinds: ['response-metadata', 'usage', 'text-delta', 'error:overloaded'],
});

describe('anthropic engine: the end of the stream', () => {
  it('message_stop cancels the body while the server still holds the connection open', async () => {
    wire.server.enqueue({ content: 'abcd', chunks: 2, hangAfterEvents: 1000 });
    const parts = await collect(engine().stream(hello));
    expect(textOf(parts)).toBe('abcd');
    expect(kinds(parts).at(-1)).toBe('finish');
    const req = wire.server.requests.at(-1)!;
    await req.done;
    expect(req.clientClosed).toBe(true);
  });
});

describe('anthropic engine: config and token counting', () => {
  it('accepts a baseURL that already ends in /v1', async () => {
    await engine({ baseURL: `${wire.server.url}/v1/` }).generate(hello);
    expect(wire.server.requests.at(-1)!.path).toBe('/v1/messages');
  });

  it('rejects unknown or bad options with config_invalid', () => {
    expect(() => engine({ options: { exactTokenCounts: true } })).toThrow(expect.objectContaining({ code: 'config_invalid' }));
    expect(() => engine({ options: { jsonToolName: 'bad name' } })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'options.jsonToolName' }));
  });

  it('estimates tokens locally by default, without a request', async () => {
    const n = await engine().countTokens!({ messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    expect(n).toBeGreaterThanOrEqual(100);
    expect(n).toBeLessThan(120);
    expect(wire.server.requests).toHaveLength(0);
  });

  it('with exactTokenCount asks /v1/messages/count_tokens with prompt fields only', async () => {
    const n = await engine({ options: { exactTokenCount: true } }).countTokens!({ ...hello, maxTokens: 100, temperature: 0.5 });
    const req = wire.server.requests.at(-1)!;
    expect(req.path).toBe('/v1/messages/count_tokens');
    expect(Object.keys(req.body!).sort()).toEqual(['messages', 'model', 'system']);
    expect(n).toBe(Math.ceil(JSON.stringify(['Be brief.', req.body!.messages, []]).length / 4));
  });

  it('calls onProviderRequest once, right before the count request goes out; never for a local count or a request refused while built', async () => {
    const exact = engine({ options: { exactTokenCount: true } });
    expect(exact.countTokensReportsRequest).toBe(true);
    const seen: number[] = [];
    const onProviderRequest = () => seen.push(wire.server.requests.length);
    await exact.countTokens!(hello, { onProviderRequest });
    // Called before the upstream received anything; the request followed.
    expect(seen).toEqual([0]);
    expect(wire.server.requests).toHaveLength(1);
    await exact.countTokens!(hello, { local: true, onProviderRequest });
    await engine().countTokens!(hello, { onProviderRequest });
    expect(seen).toEqual([0]);
    const bad = await Promise.resolve(exact.countTokens!({ messages: [] }, { onProviderRequest })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(bad).toMatchObject({ code: 'invalid_request' });
    expect(seen).toEqual([0]);
    expect(wire.server.requests).toHaveLength(1);
  });
});

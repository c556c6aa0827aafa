import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import { LLMError } from '../../errors/llm-error.js';
import { reportedUsageOf } from '../../errors/reported-usage.js';
import type { GenerateRequest } from '../../spec/messages.js';
import { startGeminiWireServer, type GeminiWireServer } from '../../test/gemini-wire-server.js';
import { startLoopbackHttp } from '../../test/loopback-http.test-helpers.js';
import { useStartedServer } from '../../test/started-server.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { createGeminiEngine } from './create-gemini-engine.js';
import type { GeminiGenerateContentRequest } from './gemini-api-types.js';
import { collect } from '../../test/async.test-helpers.js';
import { describeAbortContract } from '../../test/engine-abort-contract.test-helpers.js';
import { describeStreamContract } from '../../test/engine-stream-contract.test-helpers.js';
import { kinds, lastError, textOf } from '../../test/sse-decoder.test-helpers.js';

let server: GeminiWireServer;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
/** An image host: `/cat.png` (a PNG), `/page.html` (not an image), anything else a 404. */
const images = useStartedServer('image server', () =>
  startLoopbackHttp((req, res) => {
    if (req.url === '/cat.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(PNG.length) });
      res.end(PNG);
    } else if (req.url === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html></html>');
    } else {
      res.writeHead(404);
      res.end();
    }
  }),
);

beforeAll(async () => {
  server = await startGeminiWireServer({ apiKey: 'gm-test' });
});
afterAll(async () => {
  await server?.close();
});
afterEach(() => {
  server.requests.length = 0;
});

function engine(extra: Partial<ModelConfigInput> = {}, env: Record<string, string> = {}) {
  const model = ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model: 'gemini-test', baseURL: server.url, apiKey: 'gm-test', ...extra });
  return createGeminiEngine(model, defaultEngineContext({ env }));
}

const hello: GenerateRequest = {
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi there' },
  ],
};

const lastBody = () => server.requests.at(-1)!.body as unknown as GeminiGenerateContentRequest;

describe('gemini engine: answers', () => {
  it('generates a non-streamed answer over :generateContent with x-goog-api-key', async () => {
    server.enqueue({ parts: 'Hello!', usage: { promptTokenCount: 7, candidatesTokenCount: 2 }, responseId: 'resp-1', modelVersion: 'gemini-test-001' });
    const result = await engine().generate({ ...hello, maxTokens: 64, temperature: 0.3, topP: 0.8, stop: ['END'], seed: 5, user: 'u-1' });
    expect(result).toEqual({
      text: 'Hello!',
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: 7, outputTokens: 2, totalTokens: 9 },
      id: 'resp-1',
      providerModel: 'gemini-test-001',
      // `user` has no Gemini field: not sent, and said so.
      warnings: [{ code: 'setting_not_sent', field: 'user', message: 'user was not sent: Gemini has no end-user id field.' }],
    });
    const req = server.requests.at(-1)!;
    expect(req.path).toBe('/v1beta/models/gemini-test:generateContent');
    expect(req.headers['x-goog-api-key']).toBe('gm-test');
    expect(req.query).toEqual({});
    expect(lastBody()).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi there' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { maxOutputTokens: 64, temperature: 0.3, topP: 0.8, stopSequences: ['END'], seed: 5 },
    });
  });

  it('sends maxOutputTokens from the model config and merges providerOptions.gemini', async () => {
    await engine({ maxOutputTokens: 256 }).generate({
      ...hello,
      providerOptions: { gemini: { generationConfig: { thinkingConfig: { thinkingBudget: 0 } }, safetySettings: [] } },
    });
    expect(lastBody().generationConfig).toEqual({ maxOutputTokens: 256, thinkingConfig: { thinkingBudget: 0 } });
    expect(lastBody().safetySettings).toEqual([]);
  });

  it('streams over :streamGenerateContent?alt=sse in chunks, then one finish', async () => {
    server.enqueue({ parts: 'The quick brown fox jumps', chunks: 5, usage: { promptTokenCount: 20, candidatesTokenCount: 6 } });
    const parts = await collect(engine().stream(hello));
    const req = server.requests.at(-1)!;
    expect(req.path).toBe('/v1beta/models/gemini-test:streamGenerateContent');
    expect(req.query).toEqual({ alt: 'sse' });
    expect(parts[0]).toMatchObject({ type: 'response-metadata', model: 'gemini-test' });
    expect(parts.filter((p) => p.type === 'text-delta')).toHaveLength(5);
    expect(textOf(parts)).toBe('The quick brown fox jumps');
    expect(parts.at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 20, outputTokens: 6, totalTokens: 26 } });
  });

  it('reports cached and thinking tokens', async () => {
    const usage = { promptTokenCount: 1000, cachedContentTokenCount: 800, candidatesTokenCount: 10, thoughtsTokenCount: 90 };
    const expected = { inputTokens: 1000, outputTokens: 100, totalTokens: 1100, cachedInputTokens: 800, reasoningTokens: 90 };
    server.enqueue({ parts: 'ok', usage });
    expect((await engine().generate(hello)).usage).toEqual(expected);
    server.enqueue({ parts: 'ok', usage, chunks: 2 });
    expect((await collect(engine().stream(hello))).at(-1)).toEqual({ type: 'finish', finishReason: 'stop', usage: expected });
  });

  it('maps finish reasons and blocked prompts', async () => {
    server.enqueue({ parts: 'cut', finishReason: 'MAX_TOKENS' }, { parts: '', finishReason: 'SAFETY' }, { promptBlockReason: 'SAFETY' }, { promptBlockReason: 'OTHER' });
    expect((await engine().generate(hello)).finishReason).toBe('length');
    expect((await engine().generate(hello)).finishReason).toBe('content-filter');
    expect(await engine().generate(hello)).toMatchObject({ text: '', finishReason: 'content-filter' });
    expect((await collect(engine().stream(hello))).at(-1)).toMatchObject({ type: 'finish', finishReason: 'content-filter' });
  });

  it("maps Gemini's filters (LANGUAGE, IMAGE_PROHIBITED_CONTENT, IMAGE_RECITATION too) to content-filter, and OTHER to other", async () => {
    for (const finishReason of ['RECITATION', 'LANGUAGE', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']) {
      server.enqueue({ parts: '', finishReason }, { parts: '', finishReason });
      expect((await engine().generate(hello)).finishReason, finishReason).toBe('content-filter');
      expect((await collect(engine().stream(hello))).at(-1), finishReason).toMatchObject({ type: 'finish', finishReason: 'content-filter' });
    }
    // A reason Gemini adds later (or one named like an Object.prototype key) is `other`, never an error.
    for (const finishReason of ['OTHER', 'TOO_MANY_TOOL_CALLS', 'constructor']) {
      server.enqueue({ parts: 'x', finishReason });
      expect((await engine().generate(hello)).finishReason, finishReason).toBe('other');
    }
  });

  it('a failed tool call (MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL) is a retryable invalid_response, not a finish; streamed, an error part after the usage', async () => {
    const finishMessage = "Malformed function call: print(default_api.get_weather(city='Oslo'))";
    for (const finishReason of ['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL']) {
      server.enqueue({ parts: [], finishReason, finishMessage, usage: { promptTokenCount: 30, candidatesTokenCount: 7 } });
      const e = await engine()
        .generate(hello)
        .then(() => undefined, (x: unknown) => x);
      expect(LLMError.isInstance(e), finishReason).toBe(true);
      const error = e as LLMError;
      expect(error).toMatchObject({ code: 'invalid_response', statusCode: 502, isRetryable: true, provider: 'gemini', details: { finishReason, finishMessage } });
      expect(error.afterResponse).toBeFalsy();
      expect(error.message).toContain(finishReason);
      // What Gemini billed for it goes with the error (the router bills it), and it is the model's, not the deployment's.
      expect(reportedUsageOf(error)).toEqual({ inputTokens: 30, outputTokens: 7, totalTokens: 37 });
      expect(error.modelFault).toBe(true);

      server.enqueue({ parts: 'Let me check.', finishReason, finishMessage, usage: { promptTokenCount: 30, candidatesTokenCount: 7 } });
      const parts = await collect(engine().stream(hello));
      expect(textOf(parts)).toBe('Let me check.');
      expect(parts.some((p) => p.type === 'finish')).toBe(false);
      expect(parts.at(-2)).toEqual({ type: 'usage', usage: { inputTokens: 30, outputTokens: 7, totalTokens: 37 } });
      expect(lastError(parts)).toMatchObject({ code: 'invalid_response', isRetryable: true, modelFault: true, details: { finishReason, finishMessage } });
    }
  });

  it('reports thought parts as reasoning', async () => {
    server.enqueue({ parts: [{ text: 'Thinking...', thought: true }, { text: '42' }] });
    expect(await engine().generate(hello)).toMatchObject({ text: '42', reasoning: 'Thinking...' });
    server.enqueue({ parts: [{ text: 'Thinking...', thought: true }, { text: '42' }], chunks: 2 });
    const parts = await collect(engine().stream(hello));
    expect(parts.filter((p) => p.type === 'reasoning-delta').map((p) => (p as { delta: string }).delta).join('')).toBe('Thinking...');
    expect(textOf(parts)).toBe('42');
  });
});

describe('gemini engine: tools', () => {
  const weather: GenerateRequest = {
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools: [
      {
        name: 'get_weather',
        description: 'Current weather',
        parameters: { type: 'object', additionalProperties: false, properties: { city: { type: 'string' } }, required: ['city'] },
      },
      { name: 'get_time', parameters: { type: 'object', properties: {} } },
    ],
    toolChoice: 'required',
  };

  it('sends functionDeclarations and toolConfig', async () => {
    await engine().generate(weather);
    expect(lastBody().tools).toEqual([
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
          { name: 'get_time' },
        ],
      },
    ]);
    expect(lastBody().toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    for (const [choice, config] of [
      ['auto', { mode: 'AUTO' }],
      ['none', { mode: 'NONE' }],
      [{ name: 'get_time' }, { mode: 'ANY', allowedFunctionNames: ['get_time'] }],
    ] as const) {
      await engine().generate({ ...weather, toolChoice: choice });
      expect(lastBody().toolConfig).toEqual({ functionCallingConfig: config });
    }
  });

  it('returns function calls with stable ids, the same streamed or not', async () => {
    const reply = {
      parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_weather', args: { city: 'Rome' } } }],
      responseId: 'resp-tools',
    };
    server.enqueue(reply);
    const result = await engine().generate(weather);
    expect(result.finishReason).toBe('tool-calls');
    expect(result.toolCalls.map((c) => [c.name, c.arguments])).toEqual([
      ['get_weather', '{"city":"Paris"}'],
      ['get_weather', '{"city":"Rome"}'],
    ]);
    expect(new Set(result.toolCalls.map((c) => c.id)).size).toBe(2);

    server.enqueue(reply);
    const parts = await collect(engine().stream(weather));
    const streamed = parts.filter((p) => p.type === 'tool-call').map((p) => (p as { toolCall: unknown }).toolCall);
    expect(streamed).toEqual(result.toolCalls);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'tool-calls' });
  });

  it('sends history: tool calls as functionCall parts (thought signature restored), results as functionResponse', async () => {
    const gemini = engine();
    server.enqueue({ parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-123' }], responseId: 'r-sig' });
    const first = await gemini.generate(weather);
    const call = first.toolCalls[0]!;
    await gemini.generate({
      ...weather,
      toolChoice: 'auto',
      messages: [
        ...weather.messages,
        { role: 'assistant', content: null, toolCalls: [call] },
        { role: 'tool', toolCallId: call.id, content: '{"tempC":18}' },
        { role: 'tool', toolCallId: 'unknown-id', name: 'get_time', content: '10:00' },
      ],
    });
    expect(lastBody().contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-123' }] },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { tempC: 18 } } },
          { functionResponse: { name: 'get_time', response: { result: '10:00' } } },
        ],
      },
    ]);
    await expect(
      gemini.generate({ ...weather, messages: [...weather.messages, { role: 'tool', toolCallId: 'nowhere', content: 'x' }] }),
    ).rejects.toMatchObject({ code: 'invalid_request', param: 'messages.1.toolCallId' });
  });

  it('sends images: inline base64, data URLs, Gemini file URIs, and downloads http URLs', async () => {
    // The image server is on 127.0.0.1: a deployment that opts in to private image URLs.
    const local = { options: { allowPrivateImageUrls: true } };
    await engine(local).generate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image', data: 'iVBORw0KGgo=', mediaType: 'image/png' },
            { type: 'image', url: 'data:image/jpeg;base64,/9j/4AAQ' },
            { type: 'image', url: 'gs://bucket/cat.webp', mediaType: 'image/webp' },
            { type: 'image', url: `${images().url}/cat.png` },
          ],
        },
      ],
    });
    expect(lastBody().contents[0]!.parts).toEqual([
      { text: 'Compare' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } },
      { fileData: { fileUri: 'gs://bucket/cat.webp', mimeType: 'image/webp' } },
      { inlineData: { mimeType: 'image/png', data: PNG.toString('base64') } },
    ]);
    for (const path of ['/missing.png', '/page.html']) {
      await expect(engine(local).generate({ messages: [{ role: 'user', content: [{ type: 'image', url: `${images().url}${path}` }] }] })).rejects.toMatchObject({
        code: 'invalid_request',
        param: 'messages.0.content.0.url',
      });
    }
  });
});

describe('gemini engine: JSON mode (responseMimeType + responseSchema)', () => {
  it('sends the converted schema and returns the JSON text', async () => {
    server.enqueue({ parts: '{"answer":42}' });
    const schema = { type: 'object', additionalProperties: false, properties: { answer: { type: ['number', 'null'] } }, required: ['answer'] };
    const result = await engine().generate({ ...hello, responseFormat: { type: 'json_schema', name: 'r', schema } });
    expect(lastBody().generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { answer: { type: 'number', nullable: true } }, required: ['answer'] },
    });
    expect(JSON.parse(result.text)).toEqual({ answer: 42 });
  });

  it('json_object sets only the mime type; streaming works the same', async () => {
    server.enqueue({ parts: '{"a":[1,2,3]}', chunks: 4 });
    const parts = await collect(engine().stream({ ...hello, responseFormat: { type: 'json_object' } }));
    expect(lastBody().generationConfig).toEqual({ responseMimeType: 'application/json' });
    expect(JSON.parse(textOf(parts))).toEqual({ a: [1, 2, 3] });
  });
});

describe('gemini engine: errors', () => {
  const cases = [
    { status: 400, rpc: 'INVALID_ARGUMENT', code: 'invalid_request', retryable: false },
    { status: 401, rpc: 'UNAUTHENTICATED', code: 'authentication', retryable: false },
    { status: 403, rpc: 'PERMISSION_DENIED', code: 'permission_denied', retryable: false },
    // A NOT_FOUND that names no model (`models/x is not found`): an address the upstream does not serve.
    { status: 404, rpc: 'NOT_FOUND', code: 'provider_error', retryable: false },
    { status: 429, rpc: 'RESOURCE_EXHAUSTED', code: 'rate_limited', retryable: true },
    { status: 500, rpc: 'INTERNAL', code: 'provider_error', retryable: true },
    { status: 503, rpc: 'UNAVAILABLE', code: 'provider_unavailable', retryable: true },
    { status: 504, rpc: 'DEADLINE_EXCEEDED', code: 'timeout', retryable: true },
  ] as const;

  for (const c of cases) {
    it(`maps ${c.status} ${c.rpc} -> ${c.code} (generate and stream)`, async () => {
      const error = { status: c.status, message: `scripted ${c.rpc}` };
      server.enqueue({ error });
      const thrown = await engine().generate(hello).catch((e: unknown) => e);
      expect(LLMError.isInstance(thrown)).toBe(true);
      const e = thrown as LLMError;
      expect(e).toMatchObject({ code: c.code, isRetryable: c.retryable, upstreamStatus: c.status, provider: 'gemini', deployment: 'gem' });
      expect(e.message).toContain(`${c.rpc}: scripted ${c.rpc}`);
      server.enqueue({ error });
      const parts = await collect(engine().stream(hello));
      expect(parts).toHaveLength(1);
      expect(lastError(parts)).toMatchObject({ code: c.code, isRetryable: c.retryable, upstreamStatus: c.status });
    });
  }

  it('a 404 NOT_FOUND naming a model (`models/x is not found`) is provider_model_not_found, streamed or not', async () => {
    const error = { status: 404, message: 'models/gemini-typo is not found for API version v1beta, or is not supported for generateContent.' };
    server.enqueue({ error });
    await expect(engine().generate(hello)).rejects.toMatchObject({ code: 'provider_model_not_found', isRetryable: false, upstreamStatus: 404 });
    server.enqueue({ error });
    expect(lastError(await collect(engine().stream(hello)))).toMatchObject({ code: 'provider_model_not_found', isRetryable: false });
  });

  it('takes retryAfterMs from RetryInfo, and from Retry-After when present', async () => {
    server.enqueue({ error: { status: 429, retryDelay: '34.4s' } });
    await expect(engine().generate(hello)).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 34_400 });
    server.enqueue({ error: { status: 503, headers: { 'retry-after': '3' }, retryDelay: '60s' } });
    expect(lastError(await collect(engine().stream(hello)))).toMatchObject({ code: 'provider_unavailable', retryAfterMs: 3000 });
  });

  it('an invalid key (400 API_KEY_INVALID) is authentication; a missing key fails before any request', async () => {
    await expect(engine({ apiKey: 'wrong' }).generate(hello)).rejects.toMatchObject({ code: 'authentication', upstreamStatus: 400, isRetryable: false });
    const before = server.requests.length;
    await expect(engine({ apiKey: undefined }).generate(hello)).rejects.toMatchObject({
      code: 'authentication',
      message: expect.stringContaining('GEMINI_API_KEY'),
    });
    expect(server.requests.length).toBe(before);
    await expect(engine({ apiKey: undefined }, { GOOGLE_API_KEY: 'gm-test' }).generate(hello)).resolves.toMatchObject({ text: 'Echo: Hi there' });
    await expect(engine({ apiKey: undefined }, { GEMINI_API_KEY: 'gm-test', GOOGLE_API_KEY: 'other' }).generate(hello)).resolves.toMatchObject({
      text: 'Echo: Hi there',
    });
  });

  it('recognises an oversized prompt as context_length_exceeded', async () => {
    server.enqueue({ error: { status: 400, message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).' } });
    await expect(engine().generate(hello)).rejects.toMatchObject({ code: 'context_length_exceeded' });
  });

  it('an error chunk mid-stream ends with that error after the text', async () => {
    server.enqueue({ parts: 'abcdefgh', chunks: 4, streamError: { afterEvents: 2, status: 503, message: 'The model is overloaded.' } });
    const parts = await collect(engine().stream(hello));
    expect(textOf(parts)).toBe('abcd');
    expect(lastError(parts)).toMatchObject({ code: 'provider_unavailable', isRetryable: true });
    expect(parts.some((p) => p.type === 'finish')).toBe(false);
  });

  it('a connection cut mid-stream ends with stream_interrupted after the text', async () => {
    server.enqueue({ parts: 'abcdefgh', chunks: 4, cutAfterEvents: 2 });
    const parts = await collect(engine().stream(hello));
    expect(textOf(parts)).toBe('abcd');
    expect(lastError(parts)).toMatchObject({ code: 'stream_interrupted', isRetryable: true });
  });

  it('a clean end before the finishReason chunk is stream_interrupted', async () => {
    server.enqueue({ parts: 'abcdefgh', chunks: 4, endAfterEvents: 3 });
    const parts = await collect(engine().stream(hello));
    expect(textOf(parts)).toBe('abcdef');
    expect(lastError(parts).code).toBe('stream_interrupted');
  });

  it('invalid requests fail locally with the field named', async () => {
    await expect(engine().generate({ messages: [{ role: 'system', content: 'x' }] })).rejects.toMatchObject({ param: 'messages' });
    await expect(engine().generate({ ...hello, tools: [{ name: 'f', parameters: {} }], toolChoice: { name: 'g' } })).rejects.toMatchObject({
      param: 'toolChoice.name',
    });
    expect(lastError(await collect(engine().stream({ ...hello, maxTokens: -1 })))).toMatchObject({ param: 'maxTokens' });
    expect(server.requests).toHaveLength(0);
  });

  it('tool-call arguments that are not a JSON object go as { _raw: text }, with a warning (OpenAI takes any text there)', async () => {
    for (const args of ['[1]', '{"city": "Os']) {
      const result = await engine().generate({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: null, toolCalls: [{ id: 'a', name: 'f', arguments: args }] }, { role: 'user', content: 'y' }] });
      expect(lastBody().contents[1]!.parts[0]).toMatchObject({ functionCall: { name: 'f', args: { _raw: args } } });
      expect(result.warnings).toEqual([{ code: 'setting_changed', field: 'messages.1.toolCalls.0.arguments', message: expect.stringContaining('{"_raw": <the text>}') }]);
    }
  });
});

describeAbortContract({
  name: 'gemini engine',
  engine: () => engine(),
  server: () => server,
  hello,
  streamed: ({ text, ...rest }) => ({ parts: text, ...rest }),
  hang: { hang: true },
  eventsThroughFirstDelta: 1,
  eventsBeforeHang: 4,
  maxEventsAfterAbort: 10,
});

describeStreamContract({
  name: 'gemini engine',
  engine: (baseURL = server.url) => engine({ baseURL }),
  server: () => server,
  hello,
  context: { provider: 'gemini', deployment: 'gem' },
  rateLimited: { error: { status: 429, headers: { 'retry-after': '3' } } },
  errorEvent: 'an { error } chunk',
  errorFrames: [
    `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'Hel' }], role: 'model' }, index: 0 }], responseId: 'r1', modelVersion: 'gemini-test' })}\r\n\r\n`,
    `data: ${JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } })}\r\n\r\n`,
  ],
  errorKinds: ['response-metadata', 'text-delta', 'error:provider_unavailable'],
});

describe('gemini engine: the end of the stream', () => {
  it('a connection cut after the finishReason chunk still finishes: the answer is complete', async () => {
    server.enqueue({ parts: 'abcd', chunks: 2, cutAfterEvents: 1000 });
    const parts = await collect(engine().stream(hello));
    expect(textOf(parts)).toBe('abcd');
    expect(kinds(parts).at(-1)).toBe('finish');
  });
});

describe('gemini engine: embeddings, token counting, config', () => {
  it('embeds through :batchEmbedContents in batches of 100, with estimated usage', async () => {
    const input = Array.from({ length: 150 }, (_, i) => `text number ${i}`);
    const result = await engine({ options: { embeddingModel: 'text-embedding-004', embeddingDimensions: 16 } }).embed!(input);
    expect(server.requests.map((r) => [r.path, (r.body!.requests as unknown[]).length])).toEqual([
      ['/v1beta/models/text-embedding-004:batchEmbedContents', 100],
      ['/v1beta/models/text-embedding-004:batchEmbedContents', 50],
    ]);
    expect((server.requests[0]!.body!.requests as unknown[])[0]).toEqual({
      model: 'models/text-embedding-004',
      content: { parts: [{ text: 'text number 0' }] },
      outputDimensionality: 16,
    });
    expect(result.embeddings).toHaveLength(150);
    expect(result.embeddings[0]).toHaveLength(16);
    expect(result.embeddings[0]).not.toEqual(result.embeddings[1]);
    expect(result.usage).toMatchObject({ outputTokens: 0, estimated: true });
    expect(result.usage.inputTokens).toBeGreaterThan(0);
  });

  it("a call's dimensions is each request's outputDimensionality, over the deployment's embeddingDimensions; no token ids", async () => {
    const e = engine({ options: { embeddingModel: 'text-embedding-004', embeddingDimensions: 16 } });
    expect(e.embedDimensions).toBe(true);
    expect('embedTokens' in e).toBe(false);
    const result = await e.embed!(['one', 'two'], { dimensions: 3 });
    expect((server.requests[0]!.body!.requests as Array<{ outputDimensionality?: number }>).map((r) => r.outputDimensionality)).toEqual([3, 3]);
    expect(result.embeddings.map((v) => v.length)).toEqual([3, 3]);
  });

  it('a user is not sent (Gemini has no end-user id field): a setting_not_sent warning, as on chat', async () => {
    const e = engine({ options: { embeddingModel: 'text-embedding-004' } });
    const result = await e.embed!(['one'], { user: 'end-user-1' });
    expect(JSON.stringify(server.requests[0]!.body)).not.toContain('end-user-1');
    expect(result.embeddings).toHaveLength(1);
    expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'user', message: 'user was not sent: Gemini has no end-user id field.' }]);
    expect((await e.embed!(['one'])).warnings).toBeUndefined();
  });

  it('an answer whose values are not numbers, or with a vector missing, is an invalid_response', async () => {
    let embeddings: unknown[] = [];
    const fetch = async () => new Response(JSON.stringify({ embeddings }), { headers: { 'content-type': 'application/json' } });
    const model = ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model: 'gemini-test', baseURL: 'http://gemini.test', apiKey: 'gm-test' });
    const e = createGeminiEngine(model, defaultEngineContext({ fetch }));
    for (const answer of [[{ values: [1, 2] }, { values: ['1', '2'] }], [{ values: [1, 2] }, { values: null }], [{ values: [1, 2] }]]) {
      embeddings = answer;
      await expect(e.embed!(['one', 'two']), JSON.stringify(answer)).rejects.toMatchObject({ code: 'invalid_response' });
    }
    embeddings = [{ values: [1, 2] }, { values: [3, 4] }];
    expect((await e.embed!(['one', 'two'])).embeddings).toEqual([[1, 2], [3, 4]]);
  });

  it('declares embeddings only with an embedding model: options.embeddingModel or a model id naming one, not a chat model', () => {
    expect(engine({ options: { embeddingModel: 'gemini-embedding-001' } }).capabilities.embeddings).toBe(true);
    expect(engine({ model: 'gemini-embedding-001' }).capabilities.embeddings).toBe(true);
    expect(engine({ model: 'models/text-embedding-004' }).capabilities.embeddings).toBe(true);
    expect(engine({ model: 'gemini-2.5-flash' }).capabilities.embeddings).toBe(false);
    // The factory says what the router may offer without creating the engine: an embedding model embeds only.
    const declared = (model: string, options?: Record<string, unknown>) => createGeminiEngine.capabilities(ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model, ...(options ? { options } : {}) }));
    expect(declared('gemini-embedding-001')).toEqual(['embeddings']);
    expect(declared('gemini-2.5-flash')).toBeUndefined();
    expect(declared('gemini-2.5-flash', { embeddingModel: 'gemini-embedding-001' })).toBeUndefined();
  });

  it('the legacy embedding-001 has one length only: no embedDimensions (gemini-embedding-001 and text-embedding-004 take it)', () => {
    expect(engine({ options: { embeddingModel: 'embedding-001' } }).embedDimensions).toBe(false);
    expect(engine({ options: { embeddingModel: 'models/embedding-001' } }).embedDimensions).toBe(false);
    expect(engine({ options: { embeddingModel: 'gemini-embedding-001' } }).embedDimensions).toBe(true);
    expect(engine({ options: { embeddingModel: 'text-embedding-004' } }).embedDimensions).toBe(true);
  });

  it('estimates tokens locally by default; exactTokenCount asks :countTokens', async () => {
    const estimate = await engine().countTokens!({ messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    expect(estimate).toBeGreaterThanOrEqual(100);
    expect(estimate).toBeLessThan(120);
    expect(server.requests).toHaveLength(0);
    const exact = await engine({ options: { exactTokenCount: true } }).countTokens!(hello);
    const req = server.requests.at(-1)!;
    expect(req.path).toBe('/v1beta/models/gemini-test:countTokens');
    const inner = req.body!.generateContentRequest as Record<string, unknown>;
    expect(inner.model).toBe('models/gemini-test');
    expect(exact).toBe(Math.ceil(JSON.stringify([inner.systemInstruction, inner.contents, []]).length / 4));
  });

  it('accepts a versioned baseURL and full model names', async () => {
    await engine({ baseURL: `${server.url}/v1beta/`, model: 'models/gemini-x' }).generate(hello);
    expect(server.requests.at(-1)!.path).toBe('/v1beta/models/gemini-x:generateContent');
  });

  it('rejects unknown or bad options with config_invalid', () => {
    expect(() => engine({ options: { embedingModel: 'x' } })).toThrow(expect.objectContaining({ code: 'config_invalid' }));
    expect(() => engine({ options: { embeddingDimensions: -3 } })).toThrow(expect.objectContaining({ param: 'options.embeddingDimensions' }));
  });
});

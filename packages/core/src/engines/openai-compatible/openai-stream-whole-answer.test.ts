import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { StreamPart } from '../../spec/index.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

/**
 * A server or proxy that ignores `stream: true` and answers a stream request with the whole chat completion
 * (200, a body starting with `{`, whatever its content-type): the stream gives what the completion holds (as `generate` reads it), ending with a
 * finish carrying the provider's usage; a JSON error object is the error part an error chunk would be; any other
 * JSON stays `stream_interrupted`.
 */
const fixture = useOpenAIWireServer({ script: { ignoresStream: true } });

async function collect(iterable: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of iterable) parts.push(part);
  return parts;
}

const hello = { messages: [{ role: 'user' as const, content: 'hi' }] };

/** The next part, or 'hung' when none comes within `ms` (a hang guard, not a speed bound). */
async function nextPart(iterator: AsyncIterator<StreamPart>, ms: number): Promise<StreamPart | 'hung'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  try {
    const r = await Promise.race([iterator.next(), hung]);
    return r === 'hung' ? r : (r.value as StreamPart);
  } finally {
    clearTimeout(timer);
  }
}

let raw: Server | undefined;
const rawResponses = new Set<ServerResponse>();
afterEach(async () => {
  for (const res of rawResponses) res.destroy();
  rawResponses.clear();
  raw?.closeAllConnections();
  await new Promise<void>((resolve) => (raw ? raw.close(() => resolve()) : resolve()));
  raw = undefined;
});
const tools = [{ name: 'lookup', description: 'look up', parameters: { type: 'object', properties: { q: { type: 'string' } } } }];

describe('a stream request answered with a whole JSON chat completion', () => {
  it('streams its text, reasoning and tool calls, and finishes with the usage generate reads', async () => {
    fixture.server.setScript({
      ignoresStream: true,
      id: 'chatcmpl-whole',
      model: 'gpt-4o-2024',
      reasoning: 'think first',
      text: 'the answer',
      toolCalls: [{ id: 'call_a', name: 'lookup', arguments: '{"q":"x"}' }],
      usage: { prompt_tokens: 12, completion_tokens: 7 },
    });
    const parts = await collect(fixture.engine().stream({ ...hello, tools }));
    expect(fixture.lastBody().stream).toBe(true);
    expect(parts).toEqual([
      { type: 'response-metadata', id: 'chatcmpl-whole', model: 'gpt-4o-2024' },
      { type: 'reasoning-delta', delta: 'think first' },
      { type: 'text-delta', delta: 'the answer' },
      { type: 'tool-call-delta', index: 0, id: 'call_a', name: 'lookup', argumentsDelta: '{"q":"x"}' },
      { type: 'tool-call', index: 0, toolCall: { id: 'call_a', name: 'lookup', arguments: '{"q":"x"}' } },
      { type: 'usage', usage: { inputTokens: 12, outputTokens: 7, totalTokens: 19 } },
      { type: 'finish', finishReason: 'tool-calls', usage: { inputTokens: 12, outputTokens: 7, totalTokens: 19 } },
    ]);
    const generated = await fixture.engine().generate({ ...hello, tools });
    expect(parts.at(-1)).toMatchObject({ finishReason: generated.finishReason, usage: generated.usage });
  });

  it('gives logprobs after the text when asked, and an estimated usage (no usage part) when the body has none', async () => {
    fixture.server.setScript({ ignoresStream: true, text: 'hello there', usage: null });
    const parts = await collect(fixture.engine().stream({ ...hello, logprobs: {} }));
    expect(parts.map((p) => p.type)).toEqual(['response-metadata', 'text-delta', 'logprobs', 'finish']);
    const logprobs = parts.find((p) => p.type === 'logprobs');
    expect(logprobs?.type === 'logprobs' && logprobs.logprobs.map((t) => t.token).join('')).toBe('hello there');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop', usage: { estimated: true } });
  });

  it('a JSON error object is an error part classified as an error chunk is; other JSON is stream_interrupted', async () => {
    fixture.server.setScript({ ignoresStream: true, json: { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } } });
    expect(await collect(fixture.engine().stream(hello))).toMatchObject([{ type: 'error', error: { code: 'budget_exceeded', isRetryable: false, deployment: 'd' } }]);

    fixture.server.setScript({ ignoresStream: true, json: { object: 'error', message: 'engine dead', code: 500 } });
    expect(await collect(fixture.engine().stream(hello))).toMatchObject([{ type: 'error', error: { code: 'provider_error', upstreamStatus: 500 } }]);

    for (const json of [{ id: 'x', object: 'list', data: [] }, { choices: [] }, [1, 2]]) {
      fixture.server.setScript({ ignoresStream: true, json });
      expect(await collect(fixture.engine().stream(hello)), JSON.stringify(json)).toMatchObject([{ type: 'error', error: { code: 'stream_interrupted' } }]);
    }
  });

  it('an event stream labelled application/json is still read as SSE', async () => {
    fixture.server.setScript({
      rawSSE: 'data: {"id":"x","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
      headers: { 'content-type': 'application/json' },
    });
    let responded = 0;
    const parts = await collect(fixture.engine().stream(hello, { onProviderResponse: () => responded++ }));
    expect(parts.filter((p) => p.type === 'text-delta')).toEqual([{ type: 'text-delta', delta: 'Hi' }]);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    expect(responded, 'an event stream is not an answer that came whole').toBe(0);
  });

  it('an event stream labelled application/json gives its first part before the body ends', async () => {
    fixture.server.setScript({
      rawSSE:
        'data: {"id":"x","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n' +
        'data: {"id":"x","choices":[{"index":0,"delta":{"content":" there"}}]}\n\n' +
        'data: {"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      // The upstream is still generating after its first token (a long answer).
      hangAfterChunks: 1,
    });
    const controller = new AbortController();
    const iterator = fixture.engine().stream(hello, { signal: controller.signal });
    try {
      const parts: StreamPart[] = [];
      for (;;) {
        const p = await nextPart(iterator, 5000);
        if (p === 'hung') break;
        parts.push(p);
        if (p.type === 'text-delta' || p.type === 'error' || p.type === 'finish') break;
      }
      expect(parts.find((p) => p.type === 'text-delta')).toEqual({ type: 'text-delta', delta: 'Hi' });
    } finally {
      controller.abort();
      await iterator.return?.();
    }
  });

  it('a completion after leading whitespace is read whole, onProviderResponse called once before its parts', async () => {
    const completion = JSON.stringify({ id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'whole' }, finish_reason: 'stop' }] });
    fixture.server.setScript({ rawSSE: `\n  \n${completion}`, headers: { 'content-type': 'text/plain' } });
    let responded = 0;
    const parts = await collect(fixture.engine().stream(hello, { onProviderResponse: () => responded++ }));
    expect(parts.filter((p) => p.type === 'text-delta')).toEqual([{ type: 'text-delta', delta: 'whole' }]);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: 'stop' });
    expect(responded).toBe(1);
  });

  it('aborting while a whole JSON body is read ends with aborted and closes the upstream connection', async () => {
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((resolve) => (closed = resolve));
    let headersSent!: () => void;
    const sent = new Promise<void>((resolve) => (headersSent = resolve));
    raw = createServer((req, res) => {
      req.resume();
      rawResponses.add(res);
      res.on('close', () => closed());
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"par');
      headersSent();
      // ...the rest never comes.
    });
    await new Promise<void>((resolve) => raw!.listen(0, '127.0.0.1', () => resolve()));
    const port = (raw.address() as AddressInfo).port;
    const engine = new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'd', model: 'gpt-4o', baseURL: `http://127.0.0.1:${port}/v1` }), defaultEngineContext({ env: {} }));
    const controller = new AbortController();
    let responded = 0;
    const iterator = engine.stream(hello, { signal: controller.signal, onProviderResponse: () => responded++ });
    const pending = iterator.next();
    await sent;
    await vi.waitFor(() => expect(responded).toBe(1));
    controller.abort();
    const guard = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 5000).unref());
    const r = await Promise.race([pending, guard]);
    expect(r === 'hung' ? r : r.value).toMatchObject({ type: 'error', error: { code: 'aborted' } });
    expect(await Promise.race([upstreamClosed.then(() => true), guard])).toBe(true);
  });
});

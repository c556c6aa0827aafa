import { constants } from 'node:buffer';
import { LLMError } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';
import type { Incoming } from './incoming.js';
import { MAX_BODY_BYTES_LIMIT, readJsonBody } from './read-json-body.js';

interface Case {
  name: string;
  path?: string;
  body: unknown;
  headers?: Record<string, string>;
  status: number;
  code: string;
  param: string;
}

const ok = { model: 'mock', messages: [{ role: 'user', content: 'hi' }] };
const invalidUtf8 = new Uint8Array([...new TextEncoder().encode('{"model":"mock","messages":[{"role":"user","content":"'), 0xff, 0xfe, ...new TextEncoder().encode('"}]}')]);

const cases: Case[] = [
  { name: 'malformed JSON', body: '{"model": "mock", "messages": [', status: 400, code: 'invalid_json', param: 'body' },
  { name: 'empty body', body: '', status: 400, code: 'invalid_json', param: 'body' },
  { name: 'a JSON array', body: '[1,2]', status: 400, code: 'invalid_request', param: 'body' },
  { name: 'invalid UTF-8', body: invalidUtf8, status: 400, code: 'invalid_request', param: 'body' },
  { name: 'wrong content type', body: 'model=mock', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type', param: 'content-type' },
  { name: 'model missing', body: { messages: ok.messages }, status: 400, code: 'invalid_request', param: 'model' },
  { name: 'model of the wrong type', body: { ...ok, model: 42 }, status: 400, code: 'invalid_request', param: 'model' },
  { name: 'messages not an array', body: { ...ok, messages: 'hi' }, status: 400, code: 'invalid_request', param: 'messages' },
  { name: 'no messages', body: { ...ok, messages: [] }, status: 400, code: 'invalid_request', param: 'messages' },
  { name: 'unknown role', body: { ...ok, messages: [{ role: 'wizard', content: 'x' }] }, status: 400, code: 'invalid_request', param: 'messages.0.role' },
  { name: 'content of the wrong type', body: { ...ok, messages: [{ role: 'user', content: 5 }] }, status: 400, code: 'invalid_request', param: 'messages.0.content' },
  { name: 'temperature out of range', body: { ...ok, temperature: 3 }, status: 400, code: 'invalid_request', param: 'temperature' },
  { name: 'max_tokens negative', body: { ...ok, max_tokens: -1 }, status: 400, code: 'invalid_request', param: 'max_tokens' },
  { name: 'n > 1', body: { ...ok, n: 2 }, status: 400, code: 'invalid_request', param: 'n' },
  { name: 'stream not a boolean', body: { ...ok, stream: 'yes' }, status: 400, code: 'invalid_request', param: 'stream' },
  { name: 'bad tool name', body: { ...ok, tools: [{ type: 'function', function: { name: 'has space' } }] }, status: 400, code: 'invalid_request', param: 'tools.0.function.name' },
  { name: 'tool_choice naming a missing tool', body: { ...ok, tool_choice: { type: 'function', function: { name: 'nope' } } }, status: 400, code: 'invalid_request', param: 'tool_choice.function.name' },
  { name: 'bad response_format', body: { ...ok, response_format: { type: 'xml' } }, status: 400, code: 'invalid_request', param: 'response_format.type' },
  { name: 'unknown llmrr field', body: { ...ok, llmrr: { strategi: 'x' } }, status: 400, code: 'invalid_request', param: 'llmrr.strategi' },
  { name: 'bad x-llmrr-explain', body: ok, headers: { 'x-llmrr-explain': 'maybe' }, status: 400, code: 'invalid_request', param: 'x-llmrr-explain' },
  { name: 'unknown model', body: { ...ok, model: 'gpt-17' }, status: 404, code: 'model_not_found', param: 'model' },
  { name: 'too many messages', body: { ...ok, messages: Array.from({ length: 6 }, () => ({ role: 'user', content: 'x' })) }, status: 400, code: 'invalid_request', param: 'messages' },
  { name: 'oversized body', body: { ...ok, messages: [{ role: 'user', content: 'x'.repeat(3000) }] }, status: 413, code: 'payload_too_large', param: 'body' },
  { name: 'anthropic: max_tokens missing', path: '/v1/messages', body: { model: 'mock', messages: ok.messages }, status: 400, code: 'invalid_request', param: 'max_tokens' },
  { name: 'anthropic: bad block', path: '/v1/messages', body: { model: 'mock', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'video' }] }] }, status: 400, code: 'invalid_request', param: 'messages.0.content.0.type' },
  { name: 'completions: two prompts', path: '/v1/completions', body: { model: 'mock', prompt: ['a', 'b'] }, status: 400, code: 'invalid_request', param: 'prompt' },
  { name: 'embeddings: bad input', path: '/v1/embeddings', body: { model: 'mock', input: 5 }, status: 400, code: 'invalid_request', param: 'input' },
  { name: 'api/quick: no prompt', path: '/api/quick', body: {}, status: 400, code: 'invalid_request', param: 'prompt' },
  { name: 'api/route: bad capability', path: '/api/route', body: { prompt: 'x', requirements: { capabilities: ['telepathy'] } }, status: 400, code: 'invalid_request', param: 'requirements.capabilities.0' },
];

describe('bad input gets a 4xx naming the field, never a 5xx or a stack trace', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ models: [mockModel('mock')], gateway: { limits: { maxBodyBytes: 2048, maxMessages: 5 } } });
  });
  afterAll(() => h.close());

  it.each(cases)('$name -> $status $code ($param)', async (c) => {
    const res = await post(h.gateway, c.path ?? '/v1/chat/completions', c.body, c.headers);
    const text = await res.text();
    expect(res.status, text).toBe(c.status);
    const body = JSON.parse(text) as { error: { type: string; code: string; message: string; param: string | null; request_id: string } };
    expect(body.error.code).toBe(c.code);
    expect(body.error.param).toBe(c.param);
    expect(body.error.request_id).toBe(res.headers.get('x-request-id'));
    expect(body.error.message.length).toBeGreaterThan(5);
    expect(text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
  });

  it('a wrong method is a 405 with Allow', async () => {
    const res = await h.gateway.fetch(new Request('http://gateway.test/v1/chat/completions'));
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
  });

  it('an unknown path is a JSON 404', async () => {
    const res = await h.gateway.fetch(new Request('http://gateway.test/v2/nothing'));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('a body over the limit without Content-Length is cut while reading', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 10) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await h.gateway.fetch(new Request('http://gateway.test/v1/chat/completions', { method: 'POST', body: stream, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit));
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(10);
  });
});

describe('a body longer than a string can be (V8: buffer.constants.MAX_STRING_LENGTH characters)', () => {
  it('limits.maxBodyBytes is at most that length: a larger one is refused when the gateway is made', async () => {
    expect(MAX_BODY_BYTES_LIMIT).toBe(constants.MAX_STRING_LENGTH);
    const h = await createHarness({ models: [mockModel('mock')] });
    try {
      for (const bad of [MAX_BODY_BYTES_LIMIT + 1, 1024 * 1024 * 1024, 0, Number.NaN, 1000.5]) {
        expect(() => createGateway({ router: h.router, limits: { maxBodyBytes: bad } }), String(bad)).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'limits.maxBodyBytes' }));
      }
      // An explicit undefined is the default (32 MiB), as no value.
      const made = createGateway({ router: h.router, limits: { maxBodyBytes: undefined } as { maxBodyBytes?: number } });
      await made.close();
    } finally {
      await h.close();
    }
  });

  it('every limit given as undefined is its default, as no value (a config passing an unset variable through): 1001 messages are still a 400, a request without max tokens is served', async () => {
    const h = await createHarness({
      models: [mockModel('mock')],
      gateway: { limits: { maxBodyBytes: undefined, maxMessages: undefined, defaultMaxOutputTokens: undefined, rateLimitOutputTokens: undefined } },
    });
    try {
      const messages = Array.from({ length: 1001 }, () => ({ role: 'user', content: 'x' }));
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', max_tokens: 5, messages });
      const text = await res.text();
      expect({ status: res.status, param: (JSON.parse(text) as { error: { param: string } }).error.param }, text).toEqual({ status: 400, param: 'messages' });
      const served = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: messages.slice(0, 1000) });
      expect(served.status, await served.text()).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('a body that cannot be decoded into one string is a 413, not "not valid UTF-8"', async () => {
    // What Node throws decoding more than MAX_STRING_LENGTH characters (checked by hand: a 512 MiB buffer of "a"s),
    // without allocating 512 MiB here.
    const decode = vi.spyOn(TextDecoder.prototype, 'decode').mockImplementationOnce(() => {
      throw Object.assign(new Error('Cannot create a string longer than 0x1fffffe8 characters'), { code: 'ERR_STRING_TOO_LONG' });
    });
    try {
      const bytes = new TextEncoder().encode('{"a":"b"}');
      const incoming: Incoming = { headers: { get: (n: string) => (n === 'content-type' ? 'application/json' : null) }, bytes: async () => bytes, signal: undefined, clientIp: undefined };
      const error = await readJsonBody(incoming, { maxBytes: MAX_BODY_BYTES_LIMIT }).then(
        () => undefined,
        (e: unknown) => e as LLMError,
      );
      expect({ code: error?.code, status: error?.statusCode, param: error?.param, utf8: /UTF-8/.test(error?.message ?? '') }).toEqual({ code: 'payload_too_large', status: 413, param: 'body', utf8: false });
      // The decoder works again for the next body.
      expect(await readJsonBody(incoming, { maxBytes: MAX_BODY_BYTES_LIMIT })).toEqual({ a: 'b' });
    } finally {
      decode.mockRestore();
    }
  });
});

describe('a Content-Length that does not tell the body (a Request given to gateway.fetch; node:http checks its own)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ models: [mockModel('mock')], gateway: { limits: { maxBodyBytes: 4096, maxBodyBytesInFlight: 6000 } } });
  });
  afterAll(async () => {
    await h?.close();
  });

  const body = JSON.stringify(ok);
  const call = (contentLength: string) =>
    h.gateway.fetch(new Request('http://gw/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': contentLength }, body }));

  it('one that is not decimal digits ("4000x", "1e3", "12.5", "-1", "0x10", "") is a 400 naming content-length', async () => {
    for (const bad of ['4000x', '1e3', '12.5', '-1', '0x10', '']) {
      const res = await call(bad);
      const error = ((await res.json()) as { error: { code: string; param: string | null } }).error;
      expect({ bad, status: res.status, code: error.code, param: error.param }).toEqual({ bad, status: 400, code: 'invalid_request', param: 'content-length' });
    }
  });

  it('a body longer than its Content-Length is a 400 naming content-length once more bytes arrive; the exact length is served', async () => {
    const res = await call(String(Buffer.byteLength(body) - 5));
    const error = ((await res.json()) as { error: { code: string; param: string | null } }).error;
    expect({ status: res.status, code: error.code, param: error.param }).toEqual({ status: 400, code: 'invalid_request', param: 'content-length' });
    expect((await call(String(Buffer.byteLength(body)))).status).toBe(200);
  });
});

describe('limits options every limited or budgeted call uses, checked when the gateway is made', () => {
  it('a maxMessages, defaultMaxOutputTokens or rateLimitOutputTokens that is NaN, negative or fractional is refused, naming it', async () => {
    const h = await createHarness({ models: [mockModel('mock')] });
    try {
      const bad = { maxMessages: [Number.NaN, 0, -5, 2.5, -Infinity], defaultMaxOutputTokens: [Number.NaN, 0, -5, 100.5, Infinity], rateLimitOutputTokens: [Number.NaN, -1000, 0.5, Infinity] };
      for (const [option, values] of Object.entries(bad)) {
        for (const value of values) {
          expect(() => createGateway({ router: h.router, limits: { [option]: value } }), `${option}: ${value}`).toThrow(expect.objectContaining({ code: 'config_invalid', param: `limits.${option}` }));
        }
      }
    } finally {
      await h.close();
    }
  });

  it('the smallest values are taken (no output tokens charged up front, 1 assumed): a call of a tenant with limits and a budget is served', async () => {
    const h = await createHarness({ models: [mockModel('mock')], stores: 'memory', gateway: { limits: { rateLimitOutputTokens: 0, defaultMaxOutputTokens: 1, maxMessages: 1 } } });
    try {
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { tpm: 100_000, rpm: 100 }, budget: { amountUsd: 10, period: 'total' } });
      const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
      const res = await post(h.gateway, '/v1/chat/completions', ok, { authorization: `Bearer ${secret}` });
      expect(res.status, await res.clone().text()).toBe(200);
      const body = (await res.json()) as { usage: { completion_tokens: number } };
      // The filled-in max_tokens (defaultMaxOutputTokens) bounds the answer.
      expect(body.usage.completion_tokens).toBeLessThanOrEqual(1);
      expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
    } finally {
      await h.close();
    }
  });

  it('maxMessages: Infinity is no limit on the count: a request of more than the default 1 000 messages is served', async () => {
    const h = await createHarness({ models: [mockModel('mock')], gateway: { limits: { maxMessages: Number.POSITIVE_INFINITY } } });
    try {
      const messages = Array.from({ length: 1_001 }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `m${i}` }));
      const res = await post(h.gateway, '/v1/chat/completions', { ...ok, messages }, {});
      expect(res.status, await res.clone().text()).toBe(200);
    } finally {
      await h.close();
    }
  });
});

/**
 * OpenAI-compatible servers' real stream and answer shapes (Azure, Gemini's OpenAI compatibility, vLLM, older
 * llama.cpp, OpenRouter) and answers that are not what they claim (an error or HTML page with a 200, a JSON answer to a
 * stream request: read whole, as the stream it stands for), from a raw node:http upstream through the served gateway (official openai client, or plain fetch
 * where the wire matters). Nothing is a 500 or a successful answer with a hole in it, and every call settles its
 * budget reservation. (SSE framing itself: core's util/http.test.ts, sse-data-parser.test.ts.)
 */
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectGatewayError } from '../test-support/expect-error.js';
import { ledgerRow, reservationsSettled } from '../test-support/ledger-wait.js';
import { send } from '../test-support/raw-http.js';
import { startRawUpstream } from '../test-support/raw-upstream.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

/** How the upstream answers the next request. */
let handle: (res: ServerResponse) => void = (res) => void res.end('{}');
let gw: SdkGateway;
let client: OpenAI;

beforeAll(async () => {
  const upstream = await startRawUpstream((_req, res) => handle(res));
  gw = await servedGateway({
    models: [{ name: 'raw', engine: 'openai-compatible', baseURL: `${upstream.url}/v1`, model: 'raw-model', apiKey: 'k', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming'] }],
    upstreams: [upstream],
  });
  await gw.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' }, limits: { maxConcurrency: 4 } });
  client = gw.openai();
});
afterAll(async () => gw?.close());

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'chatcmpl-raw',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'raw-model',
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const data = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const sseHead = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
const json = (res: ServerResponse, body: string, type = 'application/json') => {
  res.writeHead(200, { 'content-type': type });
  res.end(body);
};
const completion = (text: string) =>
  JSON.stringify({
    id: 'chatcmpl-raw',
    object: 'chat.completion',
    created: 1,
    model: 'raw-model',
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
  });

async function streamed() {
  const { data: stream, response } = await client.chat.completions.create({ model: 'raw', messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
  let text = '';
  let finish: string | null = null;
  let error: unknown;
  try {
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
  } catch (e) {
    error = e;
  }
  return { id: response.headers.get('x-request-id')!, text, finish, error };
}

function post(stream: boolean, extra: Record<string, unknown> = {}) {
  const body = JSON.stringify({ model: 'raw', messages: [{ role: 'user', content: 'hi' }], stream, ...extra });
  return send(gw.url, 'POST', '/v1/chat/completions', body, { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' });
}

describe('stream shapes of OpenAI-compatible servers', () => {
  it('Azure OpenAI: a first chunk with choices [] and prompt_filter_results, an empty model, a usage chunk without choices: nothing lost', async () => {
    handle = (res) => {
      sseHead(res);
      res.write(data({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] }));
      res.write(data(chunk({ role: 'assistant', content: '' })));
      res.write(data(chunk({ content: 'Hello world' })));
      res.write(data({ ...chunk({}, 'stop'), choices: [{ index: 0, delta: {}, finish_reason: 'stop', content_filter_results: {} }] }));
      res.write(data({ ...chunk({}), choices: [], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } }));
      res.end('data: [DONE]\n\n');
    };
    const r = await streamed();
    expect(r).toMatchObject({ error: undefined, text: 'Hello world', finish: 'stop' });
    expect(await ledgerRow(gw, r.id)).toMatchObject({ status: 'success', inputTokens: 7, outputTokens: 2 });
  });

  it("Gemini's OpenAI compatibility: the last content in the same chunk as finish_reason", async () => {
    handle = (res) => {
      sseHead(res);
      res.write(data(chunk({ role: 'assistant', content: 'Hello ' })));
      res.write(data(chunk({ role: 'assistant', content: 'world' }, 'stop')));
      res.end('data: [DONE]\n\n');
    };
    expect(await streamed()).toMatchObject({ error: undefined, text: 'Hello world', finish: 'stop' });
  });

  it('vLLM: a second finish chunk carrying usage gives the client one finish_reason and the reported usage', async () => {
    handle = (res) => {
      sseHead(res);
      res.write(data(chunk({ role: 'assistant', content: 'Hello world' })));
      res.write(data(chunk({ content: '' }, 'stop')));
      res.write(data({ ...chunk({ content: '' }, 'stop'), usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } }));
      res.end('data: [DONE]\n\n');
    };
    const r = await post(true, { stream_options: { include_usage: true } });
    expect(r.status).toBe(200);
    const lines = r.body.split('\n').filter((l) => l.startsWith('data: {'));
    expect(lines.filter((l) => /"finish_reason":"/.test(l)), r.body).toHaveLength(1);
    expect(lines.filter((l) => l.includes('"usage":{')).join('\n')).toContain('"prompt_tokens":7');
  });

  it('a clean [DONE] without any finish_reason (older llama.cpp): a complete answer, finish_reason stop', async () => {
    handle = (res) => {
      sseHead(res);
      res.write(data(chunk({ role: 'assistant', content: 'Hello world' })));
      res.end('data: [DONE]\n\n');
    };
    expect(await streamed()).toMatchObject({ error: undefined, text: 'Hello world', finish: 'stop' });
  });
});

describe('OpenAI-compatible stream faults', () => {
  it('an OpenRouter-style data: {"error"} mid-stream reaches the client as an error, ledgered as error', async () => {
    handle = (res) => {
      sseHead(res);
      res.write(data(chunk({ role: 'assistant', content: '' })));
      res.write(data(chunk({ content: 'Hello ' })));
      res.write(data({ error: { message: 'Provider returned error', code: 502 } }));
      res.end('data: [DONE]\n\n');
    };
    const r = await streamed();
    expect(r.text).toBe('Hello ');
    expect(r.error).toBeInstanceOf(OpenAI.APIError);
    expect((await ledgerRow(gw, r.id)).status).toBe('error');
    await reservationsSettled(gw);
  });

  it('an event: error line mid-stream (vLLM / TGI style) is an error to the client, not a silent success', async () => {
    handle = (res) => {
      sseHead(res);
      res.write(data(chunk({ role: 'assistant', content: '' })));
      res.write(data(chunk({ content: 'Hello ' })));
      res.write(`event: error\ndata: ${JSON.stringify({ error: { message: 'CUDA out of memory', type: 'InternalServerError' } })}\n\n`);
      res.end();
    };
    const r = await streamed();
    expect(r.text).toBe('Hello ');
    expect(r.error).toBeInstanceOf(OpenAI.APIError);
    expect(String((r.error as Error).message)).toContain('CUDA out of memory');
  });

  it('a data line that is not JSON mid-stream ends the stream with invalid_response (no success with a hole in it)', async () => {
    handle = (res) => {
      sseHead(res);
      res.write(data(chunk({ role: 'assistant', content: '' })));
      res.write(data(chunk({ content: 'Hello ' })));
      res.write('data: {"id":"chatcmpl-raw","choices":[{"index":0,"delta":{"content":"lost"\n\n');
      res.write(data(chunk({ content: 'world' })));
      res.write(data(chunk({}, 'stop')));
      res.end('data: [DONE]\n\n');
    };
    const r = await streamed();
    expect(r.text).toBe('Hello ');
    expect(r.error).toBeInstanceOf(OpenAI.APIError);
    expect((r.error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ code: 'invalid_response' });
    expect((await ledgerRow(gw, r.id)).status).toBe('error');
  });

  it('the connection cut after the SSE headers, before any chunk: an HTTP 502 stream_interrupted, not a 200 with an empty stream', async () => {
    handle = (res) => {
      sseHead(res);
      res.flushHeaders();
      setTimeout(() => res.socket?.destroy(), 10);
    };
    expectGatewayError(await post(true), { status: 502, code: 'stream_interrupted' });
    await reservationsSettled(gw);
  });
});

describe('OpenAI-compatible answers that are not what they claim', () => {
  for (const [label, body, code] of [
    ['choices: [] (a filtered Azure answer)', JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'raw-model', choices: [], usage: { prompt_tokens: 5, completion_tokens: 0, total_tokens: 5 } }), 'invalid_response'],
    ['JSON null', 'null', 'invalid_response'],
    ['a JSON array', '[]', 'invalid_response'],
    ['an error body', JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', code: null } }), 'invalid_response'],
    ['truncated JSON on a complete HTTP answer', '{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assis', 'invalid_response'],
  ] as const) {
    it(`200 with ${label}: a typed 502 ${code}, ledgered, nothing left reserved`, async () => {
      handle = (res) => json(res, body);
      const answer = await post(false);
      expectGatewayError(answer, { status: 502, code }, label);
      await ledgerRow(gw, String(answer.headers['x-request-id']));
      await reservationsSettled(gw);
    });
  }

  it('200 with a message without content or tool calls: an empty answer (200), not an error', async () => {
    handle = (res) => json(res, JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'raw-model', choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: 'stop' }] }));
    const answer = await post(false);
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body).choices[0]).toMatchObject({ message: { role: 'assistant', content: '' }, finish_reason: 'stop' });
  });

  it('200 with an HTML body (a captive proxy page), streamed or not: a typed 502', async () => {
    handle = (res) => json(res, '<html><body><h1>Bad Gateway</h1></body></html>', 'text/html');
    for (const stream of [false, true]) expectGatewayError(await post(stream), { status: 502 }, `stream ${stream}`);
    await reservationsSettled(gw);
  });

  it('a stream request answered with a whole JSON completion (a server ignoring stream): streamed to the client, ledgered with its usage', async () => {
    handle = (res) => json(res, completion('whole answer'));
    const r = await streamed();
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ text: 'whole answer', finish: 'stop' });
    const row = await ledgerRow(gw, r.id);
    expect(row).toMatchObject({ status: 'success', inputTokens: 5, outputTokens: 3 });
    expect(row.costUsd).toBeCloseTo((5 * 1 + 3 * 2) / 1e6, 12);
    await reservationsSettled(gw);
  });

  it('a stream request answered with a JSON error object (200): a typed error from its code, not stream_interrupted', async () => {
    handle = (res) => json(res, JSON.stringify({ error: { message: "This model's maximum context length is 8192 tokens", type: 'invalid_request_error', code: 'context_length_exceeded' } }));
    expectGatewayError(await post(true), { status: 400, code: 'context_length_exceeded' });
    await reservationsSettled(gw);
  });

  it('a stream request answered with JSON that is neither a completion nor an error: a 502 stream_interrupted, not an empty "successful" stream', async () => {
    handle = (res) => json(res, JSON.stringify({ id: 'x', object: 'something.else' }));
    expectGatewayError(await post(true), { status: 502, code: 'stream_interrupted' });
    await reservationsSettled(gw);
  });
});

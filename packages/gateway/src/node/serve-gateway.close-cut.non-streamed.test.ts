/**
 * A non-streamed model request still running when `close(graceMs)`'s grace ends answers as a streamed request whose
 * stream has not opened does: its upstream call is cancelled, the call settled as an `error` with code `shutting_down`
 * (ledger row, `llm_requests_total{status="shutting_down"}`), then a 503 in its route's error shape (OpenAI's on
 * `/v1/chat/completions`, Anthropic's on `/v1/messages`, with its top-level `request_id`) before its connection closes,
 * within the cut's 1 s bound. The official clients throw their `APIError` (503), not a connection error. So does an
 * embeddings request, and one whose body was still arriving when the cut started (once it is complete).
 * Over local OpenAI- and Anthropic-wire upstreams that do not answer until their client leaves.
 */
import Anthropic from '@anthropic-ai/sdk';
import { request as httpRequest } from 'node:http';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../test-support/harness.js';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';
import type { WireUpstreams } from '../test-support/wire-upstreams.js';

let gw: SdkGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

async function setup(): Promise<{ gw: SdkGateway; upstreams: WireUpstreams }> {
  const started = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude'), wireDeployment(u, 'gpt')]);
  gw = started.gw;
  // Both upstreams take the request and send nothing until the gateway goes away.
  started.upstreams.openai.setScript({ hang: true });
  started.upstreams.anthropic.enqueue({ hang: true });
  return started;
}

/** Resolves once `count` requests reached the upstreams (the calls are in flight), at most `timeoutMs`. */
async function upstreamsReached(upstreams: WireUpstreams, count: number, timeoutMs = 5_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (upstreams.openai.requests.length + upstreams.anthropic.requests.length < count) {
    if (performance.now() > until) throw new Error('the requests did not reach the upstreams');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('close(graceMs) with non-streamed requests still running at the end of the grace', () => {
  it('the official clients get a 503 shutting_down APIError in their route\'s shape; each call is cancelled upstream and ledgered first', async () => {
    const { gw, upstreams } = await setup();
    const messages = [{ role: 'user' as const, content: 'hi' }];
    const chat = gw
      .openai()
      .chat.completions.create({ model: 'gpt', messages })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const claude = gw
      .anthropic()
      .messages.create({ model: 'claude', max_tokens: 20, messages })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await upstreamsReached(upstreams, 2);
    const closing = performance.now();
    await gw.served.close(100);
    // Answered by the cut, not dropped by the 1 s bound after the grace.
    expect(performance.now() - closing).toBeLessThan(900);

    const chatError = await chat;
    expect(chatError).toBeInstanceOf(OpenAI.APIError);
    expect(chatError).not.toBeInstanceOf(OpenAI.APIConnectionError);
    const openaiError = chatError as InstanceType<typeof OpenAI.APIError>;
    expect({ status: openaiError.status, code: openaiError.code, type: openaiError.type }).toEqual({ status: 503, code: 'shutting_down', type: 'api_error' });
    expect(openaiError.message).toMatch(/shutting down/);
    expect(openaiError.headers?.get('connection')).toBe('close');

    const claudeError = await claude;
    expect(claudeError).toBeInstanceOf(Anthropic.APIError);
    expect(claudeError).not.toBeInstanceOf(Anthropic.APIConnectionError);
    const anthropicError = claudeError as InstanceType<typeof Anthropic.APIError>;
    const body = anthropicError.error as Anthropic.ErrorResponse;
    expect({ status: anthropicError.status, type: body.type, errorType: body.error.type, requestId: body.request_id }).toEqual({
      status: 503,
      type: 'error',
      errorType: 'api_error',
      requestId: anthropicError.requestID,
    });
    expect(body.error.message).toMatch(/shutting down/);

    // The upstream calls were cancelled (the gateway walked away from both), and settled before the answers.
    expect(upstreams.openai.responsesAborted).toBe(1);
    const rows = await gw.ledger.query({ tenantId: 'acme', limit: 10 });
    expect(rows.map((r) => ({ endpoint: r.endpoint, status: r.status, errorCode: r.errorCode, stream: r.stream })).sort((a, b) => (a.endpoint ?? '').localeCompare(b.endpoint ?? ''))).toEqual([
      { endpoint: '/v1/chat/completions', status: 'error', errorCode: 'shutting_down', stream: false },
      { endpoint: '/v1/messages', status: 'error', errorCode: 'shutting_down', stream: false },
    ]);
    expect(rows.map((r) => r.requestId).sort()).toEqual([openaiError.requestID, anthropicError.requestID].sort());
    const metrics = await (await get(gw.harness.gateway, '/metrics')).text();
    expect(metrics).toContain('llm_requests_total{model="gpt",status="shutting_down",tenant="acme"} 1');
    expect(metrics).toContain('llm_requests_total{model="claude",status="shutting_down",tenant="acme"} 1');
    expect(metrics).not.toMatch(/status="(stream_interrupted|aborted)"/);
    expect(metrics).toMatch(/llm_requests_in_flight 0/);
  });

  it('an embeddings request still running gets the 503 too, ledgered as shutting_down', async () => {
    const started = await servedOverWireUpstreams((u) => [{ name: 'emb', engine: 'openai-compatible', baseURL: u.openai.baseURL, apiKey: 'k', model: 'text-embedding-test', capabilities: ['embeddings'] }]);
    gw = started.gw;
    started.upstreams.openai.setScript({ hang: true });
    const embedding = gw
      .openai()
      .embeddings.create({ model: 'emb', input: 'hi' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await upstreamsReached(started.upstreams, 1);
    await gw.served.close(50);
    const error = await embedding;
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionError);
    expect({ status: (error as InstanceType<typeof OpenAI.APIError>).status, code: (error as InstanceType<typeof OpenAI.APIError>).code }).toEqual({ status: 503, code: 'shutting_down' });
    expect(started.upstreams.openai.responsesAborted).toBe(1);
    const rows = await gw.ledger.query({ tenantId: 'acme', limit: 10 });
    expect(rows.map((r) => ({ endpoint: r.endpoint, status: r.status, errorCode: r.errorCode }))).toEqual([{ endpoint: '/v1/embeddings', status: 'error', errorCode: 'shutting_down' }]);
  });

  it('a non-streamed request whose body was still arriving when the cut started answers the 503 once complete, without calling its upstream', async () => {
    const started = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gpt')]);
    gw = started.gw;
    const { url, secret } = gw;
    const body = JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'late' }] });
    let cutStarted!: () => void;
    const cut = new Promise<void>((r) => (cutStarted = r));
    let connected!: () => void;
    const connection = new Promise<void>((r) => (connected = r));
    const late = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        `${url}/v1/chat/completions`,
        { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}`, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.on('socket', (socket) => socket.once('connect', connected));
      // Headers and part of the body now; the rest once the cut has started.
      req.write(body.slice(0, 20));
      void cut.then(() => req.end(body.slice(20)));
    });
    // The server (in this process) reads the headers once connected: then close.
    await connection;
    await new Promise((r) => setTimeout(r, 100));
    const closed = gw.served.close(50);
    // Right after the grace's (50 ms) timer, set first, has fired: the cut has started, and gives the request up to
    // 1 s to answer.
    setTimeout(cutStarted, 50);
    const got = await late;
    await closed;
    expect(got.status).toBe(503);
    expect(JSON.parse(got.text)).toMatchObject({ error: { code: 'shutting_down', type: 'api_error' } });
    expect(started.upstreams.openai.requests).toHaveLength(0);
    const rows = await gw.ledger.query({ tenantId: 'acme', limit: 10 });
    expect(rows.map((r) => ({ status: r.status, errorCode: r.errorCode, stream: r.stream }))).toEqual([{ status: 'error', errorCode: 'shutting_down', stream: false }]);
  });
});

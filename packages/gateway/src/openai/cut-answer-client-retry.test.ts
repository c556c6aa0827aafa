/**
 * A provider's 200 whose body is cut is an `afterResponse` error: the router does not send it again (the answer may
 * be billed), and the gateway's error reply says so to the client too: `x-should-retry: false`, which the official
 * OpenAI and Anthropic clients honour (they retry every 5xx twice by default, with the same request), and a message
 * saying the answer was lost after the provider accepted it. With the clients' default settings, one upstream request.
 */
import Anthropic from '@anthropic-ai/sdk';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-test',
  choices: [{ index: 0, message: { role: 'assistant', content: 'a long billed answer '.repeat(50) }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 500, total_tokens: 510 },
});

let upstream: Server;
let requests = 0;
let gw: SdkGateway;

beforeAll(async () => {
  // A finished (billed) completion: the 200, half its body, then the connection drops.
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(COMPLETION)) });
      res.write(COMPLETION.slice(0, COMPLETION.length / 2), () => setTimeout(() => res.socket?.destroy(), 5));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const baseURL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', model: 'gpt-test', baseURL, apiKey: 'sk-up', capabilities: ['chat', 'streaming'] }],
    routing: { retries: { max: 2, initialDelayMs: 1, maxDelayMs: 1 } },
  });
});
afterAll(async () => {
  await gw?.close();
  await new Promise<void>((r) => upstream.close(() => r()));
});

describe('a cut upstream answer through the gateway and the official clients', () => {
  it('openai client with its default retries: the billed answer is requested once, not three times', async () => {
    requests = 0;
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.secret });
    const err = (await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e,
    )) as { status?: number; message?: string; headers?: Headers } | undefined;
    expect(err?.status).toBe(502);
    expect(err?.headers?.get('x-should-retry')).toBe('false');
    expect(err?.message).toContain('after the provider accepted the request: the answer is lost and was not requested again');
    expect(requests).toBe(1);
  });

  it('anthropic client with its default retries: the billed answer is requested once, not three times', async () => {
    requests = 0;
    const client = new Anthropic({ baseURL: gw.url, apiKey: gw.secret });
    const err = (await client.messages.create({ model: 'gpt', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e,
    )) as { status?: number; message?: string; headers?: Headers } | undefined;
    expect(err?.status).toBe(502);
    expect(err?.headers?.get('x-should-retry')).toBe('false');
    expect(err?.message).toContain('after the provider accepted the request: the answer is lost and was not requested again');
    expect(requests).toBe(1);
  });

  it("the ledger row names the deployment and provider that were asked (the answer may be billed), with no cost invented", async () => {
    requests = 0;
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.secret}`, 'x-request-id': 'ignored' },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const requestId = res.headers.get('x-request-id');
    expect({ status: res.status, retry: res.headers.get('x-should-retry'), requests }).toEqual({ status: 502, retry: 'false', requests: 1 });
    await res.text();
    const row = (await gw.ledger.query({ tenantId: 'acme' })).find((r) => r.requestId === requestId);
    expect(row && { status: row.status, deployment: row.deployment, provider: row.provider, costUsd: row.costUsd, errorCode: row.errorCode }).toEqual({
      status: 'error',
      deployment: 'gpt',
      provider: 'openai-compatible',
      costUsd: 0,
      errorCode: 'network_error',
    });
  });
});

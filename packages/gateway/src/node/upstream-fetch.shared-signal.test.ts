/**
 * `createUpstreamFetch` says it removes the abort listeners it adds (`RELEASES_ABORT_LISTENERS`), so the router hands
 * the openai-compatible engine the call's own signal as it is for a plain `generate` (an `AttemptSignal` following the
 * gateway's per-connection signal): checked against real HTTP peers, the claim (no listener left after answers of every kind, aborts
 * included) and what the router does with it (a long-lived signal collects nothing; an abort still ends the call).
 * Its stream attempts' `AttemptSignal` (`TAKES_ATTEMPT_SIGNALS`): upstream-fetch.attempt-signal.test.ts.
 */
import { LLMRouter, RELEASES_ABORT_LISTENERS } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamFetch, type UpstreamFetch } from './upstream-fetch.js';

let peer: Server;
let base: string;
let wire: OpenAIWireServer;
let upstream: UpstreamFetch;

beforeAll(async () => {
  peer = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/json') res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      else if (req.url === '/sse') res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: one\n\ndata: two\n\n');
      else if (req.url === '/error') res.writeHead(429, { 'content-type': 'application/json' }).end('{"error":{"message":"slow down"}}');
      // '/hang': headers never come.
    });
  });
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
  wire = await startOpenAIWireServer();
  upstream = createUpstreamFetch();
});

afterAll(async () => {
  await upstream.close();
  peer.closeAllConnections();
  await new Promise<void>((r) => peer.close(() => r()));
  await wire.close();
});

const abortListeners = (s: AbortSignal) => getEventListeners(s, 'abort').length;

describe('createUpstreamFetch and a caller signal', () => {
  it('says it releases its abort listeners, and leaves none on the signal after JSON, streamed and error answers and an abort', async () => {
    expect((upstream as unknown as Record<symbol, unknown>)[RELEASES_ABORT_LISTENERS]).toBe(true);
    const signal = new AbortController().signal;
    expect(await (await upstream(`${base}/json`, { method: 'POST', body: '{}', signal })).json()).toEqual({ ok: true });
    expect(abortListeners(signal)).toBe(0);
    const sse = await upstream(`${base}/sse`, { method: 'POST', body: '{}', signal });
    expect(await sse.text()).toBe('data: one\n\ndata: two\n\n');
    expect(abortListeners(signal)).toBe(0);
    const refused = await upstream(`${base}/error`, { method: 'POST', body: '{}', signal });
    expect(refused.status).toBe(429);
    await refused.text();
    expect(abortListeners(signal)).toBe(0);

    const controller = new AbortController();
    const hanging = upstream(`${base}/hang`, { method: 'POST', body: '{}', signal: controller.signal });
    await new Promise((r) => setTimeout(r, 50));
    expect(abortListeners(controller.signal)).toBe(1);
    controller.abort(new Error('client went away'));
    await expect(hanging).rejects.toThrow('client went away');
  });

  it("the router hands the engine the call's own signal (following the caller's): the caller's collects no listener over many calls, and its abort ends the call", async () => {
    const router = new LLMRouter({ models: [{ name: 'main', engine: 'openai-compatible', baseURL: wire.baseURL, model: 'gpt-test', apiKey: 'k' }], routing: { strategy: 'priority' } }, { fetch: upstream });
    const connection = new AbortController();
    for (let i = 0; i < 20; i++) expect((await router.generate(`call ${i}`, { signal: connection.signal })).text).toBe(`echo: call ${i}`);
    expect(abortListeners(connection.signal)).toBe(0);

    wire.setScript({ hang: true });
    const before = wire.requests.length;
    const pending = router.generate('hang', { signal: connection.signal });
    while (wire.requests.length === before) await new Promise((r) => setTimeout(r, 5));
    // One listener while the call runs: the call's own signal's (an AttemptSignal, which the upstream request takes as
    // it is: no linked controller of the attempt's).
    expect(abortListeners(connection.signal)).toBe(1);
    connection.abort(new Error('client went away'));
    await expect(pending).rejects.toMatchObject({ code: 'aborted', deployment: 'main' });
    wire.setScript({});
    await router.close();
  });
});

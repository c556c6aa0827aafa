import { LLMRouter } from '@llmrr/core';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import type { Gateway } from '../types.js';
import { serveGateway, type ServedGateway } from './serve-gateway.js';
import { createUpstreamFetch, type UpstreamFetch } from './upstream-fetch.js';

/** Content per upstream chunk, and chunks per answer: 128 MiB of content, far more than the sockets buffer. */
const CHUNK_CHARS = 8192;
const CHUNKS = 16_384;
const TOTAL = CHUNK_CHARS * CHUNKS;

let upstream: Server;
/** Bytes the upstream has handed to its socket for the current answer (it waits for `drain` as a server should). */
let written = 0;
let finished = false;

const sse = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

async function streamAnswer(res: ServerResponse): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const frame = sse({ content: 'x'.repeat(CHUNK_CHARS) }, null);
  for (let i = 0; i < CHUNKS; i++) {
    written += frame.length;
    if (!res.write(frame)) {
      const go = await new Promise<boolean>((resolve) => {
        // Both listeners go once either fires (a `close` left per wait piles up past the listener limit).
        const drain = () => {
          res.off('close', close);
          resolve(true);
        };
        const close = () => {
          res.off('drain', drain);
          resolve(false);
        };
        res.once('drain', drain);
        res.once('close', close);
      });
      if (!go) return;
    }
  }
  res.end(`${sse({}, 'stop')}data: [DONE]\n\n`);
  finished = true;
}

let upstreamFetch: UpstreamFetch;
let router: LLMRouter;
let gateway: Gateway;
let served: ServedGateway;

beforeAll(async () => {
  upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => void streamAnswer(res));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamFetch = createUpstreamFetch();
  router = new LLMRouter(
    { models: [{ name: 'big', engine: 'openai-compatible', baseURL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`, apiKey: 'sk', model: 'm' }], routing: { retries: { max: 0 } } },
    { fetch: upstreamFetch },
  );
  gateway = createGateway({ router, log: () => {} });
  served = await serveGateway(gateway, { port: 0 });
});

afterAll(async () => {
  await served?.close(1000);
  await gateway?.close();
  await router?.close();
  await upstreamFetch?.close();
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
});

/** Resolves once `written` has not moved for `quietMs` (or after `maxMs`). */
async function settled(quietMs: number, maxMs: number): Promise<number> {
  const start = Date.now();
  let last = -1;
  let since = Date.now();
  while (Date.now() - start < maxMs) {
    if (written !== last) {
      last = written;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return written;
}

describe('a client that stops reading a stream', () => {
  it('holds the upstream back (bounded memory) and gets the whole answer once it reads again', async () => {
    const body = JSON.stringify({ model: 'big', stream: true, messages: [{ role: 'user', content: 'a lot, please' }] });
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: served.port, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' } }, resolve);
      req.on('error', reject);
      req.end(body);
    });
    expect(res.statusCode).toBe(200);
    // Not reading: the gateway's socket to the client fills, and with it every buffer back to the upstream.
    res.pause();
    const whilePaused = await settled(400, 8000);
    expect(finished).toBe(false);
    expect(whilePaused).toBeLessThan(TOTAL / 2);

    let content = 0;
    let tail = '';
    res.setEncoding('utf8');
    res.on('data', (text: string) => {
      const joined = tail + text;
      const events = joined.split('\n\n');
      tail = events.pop()!;
      for (const event of events) {
        if (!event.startsWith('data: {')) continue;
        const delta = (JSON.parse(event.slice(6)) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content;
        if (delta) content += delta.length;
      }
    });
    res.resume();
    await new Promise((resolve) => res.on('end', resolve));
    expect(finished).toBe(true);
    expect(content).toBe(TOTAL);
  }, 60_000);
});

/**
 * A client that goes away after sending a streamed request, before the gateway has its first part: here while the
 * call is admitted (a budget store round trip, slowed down to make the window wide; in shared mode a Redis or
 * PostgreSQL round trip, a semantic-cache lookup's embedding call) and the answer is a router cache hit, which
 * replays without looking at the aborted signal. The request is still settled once (README, "Streams": "Only the
 * client's own leaving ... ends a stream without one, ledgered as `aborted`"): its ledger row written, its
 * concurrency lease released, `llm_requests_in_flight` back to 0. The call closes a stream that opened after its
 * client left (over node:http and over the Fetch API, whose reply nobody reads); the Node writer cancels a stream
 * whose response closed before it was handed one (its 'close' event already emitted) rather than wait for a
 * 'drain' that never comes.
 * Real gateway over node:http (the Node fast path), a raw TCP client, the official openai client for the calls
 * around it, a local OpenAI-wire upstream, in-memory (SQLite) stores.
 */
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FrameStream } from '../http/reply.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { writeReply } from './write-reply.js';

let upstream: OpenAIWireServer;
let gw: SdkGateway;
beforeAll(async () => {
  upstream = await startOpenAIWireServer({ script: { text: 'the cached answer' } });
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming'] }],
    cache: { exact: { enabled: true, ttlMs: 3_600_000 } },
    upstreams: [upstream],
  });
  await gw.harness.stores!.tenants.updateTenant('acme', { budget: { amountUsd: 100, period: 'month' }, limits: { maxConcurrency: 1 } });
});
afterAll(async () => gw?.close());

async function inFlight(): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('llm_requests_in_flight '))!;
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Sends a whole streamed chat request on a fresh connection and destroys the connection after `ms`. */
async function sendAndLeave(body: string, ms: number): Promise<void> {
  const u = new URL(gw.url);
  const socket = connect({ host: u.hostname, port: Number(u.port) });
  socket.on('error', () => {});
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer ${gw.secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  await new Promise((r) => setTimeout(r, ms));
  socket.destroy();
}

/** Slows the budget reservation of admission down by 300 ms (the window the client leaves in); undone by the returned function. */
function slowReserve(): () => void {
  const budgets = gw.harness.stores!.budgets;
  const reserve = budgets.reserve;
  budgets.reserve = async (r) => {
    await new Promise((res) => setTimeout(res, 300));
    return reserve.call(budgets, r);
  };
  return () => {
    budgets.reserve = reserve;
  };
}

/** The ledger row of `requestId`, polled for up to 3 s. */
async function ledgerRow(requestId: string) {
  let row = await gw.ledger.get(requestId);
  for (let i = 0; i < 150 && !row; i++) {
    await new Promise((r) => setTimeout(r, 20));
    row = await gw.ledger.get(requestId);
  }
  return row;
}

describe('a streamed cache hit whose client left during admission', () => {
  const messages = [{ role: 'user' as const, content: 'what is cached?' }];
  beforeAll(async () => {
    // The answer goes into the exact cache.
    await gw.openai().chat.completions.create({ model: 'gpt', messages });
  });

  it('is settled: ledgered as aborted, its concurrency lease released, nothing left in flight', async () => {
    const restore = slowReserve();
    try {
      await sendAndLeave(JSON.stringify({ model: 'gpt', messages, stream: true }), 100);
      let rows = await gw.ledger.query({ tenantId: 'acme', limit: 10 });
      for (let i = 0; i < 150 && !rows.some((r) => r.stream); i++) {
        await new Promise((r) => setTimeout(r, 20));
        rows = await gw.ledger.query({ tenantId: 'acme', limit: 10 });
      }
      expect(rows.filter((r) => r.stream).map((r) => [r.status, r.cacheHit])).toEqual([['aborted', true]]);
    } finally {
      restore();
    }
    expect(await inFlight()).toBe(0);
    // maxConcurrency 1: the next call of the tenant gets the slot back.
    const next = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'next' }] }).catch((e: unknown) => e);
    expect(next).not.toBeInstanceOf(Error);
  });

  it('over the Fetch API, its reply never read: settled the same', async () => {
    const restore = slowReserve();
    const client = new AbortController();
    let response: Response;
    try {
      const answer = gw.harness.gateway.fetch(
        new Request(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt', messages, stream: true }),
          signal: client.signal,
        }),
      );
      setTimeout(() => client.abort(), 100);
      response = await answer;
    } finally {
      restore();
    }
    const row = await ledgerRow(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'aborted', stream: true, cacheHit: true });
    expect(await inFlight()).toBe(0);
    const next = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'next again' }] }).catch((e: unknown) => e);
    expect(next).not.toBeInstanceOf(Error);
  });
});

describe('a JSON (non-streamed) cache hit whose client left during admission', () => {
  const messages = [{ role: 'user' as const, content: 'what is cached, unstreamed?' }];
  beforeAll(async () => {
    await gw.openai().chat.completions.create({ model: 'gpt', messages });
  });

  it('is ledgered as aborted, as the streamed one is (the client got nothing), its lease released', async () => {
    const restore = slowReserve();
    try {
      await sendAndLeave(JSON.stringify({ model: 'gpt', messages }), 100);
      let rows = await gw.ledger.query({ tenantId: 'acme', limit: 20 });
      for (let i = 0; i < 150 && !rows.some((r) => !r.stream && r.cacheHit); i++) {
        await new Promise((r) => setTimeout(r, 20));
        rows = await gw.ledger.query({ tenantId: 'acme', limit: 20 });
      }
      expect(rows.filter((r) => !r.stream && r.cacheHit).map((r) => [r.status, r.errorCode, r.costUsd])).toEqual([['aborted', 'aborted', 0]]);
    } finally {
      restore();
    }
    expect(await inFlight()).toBe(0);
    const next = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'next, unstreamed' }] }).catch((e: unknown) => e);
    expect(next).not.toBeInstanceOf(Error);
  });
});

describe('writeReply of a stream to a response already closed', () => {
  for (const piped of [true, false]) {
    it(`cancels the stream and writes nothing (${piped ? 'pipe' : 'frames'})`, async () => {
      const state = { pulled: 0, cancelled: 0, pipeDone: false };
      const frames: AsyncIterator<string, void> = {
        next: async () => (state.pulled < 3 ? { done: false, value: `data: ${state.pulled++}\n\n` } : { done: true, value: undefined }),
      };
      const stream: FrameStream = {
        frames,
        cancel: async () => {
          state.cancelled++;
        },
      };
      if (piped) {
        stream.pipe = async (sink) => {
          for (;;) {
            const next = await frames.next();
            if (next.done) break;
            if (!sink.write(next.value)) await sink.drained();
          }
          state.pipeDone = true;
        };
      }
      // The reply is handed over only once the client has left (its response's 'close' already emitted).
      const server = createServer((req, res) => {
        res.once('close', () => setImmediate(() => writeReply({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: stream }, req, res)));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
        socket.on('error', () => {});
        socket.write('GET /stream HTTP/1.1\r\nhost: gateway\r\n\r\n');
        await new Promise((r) => setTimeout(r, 50));
        socket.destroy();
        await vi.waitFor(() => expect(state.cancelled).toBe(1), { timeout: 2000 });
        if (piped) await vi.waitFor(() => expect(state.pipeDone).toBe(true), { timeout: 2000 });
        // The frames loop reads one piece at most, and sends none of it: the client is gone.
        else expect(state.pulled).toBeLessThanOrEqual(1);
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    });
  }
});

/**
 * A client that leaves `/api/route` while its plan runs is answered at once (`aborted`), but its place under the limits
 * is held until the plan really ends: a strategy is given no signal, so its ranking (a remote embedding) runs on, and
 * `maxConcurrency` bounds the plans running at once, abandoned ones included (before, the place was given back at once
 * and repeated connect-and-leave ran any number of plans under `maxConcurrency: 1`). Served over node:http, raw
 * clients that disconnect, a strategy whose rankings settle only when the test says.
 */
import { connect, type Socket } from 'node:net';
import { createStateStores, LLMRouter, type RateLimiter } from '@llmrr/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { mockModel, post, type Harness } from '../test-support/harness.js';
import { send } from '../test-support/raw-http.js';

const LIMITS = { maxConcurrency: 1 };
const SCOPE = [{ kind: 'tenant' as const, id: 'acme', limits: LIMITS }];
const ASK = JSON.stringify({ prompt: 'which one?', strategy: 'slow' });

interface Ranking {
  resolve(): void;
  reject(e: unknown): void;
}

let h: Harness | undefined;
let served: ServedGateway | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await served?.close(1000);
  await h?.close();
  served = undefined;
  h = undefined;
});

/**
 * A served gateway (memory stores, tenant `acme` under maxConcurrency 1) whose strategy `slow` ranks only when the test
 * settles its ranking; the limiter's releases counted, the most rankings running at once kept.
 */
async function setup() {
  const stores = await createStateStores({ mode: 'memory' });
  const router = new LLMRouter({ models: [mockModel('a'), mockModel('b')], routing: { strategy: 'priority', retries: { max: 0 } } });
  let releases = 0;
  /** Releases that also read what is left (`releaseAndPeek`): only for a reply that carries the headers. */
  let reads = 0;
  const inner = stores.rateLimiter;
  const counting: RateLimiter = {
    acquire: async (s, o) => {
      const d = await inner.acquire(s, o);
      if (!d.ok) return d;
      const release = d.lease.release.bind(d.lease);
      d.lease.release = (t?: number) => {
        releases++;
        return release(t);
      };
      const releaseAndPeek = d.lease.releaseAndPeek!.bind(d.lease);
      d.lease.releaseAndPeek = (t?: number) => {
        reads++;
        return releaseAndPeek(t);
      };
      return d;
    },
    peek: (s) => inner.peek(s),
    close: () => inner.close(),
    ...(inner.renew ? { renew: (l: Parameters<NonNullable<RateLimiter['renew']>>[0]) => inner.renew!(l) } : {}),
  };
  const gateway = createGateway({ router, stores: { ...stores, rateLimiter: counting }, log: () => {} });
  h = { gateway, router, stores, close: async () => { await gateway.close(); await router.close(); await stores.close(); } };
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS });
  const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
  const rankings: Ranking[] = [];
  let running = 0;
  let most = 0;
  router.addStrategy('slow', {
    name: 'slow',
    rank: (ctx) =>
      new Promise((resolve, reject) => {
        running++;
        most = Math.max(most, running);
        rankings.push({
          resolve: () => {
            running--;
            resolve(ctx.candidates.map((d) => ({ deployment: d })));
          },
          reject: (e) => {
            running--;
            reject(e);
          },
        });
      }),
  });
  served = await serveGateway(gateway, { port: 0 });
  const auth = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
  const concurrencyLeft = async () => (await inner.peek(SCOPE)).remainingConcurrency;
  return { secret, auth, rankings, releases: () => releases, reads: () => reads, most: () => most, concurrencyLeft };
}

/** Sends a preview on a raw connection, to be destroyed by the test (the client leaving). */
function sendAndStay(url: string, secret: string): Socket {
  const u = new URL(url);
  const socket = connect({ host: u.hostname, port: Number(u.port) });
  socket.on('error', () => {});
  socket.write(`POST /api/route HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(ASK)}\r\n\r\n${ASK}`);
  sockets.push(socket);
  return socket;
}

describe('/api/route when its client leaves while it plans', () => {
  it('maxConcurrency 1 bounds the plans running at once, abandoned ones included; the place comes back when the plan ends', async () => {
    const { secret, auth, rankings, releases, reads, most, concurrencyLeft } = await setup();
    const first = sendAndStay(served!.url, secret);
    await vi.waitFor(() => expect(rankings).toHaveLength(1), { timeout: 5_000, interval: 10 });
    first.destroy();
    // Connect and leave, again and again: each is refused (429) while the abandoned plan runs, and none ranks.
    for (let i = 0; i < 3; i++) {
      const again = await send(served!.url, 'POST', '/api/route', ASK, auth);
      expect(again.status, again.body).toBe(429);
      expect(again.headers['x-ratelimit-remaining-concurrency']).toBe('0');
      const left = sendAndStay(served!.url, secret);
      await new Promise((r) => setTimeout(r, 20));
      left.destroy();
    }
    expect(await concurrencyLeft()).toBe(0);
    expect(rankings).toHaveLength(1);
    expect(most()).toBe(1);
    // The plan ends: its place is given back, once.
    rankings[0]!.resolve();
    await vi.waitFor(async () => expect(await concurrencyLeft()).toBe(1), { timeout: 5_000, interval: 10 });
    expect(releases()).toBe(1);
    // A plain release: nobody reads what is left for an abandoned plan (before, the release-and-read script ran).
    expect(reads()).toBe(0);
    const next = await send(served!.url, 'POST', '/api/route', JSON.stringify({ prompt: 'which one?' }), auth);
    expect(next.status, next.body).toBe(200);
    expect(JSON.parse(next.body)).toMatchObject({ selectedModel: 'a' });
    expect(next.headers['x-ratelimit-remaining-concurrency']).toBe('1');
    // An answered preview's release reads what is left for its headers.
    expect(reads()).toBe(1);
  });

  it('a plan that fails after its client left: its place given back once, nothing unhandled', async () => {
    const { secret, auth, rankings, releases, concurrencyLeft } = await setup();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const socket = sendAndStay(served!.url, secret);
      await vi.waitFor(() => expect(rankings).toHaveLength(1), { timeout: 5_000, interval: 10 });
      socket.destroy();
      rankings[0]!.reject(new Error('embedding service down'));
      await vi.waitFor(async () => expect(await concurrencyLeft()).toBe(1), { timeout: 5_000, interval: 10 });
      expect(releases()).toBe(1);
      const next = await send(served!.url, 'POST', '/api/route', JSON.stringify({ prompt: 'which one?' }), auth);
      expect(next.status, next.body).toBe(200);
      expect(releases()).toBe(2);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it("through gateway.fetch: a Request whose signal aborts is answered 499 at once, its place held until the plan ends", async () => {
    const { secret, rankings, concurrencyLeft } = await setup();
    const ac = new AbortController();
    const answer = h!.gateway.fetch(
      new Request('http://gateway/api/route', { method: 'POST', signal: ac.signal, headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: ASK }),
    );
    await vi.waitFor(() => expect(rankings).toHaveLength(1), { timeout: 5_000, interval: 10 });
    ac.abort();
    const res = await answer;
    expect(res.status).toBe(499);
    expect(await res.json()).toMatchObject({ error: { code: 'aborted' } });
    expect(await concurrencyLeft()).toBe(0);
    rankings[0]!.resolve();
    await vi.waitFor(async () => expect(await concurrencyLeft()).toBe(1), { timeout: 5_000, interval: 10 });
    // Lambda style: a Request without a signal of its own, no env: plans and answers.
    const plain = await post(h!.gateway, '/api/route', { prompt: 'which one?' }, { authorization: `Bearer ${secret}` });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-ratelimit-remaining-concurrency')).toBe('1');
  });
});

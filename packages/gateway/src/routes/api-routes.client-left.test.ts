/**
 * A client that leaves `/api/route` while its plan runs: the plan is given up with the request's signal and its place
 * under the limits given back at once, so the next preview under `maxConcurrency: 1` plans. Served over node:http, a
 * raw client that disconnects, a strategy whose ranking never settles (a remote embedding that never answers; a
 * strategy is given no signal, so it cannot stop by itself).
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, mockModel, type Harness } from '../test-support/harness.js';
import { send } from '../test-support/raw-http.js';

const LIMITS = { maxConcurrency: 1 };

describe('/api/route when its client leaves while it plans', () => {
  let h: Harness | undefined;
  let served: ServedGateway | undefined;
  afterEach(async () => {
    await served?.close(1000);
    await h?.close();
    served = undefined;
    h = undefined;
  });

  it('gives its concurrency place back at once: the next preview under maxConcurrency 1 plans', async () => {
    h = await createHarness({ models: [mockModel('a'), mockModel('b')], stores: 'memory' });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS });
    const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
    let ranked = 0;
    h.router.addStrategy('remote', {
      name: 'remote',
      rank: () => {
        ranked++;
        return new Promise(() => {});
      },
    });
    served = await serveGateway(h.gateway, { port: 0 });
    const u = new URL(served.url);
    const body = JSON.stringify({ prompt: 'which one?', strategy: 'remote' });
    const socket = connect({ host: u.hostname, port: Number(u.port) });
    socket.on('error', () => {});
    socket.write(`POST /api/route HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer ${secret}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const scope = [{ kind: 'tenant' as const, id: 'acme', limits: LIMITS }];
    await vi.waitFor(() => expect(ranked).toBe(1), { timeout: 10_000, interval: 20 });
    expect(await h.stores!.rateLimiter.peek(scope)).toMatchObject({ remainingConcurrency: 0 });
    socket.destroy();
    // Given back once the server sees the client gone (no wait for a plan that never ends).
    await vi.waitFor(async () => expect(await h!.stores!.rateLimiter.peek(scope)).toMatchObject({ remainingConcurrency: 1 }), { timeout: 10_000, interval: 20 });
    const next = await send(served.url, 'POST', '/api/route', JSON.stringify({ prompt: 'which one?' }), { authorization: `Bearer ${secret}`, 'content-type': 'application/json' });
    expect(next.status, next.body).toBe(200);
    expect(JSON.parse(next.body)).toMatchObject({ selectedModel: 'a' });
    expect(next.headers['x-ratelimit-remaining-concurrency']).toBe('1');
  });
});

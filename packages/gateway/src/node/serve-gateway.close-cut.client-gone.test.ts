/**
 * The cut at the end of `close(graceMs)`'s grace (`ServedStreams`) of a streamed call whose client had already left
 * while the call waited for admission: ledgered as the client's abort, as without a shutdown.
 */
import { LLMRouter, createStateStores } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import { mockModel } from '../test-support/harness.js';
import { serveGateway } from './serve-gateway.js';

const LIMITS = { maxConcurrency: 8 };

/** Memory stores whose limiter's `acquire` answers `ms` late (a stalled Redis in shared mode; in-process here for a deterministic stall). */
async function slowAdmission(ms: number) {
  const stores = await createStateStores({ mode: 'memory' });
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS });
  const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
  const limiter = stores.rateLimiter;
  const slowLimiter = new Proxy(limiter, {
    get(target, prop) {
      const v = Reflect.get(target, prop) as unknown;
      if (prop === 'acquire') {
        return async (...args: unknown[]) => {
          await new Promise((r) => setTimeout(r, ms));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { stores, secret, gatewayStores: { ...stores, rateLimiter: slowLimiter } };
}

/** A streamed chat request that its client may leave (`signal`). */
function streamedRequest(url: string, secret: string, signal: AbortSignal): Promise<unknown> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({ model: 'long', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    signal,
  }).catch(() => undefined);
}

describe('a streamed call whose client already left when the grace ends', () => {
  it('is ledgered as the client\'s abort, not as a shutting_down error (the cut of a call not opened yet ignores a gone client)', async () => {
    const router = new LLMRouter({ models: [mockModel('long', { reply: 'one two three', chunkDelayMs: 50 })], routing: { strategy: 'priority', retries: { max: 0 } } });
    const { stores, secret, gatewayStores } = await slowAdmission(1_500);
    const gateway = createGateway({ router, stores: gatewayStores, log: () => {} });
    const served = await serveGateway(gateway, { port: 0 });
    try {
      const client = new AbortController();
      const leaving = streamedRequest(served.url, secret, client.signal);
      await new Promise((r) => setTimeout(r, 200));
      // The client goes away while its call waits for admission; then the server shuts down with a short grace.
      client.abort();
      await leaving;
      await new Promise((r) => setTimeout(r, 100));
      await served.close(50);
      // The gateway's close() waits for the call to settle (admission answers, then the call ends).
      await gateway.close();
      const rows = await stores.ledger.query({ tenantId: 'acme', limit: 10 });
      expect(rows.map((r) => ({ status: r.status, errorCode: r.errorCode }))).toEqual([{ status: 'aborted', errorCode: 'aborted' }]);
    } finally {
      await served.close(0);
      await gateway.close();
      await router.close();
      await stores.close();
    }
  });

  it('control: without a server shutdown the same call is ledgered as aborted', async () => {
    const router = new LLMRouter({ models: [mockModel('long', { reply: 'one two three', chunkDelayMs: 50 })], routing: { strategy: 'priority', retries: { max: 0 } } });
    const { stores, secret, gatewayStores } = await slowAdmission(1_500);
    const gateway = createGateway({ router, stores: gatewayStores, log: () => {} });
    const served = await serveGateway(gateway, { port: 0 });
    try {
      const client = new AbortController();
      const leaving = streamedRequest(served.url, secret, client.signal);
      await new Promise((r) => setTimeout(r, 200));
      client.abort();
      await leaving;
      await gateway.close();
      const rows = await stores.ledger.query({ tenantId: 'acme', limit: 10 });
      expect(rows.map((r) => ({ status: r.status, errorCode: r.errorCode }))).toEqual([{ status: 'aborted', errorCode: 'aborted' }]);
    } finally {
      await served.close(0);
      await gateway.close();
      await router.close();
      await stores.close();
    }
  });
});

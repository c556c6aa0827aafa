/**
 * `close(graceMs)` with a grace past the longest timer Node arms (2^31 - 1 ms; a longer one fires after 1 ms),
 * `Infinity` included, waits for the requests in flight: it does not cut them off at once.
 */
import { describe, expect, it } from 'vitest';
import { createHarness, mockModel } from '../test-support/harness.js';
import { serveGateway } from './serve-gateway.js';

describe('serveGateway close() with a grace past the longest timer', () => {
  for (const graceMs of [Number.POSITIVE_INFINITY, 2 ** 31, 30 * 86_400_000]) {
    it(`close(${graceMs}) lets a model call in flight finish`, async () => {
      const h = await createHarness({ models: [mockModel('late', { delayMs: 300 })] });
      const served = await serveGateway(h.gateway, { port: 0 });
      try {
        let taken!: () => void;
        const inFlight = new Promise<void>((r) => (taken = r));
        served.server.once('request', () => taken());
        const answer = fetch(`${served.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'late', messages: [{ role: 'user', content: 'hi' }] }),
        }).then(
          async (res) => ({ status: res.status, object: ((await res.json()) as { object?: string }).object }),
          (e: unknown) => ({ failed: String(e) }),
        );
        await inFlight;
        const closed = served.close(graceMs);
        expect(await answer).toEqual({ status: 200, object: 'chat.completion' });
        await closed;
      } finally {
        await served.close(100);
        await h.close();
      }
    });
  }
});

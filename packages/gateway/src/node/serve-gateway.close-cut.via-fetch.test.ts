/**
 * A known gap, kept as an expected failure until it is built: a non-streamed model request served through
 * `gateway.fetch` (a browser's, CORS on) still running at the end of `close(graceMs)`'s grace. The same request
 * served directly answers 503 `shutting_down` and is ledgered as that error; through `gateway.fetch` the cut does
 * not reach its signal (Hono's adapter makes its own), so its connection is dropped by the 1 s bound (the client
 * sees a connection error) and the call is ledgered as the client's `aborted` (packages/gateway/README.md says so).
 */
import { describe, expect, it } from 'vitest';
import { createHarness, get, mockModel } from '../test-support/harness.js';
import { serveGateway } from './serve-gateway.js';

const LIMITS = { maxConcurrency: 8 };
const ORIGIN = 'https://app.example.com';

describe('close(graceMs) with a non-streamed request served through gateway.fetch (a browser, CORS on)', () => {
  it.fails('answers 503 shutting_down within the cut\'s bound and is ledgered as that error, as the same request served directly is', async () => {
    const h = await createHarness({ stores: 'memory', models: [mockModel('slow', { delayMs: 3_000 })], gateway: { cors: { origins: [ORIGIN] } } });
    const stores = h.stores!;
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS, budget: { amountUsd: 5, period: 'total' } });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    const served = await serveGateway(h.gateway, { port: 0 });
    const ask = (headers: Record<string, string>) =>
      fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}`, ...headers },
        body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] }),
      }).then(
        async (res) => ({ status: res.status, body: (await res.json()) as unknown }),
        (e: unknown) => ({ status: 0, body: String((e as Error).cause ?? e) }),
      );
    try {
      const direct = ask({});
      const browser = ask({ origin: ORIGIN });
      // Both calls are in flight (admitted, waiting for their upstream) before close() starts.
      const until = performance.now() + 10_000;
      while (!/llm_requests_in_flight 2\b/.test(await (await get(h.gateway, '/metrics')).text())) {
        if (performance.now() > until) throw new Error('the two calls did not start');
        await new Promise((r) => setTimeout(r, 10));
      }
      await served.close(100);
      await h.gateway.close();
      const rows = await stores.ledger.query({ tenantId: 'acme', limit: 10 });
      const got = { direct: await direct, browser: await browser };
      expect({
        direct: got.direct.status,
        browser: got.browser.status,
        rows: rows.map((r) => `${r.status}:${r.errorCode}`).sort(),
      }).toEqual({ direct: 503, browser: 503, rows: ['error:shutting_down', 'error:shutting_down'] });
    } finally {
      await served.close(0);
      await h.close();
    }
  });
});

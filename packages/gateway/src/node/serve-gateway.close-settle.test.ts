/**
 * `close(graceMs)` cutting a stream still in flight, then `gateway.close()` (what a server does on SIGTERM before it
 * closes the stores): the cut call's settlement (ledger row, concurrency place, budget reservation) is done by the
 * time `gateway.close()` resolves, though it runs a few ms after the connection was closed. And `gateway.close()`
 * waits no longer than its bound for a call that is still running.
 */
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createHarness, mockModel, post } from '../test-support/harness.js';
import { serveGateway } from './serve-gateway.js';

const LIMITS = { maxConcurrency: 1 };

/** A streamed call to `url`; resolves with the text received once the answer ends or is cut, `started` on its first chunk. */
function streamCall(url: string, secret: string, model: string): { started: Promise<void>; text: Promise<string> } {
  let firstChunk!: () => void;
  const started = new Promise<void>((r) => (firstChunk = r));
  const text = new Promise<string>((resolve) => {
    const u = new URL(`${url}/v1/chat/completions`);
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` } }, (res) => {
      let got = '';
      res.on('data', (d: Buffer) => {
        got += d.toString();
        firstChunk();
      });
      const done = () => resolve(got);
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', () => resolve(''));
    req.end(JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] }));
  });
  return { started, text };
}

describe('closing a served gateway with a stream in flight past the grace', () => {
  it('the cut stream has its ledger row, its concurrency place and no budget reserved once close() and gateway.close() have resolved', async () => {
    const h = await createHarness({ stores: 'memory', models: [mockModel('long', { reply: 'one two three four five six seven eight', chunkDelayMs: 200 })] });
    const stores = h.stores!;
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: LIMITS, budget: { amountUsd: 5, period: 'total' } });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    const served = await serveGateway(h.gateway, { port: 0 });
    try {
      const call = streamCall(served.url, secret, 'long');
      await call.started;
      await served.close(100);
      await h.gateway.close();
      // Read before anything else can run: the stores as the server would find them before closing them.
      const [rows, budget, limits] = await Promise.all([
        stores.ledger.summary({ tenantId: 'acme' }).then((s) => s.requests),
        stores.budgets.spent('acme', 'total'),
        stores.rateLimiter.peek([{ kind: 'tenant', id: 'acme', limits: LIMITS }]),
      ]);
      const text = await call.text;
      expect(text).toContain('data: ');
      expect(text).not.toContain('[DONE]');
      expect({ rows, reservedUsd: budget.reservedUsd, remainingConcurrency: limits.remainingConcurrency }).toEqual({ rows: 1, reservedUsd: 0, remainingConcurrency: 1 });
    } finally {
      await h.router.close();
      await stores.close();
    }
  });

  it('gateway.close() waits at most its bound for a call still running (its answer not read), and logs it', async () => {
    const logged: string[] = [];
    const h = await createHarness({
      stores: 'memory',
      models: [mockModel('long', { reply: 'one two three four five six seven eight', chunkDelayMs: 200 })],
      gateway: { log: (e) => void (e.level === 'warn' && logged.push(e.message)) },
    });
    const stores = h.stores!;
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    // Through gateway.fetch with no server: a streamed answer nobody reads stays in flight.
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'long', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
    expect(res.status).toBe(200);
    try {
      const started = performance.now();
      await h.gateway.close(300);
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(3_000);
      expect(logged).toEqual([expect.stringContaining('1 call(s) in flight not settled after 300 ms')]);
    } finally {
      await res.body?.cancel();
      await h.router.close();
      await stores.close();
    }
  });
});

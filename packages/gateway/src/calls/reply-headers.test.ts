/**
 * The reply's headers are built in one object, added to in place (no copies: a spread that adds keys costs
 * V8 about a microsecond a key). What the client sees must not change: the same headers in the same order
 * on the Node direct path and through `fetch`, for answers, errors and refusals.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, post, type Harness } from '../test-support/harness.js';

const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

/** Header names in wire order, as node:http received them. */
function rawHeaderNames(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; names: string[] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, names: res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const NODE_OWN = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
const RATE = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests'];

describe('reply headers', () => {
  let h: Harness;
  let served: ServedGateway;
  afterEach(async () => {
    await served.close(0);
    await h.close();
  });

  it('answer, 404 and 429 carry the same headers in the same order as before, on both paths', async () => {
    h = await createHarness({ stores: 'memory' });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 2 } });
    const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
    served = await serveGateway(h.gateway, { port: 0 });
    const auth = { authorization: `Bearer ${secret}`, 'x-request-id': 'client-7' };
    const names = async (model: string) => {
      const r = await rawHeaderNames(served.url, chat(model), auth);
      return { status: r.status, names: r.names.filter((n) => !NODE_OWN.has(n)) };
    };

    expect(await names('mock')).toEqual({ status: 200, names: [...RATE, 'x-llmrr-model', 'x-llmrr-cache', 'x-llmrr-cost-usd', 'content-type', 'x-request-id', 'request-id', 'x-client-request-id'] });
    expect(await names('nope')).toEqual({ status: 404, names: [...RATE, 'content-type', 'x-request-id', 'request-id', 'x-client-request-id'] });
    expect(await names('mock')).toEqual({ status: 429, names: [...RATE, 'content-type', 'x-request-id', 'request-id', 'retry-after', 'x-client-request-id'] });

    // Through fetch (Hono): the same set.
    const res = await post(h.gateway, '/v1/chat/completions', chat('mock'), auth);
    expect(res.status).toBe(429);
    expect([...res.headers.keys()].sort()).toEqual([...RATE, 'content-type', 'x-request-id', 'request-id', 'retry-after', 'x-client-request-id'].sort());
  });
});

/**
 * A request for a model the tenant may not use (or that does not exist) counts against the tenant's and
 * key's rate limits, like any other request: once over them it gets 429 with `Retry-After`. Every refusal, 404
 * and 429 alike, is still written to the ledger (cost 0, the reason in `errorCode`). It reserves no budget, and the
 * answers do not tell an unknown model from one outside the allow-list (same status, headers and body).
 */
import type { StateStores } from '@llmrr/core';
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

async function setUp(tenantLimits: { rpm?: number; maxConcurrency?: number } | undefined, keyLimits?: { rpm?: number }) {
  const h = await createHarness({ stores: 'memory', models: [mockModel('mock'), mockModel('secret-model')] });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', allowedModels: ['mock'], budget: { amountUsd: 5, period: 'total' }, ...(tenantLimits ? { limits: tenantLimits } : {}) });
  const key = await h.stores!.tenants.createKey('acme', { name: 'k', ...(keyLimits ? { limits: keyLimits } : {}) });
  return { h, auth: { authorization: `Bearer ${key.secret}` } };
}

/** What a client could compare: status, header names and values (ids and counters blanked), body. */
async function seen(res: Response, requested: string) {
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    headers[k] = k === 'x-request-id' || k === 'request-id' ? '*' : v;
  });
  const body = (await res.text()).replaceAll(requested, '<model>').replace(/"request_id":"[^"]*"/, '"request_id":"*"');
  return { status: res.status, headers, body };
}

/** `seen` with the values that move with every request (remaining, reset) blanked. */
function withoutCounters(v: Awaited<ReturnType<typeof seen>>) {
  const headers = Object.fromEntries(Object.entries(v.headers).map(([k, x]) => [k, /^x-ratelimit-(remaining|reset)/.test(k) ? '*' : x]));
  return { ...v, headers };
}

async function budgetUntouched(stores: StateStores) {
  const state = await stores.budgets.spent('acme', 'total');
  expect(state.spentUsd).toBe(0);
  expect(state.reservedUsd).toBe(0);
}

describe('refused models count against the rate limits', () => {
  let h: Harness | undefined;
  let served: ServedGateway | undefined;
  afterEach(async () => {
    await served?.close(0);
    await h?.close();
    served = undefined;
    h = undefined;
  });

  it('embeddings: refusals count too (404 with rate-limit headers, then 429 with Retry-After), each a $0 ledger row', async () => {
    const s = await setUp({ rpm: 2 });
    h = s.h;
    const embed = (model: string) => post(h!.gateway, '/v1/embeddings', { model, input: 'hello' }, s.auth);
    const first = await embed('secret-model');
    expect(first.status).toBe(404);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect((await embed('no-such-model')).status).toBe(404);
    const third = await embed('secret-model');
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(third.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    await budgetUntouched(h.stores!);
    // Ledgered as the chat refusals are (README, "Limits"): an unknown name, as sent, is a $0 line of the invoice.
    const rows = await h.stores!.ledger.query({ tenantId: 'acme' });
    expect(rows.map((r) => [r.model, r.status, r.errorCode, r.costUsd]).sort()).toEqual([
      ['no-such-model', 'error', 'model_not_found', 0],
      ['secret-model', 'error', 'permission_denied', 0],
      ['secret-model', 'error', 'rate_limited', 0],
    ]);
    const invoice = await h.stores!.ledger.invoice('acme', 0, Date.now() + 60_000);
    expect(invoice.lines.map((l) => [l.model, l.costUsd])).toEqual([
      ['no-such-model', 0],
      ['secret-model', 0],
    ]);
  });

  it('a failing limiter store (say Redis down) leaves a refusal a 404, never a 5xx; embeddings answers carry the rate-limit headers', async () => {
    const s = await setUp({ rpm: 5 });
    h = s.h;
    const ok = await post(h.gateway, '/v1/embeddings', { model: 'mock', input: 'hello' }, s.auth);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('5');
    const limiter = h.stores!.rateLimiter;
    const acquire = limiter.acquire.bind(limiter);
    limiter.acquire = async () => {
      throw new Error('limiter store unreachable');
    };
    try {
      expect((await post(h.gateway, '/v1/chat/completions', chat('no-such-model'), s.auth)).status).toBe(404);
      expect((await post(h.gateway, '/v1/embeddings', { model: 'secret-model', input: 'x' }, s.auth)).status).toBe(404);
    } finally {
      limiter.acquire = acquire;
    }
  });

  it('rpm 3: three refusals are 404 with rate-limit headers, the 4th is 429 with Retry-After, for unknown and hidden models alike', async () => {
    const s = await setUp({ rpm: 3 });
    h = s.h;
    const first = await post(h.gateway, '/v1/chat/completions', chat('no-such-model'), s.auth);
    const second = await post(h.gateway, '/v1/chat/completions', chat('secret-model'), s.auth);
    const a = await seen(first, 'no-such-model');
    const b = await seen(second, 'secret-model');
    expect(a.status).toBe(404);
    expect(a.body).toContain('"code":"model_not_found"');
    expect(a.headers['x-ratelimit-limit']).toBe('3');
    expect([a.headers['x-ratelimit-remaining'], b.headers['x-ratelimit-remaining']]).toEqual(['2', '1']);
    // Apart from the counters, the two refusals are the same answer.
    expect(withoutCounters(a)).toEqual(withoutCounters(b));
    expect((await post(h.gateway, '/v1/chat/completions', chat('no-such-model'), s.auth)).status).toBe(404);

    const overUnknown = await seen(await post(h.gateway, '/v1/chat/completions', chat('no-such-model'), s.auth), 'no-such-model');
    const overHidden = await seen(await post(h.gateway, '/v1/chat/completions', chat('secret-model'), s.auth), 'secret-model');
    expect(overUnknown.status).toBe(429);
    expect(Number(overUnknown.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(overUnknown.headers['x-ratelimit-remaining']).toBe('0');
    expect(overUnknown.body).toContain('"code":"rate_limited"');
    expect(overHidden).toEqual(overUnknown);
    // The refusals used up the tenant's minute: an allowed model is limited too.
    expect((await post(h.gateway, '/v1/chat/completions', chat('mock'), s.auth)).status).toBe(429);
    await budgetUntouched(h.stores!);
    // Every request is still in the ledger, with the reason the client was not told.
    const rows = await h.stores!.ledger.query({ tenantId: 'acme' });
    expect(rows.map((r) => r.errorCode).sort()).toEqual(['model_not_found', 'model_not_found', 'permission_denied', 'rate_limited', 'rate_limited', 'rate_limited']);
    expect(rows.every((r) => r.costUsd === 0)).toBe(true);
  });

  it("a key's own rpm limits refusals too; refusals hold no concurrency slot", async () => {
    const s = await setUp({ maxConcurrency: 1 }, { rpm: 2 });
    h = s.h;
    expect((await post(h.gateway, '/v1/chat/completions', chat('secret-model'), s.auth)).status).toBe(404);
    // maxConcurrency 1: the slot the refusal took was given back, so the next request gets in.
    expect((await post(h.gateway, '/v1/chat/completions', chat('mock'), s.auth)).status).toBe(200);
    const over = await post(h.gateway, '/v1/chat/completions', chat('no-such-model'), s.auth);
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(((await over.json()) as { error: { message: string } }).error.message).toMatch(/key ".*" reached \(requests per minute\)/);
  });

  it('without limits a refusal is the plain 404 (no rate-limit headers) and still reserves nothing', async () => {
    const s = await setUp(undefined);
    h = s.h;
    for (let i = 0; i < 5; i++) {
      const res = await post(h.gateway, '/v1/chat/completions', chat(i % 2 ? 'secret-model' : 'no-such-model'), s.auth);
      expect(res.status).toBe(404);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    }
    await budgetUntouched(h.stores!);
  });

  it('over a real socket (the Node direct path): the 4th refusal within the minute is a 429 with Retry-After', async () => {
    const s = await setUp({ rpm: 3 });
    h = s.h;
    served = await serveGateway(h.gateway, { port: 0 });
    const statuses: Array<[number, string | undefined]> = [];
    for (const model of ['no-such-model', 'secret-model', 'no-such-model', 'secret-model']) {
      const body = JSON.stringify(chat(model));
      const answer = await new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
        const req = httpRequest(`${served!.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...s.auth } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
      statuses.push([answer.status, answer.retryAfter]);
    }
    expect(statuses.map(([st]) => st)).toEqual([404, 404, 404, 429]);
    expect(statuses[3]![1]).toMatch(/^[1-9]\d*$/);
    expect(statuses[0]![1]).toBeUndefined();
  });
});

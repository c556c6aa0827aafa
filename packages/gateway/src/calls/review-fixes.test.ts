/**
 * Paths found by a review of the cascade and hardening work, through the gateway with real stores:
 * a bad `llmrr.fallbacks` is bad input (no ledger record, no rate-limit count); a deployment whose name is not
 * printable ASCII is served (its `x-llmrr-model` percent-encoded) over `serveGateway` and `gateway.fetch`,
 * streamed or not, without leaking a concurrency slot; a tenant model may not take a cascade's name.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';
import { createSettler } from './settle.js';

const ADMIN = 'admin-key-0123456789abcdef';
const NAME = 'modèle-漢字';

describe('review fixes', () => {
  let h: Harness;
  let served: ServedGateway | undefined;
  let secret = '';

  beforeEach(async () => {
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('mock'), mockModel('backup'), mockModel(NAME, { reply: 'unicode answer' })],
      routing: {
        cascades: [
          { name: 'cas', weak: 'mock', strong: 'backup', verifier: 'never', threshold: 1 },
          { name: 'cas-broken', weak: 'mock', strong: 'backup', verifier: 'broken', threshold: 1 },
        ],
      },
      routerOptions: {
        verifiers: {
          never: () => 0,
          broken: () => {
            throw new Error('judge unavailable');
          },
        },
      },
      gateway: { auth: { adminKey: ADMIN } },
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 3, maxConcurrency: 1 } });
    secret = (await h.stores!.tenants.createKey('acme', { name: 'k' })).secret;
  });
  afterEach(async () => {
    await served?.close(1000);
    served = undefined;
    await h.close();
  });

  const chat = (model: string, extra: Record<string, unknown> = {}) =>
    post(h.gateway, '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }], ...extra }, { authorization: `Bearer ${secret}` });

  it('a bad llmrr.fallbacks entry is a 400 that leaves no ledger record and uses no request of the rate limit', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await chat('mock', { llmrr: { fallbacks: ['nope'] } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe('llmrr.fallbacks.0');
    }
    expect(await h.stores!.ledger.query({ tenantId: 'acme' })).toEqual([]);
    // The limit (3 a minute) is untouched by the three refusals: good calls still pass.
    for (let i = 0; i < 3; i++) expect((await chat('mock')).status).toBe(200);
    // And a cascade is not a fallback.
    const cascade = await chat('mock', { llmrr: { fallbacks: ['cas'] } });
    expect(cascade.status).toBe(400);
    // Counted in the metrics like any refused request (4 refusals).
    const metrics = await (await h.gateway.fetch(new Request('http://gateway.test/metrics'))).text();
    expect(metrics).toMatch(/llm_requests_total\{[^}]*status="invalid_request"[^}]*\} 4/);
  });

  it('a deployment named outside printable ASCII is served; x-llmrr-model is percent-encoded (fetch and serveGateway, JSON and stream)', async () => {
    const viaFetch = await chat(NAME);
    expect(viaFetch.status).toBe(200);
    expect(viaFetch.headers.get('x-llmrr-model')).toBe(encodeURIComponent(NAME));
    served = await serveGateway(h.gateway, { port: 0 });
    for (const stream of [false, true]) {
      const res = await fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
        body: JSON.stringify({ model: NAME, stream, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      expect(decodeURIComponent(res.headers.get('x-llmrr-model')!)).toBe(NAME);
      expect(await res.text()).toContain(stream ? 'unicode' : 'unicode answer');
    }
    // The concurrency limit of 1 was released by every call (a leaked slot would make this a 429).
    const entries = await h.stores!.ledger.query({ tenantId: 'acme' });
    expect(entries.map((e) => [e.deployment, e.status])).toEqual([
      [NAME, 'success'],
      [NAME, 'success'],
      [NAME, 'success'],
    ]);
  });

  it('the admin API refuses a tenant model named like a cascade even while the cascade is not listed (a step unloaded)', async () => {
    h.router.unload('backup');
    expect(h.router.models().map((m) => m.name)).not.toContain('cas');
    const res = await post(h.gateway, '/admin/tenants', { name: 'X', models: [{ name: 'mine', engine: 'mock' }, { name: 'cas', engine: 'mock' }] }, { authorization: `Bearer ${ADMIN}` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('models.1.name');
  });

  it('the admin API refuses a tenant model named like a cascade', async () => {
    const res = await post(h.gateway, '/admin/tenants', { name: 'X', models: [{ name: 'cas', engine: 'mock' }] }, { authorization: `Bearer ${ADMIN}` });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('models.0.name');
    expect((await h.stores!.tenants.listTenants()).map((t) => t.id)).toEqual(['acme']);
  });

  it('a cascade whose verifier fails still ledgers the weak call it made (JSON and stream)', async () => {
    const plain = await chat('mock');
    const plainEntry = await h.stores!.ledger.get(plain.headers.get('x-request-id')!);
    expect(plainEntry!.costUsd).toBeGreaterThan(0);
    for (const stream of [false, true]) {
      const res = await chat('cas-broken', { stream });
      if (!stream) expect(res.status).toBe(500);
      await res.text();
      const entry = await h.stores!.ledger.get(res.headers.get('x-request-id')!);
      expect(entry).toMatchObject({ status: 'error', model: 'cas-broken', inputTokens: plainEntry!.inputTokens, outputTokens: plainEntry!.outputTokens });
      expect(entry!.costUsd).toBeCloseTo(plainEntry!.costUsd, 12);
    }
  });
});

describe('settling a stream that broke off', () => {
  it('a replayed cache hit costs nothing; a fresh answer is charged for what was sent', async () => {
    const h = await createHarness({ stores: 'memory', models: [mockModel('mock')] });
    const tenant = await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const principal = { tenantId: 'acme', tenant, key: undefined, demo: false };
    const deps = { router: h.router, stores: h.stores, metrics: undefined, now: Date.now, defaultMaxOutputTokens: 256, rateLimitOutputTokens: 256, log: () => {} };
    const request = { messages: [{ role: 'user' as const, content: 'tell me a long story' }] };
    // The price the stream was served at (core's route part carries it; the model call passes it on).
    const price = h.router.models().find((d) => d.name === 'mock')!.price;
    expect(price).toBeDefined();
    for (const [id, cached] of [['req-cached', 'exact'], ['req-fresh', false]] as const) {
      const settler = createSettler(deps, { endpoint: '/v1/chat/completions', model: 'mock', stream: true, principal, requestId: id, startedAt: Date.now(), startedMono: performance.now(), request });
      await settler.settle({ status: 'aborted', deployment: 'mock', provider: 'mock', outputText: 'Once upon a time there was', cached, price }, undefined);
    }
    const cachedEntry = await h.stores!.ledger.get('req-cached');
    const freshEntry = await h.stores!.ledger.get('req-fresh');
    expect(cachedEntry).toMatchObject({ status: 'aborted', cacheHit: true, costUsd: 0 });
    expect(freshEntry).toMatchObject({ status: 'aborted', cacheHit: false });
    expect(freshEntry!.costUsd).toBeGreaterThan(0);
    await h.close();
  });
});

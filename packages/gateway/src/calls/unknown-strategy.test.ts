/**
 * An unknown strategy in the router extension (`x-llmrr-strategy` header, body `llmrr.strategy`) is bad input
 * (README "Errors"): a 400 `invalid_request` naming the field it came from, refused before the call is admitted, so
 * it leaves no ledger record and takes no place under the tenant's rate limits (a client retrying a typo does not
 * spend its `rpm`). A known strategy passes.
 */import { LLMRouter, createStateStores, type StateStores } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import type { Gateway } from '../types.js';

describe('an unknown strategy in the router extension is bad input (README "Errors")', () => {
  let router: LLMRouter | undefined;
  let stores: StateStores | undefined;
  let gateway: Gateway | undefined;

  afterEach(async () => {
    await gateway?.close();
    await router?.close();
    await stores?.close();
  });

  async function setUp(): Promise<string> {
    router = new LLMRouter({ models: [{ name: 'mock', engine: 'mock' }], routing: { strategy: 'priority' } });
    stores = await createStateStores({ mode: 'memory' });
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 2 } });
    const { secret } = await stores.tenants.createKey('acme', { name: 'laptop' });
    gateway = createGateway({ router, stores });
    return secret;
  }

  function chat(secret: string, headers: Record<string, string>, extra: Record<string, unknown>): Promise<Response> {
    return gateway!.fetch(
      new Request('http://gw/v1/chat/completions', {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }], ...extra }),
      }),
    );
  }

  it('x-llmrr-strategy: a 400 naming the header, with no ledger row and no rate-limit place taken', async () => {
    const secret = await setUp();
    const bad = await chat(secret, { 'x-llmrr-strategy': 'cost-optimised' }, {});
    const body = (await bad.json()) as { error: { code: string; param: string } };
    expect(bad.status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    // A good request after two typos must still be within rpm 2.
    await chat(secret, { 'x-llmrr-strategy': 'cost-optimised' }, {});
    const good = await chat(secret, {}, {});
    const rows = await stores!.ledger.query({ tenantId: 'acme' });
    expect({ param: body.error.param, ledgerErrors: rows.filter((r) => r.errorCode === 'invalid_request').length, goodStatus: good.status }).toEqual({
      param: 'x-llmrr-strategy',
      ledgerErrors: 0,
      goodStatus: 200,
    });
  });

  it('a known strategy in x-llmrr-strategy or llmrr.strategy is served', async () => {
    const secret = await setUp();
    const viaHeader = await chat(secret, { 'x-llmrr-strategy': 'round-robin' }, {});
    const viaBody = await chat(secret, {}, { llmrr: { strategy: 'round-robin' } });
    expect([viaHeader.status, viaBody.status]).toEqual([200, 200]);
  });

  it('the body wins over the header: a bad llmrr.strategy is named even beside a good header', async () => {
    const secret = await setUp();
    const bad = await chat(secret, { 'x-llmrr-strategy': 'priority' }, { llmrr: { strategy: 'cost-optimised' } });
    const body = (await bad.json()) as { error: { code: string; param: string; message: string } };
    expect({ status: bad.status, code: body.error.code, param: body.error.param }).toEqual({ status: 400, code: 'invalid_request', param: 'llmrr.strategy' });
    expect(body.error.message).toContain('unknown strategy "cost-optimised"');
  });

  it('body llmrr.strategy: a 400 naming llmrr.strategy, checked before admission like llmrr.fallbacks', async () => {
    const secret = await setUp();
    const bad = await chat(secret, {}, { llmrr: { strategy: 'cost-optimised' } });
    const body = (await bad.json()) as { error: { code: string; param: string } };
    expect(bad.status).toBe(400);
    const rows = await stores!.ledger.query({ tenantId: 'acme' });
    expect({ param: body.error.param, ledgerRows: rows.length, rateHeader: bad.headers.get('x-ratelimit-remaining') }).toEqual({
      param: 'llmrr.strategy',
      ledgerRows: 0,
      rateHeader: null,
    });
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHarness, mockModel, post, recordReservations, type Harness } from '../test-support/harness.js';

// POST /v1/embeddings as the chat routes: the budget reservation prices what the router may call (fallbacks
// included, only models that can embed), `auto` ranks with the tenant's strategy, demo answers say so, and a
// cascade (which cannot embed) is a 400 `unsupported` naming `model`.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function budgetedKey(harness: Harness, id: string, amountUsd: number): Promise<Record<string, string>> {
  await harness.stores!.tenants.createTenant({ id, name: id, budget: { amountUsd, period: 'month' } });
  return { authorization: `Bearer ${(await harness.stores!.tenants.createKey(id, { name: 'k' })).secret}` };
}

describe('embeddings budget reservation', () => {
  // The router's embed() falls back to the configured fallbacks, so the reservation prices them in, as chat
  // completions do: a fallback dearer than the budget allows refuses the request up front.
  it('a fallback dearer than the requested model cannot push the tenant past its budget', async () => {
    h = await createHarness({
      stores: 'memory',
      models: [
        mockModel('cheap', { failures: [{ code: 'provider_unavailable', times: 100 }] }, { price: { input: 1, output: 1 } }),
        mockModel('dear', {}, { price: { input: 1000, output: 1000 } }),
      ],
      routing: { fallbacks: { cheap: ['dear'] } },
    });
    const input = 'word '.repeat(100); // 100 tokens for the mock: $0.0001 at cheap's price, $0.1 at dear's
    const limitUsd = 0.01;
    const headers = await budgetedKey(h, 'acme', limitUsd);

    // Control: chat completions price the fallback in and refuse.
    const chat = await post(h.gateway, '/v1/chat/completions', { model: 'cheap', max_tokens: 1, messages: [{ role: 'user', content: input }] }, headers);
    expect(chat.status).toBe(402);

    const res = await post(h.gateway, '/v1/embeddings', { model: 'cheap', input }, headers);
    const text = await res.text();
    const spent = await h.stores!.budgets.spent('acme', 'month');
    // Either refused up front (402), or served within the budget.
    expect({ status: res.status, overLimit: spent.spentUsd > limitUsd, spentUsd: spent.spentUsd, deployment: res.headers.get('x-llmrr-model'), body: res.status === 200 ? 'ok' : text }).toEqual({
      status: 402,
      overLimit: false,
      spentUsd: 0,
      deployment: null,
      body: expect.stringContaining('budget_exceeded'),
    });
  });
});

describe('embeddings of many short texts', () => {
  // An embedding input has no chat framing (OpenAI bills its text's tokens alone): the reservation and the `tpm`
  // charge take one token a byte per input (the most a byte-level tokenizer makes of a text), not 8 framing tokens
  // more per input.
  it('reserve and charge their text, not a chat message per input', async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('embedder', {}, { capabilities: ['embeddings'], price: { input: 1, output: 0 } })] });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'acme', budget: { amountUsd: 1, period: 'month' }, limits: { tpm: 10_000 } });
    const headers = { authorization: `Bearer ${(await h.stores!.tenants.createKey('acme', { name: 'k' })).secret}` };
    const reserved = recordReservations(h.stores!);
    const acquire = vi.spyOn(h.stores!.rateLimiter, 'acquire');
    // 1000 inputs of 4 bytes: 4 tokens each at most, 4000 in all ($0.004 at $1/M).
    const input = Array.from({ length: 1000 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    const res = await post(h.gateway, '/v1/embeddings', { model: 'embedder', input }, headers);
    expect(res.status).toBe(200);
    expect(reserved).toEqual([expect.closeTo(4000 / 1e6, 12)]);
    // The minute's charge at admission: those 4000, and the 1 output token the call is planned with (`maxTokens: 1`).
    expect(acquire.mock.calls.map((c) => c[1].estimatedTokens)).toEqual([4001]);
    // The answer's headers say what is left once the call is done: the charge corrected to the usage it reported.
    expect(Number(res.headers.get('x-ratelimit-remaining-tokens'))).toBeGreaterThan(10_000 - 4001);
  });
});

describe('auto embeddings under a budget', () => {
  // `auto` may be served by any visible model that can embed: a chat-only model, which never answers an embeddings
  // call, does not price it (it would make cheap embeddings a 402 long before the budget is spent).
  it('is priced by the models that can embed, not by a chat-only model', async () => {
    h = await createHarness({
      stores: 'memory',
      models: [
        mockModel('embedder', {}, { capabilities: ['embeddings'], price: { input: 1, output: 0 } }),
        mockModel('big-chat', {}, { capabilities: ['chat', 'completion'], price: { input: 1000, output: 1000 } }),
      ],
    });
    const headers = await budgetedKey(h, 'acme', 0.01);
    const input = 'word '.repeat(100); // 100 tokens: $0.0001 at the embedder's price
    const res = await post(h.gateway, '/v1/embeddings', { model: 'auto', input }, headers);
    const text = await res.text();
    expect({ status: res.status, deployment: res.headers.get('x-llmrr-model'), body: res.status === 200 ? 'ok' : text }).toEqual({ status: 200, deployment: 'embedder', body: 'ok' });
  });
});

describe('embeddings in demo mode', () => {
  // README: in demo mode "every such response carries `x-llmrr-demo: true`" (the header table: `x-llmrr-demo: true`,
  // `x-llmrr-tenant`), embeddings as the other model routes, errors after authentication too.
  it('a keyless embeddings answer says x-llmrr-demo and x-llmrr-tenant, as completions do', async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { auth: { demoTenantId: 'demo' } } });
    await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
    const completion = await post(h.gateway, '/v1/completions', { model: 'mock', prompt: 'hello' });
    expect(completion.status).toBe(200);
    expect([completion.headers.get('x-llmrr-demo'), completion.headers.get('x-llmrr-tenant')]).toEqual(['true', 'demo']);

    const res = await post(h.gateway, '/v1/embeddings', { model: 'mock', input: 'hello' });
    expect(res.status).toBe(200);
    expect([res.headers.get('x-llmrr-demo'), res.headers.get('x-llmrr-tenant')]).toEqual(['true', 'demo']);
    const refused = await post(h.gateway, '/v1/embeddings', { model: 'nope', input: 'hello' });
    expect(refused.status).toBe(404);
    expect([refused.headers.get('x-llmrr-demo'), refused.headers.get('x-llmrr-tenant')]).toEqual(['true', 'demo']);
  });
});

describe('embeddings to a cascade', () => {
  // GET /v1/models lists the cascade (capabilities chat, streaming, completion); it cannot embed, which is a 400
  // unsupported naming model, as for any model without embeddings (never a 404 for a model the caller was shown).
  it('is a 400 unsupported naming model, not a 404 saying the listed model does not exist', async () => {
    h = await createHarness({
      models: [mockModel('weak'), mockModel('strong')],
      routing: { cascades: [{ name: 'cas', weak: 'weak', strong: 'strong' }] },
    });
    const listed = (await (await h.gateway.fetch(new Request('http://gateway.test/v1/models'))).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((m) => m.id)).toContain('cas');
    const res = await post(h.gateway, '/v1/embeddings', { model: 'cas', input: 'hello' });
    const err = ((await res.json()) as { error: { code: string; param: string | null; message: string } }).error;
    expect({ status: res.status, code: err.code, param: err.param }).toEqual({ status: 400, code: 'unsupported', param: 'model' });
    expect(err.message).toContain('"cas" is a cascade');
  });

  it('takes a place under the rate limits, as every refused model does (a 404 too)', async () => {
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('weak', {}, { capabilities: ['chat', 'embeddings'] }), mockModel('strong')],
      routing: { cascades: [{ name: 'cas', weak: 'weak', strong: 'strong' }] },
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 1 } });
    const headers = { authorization: `Bearer ${(await h.stores!.tenants.createKey('acme', { name: 'k' })).secret}` };
    const refused = await post(h.gateway, '/v1/embeddings', { model: 'cas', input: 'hello' }, headers);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    // The tenant's one request of the minute went to the refusal.
    expect((await post(h.gateway, '/v1/embeddings', { model: 'weak', input: 'hello' }, headers)).status).toBe(429);
  });
});

describe('embeddings and the tenant\'s preferred strategy', () => {
  // `auto` embeddings rank with the tenant's `preferences.strategy`, as its chat calls and /api/route do: a tenant
  // that prefers cost-optimized is not served the dearer embedding model the router's default strategy picks.
  it('auto embeddings of a cost-optimized tenant go to the cheaper model, as its chat calls do', async () => {
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('dear', {}, { priority: 1, price: { input: 100, output: 100 } }), mockModel('cheap', {}, { priority: 2, price: { input: 1, output: 1 } })],
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', preferences: { strategy: 'cost-optimized' } });
    const headers = { authorization: `Bearer ${(await h.stores!.tenants.createKey('acme', { name: 'k' })).secret}` };
    const chat = await post(h.gateway, '/v1/completions', { model: 'auto', prompt: 'hello' }, headers);
    expect(chat.headers.get('x-llmrr-model')).toBe('cheap');
    const res = await post(h.gateway, '/v1/embeddings', { model: 'auto', input: 'hello' }, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmrr-model')).toBe('cheap');
  });
});

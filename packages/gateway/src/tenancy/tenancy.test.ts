import type { StateStores, UsageEntryInput } from '@llmrr/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, sseJson, type Harness } from '../test-support/harness.js';

const chat = { model: 'mock', messages: [{ role: 'user', content: 'hello there' }] };

async function tenantWithKey(stores: StateStores, input: Parameters<StateStores['tenants']['createTenant']>[0], keyLimits?: { rpm?: number; maxConcurrency?: number }) {
  const tenant = await stores.tenants.createTenant(input);
  const key = await stores.tenants.createKey(tenant.id, { name: 'test', ...(keyLimits ? { limits: keyLimits } : {}) });
  return { tenant, secret: key.secret, keyId: key.key.id };
}

/**
 * A ~3000-token call (admitted: a full bucket takes one call above a 1-token-a-minute limit, which it puts days in
 * debt), then a small call with the same key: that one's 429 and its body.
 */
async function refusedAfterDebt(h: Harness, secret: string): Promise<{ res: Response; text: string }> {
  const auth = { authorization: `Bearer ${secret}` };
  const first = await post(h.gateway, '/v1/chat/completions', { model: 'mock', max_tokens: 5, messages: [{ role: 'user', content: 'word '.repeat(3000) }] }, auth);
  expect(first.status, await first.text()).toBe(200);
  const res = await post(h.gateway, '/v1/chat/completions', { ...chat, max_tokens: 5 }, auth);
  const text = await res.text();
  expect(res.status, text).toBe(429);
  return { res, text };
}

describe('authentication', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ stores: 'memory' });
  });
  afterEach(() => h.close());

  it('accepts Bearer and X-API-Key; refuses a missing or wrong key with 401 and an audit entry', async () => {
    const { secret } = await tenantWithKey(h.stores!, { id: 'acme', name: 'Acme' });
    expect((await post(h.gateway, '/v1/chat/completions', chat, { authorization: `Bearer ${secret}` })).status).toBe(200);
    expect((await post(h.gateway, '/v1/chat/completions', chat, { 'x-api-key': secret })).status).toBe(200);

    const missing = await post(h.gateway, '/v1/chat/completions', chat);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
    const wrong = await post(h.gateway, '/v1/chat/completions', chat, { authorization: 'Bearer llmrr_not-a-real-key' });
    expect(wrong.status).toBe(401);

    const audit = await h.stores!.audit.list({ action: 'auth.failure' });
    expect(audit.map((a) => a.details?.reason)).toEqual(['missing_key', expect.stringMatching(/malformed|unknown_key/)]);
    expect(JSON.stringify(audit)).not.toContain('llmrr_not-a-real-key');
  });

  it('a revoked key and a disabled tenant stop working', async () => {
    const { secret, keyId } = await tenantWithKey(h.stores!, { id: 'acme', name: 'Acme' });
    await h.stores!.tenants.revokeKey(keyId);
    expect((await post(h.gateway, '/v1/chat/completions', chat, { authorization: `Bearer ${secret}` })).status).toBe(401);
    const other = await tenantWithKey(h.stores!, { id: 'off', name: 'Off' });
    await h.stores!.tenants.updateTenant('off', { disabled: true });
    expect((await post(h.gateway, '/v1/chat/completions', chat, { authorization: `Bearer ${other.secret}` })).status).toBe(401);
  });

  it('a tenant allow-list hides and refuses other models', async () => {
    await h.close();
    h = await createHarness({ stores: 'memory', models: [mockModel('mock'), mockModel('secret-model')] });
    const { secret } = await tenantWithKey(h.stores!, { id: 'acme', name: 'Acme', allowedModels: ['mock'] });
    const auth = { authorization: `Bearer ${secret}` };
    const models = (await (await h.gateway.fetch(new Request('http://g/v1/models', { headers: auth }))).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toEqual(['mock']);
    // A model outside the allow-list is refused exactly like one that does not exist (404), so a tenant
    // cannot probe which models exist.
    const denied = await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'secret-model' }, auth);
    const missing = await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'no-such-model' }, auth);
    expect(denied.status).toBe(404);
    expect(missing.status).toBe(404);
    const deniedBody = (await denied.json()) as { error: { param: string; message: string } };
    const missingBody = (await missing.json()) as { error: { param: string; message: string } };
    expect(deniedBody.error.param).toBe('model');
    expect(deniedBody.error.message.replace('secret-model', 'X')).toBe(missingBody.error.message.replace('no-such-model', 'X'));
    const auto = await post(h.gateway, '/v1/chat/completions', { ...chat, model: 'auto' }, auth);
    expect(auto.headers.get('x-llmrr-model')).toBe('mock');
  });
});

describe('demo mode', () => {
  it('requests without a key act as the labelled demo tenant and are metered', async () => {
    const h = await createHarness({ stores: 'memory', gateway: { auth: { demoTenantId: 'demo' } } });
    try {
      await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo tenant' });
      const res = await post(h.gateway, '/v1/chat/completions', chat);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llmrr-demo')).toBe('true');
      expect(res.headers.get('x-llmrr-tenant')).toBe('demo');
      const entry = await h.stores!.ledger.get(res.headers.get('x-request-id')!);
      expect(entry).toMatchObject({ tenantId: 'demo', status: 'success', model: 'mock' });
      // Clients that always send some key (OPENAI_API_KEY=anything) still reach the demo tenant...
      const foreign = await post(h.gateway, '/v1/chat/completions', chat, { authorization: 'Bearer sk-anything' });
      expect(foreign.headers.get('x-llmrr-demo')).toBe('true');
      // ...but a key that looks like one of ours must be valid.
      expect((await post(h.gateway, '/v1/chat/completions', chat, { authorization: 'Bearer llmrr_wrong' })).status).toBe(401);
    } finally {
      await h.close();
    }
  });
});

describe('rate limits', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ stores: 'memory' });
  });
  afterEach(() => h.close());

  it('sends X-RateLimit-* headers and refuses with 429 + Retry-After past the limit', async () => {
    const { secret } = await tenantWithKey(h.stores!, { id: 'acme', name: 'Acme', limits: { rpm: 2 } });
    const auth = { authorization: `Bearer ${secret}` };
    const first = await post(h.gateway, '/v1/chat/completions', chat, auth);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    expect((await post(h.gateway, '/v1/chat/completions', chat, auth)).status).toBe(200);
    const refused = await post(h.gateway, '/v1/chat/completions', chat, auth);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    const err = (await refused.json()) as { error: { type: string; code: string } };
    expect(err.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
    // The refusal is in the ledger too, with nothing charged.
    const entries = await h.stores!.ledger.query({ tenantId: 'acme' });
    expect(entries.filter((e) => e.errorCode === 'rate_limited')).toHaveLength(1);
  });

  // A token limit's debt can be far longer than a day (up to a year): the gateway's own 429 tells the whole wait (the
  // official openai client sleeps whatever retry-after says; told less, it comes back into the same 429). Only a
  // provider's Retry-After is read as a day at most.
  it('a rate-limit 429 whose wait is longer than a day: retry-after says the whole wait, as the message and x-ratelimit-reset-tokens do', async () => {
    // 1 token a minute: a full bucket admits one call above the minute; its ~1500 tokens are ~1500 minutes of debt.
    const { secret } = await tenantWithKey(h.stores!, { id: 'acme', name: 'Acme', limits: { tpm: 1 } });
    const { res, text } = await refusedAfterDebt(h, secret);
    const said = Number(/retry after (\d+)s/.exec(text)?.[1]);
    const retryAfter = Number(res.headers.get('retry-after'));
    // The same 429's own token reset (`<seconds>s`): the limit admits nothing before then.
    const resetTokens = Number(/^(\d+)s$/.exec(res.headers.get('x-ratelimit-reset-tokens') ?? '')?.[1]);
    expect(said).toBeGreaterThan(86_400);
    expect({ retryAfter, said, resetTokens }).toEqual({ retryAfter: said, said, resetTokens: said });
  });

  it("the router's own 429 (every deployment at its limits) whose wait is longer than a day: retry-after says the whole wait", async () => {
    await h.close();
    // The deployment's own limit (no tenant limit): 1 token a minute, a ~3000-token call puts it days in debt.
    h = await createHarness({ stores: 'memory', models: [mockModel('mock', {}, { limits: { tpm: 1 } })] });
    const { secret } = await tenantWithKey(h.stores!, { id: 'acme', name: 'Acme' });
    const { res, text } = await refusedAfterDebt(h, secret);
    expect(text).toContain('is at its limits');
    const waitMs = Number(/retry in ~(\d+) ms/.exec(text)?.[1]);
    expect(waitMs).toBeGreaterThan(86_400_000);
    expect(res.headers.get('retry-after')).toBe(String(Math.ceil(waitMs / 1000)));
  });

  it('a key limit applies on top of the tenant', async () => {
    const { secret } = await tenantWithKey(h.stores!, { id: 'acme', name: 'Acme' }, { rpm: 1 });
    const auth = { authorization: `Bearer ${secret}` };
    expect((await post(h.gateway, '/v1/chat/completions', chat, auth)).status).toBe(200);
    expect((await post(h.gateway, '/v1/chat/completions', chat, auth)).status).toBe(429);
  });

  it('concurrency limits hold while streams are open and free up when they end', async () => {
    await h.close();
    h = await createHarness({ stores: 'memory', models: [mockModel('mock', { chunkDelayMs: 20 })] });
    const { secret } = await tenantWithKey(h.stores!, { id: 'acme', name: 'Acme', limits: { maxConcurrency: 1 } });
    const auth = { authorization: `Bearer ${secret}` };
    const open = await post(h.gateway, '/v1/chat/completions', { ...chat, stream: true }, auth);
    expect(open.status).toBe(200);
    const second = await post(h.gateway, '/v1/chat/completions', chat, auth);
    expect(second.status).toBe(429);
    await open.text();
    expect((await post(h.gateway, '/v1/chat/completions', chat, auth)).status).toBe(200);
  });
});

describe('budgets and the ledger', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('mock', { delayMs: 20 })] });
  });
  afterEach(() => h.close());

  it('streamed and non-streamed calls record the same cost', async () => {
    const { secret } = await tenantWithKey(h.stores!, { id: 'acme', name: 'Acme' });
    const auth = { authorization: `Bearer ${secret}` };
    const plain = await post(h.gateway, '/v1/chat/completions', chat, auth);
    await plain.json();
    const streamed = await post(h.gateway, '/v1/chat/completions', { ...chat, stream: true }, auth);
    await streamed.text();
    const anthropic = await post(h.gateway, '/v1/messages', { model: 'mock', max_tokens: 50, messages: chat.messages, stream: true }, auth);
    await anthropic.text();
    const a = await h.stores!.ledger.get(plain.headers.get('x-request-id')!);
    const b = await h.stores!.ledger.get(streamed.headers.get('x-request-id')!);
    const c = await h.stores!.ledger.get(anthropic.headers.get('x-request-id')!);
    expect(a).toMatchObject({ stream: false, status: 'success', inputTokens: 2, outputTokens: 5 });
    expect(b).toMatchObject({ stream: true, status: 'success', inputTokens: 2, outputTokens: 5 });
    expect(a!.costUsd).toBeGreaterThan(0);
    expect(b!.costUsd).toBe(a!.costUsd);
    expect(c!.costUsd).toBe(a!.costUsd);
    expect(b!.ttftMs).toBeGreaterThanOrEqual(0);
  });

  it('the ledger record is durable before the final bytes of a stream are sent', async () => {
    const { secret } = await tenantWithKey(h.stores!, { id: 'acme', name: 'Acme' });
    const order: string[] = [];
    const ledger = h.stores!.ledger;
    const record = ledger.record.bind(ledger);
    ledger.record = async (entry: UsageEntryInput) => {
      await new Promise((r) => setTimeout(r, 50));
      const out = await record(entry);
      order.push('ledger');
      return out;
    };
    const res = await post(h.gateway, '/v1/chat/completions', { ...chat, stream: true, stream_options: { include_usage: true } }, { authorization: `Bearer ${secret}` });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.includes('"finish_reason":"stop"')) order.push('finish-chunk');
      text += value;
    }
    order.push('end');
    expect(order).toEqual(['ledger', 'finish-chunk', 'end']);
    expect(sseJson(text).at(-1)!.usage).toBeTruthy();
  });

  it('concurrent requests cannot overspend a budget', async () => {
    // Each call may cost up to (input estimate + 20 output tokens) at $1M/$2M per 1M tokens; the budget fits a few.
    await h.close();
    h = await createHarness({ stores: 'memory', models: [mockModel('mock', { delayMs: 30 }, { price: { input: 1_000_000, output: 2_000_000 } })] });
    const budgetUsd = 200;
    const { secret } = await tenantWithKey(h.stores!, { id: 'acme', name: 'Acme', budget: { amountUsd: budgetUsd, period: 'month' } });
    const auth = { authorization: `Bearer ${secret}` };
    const body = { ...chat, max_tokens: 20 };
    const responses = await Promise.all(Array.from({ length: 30 }, () => post(h.gateway, '/v1/chat/completions', body, auth)));
    const statuses = responses.map((r) => r.status);
    await Promise.all(responses.map((r) => r.text()));
    const ok = statuses.filter((s) => s === 200).length;
    const refused = statuses.filter((s) => s === 402).length;
    expect(ok + refused).toBe(30);
    expect(ok).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    const state = await h.stores!.budgets.spent('acme', 'month');
    expect(state.reservedUsd).toBe(0);
    expect(state.spentUsd).toBeLessThanOrEqual(budgetUsd);
    const summary = await h.stores!.ledger.summary({ tenantId: 'acme' });
    expect(summary.costUsd).toBeCloseTo(state.spentUsd, 6);
    expect(summary.requests).toBe(30);
  });

  it('a request refused for its budget is a 402 and charges nothing', async () => {
    const { secret } = await tenantWithKey(h.stores!, { id: 'broke', name: 'Broke', budget: { amountUsd: 0, period: 'day' } });
    const res = await post(h.gateway, '/v1/chat/completions', chat, { authorization: `Bearer ${secret}` });
    expect(res.status).toBe(402);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('budget_exceeded');
    expect((await h.stores!.budgets.spent('broke', 'day')).spentUsd).toBe(0);
  });
});

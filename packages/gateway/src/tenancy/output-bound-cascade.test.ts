/**
 * Admission over a cascade prices and counts every call the router may make for it. The router caps a step's
 * `maxTokens` at that step's own `maxOutputTokens`, so a step without a cap gets the whole `max_tokens` and the
 * cascade has no cap (core's model info); a step that fails falls over to its own fallbacks (`routing.fallbacks`
 * by the step's name), which are among the candidates the budget reservation (`estimateMaxCostUsd`, step by
 * step) and the tokens-per-minute estimate (`estimateRequestTokenBound`: the prompt and output bound of each step) count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** $1 an output token, prompt nearly free; the mock answers "Mock answer to: <prompt>" cut at maxTokens words. */
const PRICE = { input: 1, output: 1_000_000 };

async function cascadeHarness(tenant: Parameters<NonNullable<Harness['stores']>['tenants']['createTenant']>[0] & { id: string }) {
  h = await createHarness({
    stores: 'memory',
    models: [mockModel('small', {}, { price: PRICE, maxOutputTokens: 10 }), mockModel('large', {}, { price: PRICE })],
    // The verifier always escalates: the strong step (no maxOutputTokens) runs with the request's max_tokens.
    routing: { cascades: [{ name: 'cas', weak: 'small', strong: 'large', verifier: 'escalate', threshold: 1 }] },
    routerOptions: { verifiers: { escalate: () => 1 } },
  });
  await h.stores!.tenants.createTenant(tenant);
  return { authorization: `Bearer ${(await h.stores!.tenants.createKey(tenant.id, { name: 'k' })).secret}` };
}

describe('outputBound / estimateMaxCostUsd over a cascade whose strong step has no maxOutputTokens', () => {
  it('the budget reservation covers the uncapped strong step at max_tokens: the call is refused, not run past the budget', async () => {
    const auth = await cascadeHarness({ id: 'acme', name: 'Acme', budget: { amountUsd: 100, period: 'month' } });
    const res = await post(h!.gateway, '/v1/chat/completions', { model: 'cas', max_tokens: 1000, messages: [{ role: 'user', content: 'word '.repeat(2000) }] }, auth);
    const text = await res.text();
    const spent = (await h!.stores!.ledger.query({ tenantId: 'acme' })).reduce((n, r) => n + r.costUsd, 0);
    // Worst case: 10 weak + 1000 strong output tokens at $1 = ~$1010, ten times the $100 budget: a 402 before any call.
    expect({ status: res.status, spentWithinBudget: spent <= 100 }, `${res.status} ${text.slice(0, 160)}; ledger $${spent}`).toEqual({ status: 402, spentWithinBudget: true });
  });

  it('the tpm estimate counts the uncapped strong step at max_tokens: a call whose worst case exceeds what is left of the minute is a 429', async () => {
    // A bucket that is full admits one call above the whole minute (GCRA: the debt is paid by waiting), so a first
    // call takes part of it: ~1010 tokens (the mock counts words: 500 prompt words on each step, 5 output each).
    const auth = await cascadeHarness({ id: 'acme', name: 'Acme', limits: { tpm: 3000 } });
    const first = await post(h!.gateway, '/v1/chat/completions', { model: 'cas', max_tokens: 5, messages: [{ role: 'user', content: 'word '.repeat(500) }] }, auth);
    expect(first.status, await first.text()).toBe(200);
    // Prompt bound 808 tokens (one a byte of its 800 bytes, plus 8 of framing), sent to both steps: 1616; + 10 weak and
    // 1000 strong output = 2626, with ~1010 used ~3636 > 3000. At the weak step's cap (10) it looked like 1636 (~2646
    // with the first call) and was admitted.
    const res = await post(h!.gateway, '/v1/chat/completions', { model: 'cas', max_tokens: 1000, messages: [{ role: 'user', content: 'word '.repeat(160) }] }, auth);
    const text = await res.text();
    const rows = await h!.stores!.ledger.query({ tenantId: 'acme' });
    const out = rows.reduce((n, r) => n + r.outputTokens, 0);
    expect(res.status, `${res.status} ${text.slice(0, 160)}; ledger output tokens ${out}`).toBe(429);
  });

  it("a cascade step's own fallback (routing.fallbacks by step name, not in the candidates) is priced at max_tokens too", async () => {
    // Both steps capped at 10; the strong step fails and the router falls over to its fallback "wide" (no cap),
    // which gets the full max_tokens. The candidates (the cascade only) say 10 output tokens.
    h = await createHarness({
      stores: 'memory',
      models: [
        mockModel('small', {}, { price: PRICE, maxOutputTokens: 10 }),
        mockModel('large', { failures: [{ code: 'provider_error', times: 100 }] }, { price: PRICE, maxOutputTokens: 10 }),
        mockModel('wide', {}, { price: PRICE }),
      ],
      routing: { fallbacks: { large: ['wide'] }, cascades: [{ name: 'cas', weak: 'small', strong: 'large', verifier: 'escalate', threshold: 1 }] },
      routerOptions: { verifiers: { escalate: () => 1 } },
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 100, period: 'month' } });
    const auth = { authorization: `Bearer ${(await h.stores!.tenants.createKey('acme', { name: 'k' })).secret}` };
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'cas', max_tokens: 1000, messages: [{ role: 'user', content: 'word '.repeat(2000) }] }, auth);
    const text = await res.text();
    const spent = (await h.stores!.ledger.query({ tenantId: 'acme' })).reduce((n, r) => n + r.costUsd, 0);
    expect({ spentWithinBudget: spent <= 100 }, `${res.status} ${res.headers.get('x-llmrr-model')} ${text.slice(0, 120)}; ledger $${spent}`).toEqual({ spentWithinBudget: true });
  });

  it('the weak step and the fallback of the strong step are priced together: a budget the fallback alone fits is not enough', async () => {
    // small (cap 10, ~$10) runs, then large fails and its fallback "wide" answers 1000 tokens (~$1000): ~$1010 in
    // all, above a $1005 budget that "wide" alone (~$1000) would fit. Per call (llmrr.fallbacks) and by config.
    for (const perCall of [false, true]) {
      h = await createHarness({
        stores: 'memory',
        models: [
          mockModel('small', {}, { price: PRICE, maxOutputTokens: 10 }),
          mockModel('large', { failures: [{ code: 'provider_error', times: 100 }] }, { price: PRICE, maxOutputTokens: 10 }),
          mockModel('wide', {}, { price: PRICE }),
        ],
        routing: { ...(perCall ? {} : { fallbacks: { large: ['wide'] } }), cascades: [{ name: 'cas', weak: 'small', strong: 'large', verifier: 'escalate', threshold: 1 }] },
        routerOptions: { verifiers: { escalate: () => 1 } },
      });
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 1005, period: 'month' } });
      const auth = { authorization: `Bearer ${(await h.stores!.tenants.createKey('acme', { name: 'k' })).secret}` };
      const body = { model: 'cas', max_tokens: 1000, messages: [{ role: 'user', content: 'word '.repeat(2000) }], ...(perCall ? { llmrr: { fallbacks: ['wide'] } } : {}) };
      const res = await post(h.gateway, '/v1/chat/completions', body, auth);
      const text = await res.text();
      const spent = (await h.stores!.ledger.query({ tenantId: 'acme' })).reduce((n, r) => n + r.costUsd, 0);
      expect({ perCall, status: res.status, spentWithinBudget: spent <= 1005 }, `${text.slice(0, 160)}; ledger $${spent}`).toEqual({ perCall, status: 402, spentWithinBudget: true });
      await h.close();
      h = undefined;
    }
  });
});

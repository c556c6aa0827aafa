import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

/*
 * The router clamps a request's max tokens to the deployment's `maxOutputTokens` (core router/deployment.ts), so a
 * call can never be charged for more output than that cap. Budget and tpm admission (tenancy/estimate.ts
 * `estimateMaxCostUsd`, `outputBound`) count the output at that cap too: a client that asks for a generous limit
 * (common with the openai SDK and agents: `max_output_tokens: 100000`) is not refused for a budget or a tpm limit
 * its call's worst case fits.
 */
describe('budget admission vs the deployment output cap (/v1/responses)', () => {
  let h: Harness;
  afterEach(() => h?.close());

  it('a max_output_tokens above the deployment cap is priced at the cap, not refused for the budget', async () => {
    // $1 per token (1_000_000 per 1M); cap 100 output tokens: a call costs at most about $100 plus its input.
    h = await createHarness({ stores: 'memory', models: [mockModel('capped', {}, { price: { input: 1_000_000, output: 1_000_000 }, maxOutputTokens: 100 })] });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 1000, period: 'month' } });
    const { secret } = await h.stores!.tenants.createKey('acme', { name: 't' });
    const auth = { authorization: `Bearer ${secret}` };

    // Within the cap: admitted (the budget holds ten worst cases).
    const small = await post(h.gateway, '/v1/responses', { model: 'capped', input: 'hi', max_output_tokens: 100 }, auth);
    expect(small.status).toBe(200);
    await small.text();

    // Above the cap: the deployment still gets at most 100 output tokens, so the call costs the same at worst.
    const big = await post(h.gateway, '/v1/responses', { model: 'capped', input: 'hi', max_output_tokens: 100_000 }, auth);
    const text = await big.text();
    expect(big.status, text).toBe(200);
  });

  it('a max_output_tokens above the deployment cap is counted at the cap against the tenant tpm, not refused', async () => {
    h = await createHarness({ stores: 'memory', models: [mockModel('capped', {}, { maxOutputTokens: 100 })] });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { tpm: 5000 } });
    const { secret } = await h.stores!.tenants.createKey('acme', { name: 't' });
    const auth = { authorization: `Bearer ${secret}` };
    const small = await post(h.gateway, '/v1/responses', { model: 'capped', input: 'hi', max_output_tokens: 100 }, auth);
    expect(small.status).toBe(200);
    await small.text();
    // The deployment produces at most 100 output tokens whatever is asked: the call fits the 5000-token minute.
    const big = await post(h.gateway, '/v1/responses', { model: 'capped', input: 'hi', max_output_tokens: 100_000 }, auth);
    const text = await big.text();
    expect(big.status, text).toBe(200);
  });
});

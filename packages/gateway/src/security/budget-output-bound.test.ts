import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

describe('budget reservation bounds the output of requests without max_tokens', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a budgeted request without max_tokens cannot produce (and spend) more than its reservation assumed', async () => {
    // The mock answers `Mock answer to: <prompt>` (one token a word, cut at maxTokens): a long prompt, a long answer.
    const prompt = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('mock', {}, { price: { input: 0, output: 1000 } })],
      gateway: { limits: { defaultMaxOutputTokens: 8 } },
    });
    // The reservation assumes at most 8 output tokens ($0.008); the budget allows $0.05.
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 0.05, period: 'month' } });
    const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: prompt }] }, { authorization: `Bearer ${secret}` });
    expect(res.status).toBe(200);
    const state = await h.stores!.budgets.spent('acme', 'month');
    expect(state.spentUsd).toBeLessThanOrEqual(0.05);
    expect(state.spentUsd).toBeLessThanOrEqual(0.008 + 1e-9);
  });
});

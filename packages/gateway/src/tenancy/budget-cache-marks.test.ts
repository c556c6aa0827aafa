import type { BudgetReserveRequest, StateStores } from '@llmrr/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

// A request with prompt-cache marks may have its whole prompt written to the cache, at the write rates
// (Claude: 1.25x input for 5 minutes, 2x for 1 hour): the budget reservation bounds that, through the wire
// formats that carry marks. A request without marks reserves what it always did.

const system = 'A long and stable system prompt that is worth caching. '.repeat(40);
const question = [{ role: 'user', content: 'Who pays the fees?' }];

async function tenantWithKey(stores: StateStores, budgetUsd: number): Promise<Record<string, string>> {
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: budgetUsd, period: 'month' } });
  const key = await stores.tenants.createKey('acme', { name: 'test' });
  return { authorization: `Bearer ${key.secret}` };
}

/** A gateway over one Claude-priced mock deployment, recording every budget reservation's estimate. */
async function open(): Promise<{ h: Harness; reserved: number[] }> {
  // Output free, so the reservation is the prompt estimate times the rate it is priced at.
  const price = { input: 1_000, output: 0, cacheWrite: 1_250, cacheWrite1h: 2_000 };
  const h = await createHarness({ stores: 'memory', models: [mockModel('claude', {}, { price })] });
  const reserved: number[] = [];
  const budgets = h.stores!.budgets;
  const reserve = budgets.reserve.bind(budgets);
  budgets.reserve = (request: BudgetReserveRequest) => {
    reserved.push(request.estimateUsd);
    return reserve(request);
  };
  return { h, reserved };
}

describe('budget reservations of requests with prompt-cache marks', () => {
  let h: Harness;
  let reserved: number[];
  beforeEach(async () => {
    ({ h, reserved } = await open());
  });
  afterEach(() => h.close());

  const messages = (cache_control?: unknown) => ({
    model: 'claude',
    max_tokens: 20,
    system: [{ type: 'text', text: system, ...(cache_control === undefined ? {} : { cache_control }) }],
    messages: question,
  });

  it('/v1/messages: 5-minute marks reserve at cacheWrite, 1-hour at cacheWrite1h, none (or null) at input', async () => {
    const auth = await tenantWithKey(h.stores!, 1_000_000);
    for (const body of [messages(), messages(null), messages({ type: 'ephemeral' }), messages({ type: 'ephemeral', ttl: '1h' })]) {
      const res = await post(h.gateway, '/v1/messages', body, auth);
      expect(res.status).toBe(200);
      await res.text();
    }
    const [plain, nullMark, five, hour] = reserved;
    expect(reserved).toHaveLength(4);
    expect(plain).toBeGreaterThan(0);
    expect(nullMark).toBe(plain);
    expect(five! / plain!).toBeCloseTo(1.25, 3);
    expect(hour! / plain!).toBeCloseTo(2, 3);
  });

  it('/v1/chat/completions: a LiteLLM-style cache_control on a part raises the reservation; a marked request over budget is refused', async () => {
    const plainBody = { model: 'claude', max_tokens: 20, messages: [{ role: 'system', content: system }, ...question] };
    const markedBody = {
      ...plainBody,
      messages: [{ role: 'system', content: [{ type: 'text', text: system, cache_control: { type: 'ephemeral', ttl: '1h' } }] }, ...question],
    };
    // Measure the unmarked reservation, then give a tenant a budget between it and the marked one.
    const probe = await tenantWithKey(h.stores!, 1_000_000);
    const first = await post(h.gateway, '/v1/chat/completions', plainBody, probe);
    expect(first.status).toBe(200);
    await first.text();
    const plain = reserved[0]!;
    await h.close();
    ({ h, reserved } = await open());
    const auth = await tenantWithKey(h.stores!, plain * 1.5);
    const refused = await post(h.gateway, '/v1/chat/completions', markedBody, auth);
    expect(refused.status).toBe(402);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('budget_exceeded');
    expect(reserved[0]! / plain).toBeCloseTo(2, 3);
    const admitted = await post(h.gateway, '/v1/chat/completions', plainBody, auth);
    expect(admitted.status).toBe(200);
    await admitted.text();
    expect(reserved[1]).toBe(plain);
  });
});

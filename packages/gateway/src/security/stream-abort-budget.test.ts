import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

describe('a stream the client abandons after receiving content', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  // An aborted or broken stream that produced tokens is priced at the deployment's price (usage as
  // reported, else estimated from the streamed text and the request): the budget is charged, not released.
  it('is charged for what was generated (budget and ledger), not released for free', async () => {
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('mock', { reply: 'a b c d e f g h i j k l m n o p q r s t', chunkDelayMs: 20, wordsPerChunk: 1 }, { price: { input: 1000, output: 1000 } })],
      gateway: { auth: { demoTenantId: 'demo' } },
    });
    await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo', budget: { amountUsd: 100, period: 'month' } });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', stream: true, messages: [{ role: 'user', content: 'hello there' }] });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    for (let i = 0; i < 6; i++) await reader.read();
    await reader.cancel();
    const id = res.headers.get('x-request-id')!;
    let entry;
    for (let i = 0; i < 200 && !entry; i++) {
      entry = await h.stores!.ledger.get(id);
      if (!entry) await new Promise((r) => setTimeout(r, 20));
    }
    expect(entry).toMatchObject({ status: 'aborted' });
    const budget = await h.stores!.budgets.spent('demo', 'month');
    expect(budget.reservedUsd).toBe(0);
    expect(entry!.costUsd).toBeGreaterThan(0);
    expect(budget.spentUsd).toBeGreaterThan(0);
  });

  it('a stream that breaks after content is charged as an error with estimated usage', async () => {
    h = await createHarness({
      stores: 'memory',
      models: [mockModel('mock', { reply: 'a b c d e f g h i j k l m n o p q r s t', wordsPerChunk: 1, failures: [{ code: 'provider_error', afterChunks: 4 }] }, { price: { input: 1000, output: 1000 } })],
      gateway: { auth: { demoTenantId: 'demo' } },
      routing: { strategy: 'priority', retries: { max: 0 } },
    });
    await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo', budget: { amountUsd: 100, period: 'month' } });
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', stream: true, messages: [{ role: 'user', content: 'hello there' }] });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"error"');
    const entry = await h.stores!.ledger.get(res.headers.get('x-request-id')!);
    expect(entry).toMatchObject({ status: 'error' });
    expect(entry!.outputTokens).toBeGreaterThan(0);
    expect(entry!.inputTokens).toBeGreaterThan(0);
    expect(entry!.costUsd).toBeCloseTo(((entry!.inputTokens + entry!.outputTokens) * 1000) / 1e6, 9);
    const budget = await h.stores!.budgets.spent('demo', 'month');
    expect(budget.reservedUsd).toBe(0);
    expect(budget.spentUsd).toBeCloseTo(entry!.costUsd, 9);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

describe('a stream the client abandons after receiving content', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  // KNOWN BUG (not fixed here: calls/settle.ts and streaming/ belong to the hot-path work). An aborted or
  // broken stream settles with `costUsd` 0 (only a successful result carries a cost), so `charged` is false
  // and the budget reservation is released: a client that reads the answer and then drops the connection
  // before the finish frame gets the tokens for free, and the ledger records $0. Flip to `it` when fixed.
  it.fails('is charged for what was generated (budget and ledger), not released for free', async () => {
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
});

/**
 * A semantic hit that a `verify` guard let through called the guard model (a paid provider call): the gateway
 * reports that call's cost as the answer's (`x-llmrr-cost-usd`, `llmrr.cost_usd`, the ledger row), so the
 * tenant pays for it as for any other provider call. Real SQLite (in memory) stores.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('semantic guard calls in the ledger', () => {
  it('a guard-verified semantic hit costs the guard call, in the header, the body and the ledger row', async () => {
    h = await createHarness({
      models: [
        mockModel('main', { reply: 'Mount Everest is 8,849 m tall.' }, { price: { input: 5, output: 15 } }),
        mockModel('cheap', { reply: 'YES' }, { price: { input: 1, output: 2 } }),
        mockModel('emb', {}, { capabilities: ['embeddings'] }),
      ],
      stores: 'memory',
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'verify', guardModel: 'cheap' } },
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const auth = { authorization: `Bearer ${(await h.stores!.tenants.createKey('acme', { name: 'k' })).secret}` };
    const ask = (content: string) => ({ model: 'main', messages: [{ role: 'user', content }] });
    const first = await post(h.gateway, '/v1/chat/completions', ask('how tall is mount everest'), auth);
    expect(first.headers.get('x-llmrr-cache')).toBe('miss');
    await first.text();
    const hit = await post(h.gateway, '/v1/chat/completions', ask('how tall is mount everest today'), auth);
    expect(hit.headers.get('x-llmrr-cache')).toBe('hit-semantic');
    const body = (await hit.json()) as { llmrr: { cost_usd: number } };
    const usd = Number(hit.headers.get('x-llmrr-cost-usd'));
    expect(usd).toBeGreaterThan(0);
    expect(body.llmrr.cost_usd).toBeCloseTo(usd, 9);
    const row = await h.stores!.ledger.get(hit.headers.get('x-request-id')!);
    expect(row).toMatchObject({ tenantId: 'acme', cacheHit: true });
    expect(row!.costUsd).toBeCloseTo(usd, 9);
  });
});

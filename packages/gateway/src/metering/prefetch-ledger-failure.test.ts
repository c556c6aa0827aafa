/**
 * A prefetch of the router's predictive cache whose ledger row could not be written (the usage store failed) is
 * logged and left out of `llm_cost_usd_total` and `llm_tokens_total`, which count a prefetch once its row is
 * written: the cost panels keep adding up to the invoices (README, "Metrics"). Real gateway, real LLMRouter with
 * `cache.predictive` on, the priced MOCK engine, in-memory stores (SQLite in memory).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { get, type Harness } from '../test-support/harness.js';
import { metricSum } from '../test-support/metrics-text.js';
import { createPrefetchHarness, promptOnePrefetch, supportConversations } from '../test-support/prefetch-conversations.js';
import { PREFETCH_ENDPOINT } from './prefetch-metering.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('a prefetch whose ledger row could not be written', () => {
  it('is logged and adds no cost or tokens to the metrics, which keep adding up to the invoice', async () => {
    const logged: string[] = [];
    h = await createPrefetchHarness({ stores: 'memory', gateway: { log: (entry) => void logged.push(entry.message) } });
    const { gateway, router } = h;
    const stores = h.stores!;
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    // The store refuses every prefetch row; the requests' rows are written.
    const record = stores.ledger.record.bind(stores.ledger);
    stores.ledger.record = (entry) => (entry.endpoint === PREFETCH_ENDPOINT ? Promise.reject(new Error('database is down')) : record(entry));
    await promptOnePrefetch(supportConversations(h, { authorization: `Bearer ${secret}` }));
    // The prefetch was made and paid...
    expect(router.prefetch!.stats('acme').calls).toBe(1);
    expect(router.prefetch!.stats('acme').costUsd).toBeGreaterThan(0);
    // ...and its row refused (waited for, bounded: the metering runs after the request's answer).
    for (let i = 0; i < 400 && !logged.includes('metering a prefetch failed'); i++) await new Promise((r) => setTimeout(r, 5));
    expect(logged).toContain('metering a prefetch failed');

    const rows = await stores.ledger.query({ tenantId: 'acme', limit: 1000 });
    expect(rows.some((r) => r.endpoint === PREFETCH_ENDPOINT)).toBe(false);
    const invoice = await stores.ledger.invoice('acme', 0, Date.now() + 60_000);
    expect(invoice.totalUsd).toBeGreaterThan(0);
    const text = await (await get(gateway, '/metrics')).text();
    expect(metricSum(text, 'llm_cost_usd_total', /tenant="acme"/)).toBeCloseTo(invoice.totalUsd, 9);
    expect(metricSum(text, 'llm_tokens_total', /type="output",model="chat"/)).toBe(rows.reduce((s, r) => s + r.outputTokens, 0));
  });
});

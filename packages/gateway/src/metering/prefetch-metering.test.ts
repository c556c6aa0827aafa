/**
 * Prefetches of the router's predictive cache, made on a tenant's behalf, land in that tenant's ledger and
 * budget. Real gateway, real LLMRouter with `cache.predictive` on, the labelled MOCK engine as the model
 * (priced, so costs are non-zero), in-memory stores (SQLite in memory).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Usage } from '@llmrr/core';
import { FixedUsageEngine } from '../test-support/fixed-usage-engine.js';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';
import { PREFETCH_ENDPOINT } from './prefetch-metering.js';

const Q1 = 'How do I reset my password?';
const FOLLOW = 'And how do I change the email address on my account?';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function setup(budgetUsd: number | undefined, chatUsage?: Usage) {
  h = await createHarness({
    models: [mockModel('chat'), mockModel('emb', {}, { capabilities: ['embeddings'] })],
    cache: {
      exact: { enabled: true, ttlMs: 3_600_000 },
      semantic: { enabled: true, embedder: 'emb', threshold: 0.95, guardAbove: 0.95 },
      predictive: { enabled: true },
    },
    stores: 'memory',
    routerOptions: { unknownTenant: 'shared', ...(chatUsage ? { engines: { chat: new FixedUsageEngine(chatUsage) } } : {}) },
  });
  const stores = h.stores!;
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', ...(budgetUsd !== undefined ? { budget: { amountUsd: budgetUsd, period: 'total' as const } } : {}) });
  const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
  const gateway = h.gateway;
  const router = h.router;
  /** One user's conversation through the gateway (a system line names the session), waiting for prefetches. */
  const conversation = (session: string) => {
    const messages: Array<{ role: string; content: string }> = [{ role: 'system', content: `Support session ${session}` }];
    return async (question: string) => {
      messages.push({ role: 'user', content: question });
      const res = await post(gateway, '/v1/chat/completions', { model: 'chat', messages, user: session }, { authorization: `Bearer ${secret}` });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
      messages.push({ role: 'assistant', content: body.choices[0]!.message.content });
      await router.prefetch!.settled();
      return res;
    };
  };
  return { stores, router, conversation };
}

/** Waits (bounded) until the ledger has `n` prefetch rows. */
async function prefetchRows(stores: NonNullable<Harness['stores']>, n: number) {
  for (let i = 0; i < 400; i++) {
    const rows = (await stores.ledger.query({ tenantId: 'acme', limit: 1000 })).filter((r) => r.endpoint === PREFETCH_ENDPOINT);
    if (rows.length >= n) return rows;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`fewer than ${n} prefetch rows in the ledger`);
}

describe('prefetch metering', () => {
  it("writes each prefetch's model call to the tenant's ledger and charges its budget", async () => {
    const { stores, router, conversation } = await setup(100);
    for (const u of ['u1', 'u2']) {
      const c = conversation(u);
      await c(Q1);
      await c(FOLLOW);
    }
    expect(router.prefetch!.stats('acme').calls).toBe(0);
    const u3 = conversation('u3');
    await u3(Q1);
    expect(router.prefetch!.stats('acme').calls).toBe(1);
    const [row] = await prefetchRows(stores, 1);
    const prefetchCost = router.prefetch!.stats('acme').costUsd;
    expect(prefetchCost).toBeGreaterThan(0);
    expect(row).toMatchObject({ tenantId: 'acme', deployment: 'chat', endpoint: PREFETCH_ENDPOINT, status: 'success', cacheHit: false, stream: false });
    expect(row!.costUsd).toBeCloseTo(prefetchCost, 9);
    expect(row!.outputTokens).toBeGreaterThan(0);

    // The live follow-up is served from the prefetched entry: a cache hit that costs nothing.
    const follow = await u3(FOLLOW);
    expect(follow.headers.get('x-llmrr-cache')).toBe('hit-exact');

    // Budget spent = every ledger row's cost (live calls + the prefetch), and the invoice has the prefetch.
    const rows = await stores.ledger.query({ tenantId: 'acme', limit: 1000 });
    const ledgerTotal = rows.reduce((s, r) => s + r.costUsd, 0);
    const budget = await stores.budgets.spent('acme', 'total');
    expect(budget.spentUsd).toBeCloseTo(ledgerTotal, 9);
    expect(budget.reservedUsd).toBe(0);
    const invoice = await stores.ledger.invoice('acme', 0, Date.now() + 60_000);
    expect(invoice.totalUsd).toBeCloseTo(ledgerTotal, 9);
    expect(invoice.requests).toBe(rows.length);
  });

  it("a prefetch's prompt-cache reads and writes are in its ledger record", async () => {
    const usage: Usage = { inputTokens: 900, outputTokens: 12, totalTokens: 912, cachedInputTokens: 200, cacheWriteInputTokens: 500, cacheWrite1hInputTokens: 50 };
    const { stores, conversation } = await setup(undefined, usage);
    for (const u of ['u1', 'u2', 'u3']) {
      const c = conversation(u);
      await c(Q1);
      await c(FOLLOW);
    }
    const [row] = await prefetchRows(stores, 1);
    expect(row).toMatchObject({ inputTokens: 900, outputTokens: 12, cachedInputTokens: 200, cacheWriteInputTokens: 500, cacheWrite1hInputTokens: 50 });
  });

  it("a tenant without a budget gets the ledger record; another tenant's ledger and budget are untouched", async () => {
    const { stores, router, conversation } = await setup(undefined);
    await stores.tenants.createTenant({ id: 'globex', name: 'Globex', budget: { amountUsd: 50, period: 'total' } });
    for (const u of ['u1', 'u2', 'u3']) {
      const c = conversation(u);
      await c(Q1);
      await c(FOLLOW);
    }
    const rows = await prefetchRows(stores, 1);
    expect(rows.every((r) => r.tenantId === 'acme')).toBe(true);
    expect(router.prefetch!.stats('acme').calls).toBe(rows.length);
    expect(await stores.ledger.query({ tenantId: 'globex' })).toEqual([]);
    expect((await stores.budgets.spent('globex', 'total')).spentUsd).toBe(0);
  });
});

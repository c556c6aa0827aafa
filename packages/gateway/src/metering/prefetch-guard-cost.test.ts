/**
 * Prefetches and the semantic cache's guard: the router's prefetcher asks the caches first (`probe`: no guard
 * call) and, when they hold nothing a call would get without a guard, calls the model without reading them, so
 * a prefetch never pays for a guard call; and a prefetch answered from the semantic cache through a paid guard
 * call (a prefetch-labelled call of another prefetcher) is metered: the guard's cost is in the tenant's ledger
 * and budget, its tokens in the row's, and only the guard's tokens in `llm_tokens_total`. Real gateway, real LLMRouter, MOCK engines, in-memory stores.
 */
import { PREFETCH_METADATA_KEY, SEMANTIC_GUARD_METADATA_KEY, type RouterEvents } from '@llmrr/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHarness, get, mockModel, post, type Harness } from '../test-support/harness.js';
import { metricSum } from '../test-support/metrics-text.js';
import { prefetchRows } from '../test-support/prefetch-conversations.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/**
 * `minMargin: 1`: a match with any other stored question beside it is ambiguous, so it goes to the (priced)
 * guard. `ask` sends one single-turn question of a user through the gateway and waits for the prefetches.
 */
async function setup() {
  h = await createHarness({
    models: [
      mockModel('chat', { reply: 'Use the reset link on the sign-in page.' }),
      mockModel('judge', { reply: 'YES' }, { price: { input: 50, output: 50 } }),
      mockModel('emb', {}, { capabilities: ['embeddings'] }),
    ],
    cache: {
      semantic: { enabled: true, embedder: 'emb', threshold: 0.9, minMargin: 1, guard: 'verify', guardModel: 'judge' },
      predictive: { enabled: true },
    },
    stores: 'memory',
    routerOptions: { unknownTenant: 'shared' },
  });
  const stores = h.stores!;
  const router = h.router;
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 100, period: 'total' } });
  const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
  const ends: Array<RouterEvents['request:end']> = [];
  router.on('request:end', (e) => ends.push(e));
  const ask = async (user: string, question: string) => {
    const res = await post(h!.gateway, '/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: question }], user }, { authorization: `Bearer ${secret}` });
    expect(res.status).toBe(200);
    await res.text();
    await router.prefetch!.settled();
  };
  /** What the router's calls cost on acme's behalf (answers and prefetches; a guarded hit's cost is its guard's). */
  const routerUsd = () =>
    ends.filter((e) => e.kind !== 'embed' && e.result && e.metadata[SEMANTIC_GUARD_METADATA_KEY] === undefined).reduce((s, e) => s + e.result!.cost.totalUsd, 0);
  return { stores, router, ends, ask, routerUsd };
}

/** Waits (bounded) until the tenant's budget has `usd` spent (the prefetch's charge follows its ledger row). */
async function budgetSpent(stores: NonNullable<Harness['stores']>, usd: number) {
  for (let i = 0; i < 400; i++) {
    const { spentUsd } = await stores.budgets.spent('acme', 'total');
    if (Math.abs(spentUsd - usd) < 1e-9) return spentUsd;
    await new Promise((r) => setTimeout(r, 5));
  }
  return (await stores.budgets.spent('acme', 'total')).spentUsd;
}

describe('prefetches and the semantic guard', () => {
  it("a prefetch answered from the semantic cache through a guard: the guard call's cost is in the tenant's ledger and budget, only its tokens in llm_tokens_total", async () => {
    const { stores, router, ends, ask, routerUsd } = await setup();
    await ask('u1', 'How do I reset my password?');
    await ask('u1', 'And how do I change the email address on my account?');
    const tokens = async () => {
      const text = await (await get(h!.gateway, '/metrics')).text();
      return { input: metricSum(text, 'llm_tokens_total', /type="input"/), output: metricSum(text, 'llm_tokens_total', /type="output"/) };
    };
    const before = await tokens();
    // A prefetch-labelled call (another prefetcher's) reading the cache: the match is ambiguous, the guard is paid.
    const r = await router.generate(
      { messages: [{ role: 'user', content: 'How do I reset my password?' }], user: 'u2', maxTokens: 4096 }, // (as the gateway asks)
      { model: 'chat', tenant: 'acme', metadata: { [PREFETCH_METADATA_KEY]: true, tenant: 'acme' } },
    );
    expect({ cached: r.cached, paid: r.cost.totalUsd > 0 }).toEqual({ cached: 'semantic', paid: true });
    const [row] = await prefetchRows(stores, 1);
    expect(row).toMatchObject({ requestId: r.requestId, costUsd: r.cost.totalUsd, cacheHit: true });
    // Its tokens are the cached answer's and the guard call's (as its own request:end reports them), as a request's row has them.
    const guard = ends.find((e) => e.metadata[SEMANTIC_GUARD_METADATA_KEY] === r.requestId)!.result!.usage;
    expect({ inputTokens: row!.inputTokens, outputTokens: row!.outputTokens }).toEqual({ inputTokens: r.usage.inputTokens + guard.inputTokens, outputTokens: r.usage.outputTokens + guard.outputTokens });
    // The metrics add up to the providers' bills: only the guard call's tokens (no provider was called for the answer).
    await vi.waitFor(async () => {
      const after = await tokens();
      expect({ input: after.input - before.input, output: after.output - before.output }).toEqual({ input: guard.inputTokens, output: guard.outputTokens });
    });
    const rows = await stores.ledger.query({ tenantId: 'acme', limit: 1000 });
    expect({ ledgerUsd: rows.reduce((s, x) => s + x.costUsd, 0), budgetSpentUsd: await budgetSpent(stores, routerUsd()) }).toEqual({
      ledgerUsd: expect.closeTo(routerUsd(), 9),
      budgetSpentUsd: expect.closeTo(routerUsd(), 9),
    });
  });

  it('the router prefetches a follow-up whose cached match only a guard could let through with a model call, never a guard call', async () => {
    const { stores, router, ends, ask, routerUsd } = await setup();
    // Three users ask the same two questions: the prefetcher learns the transition and prefetches the follow-up.
    for (const u of ['u1', 'u2', 'u3']) {
      await ask(u, 'How do I reset my password?');
      await ask(u, 'And how do I change the email address on my account?');
    }
    await router.prefetch!.settled();
    const prefetchIds = new Set(ends.filter((e) => e.metadata[PREFETCH_METADATA_KEY] === true).map((e) => e.requestId));
    const guardsForPrefetches = ends.filter((e) => prefetchIds.has(String(e.metadata[SEMANTIC_GUARD_METADATA_KEY])));
    const st = router.prefetch!.stats('acme');
    expect({ prefetches: prefetchIds.size, guardCalls: guardsForPrefetches.length, started: st.started, calls: st.calls, alreadyCached: st.alreadyCached }).toEqual({
      prefetches: 1,
      guardCalls: 0,
      started: 1,
      calls: 1,
      alreadyCached: 0,
    });
    // Everything spent on acme's behalf (live answers, their guards, the prefetch's model call) is in its ledger and budget.
    await prefetchRows(stores, 1);
    const rows = await stores.ledger.query({ tenantId: 'acme', limit: 1000 });
    expect({ ledgerUsd: rows.reduce((s, x) => s + x.costUsd, 0), budgetSpentUsd: await budgetSpent(stores, routerUsd()) }).toEqual({
      ledgerUsd: expect.closeTo(routerUsd(), 9),
      budgetSpentUsd: expect.closeTo(routerUsd(), 9),
    });
  });
});

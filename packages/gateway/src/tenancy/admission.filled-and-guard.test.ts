/**
 * The max_tokens admission fills in for a budgeted tenant that sent none (the room of the requested model's own
 * deployments, or of both steps of a cascade; fallbacks are tried only after one of them was planned), and the
 * semantic guard's part of the budget reservation (a guard call does not fall back; a cached question longer
 * than 1.5 times the live prompt is shown cut to that length, docs/caching.md).
 */
import type { BudgetReserveRequest } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function keyFor(harness: Harness, id: string, budget: boolean): Promise<Record<string, string>> {
  const stores = harness.stores!;
  await stores.tenants.createTenant({ id, name: id, ...(budget ? { budget: { amountUsd: 100, period: 'month' as const } } : {}) });
  return { authorization: `Bearer ${(await stores.tenants.createKey(id, { name: 'k' })).secret}` };
}

describe('filledMaxTokens (review)', () => {
  // The router only reaches a fallback after a deployment of the requested model was chosen: a requested model
  // none of whose deployments fits fails planning (candidates.ts, plan-route.ts), fallbacks never considered.
  // filledMaxTokens takes the room of the roomiest candidate, fallbacks included, so a fallback without a context
  // window lets it fill 4096 into a request the requested model (8000 window, ~6000-token prompt) could serve.
  it('a budgeted request without max_tokens is served like an unbudgeted one when the requested model has a configured fallback', async () => {
    h = await createHarness({
      models: [mockModel('small', { reply: 'ok' }, { contextWindow: 8000, price: { input: 1, output: 1 } }), mockModel('big', { reply: 'ok' }, { price: { input: 1, output: 1 } })],
      routing: { fallbacks: { small: ['big'] } },
      stores: 'memory',
    });
    const body = { model: 'small', messages: [{ role: 'user', content: 'word '.repeat(6000) }] };
    const plain = await post(h.gateway, '/v1/chat/completions', body, await keyFor(h, 'free', false));
    await plain.text();
    expect(plain.status).toBe(200); // servable: the prompt fits small's window

    const budgeted = await post(h.gateway, '/v1/chat/completions', body, await keyFor(h, 'acme', true));
    const text = await budgeted.text();
    expect({ status: budgeted.status, body: budgeted.status === 200 ? 'ok' : text }).toEqual({ status: 200, body: 'ok' });
  });
});

describe('filledMaxTokens over a cascade (review)', () => {
  // A cascade's model info (core's cascadeModelInfo) has no contextWindow: filledMaxTokens counts it as a window
  // with room for any value and fills 4096, which neither step (8000-token windows, ~7500-token prompt) has room for.
  it('a budgeted request without max_tokens to a cascade is served like an unbudgeted one', async () => {
    h = await createHarness({
      models: [
        mockModel('small', { reply: '42' }, { contextWindow: 8000, price: { input: 1, output: 1 } }),
        mockModel('large', { reply: '42' }, { contextWindow: 8000, price: { input: 2, output: 2 } }),
      ],
      routing: { cascades: [{ name: 'smart', weak: 'small', strong: 'large' }] },
      stores: 'memory',
    });
    const body = { model: 'smart', messages: [{ role: 'user', content: 'word '.repeat(6000) }] };
    const plain = await post(h.gateway, '/v1/chat/completions', body, await keyFor(h, 'free', false));
    await plain.text();
    expect(plain.status).toBe(200);

    const budgeted = await post(h.gateway, '/v1/chat/completions', body, await keyFor(h, 'acme', true));
    const text = await budgeted.text();
    expect({ status: budgeted.status, body: budgeted.status === 200 ? 'ok' : text }).toEqual({ status: 200, body: 'ok' });
  });
});

describe('semantic guard reservation (review)', () => {
  // estimateGuardMaxCostUsd counts the cached question as 1.5 times the request's prompt (CACHED_QUESTION_FACTOR):
  // the model guard shows a longer one cut to that length (core's shownCachedQuestion), so a long cached question
  // matched by a short live one keeps the guard call within what was reserved for it.
  it('a verify guard over a cached question longer than the live prompt settles within its reservation', async () => {
    h = await createHarness({
      models: [
        mockModel('main', { reply: 'Mount Everest is 8,849 m tall.' }, { price: { input: 1, output: 1 } }),
        mockModel('judge', { reply: 'YES' }, { price: { input: 200, output: 200 } }),
        mockModel('emb', {}, { capabilities: ['embeddings'] }),
      ],
      stores: 'memory',
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'verify', guardModel: 'judge' } },
    });
    const budgets = h.stores!.budgets;
    const reserved = new Map<string, number>();
    const settled = new Map<string, number>();
    const reserve = budgets.reserve.bind(budgets);
    const settle = budgets.settle.bind(budgets);
    budgets.reserve = (r: BudgetReserveRequest) => {
      reserved.set(r.reservationId, r.estimateUsd);
      return reserve(r);
    };
    budgets.settle = (id: string, usd: number) => {
      settled.set(id, usd);
      return settle(id, usd);
    };
    const auth = await keyFor(h, 'acme', true);
    const ask = (content: string) => ({ model: 'main', max_tokens: 50, messages: [{ role: 'user', content }] });

    const first = await post(h.gateway, '/v1/chat/completions', ask('how tall is mount everest? '.repeat(300)), auth);
    expect(first.headers.get('x-llmrr-cache')).toBe('miss');
    await first.text();
    reserved.clear();
    settled.clear();

    const hit = await post(h.gateway, '/v1/chat/completions', ask('how tall is mount everest?'), auth);
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-llmrr-cache')).toBe('hit-semantic');
    await hit.text();
    const [id, reservation] = [...reserved.entries()][0]!;
    // The guard call was made and paid (the hit costs it), within the reservation.
    expect(settled.get(id)!).toBeGreaterThan(0);
    expect(settled.get(id)!).toBeLessThanOrEqual(reservation);
  });

  // semanticGuardOf prices only guardModel's own deployments, but the guard call is an ordinary router call: when
  // its deployment fails, routing.fallbacks sends it to another (dearer) model the reservation never priced.
  it('a verify guard that fails does not fall back to routing.fallbacks (a miss): the call settles within its reservation', async () => {
    h = await createHarness({
      models: [
        mockModel('main', { reply: 'Mount Everest is 8,849 m tall.' }, { price: { input: 1, output: 1 } }),
        // The guard fails once (a provider outage), the router falls back to its configured fallback.
        mockModel('judge', { reply: 'YES', failures: [{ code: 'provider_error', times: 1 }] }, { price: { input: 1, output: 1 } }),
        mockModel('judge-big', { reply: 'YES' }, { price: { input: 1000, output: 1000 } }),
        mockModel('emb', {}, { capabilities: ['embeddings'] }),
      ],
      routing: { fallbacks: { judge: ['judge-big'] } },
      stores: 'memory',
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'verify', guardModel: 'judge' } },
    });
    const budgets = h.stores!.budgets;
    const reserved = new Map<string, number>();
    const settled = new Map<string, number>();
    const reserve = budgets.reserve.bind(budgets);
    const settle = budgets.settle.bind(budgets);
    budgets.reserve = (r: BudgetReserveRequest) => {
      reserved.set(r.reservationId, r.estimateUsd);
      return reserve(r);
    };
    budgets.settle = (id: string, usd: number) => {
      settled.set(id, usd);
      return settle(id, usd);
    };
    const auth = await keyFor(h, 'acme', true);
    const ask = (content: string) => ({ model: 'main', max_tokens: 50, messages: [{ role: 'user', content }] });

    const first = await post(h.gateway, '/v1/chat/completions', ask('how tall is mount everest'), auth);
    expect(first.headers.get('x-llmrr-cache')).toBe('miss');
    await first.text();
    reserved.clear();
    settled.clear();

    const hit = await post(h.gateway, '/v1/chat/completions', ask('how tall is mount everest today'), auth);
    expect(hit.status).toBe(200);
    // The guard call does not fall over to routing.fallbacks (judge-big is never asked): the failed guard is a
    // miss, answered by the model the reservation priced.
    expect(hit.headers.get('x-llmrr-cache')).toBe('miss');
    await hit.text();
    const [id, reservation] = [...reserved.entries()][0]!;
    expect(settled.get(id)!).toBeLessThanOrEqual(reservation);
  });
});

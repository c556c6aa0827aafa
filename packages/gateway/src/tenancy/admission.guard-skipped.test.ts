/**
 * The semantic guard's part of a budget reservation is reserved only for a question the semantic cache looks up:
 * core's `semanticQuestion` skips more than `semanticLookupEligible` does (no text question, one longer than the
 * embedder takes, one its vocabulary mostly does not cover: Chinese, Russian, emoji-only; one in another language
 * than English: German, French...), and such a question can pay no guard call. Real USE-lite embedder (`local-use`).
 */
import type { BudgetReserveRequest } from '@llmrr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The estimate each question reserves for a budgeted tenant, with the semantic cache configured as `semantic`. */
async function reservations(semantic: Record<string, unknown> | undefined, questions: readonly string[]): Promise<number[]> {
  h = await createHarness({
    models: [mockModel('main', { reply: 'ok' }, { price: { input: 1, output: 1 } }), mockModel('judge', { reply: 'YES' }, { price: { input: 500, output: 500 } })],
    stores: 'memory',
    ...(semantic ? { cache: { semantic } } : {}),
  });
  const stores = h.stores!;
  await stores.tenants.createTenant({ id: 'acme', name: 'acme', budget: { amountUsd: 100, period: 'month' } });
  const auth = { authorization: `Bearer ${(await stores.tenants.createKey('acme', { name: 'k' })).secret}` };
  const reserved: number[] = [];
  const budgets = stores.budgets;
  const reserve = budgets.reserve.bind(budgets);
  budgets.reserve = (r: BudgetReserveRequest) => {
    reserved.push(r.estimateUsd);
    return reserve(r);
  };
  for (const content of questions) {
    const res = await post(h.gateway, '/v1/chat/completions', { model: 'main', max_tokens: 50, messages: [{ role: 'user', content }] }, auth);
    expect(res.status).toBe(200);
    await res.text();
  }
  await h.close();
  h = undefined;
  return reserved;
}

describe('semantic guard reservation: questions the semantic cache skips', () => {
  it('reserves no guard call for a Chinese, an emoji-only or a German question (the cache skips them), and one for an English question', async () => {
    // Same prompt size for each, so the reservations without a guard are comparable.
    const questions = ['北京今天的天气怎么样？', '🍕🍕🍕🍕', 'Wie kann ich eine Datei in Python öffnen?', 'How can I open a file in Python?'];
    const withGuard = await reservations({ enabled: true, guard: 'verify', guardModel: 'judge', guardAbove: 0.99 }, questions);
    const without = await reservations(undefined, questions);
    expect(withGuard).toHaveLength(4);
    expect(withGuard.slice(0, 3)).toEqual(without.slice(0, 3));
    // The English question is looked up: its guard call is reserved (the judge is 500 times dearer).
    expect(withGuard[3]!).toBeGreaterThan(10 * without[3]!);
  }, 120_000);
});

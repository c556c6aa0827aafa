/**
 * A prefetch's charge whose first reservation answers after its bound, on core's Redis budget store and a real Redis.
 *
 * The store released such a late reservation (nobody waited for it). A retry of the charge (`Renewals.retryCharge`)
 * that reserved the same id in that gap got it back as its own (`existing`), the release then closed it, and the
 * retry's settlement changed nothing (`false`), which the charge took for success: the cost was lost from the budget
 * and only the first failure was logged. A forced reservation (it holds no room) is no longer released so.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createStateStores, PREFETCH_METADATA_KEY, type BudgetStore, type RouterEvents } from '@llmrr/core';
import { expect, it } from 'vitest';
import { startTestRedis } from '../test-support/test-redis.js';
import type { GatewayRouter, GatewayStores } from '../types.js';
import { meterPrefetches } from './prefetch-metering.js';

it('a retried charge that reserves while the late first reservation is released still counts', async () => {
  const memory = await createStateStores({ mode: 'memory' });
  const redis = await startTestRedis({ own: true });
  const file = (name: string) => fileURLToPath(new URL(`../../../core/src/stores/redis/${name}.ts`, import.meta.url));
  const [connection, mod] = await Promise.all(['redis-connection', 'redis-budget-store'].map((n) => import(/* @vite-ignore */ file(n))));
  const handle = await connection.connectRedis(redis.url, `rv${randomBytes(4).toString('hex')}:`);
  const budgets = new mod.RedisBudgetStore(handle, Date.now, { timeoutMs: 300 }) as BudgetStore;
  try {
    const stores: GatewayStores = { ...memory, budgets };
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
    // The first reservation answers after its 300 ms bound: Redis pauses every client for 700 ms.
    const reserve = budgets.reserve.bind(budgets);
    let reserves = 0;
    budgets.reserve = (r) => {
      if (reserves++ === 0) execFileSync('redis-cli', ['-u', redis.url, 'CLIENT', 'PAUSE', '700', 'ALL']);
      return reserve(r);
    };
    let saved: (() => Promise<void>) | undefined;
    let label: string | undefined;
    let retried: Promise<void> | undefined;
    // A Renewals tick that fires just as the late answer's release is sent (before the fix: the race).
    const release = budgets.release.bind(budgets);
    budgets.release = (id) => {
      if (saved && !retried) retried = saved();
      return release(id);
    };
    const listeners: Array<(e: RouterEvents['request:end']) => void> = [];
    const router = { prefetch: {}, on: (_: string, fn: (e: RouterEvents['request:end']) => void) => (listeners.push(fn), () => undefined) } as unknown as GatewayRouter;
    const logged: string[] = [];
    const metering = meterPrefetches(router, stores, undefined, (m) => void logged.push(m), Date.now, (w, l) => {
      saved = w;
      label = l;
    });
    const result = { requestId: 'pf', deployment: 'chat', model: 'm', provider: 'mock', cached: false, text: 'x', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, cost: { inputUsd: 0.125, outputUsd: 0.125, totalUsd: 0.25 }, latencyMs: 1 };
    for (const fn of listeners) fn({ requestId: 'pf', metadata: { [PREFETCH_METADATA_KEY]: true, tenant: 'acme' }, result } as unknown as RouterEvents['request:end']);
    await metering.close();
    expect(saved).toBeDefined();
    expect(label).toBe('the budget charge of prefetch pf (tenant "acme", $0.25)');
    // The late answer has come once the pause is over (a release, if the store sends one, ran the retry above);
    // otherwise the retry runs now, as Renewals' next try would.
    await new Promise((r) => setTimeout(r, 900));
    retried ??= saved!();
    await retried;
    // Whatever a late release still does has landed.
    await new Promise((r) => setTimeout(r, 300));
    const s = await budgets.spent('acme', 'month');
    expect(s.spentUsd).toBe(0.25);
    expect(logged).toEqual(['metering a prefetch failed']);
  } finally {
    await budgets.close();
    handle.release?.();
    await memory.close();
    redis.stop();
  }
}, 30_000);

it('a settlement the store answers as changing nothing is logged as not counted, naming the prefetch, tenant and cost', async () => {
  const memory = await createStateStores({ mode: 'memory' });
  try {
    // A budget store whose reservation someone else releases before the charge settles it (as the late-answer release did).
    const inner = memory.budgets;
    const budgets: BudgetStore = {
      reserve: async (r) => {
        const answer = await inner.reserve(r);
        await inner.release(r.reservationId);
        return answer;
      },
      settle: (id, usd) => inner.settle(id, usd),
      release: (id) => inner.release(id),
      spent: (t, p) => inner.spent(t, p),
      close: async () => {},
    };
    const stores: GatewayStores = { ...memory, budgets };
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 10, period: 'month' } });
    const listeners: Array<(e: RouterEvents['request:end']) => void> = [];
    const router = { prefetch: {}, on: (_: string, fn: (e: RouterEvents['request:end']) => void) => (listeners.push(fn), () => undefined) } as unknown as GatewayRouter;
    const logged: Array<[string, string]> = [];
    let retries = 0;
    const metering = meterPrefetches(router, stores, undefined, (m, id) => void logged.push([m, id]), Date.now, () => void retries++);
    const result = { requestId: 'pf2', deployment: 'chat', model: 'm', provider: 'mock', cached: false, text: 'x', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, cost: { inputUsd: 0.125, outputUsd: 0.125, totalUsd: 0.25 }, latencyMs: 1 };
    for (const fn of listeners) fn({ requestId: 'pf2', metadata: { [PREFETCH_METADATA_KEY]: true, tenant: 'acme' }, result } as unknown as RouterEvents['request:end']);
    await metering.close();
    expect((await inner.spent('acme', 'month')).spentUsd).toBe(0);
    expect(logged).toEqual([['the budget charge of prefetch pf2 (tenant "acme", $0.25) was not counted: its settlement changed nothing (its reservation was no longer open in the budget store)', 'pf2']]);
    // Not a store's failure: nothing to try again (and not charged again under another id: see PrefetchCharge).
    expect(retries).toBe(0);
    expect((await memory.ledger.get('pf2'))?.costUsd).toBe(0.25);
  } finally {
    await memory.close();
  }
});

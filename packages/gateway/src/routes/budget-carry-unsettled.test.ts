/**
 * A budget period change in shared mode (Redis budgets, PostgreSQL ledger) carries the ledger's sum for the new
 * period into its counter (`carryBudgetSpend`). A call's ledger row and its Redis settlement land apart (settle.ts
 * issues them together; a settlement that failed is retried for minutes after its row): a row the carry read before
 * its settlement landed was counted twice (the carry had it, then the settlement added it). The carry now lists, after
 * its ledger snapshot, the reservations tied to a row (`ledgerId`) still open, and the raise leaves out the cost of
 * each row of the snapshot whose reservation is still open when it runs. Real Redis and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { createStateStores, type StateStores, type UnsettledCharge } from '@llmrr/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestPostgres, type TestPostgres } from '../test-support/test-postgres.js';
import { startTestRedis, type TestRedis } from '../test-support/test-redis.js';
import { carryBudgetSpend } from './budget-period-change.js';

let redis: TestRedis;
let postgres: TestPostgres;
let stores: StateStores | undefined;

beforeAll(async () => {
  [redis, postgres] = await Promise.all([startTestRedis(), startTestPostgres()]);
}, 120_000);

afterAll(() => {
  redis?.stop();
  postgres?.stop();
});

afterEach(async () => {
  await stores?.close?.();
  stores = undefined;
});

async function shared(): Promise<StateStores> {
  const id = randomBytes(4).toString('hex');
  stores = await createStateStores({ mode: 'shared', redisUrl: redis.url, postgresUrl: postgres.url, redisKeyPrefix: `carry${id}:`, postgresSchema: `carry_${id}` });
  return stores;
}

function row(requestId: string, costUsd: number, createdAt: number) {
  return { requestId, tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd, latencyMs: 1, status: 'success' as const, createdAt };
}

/** A call of a monthly budget as the gateway makes one: its reservation tied to its row by its request id. */
async function reserve(s: StateStores, requestId: string, at: number, estimateUsd = 5): Promise<string> {
  const reservationId = `${requestId}~a`;
  const r = await s.budgets.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1000, estimateUsd, reservationId, ledgerId: requestId, at });
  expect(r.ok).toBe(true);
  return reservationId;
}

describe('carrying a shared-mode budget into a new period', () => {
  it('counts once a call whose row was committed before the carry and settled after it', async () => {
    const s = await shared();
    const now = Date.now();
    const id = await reserve(s, 'call-1', now);
    await s.ledger.record(row('call-1', 3, now));
    await carryBudgetSpend(s, 'acme', 'week', now);
    expect(await s.budgets.settle(id, 3)).toBe(true);
    expect((await s.budgets.spent('acme', 'week')).spentUsd, 'one $3 call').toBeCloseTo(3, 9);
  });

  it('carries the rows already settled, and a row whose settlement lands between the listing and the raise once', async () => {
    const s = await shared();
    const now = Date.now();
    // Spent before (settled), and a call settled while the carry runs: after its reservation was listed as open.
    const before = await reserve(s, 'call-0', now);
    await s.ledger.record(row('call-0', 2, now));
    await s.budgets.settle(before, 2);
    const racing = await reserve(s, 'call-1', now);
    await s.ledger.record(row('call-1', 3, now));
    const unsettled = s.budgets.unsettled!.bind(s.budgets);
    let listed: UnsettledCharge[] = [];
    const budgets = Object.assign(Object.create(s.budgets) as typeof s.budgets, {
      unsettled: async (tenantId: string, settleForMs: number) => {
        listed = await unsettled(tenantId, settleForMs);
        await s.budgets.settle(racing, 3);
        return listed;
      },
    });
    await carryBudgetSpend({ budgets, ledger: s.ledger }, 'acme', 'week', now);
    expect(listed.map((l) => l.ledgerId)).toEqual(['call-1']);
    expect((await s.budgets.spent('acme', 'week')).spentUsd, '$2 + $3').toBeCloseTo(5, 9);
  });

  it('leaves a row committed after the carry\'s snapshot to its settlement', async () => {
    const s = await shared();
    const now = Date.now();
    const id = await reserve(s, 'call-1', now);
    const unsettled = s.budgets.unsettled!.bind(s.budgets);
    const budgets = Object.assign(Object.create(s.budgets) as typeof s.budgets, {
      unsettled: async (tenantId: string, settleForMs: number) => {
        // Committed after the snapshot (the sum was read), before the listing: neither in the sum nor subtracted.
        await s.ledger.record(row('call-1', 3, now));
        return unsettled(tenantId, settleForMs);
      },
    });
    await s.ledger.record(row('call-0', 1, now)); // a row without a reservation (a call made with no budget)
    await carryBudgetSpend({ budgets, ledger: s.ledger }, 'acme', 'week', now);
    expect((await s.budgets.spent('acme', 'week')).spentUsd).toBeCloseTo(1, 9);
    await s.budgets.settle(id, 3);
    expect((await s.budgets.spent('acme', 'week')).spentUsd, '$1 + $3').toBeCloseTo(4, 9);
  });

  it('counts each of many concurrent calls once while carries run', async () => {
    const s = await shared();
    const now = Date.now();
    const calls = 60;
    let carrying = true;
    let carries = 0;
    const carry = (async () => {
      while (carrying) {
        await carryBudgetSpend(s, 'acme', 'week', now);
        carries++;
      }
    })();
    await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        const requestId = `call-${i}`;
        const id = await reserve(s, requestId, now);
        await new Promise((r) => setTimeout(r, i % 7));
        // As settle.ts does: the row and the settlement issued together; every other settlement lands a few ms after
        // its row (a retried one).
        const recorded = s.ledger.record(row(requestId, 0.01 * (i + 1), now));
        if (i % 2 === 0) {
          await recorded;
          await new Promise((r) => setTimeout(r, 5 + (i % 5) * 4));
        }
        await Promise.all([recorded, s.budgets.settle(id, 0.01 * (i + 1))]);
      }),
    );
    carrying = false;
    await carry;
    await carryBudgetSpend(s, 'acme', 'week', now);
    const ledger = (await s.ledger.summary({ tenantId: 'acme' })).costUsd;
    expect(ledger).toBeCloseTo((0.01 * calls * (calls + 1)) / 2, 9);
    expect(carries).toBeGreaterThan(0);
    expect((await s.budgets.spent('acme', 'week')).spentUsd, `the ledger's $${ledger} (${carries} carries)`).toBeCloseTo(ledger, 9);
  });
});

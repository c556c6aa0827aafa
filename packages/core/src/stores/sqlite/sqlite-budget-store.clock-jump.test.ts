/**
 * A wall clock that jumps forward by more than the reservation TTL (NTP, a resumed VM) must not free the budget
 * reservations of calls still running: this process's reservations expire on its monotonic clock
 * (`monotonicClock`, `performance.now()` by default), the wall clock picks the calendar period and dates the hold row
 * other processes read. Real SQLite (memory mode); both clocks injected.
 */
import { describe, expect, it } from 'vitest';
import { createStateStores } from '../create-state-stores.js';

const TTL = 600_000;

async function stores() {
  const c = { wall: Date.UTC(2026, 10, 29, 3, 0, 0), mono: 1_000 };
  const s = await createStateStores({ mode: 'memory', clock: () => c.wall, monotonicClock: () => c.mono });
  return { c, s };
}

describe('SqliteBudgetStore reservations and a wall clock that jumps forward', () => {
  it('a reservation open when the wall clock jumps 15 minutes still counts: no second call spends the same room', async () => {
    const { c, s } = await stores();
    try {
      const reserve = (id: string) => s.budgets.reserve({ tenantId: 't', period: 'day', limitUsd: 1, estimateUsd: 0.8, reservationId: id, ttlMs: TTL });
      expect((await reserve('running')).ok).toBe(true);
      c.wall += 15 * 60_000;
      c.mono += 1_000;
      expect(await reserve('second')).toMatchObject({ ok: false });
      expect(await s.budgets.spent('t', 'day')).toMatchObject({ reservedUsd: 0.8 });
      // The running call settles normally.
      expect(await s.budgets.settle('running', 0.5)).toBe(true);
      expect(await s.budgets.spent('t', 'day')).toMatchObject({ spentUsd: 0.5, reservedUsd: 0 });
    } finally {
      await s.close();
    }
  });

  it('a renewal after the jump extends it; it expires a TTL after the renewal on the monotonic clock', async () => {
    const { c, s } = await stores();
    try {
      const reserve = (id: string) => s.budgets.reserve({ tenantId: 't', period: 'day', limitUsd: 1, estimateUsd: 0.8, reservationId: id, ttlMs: TTL });
      expect((await reserve('running')).ok).toBe(true);
      c.wall += 15 * 60_000;
      c.mono += 200_000;
      await s.budgets.renew!(['running'], TTL);
      c.mono += TTL - 1;
      expect((await reserve('second')).ok).toBe(false);
      c.mono += 1;
      expect((await reserve('third')).ok).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('the hold row other processes read is renewed on the wall clock after the jump (a renewal republishes it)', async () => {
    const { c, s } = await stores();
    try {
      expect((await s.budgets.reserve({ tenantId: 't', period: 'day', limitUsd: 1, estimateUsd: 0.8, reservationId: 'running', ttlMs: TTL })).ok).toBe(true);
      c.wall += 15 * 60_000;
      c.mono += 1_000;
      await s.budgets.renew!(['running'], TTL);
      const db = (s.budgets as unknown as { handle: { db: { prepare(sql: string): { get(): unknown } } } }).handle.db;
      const row = db.prepare('SELECT reserved_nano, expires_at FROM llmrr_budget_holds').get() as { reserved_nano: number; expires_at: number };
      expect(row).toEqual({ reserved_nano: 800_000_000, expires_at: c.wall + TTL });
    } finally {
      await s.close();
    }
  });
});

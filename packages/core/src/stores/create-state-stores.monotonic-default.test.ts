/**
 * With no clock given (the gateway server's setup: `{ mode: 'embedded', dataDir }` or `{ mode: 'memory' }`), leases
 * and budget reservations expire on `performance.now()`, not on `Date.now`: a wall clock that steps forward past
 * their TTL (NTP, a resumed VM) frees no place or room of a call still running. `Date.now` is stubbed before the
 * stores are opened (as a stepped system clock would be seen); `performance.now()` is left alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryRateLimiter } from '../tenancy/memory-rate-limiter.js';
import type { BudgetStore, RateScope } from '../tenancy/types.js';
import { createStateStores } from './create-state-stores.js';
import { openSqlite } from './sqlite/sqlite-database.js';
import { SqliteBudgetStore } from './sqlite/sqlite-budget-store.js';

const TTL = 600_000;
const JUMP = 15 * 60_000;
const scope: RateScope = { kind: 'tenant', id: 'acme', limits: { maxConcurrency: 1 } };

/** `Date.now` stubbed to the real time plus `c.jump`. */
function steppedWallClock() {
  const c = { jump: 0 };
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => realNow() + c.jump);
  return c;
}

async function reservationSurvivesJump(budgets: BudgetStore, c: { jump: number }) {
  const reserve = (id: string) => budgets.reserve({ tenantId: 't', period: 'month', limitUsd: 1, estimateUsd: 0.8, reservationId: id, ttlMs: TTL });
  expect((await reserve('running')).ok).toBe(true);
  c.jump = JUMP;
  expect(await reserve('second')).toMatchObject({ ok: false });
  expect(await budgets.settle('running', 0.5)).toBe(true);
  expect((await budgets.spent('t', 'month')).spentUsd).toBeCloseTo(0.5, 9);
}

describe('leases and reservations expire on performance.now() when no clock is given', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  for (const mode of ['memory', 'embedded'] as const) {
    const open = () => {
      if (mode === 'memory') return createStateStores({ mode });
      const dataDir = mkdtempSync(join(tmpdir(), 'llmrr-mono-'));
      dirs.push(dataDir);
      return createStateStores({ mode, dataDir });
    };

    it(`${mode}: a wall-clock step of 15 minutes frees no running call's concurrency place`, async () => {
      const c = steppedWallClock();
      const s = await open();
      try {
        expect((await s.rateLimiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: TTL })).ok).toBe(true);
        c.jump = JUMP;
        expect(await s.rateLimiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: TTL })).toMatchObject({ ok: false, limit: 'concurrency' });
      } finally {
        await s.close();
      }
    });

    it(`${mode}: a wall-clock step of 15 minutes frees no running call's budget reservation`, async () => {
      const c = steppedWallClock();
      const s = await open();
      try {
        await reservationSurvivesJump(s.budgets, c);
      } finally {
        await s.close();
      }
    });
  }

  it('the constructors with no clock at all: MemoryRateLimiter and SqliteBudgetStore', async () => {
    const c = steppedWallClock();
    const limiter = new MemoryRateLimiter();
    expect((await limiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: TTL })).ok).toBe(true);
    const budgets = new SqliteBudgetStore(await openSqlite(':memory:'));
    try {
      c.jump = JUMP;
      expect(await limiter.acquire([scope], { estimatedTokens: 0, leaseTtlMs: TTL })).toMatchObject({ ok: false, limit: 'concurrency' });
      c.jump = 0;
      await reservationSurvivesJump(budgets, c);
    } finally {
      await budgets.close();
    }
  });
});

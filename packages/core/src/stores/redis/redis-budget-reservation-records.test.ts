/**
 * What a finished budget reservation leaves in Redis. Each reservation of the Redis budget store (shared mode: one per
 * budgeted model call, one per prefetch charge) has a record (`<prefix>budget:res:<id>`, bucket keys, amount, state)
 * that makes settle and release idempotent. Kept for a week past the reservation's TTL once finished, it held ~470
 * bytes a call: at 10 budgeted calls a second some 6 million records, ~2.8 GB of the Redis that holds the limits and
 * budgets. A finish whose answer came back deletes it (as the rate limiter's release markers, cd18914); only one whose
 * answer was lost keeps it, for its retry, and that retry neither charges again nor refunds, also when an answered
 * finish deleted the record first.
 * Real Redis (vitest.global-setup.ts), behind a loopback TCP relay that holds answers back for the lost ones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { startTcpRelay } from '../../test/tcp-relay.js';
import { budgetPeriodWindow } from '../../tenancy/budget-period.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { connectRedis, type RedisHandle } from './redis-connection.js';

const { redisUrl } = testServiceUrls();
const DAY = 86_400_000;

async function keysUnder(probe: RedisHandle, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await probe.command<[string, string[]]>(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000']);
    cursor = String(next);
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

describe.skipIf(!redisUrl)('Redis budget store: the records of finished reservations', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    cleanup = [];
  });

  async function open(url: string, timeoutMs = 10_000) {
    const prefix = `budget-records${Date.now()}${Math.random()}:`;
    const handle = await connectRedis(url, prefix);
    cleanup.push(() => handle.release());
    const store = new RedisBudgetStore(handle, Date.now, { timeoutMs });
    cleanup.push(() => store.close());
    const probe = await connectRedis(redisUrl!, prefix);
    cleanup.push(() => probe.release());
    return { prefix, handle, store, probe };
  }

  it("settled and released reservations whose answers came back leave only the periods' buckets behind", async () => {
    const { prefix, handle, store, probe } = await open(redisUrl!);
    const calls = 400;
    await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        const id = `req_${i}~nonce.${i}`;
        const r = await store.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1000, estimateUsd: 0.01, reservationId: id });
        expect(r.ok).toBe(true);
        // Half settled, half released (a failed call): both answered.
        if (i % 2 === 0) expect(await store.settle(id, 0.005)).toBe(true);
        else expect(await store.release(id)).toBe(true);
      }),
    );
    // The records' UNLINKs (not awaited) went on the store's connection: a command after them runs after them.
    await handle.command(['PING']);
    // The period's bucket (and its expiry set while it holds a reservation: none is open, so Redis dropped it), and the
    // other periods' buckets the settlements counted in (day, ISO week, total).
    const left = await keysUnder(probe, prefix);
    expect(left.length).toBeGreaterThan(0);
    expect(left.filter((k) => !/budget:acme:(\d{4}-\d{2}(:exp)?|\d{4}-\d{2}-\d{2}|\d{4}-W\d{2}|total)$/.test(k))).toEqual([]);
    const state = await store.spent('acme', 'month');
    expect(state.spentUsd).toBeCloseTo((calls / 2) * 0.005, 9);
    expect(state.reservedUsd).toBe(0);
    // The day's and the week's buckets (no budget of theirs reserved in them) expire 8 days after their period, the
    // month's (its reservations') 35 days after, the total's never.
    const now = Date.now();
    const expiry = async (k: string) => now + Number(await probe.command(['PTTL', k]));
    const bucket = (end: RegExp) => left.find((key) => end.test(key))!;
    const day = budgetPeriodWindow('day', now);
    const week = budgetPeriodWindow('week', now);
    expect(Math.abs((await expiry(bucket(/:\d{4}-\d{2}-\d{2}$/))) - (day.end + 8 * DAY))).toBeLessThan(60_000);
    expect(Math.abs((await expiry(bucket(/:\d{4}-W\d{2}$/))) - (week.end + 8 * DAY))).toBeLessThan(60_000);
    expect(Math.abs((await expiry(bucket(/:\d{4}-\d{2}$/))) - (budgetPeriodWindow('month', now).end + 35 * DAY))).toBeLessThan(60_000);
    expect(Number(await probe.command(['PTTL', bucket(/:total$/)]))).toBe(-1);
    expect((await store.spent('acme', 'day')).spentUsd).toBeCloseTo((calls / 2) * 0.005, 9);
  }, 60_000);

  it('a settle whose answer was lost keeps the record for its retry, which charges nothing more; then the record goes', async () => {
    const r = await startTcpRelay({ host: new URL(redisUrl!).hostname, port: Number(new URL(redisUrl!).port) });
    cleanup.push(() => r.close());
    const { prefix, handle, store, probe } = await open(`redis://127.0.0.1:${r.port}`, 300);
    const reserve = (id: string) => store.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0.5, reservationId: id });
    expect((await reserve('req-1')).ok).toBe(true);
    r.hold();
    // The settle runs in Redis, its answer comes after the 300 ms bound: the caller sees it failed.
    await expect(store.settle('req-1', 0.4)).rejects.toMatchObject({ code: 'store_unavailable' });
    r.flush();
    await handle.command(['PING']); // the late answer has come (no deletion for it: the caller will try again)
    expect(await probe.command(['EXISTS', `${prefix}budget:res:req-1`])).toBe(1);
    // The retry finds the reservation settled: nothing more charged, and the record is deleted now.
    expect(await store.settle('req-1', 0.4)).toBe(false);
    await handle.command(['PING']);
    expect(await probe.command(['EXISTS', `${prefix}budget:res:req-1`])).toBe(0);
    // A later attempt (no record) changes nothing either.
    expect(await store.settle('req-1', 0.4)).toBe(false);
    expect(await store.release('req-1')).toBe(false);
    const state = await store.spent('acme', 'month');
    expect({ spentUsd: state.spentUsd, reservedUsd: state.reservedUsd }).toEqual({ spentUsd: 0.4, reservedUsd: 0 });
  }, 60_000);

  it('a settle whose answer was lost, retried after an answered release deleted the record, neither charges twice nor refunds', async () => {
    const r = await startTcpRelay({ host: new URL(redisUrl!).hostname, port: Number(new URL(redisUrl!).port) });
    cleanup.push(() => r.close());
    const { prefix, handle, store, probe } = await open(`redis://127.0.0.1:${r.port}`, 300);
    expect((await store.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0.5, reservationId: 'req-2' })).ok).toBe(true);
    r.hold();
    await expect(store.settle('req-2', 0.4)).rejects.toMatchObject({ code: 'store_unavailable' });
    r.flush();
    // Another finish of the id (the gateway's release of a call that failed meanwhile) is answered: the record goes.
    expect(await store.release('req-2')).toBe(false);
    await handle.command(['PING']);
    expect(await probe.command(['EXISTS', `${prefix}budget:res:req-2`])).toBe(0);
    // The settle's retry finds no record: the settle that ran (its answer lost) is the only charge.
    expect(await store.settle('req-2', 0.4)).toBe(false);
    const state = await store.spent('acme', 'month');
    expect({ spentUsd: state.spentUsd, reservedUsd: state.reservedUsd }).toEqual({ spentUsd: 0.4, reservedUsd: 0 });
    // The room left is the budget's: 0.6.
    expect((await store.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0.6, reservationId: 'req-3' })).ok).toBe(true);
    expect((await store.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0.01, reservationId: 'req-4' })).ok).toBe(false);
  }, 60_000);

  it("a record an earlier version wrote (no other periods' buckets) still settles: into its own period only", async () => {
    const { prefix, store, probe } = await open(redisUrl!);
    expect((await store.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0.5, reservationId: 'old-1' })).ok).toBe(true);
    const record = `${prefix}budget:res:old-1`;
    expect(await probe.command(['HDEL', record, 'o1', 'e1', 'o2', 'e2', 'o3', 'e3'])).toBe(6);
    expect(await store.settle('old-1', 0.3)).toBe(true);
    expect((await store.spent('acme', 'month')).spentUsd).toBe(0.3);
    expect((await store.spent('acme', 'day')).spentUsd).toBe(0);
  }, 60_000);

  it("a settlement's other-period counter keeps the longer expiry a reservation in that period gave it; settles set none again", async () => {
    const { prefix, store, probe } = await open(redisUrl!);
    const now = Date.now();
    const dayKey = `${prefix}budget:acme:${budgetPeriodWindow('day', now).key}`;
    // A daily budget's reservation made the day's bucket (kept 35 days past the day); a monthly one settles into it.
    expect((await store.reserve({ tenantId: 'acme', period: 'day', limitUsd: 1, estimateUsd: 0.1, reservationId: 'd1' })).ok).toBe(true);
    expect((await store.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0.1, reservationId: 'm1' })).ok).toBe(true);
    const before = Number(await probe.command(['PTTL', dayKey]));
    expect(before).toBeGreaterThan(35 * DAY);
    expect(await store.settle('m1', 0.2)).toBe(true);
    expect(Number(await probe.command(['PTTL', dayKey]))).toBeGreaterThan(35 * DAY);
    // A counter only settlements made: its expiry is set once (by the first), the next ones leave it.
    const weekKey = `${prefix}budget:acme:${budgetPeriodWindow('week', now).key}`;
    await probe.command(['PEXPIRE', weekKey, String(3 * DAY)]);
    expect((await store.reserve({ tenantId: 'acme', period: 'month', limitUsd: 1, estimateUsd: 0.1, reservationId: 'm2' })).ok).toBe(true);
    expect(await store.settle('m2', 0.1)).toBe(true);
    expect(Number(await probe.command(['PTTL', weekKey]))).toBeLessThanOrEqual(3 * DAY);
    expect((await store.spent('acme', 'week')).spentUsd).toBeCloseTo(0.3, 9);
    expect((await store.spent('acme', 'day')).spentUsd).toBeCloseTo(0.3, 9);
  }, 60_000);
});

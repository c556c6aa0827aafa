/**
 * The Redis budget store's list of open reservations tied to a ledger row (`ledgerId`, `unsettled`) and the raise that
 * leaves their rows' cost to their settlements (`raiseSpent`'s `pending`): what a budget carry in shared mode reads so
 * that a row whose settlement has not landed yet is counted once (gateway `carryBudgetSpend`). A reservation is listed
 * from its reserve until it is settled or released (also past its TTL, within the horizon asked for), in a per-tenant
 * set (`<prefix>budget-open:<tenant>`) that leaves out its stale members (record gone, finished, or expired past the
 * store's horizon) when it is read, and that each reserve tied to a ledger row prunes a few of (a crashed process's
 * reservations do not pile up). Real Redis (vitest.global-setup.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testServiceUrls } from '../__fixtures__/store-fixtures.js';
import { RedisBudgetStore } from './redis-budget-store.js';
import { connectRedis } from './redis-connection.js';

const { redisUrl } = testServiceUrls();

describe.skipIf(!redisUrl)('Redis budget store: open reservations tied to ledger rows', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    cleanup = [];
  });

  async function open() {
    const prefix = `budget-unsettled${Date.now()}${Math.random()}:`;
    const handle = await connectRedis(redisUrl!, prefix);
    cleanup.push(() => handle.release());
    const store = new RedisBudgetStore(handle, Date.now, { timeoutMs: 10_000 });
    cleanup.push(() => store.close());
    return { prefix, handle, store };
  }

  const reserve = (store: RedisBudgetStore, id: string, ledgerId?: string, ttlMs?: number, tenantId = 'acme') =>
    store.reserve({ tenantId, period: 'month', limitUsd: 100, estimateUsd: 1, reservationId: id, ...(ledgerId ? { ledgerId } : {}), ...(ttlMs ? { ttlMs } : {}) });

  it('lists a reservation with a ledger id until it is settled or released, per tenant; one without is never listed', async () => {
    const { prefix, handle, store } = await open();
    await reserve(store, 'a~1', 'a');
    await reserve(store, 'b~1', 'b');
    await reserve(store, 'c~1');
    await reserve(store, 'd~1', 'd', undefined, 'other');
    // A reserve of an open id again returns it; its listing is unchanged.
    await reserve(store, 'a~1', 'a');
    const ids = async (tenant = 'acme') => (await store.unsettled(tenant, 60_000)).map((u) => `${u.reservationId}>${u.ledgerId}`).sort();
    expect(await ids()).toEqual(['a~1>a', 'b~1>b']);
    expect(await ids('other')).toEqual(['d~1>d']);
    expect(await store.settle('a~1', 0.5)).toBe(true);
    expect(await store.release('b~1')).toBe(true);
    expect(await ids()).toEqual([]);
    // The tenant's set went with its last member.
    expect(await handle.command(['EXISTS', `${prefix}budget-open:acme`])).toBe(0);
  });

  it('keeps listing a reservation past its TTL within the horizon (its settlement may be retried), then drops it', async () => {
    const { prefix, handle, store } = await open();
    await reserve(store, 'late~1', 'late', 50);
    await new Promise((r) => setTimeout(r, 120));
    // Expired (its amount no longer held) but not settled: a settlement retried now would still count it.
    expect((await store.spent('acme', 'month')).reservedUsd).toBe(0);
    expect(await store.unsettled('acme', 60_000)).toEqual([{ reservationId: 'late~1', ledgerId: 'late' }]);
    // Past a caller's shorter horizon: not listed to it, but kept for a caller with a longer one (review of 7dfba62: a
    // listing with settleForMs 1 s dropped what the gateway's 11 minutes still had to list).
    expect(await store.unsettled('acme', 1)).toEqual([]);
    expect(await handle.command(['SISMEMBER', `${prefix}budget-open:acme`, 'late~1'])).toBe(1);
    expect(await store.unsettled('acme', 60_000)).toEqual([{ reservationId: 'late~1', ledgerId: 'late' }]);
    // Past the set's own horizon (15 minutes): a crashed process's, whose settlement will never come. It leaves the set.
    await handle.command(['HSET', `${prefix}budget:res:late~1`, 'exp', String(Date.now() - 16 * 60_000)]);
    expect(await store.unsettled('acme', 60_000)).toEqual([]);
    expect(await handle.command(['SISMEMBER', `${prefix}budget-open:acme`, 'late~1'])).toBe(0);
    // A settlement that comes after all the same is counted (once).
    expect(await store.settle('late~1', 0.25)).toBe(true);
    expect((await store.spent('acme', 'month')).spentUsd).toBeCloseTo(0.25, 9);
  });

  it("each reserve prunes a few stale members of the tenant's set: reservations never finished do not pile up", async () => {
    const { prefix, handle, store } = await open();
    const set = `${prefix}budget-open:acme`;
    // 200 reservations never finished (a crashed process's, or a reserve whose answer was lost), expired 20 minutes
    // ago (their records' expiry moved back: past the store's horizon), and 20 whose records are gone.
    for (let i = 0; i < 220; i++) await reserve(store, `dead~${i}`, `dead${i}`, 20);
    for (let i = 0; i < 200; i++) await handle.command(['HSET', `${prefix}budget:res:dead~${i}`, 'exp', String(Date.now() - 20 * 60_000)]);
    for (let i = 200; i < 220; i++) await handle.command(['DEL', `${prefix}budget:res:dead~${i}`]);
    // One expired a moment ago, not finished: its settlement may still be retried, so it stays listed (its reserve
    // pruned at most 3).
    await reserve(store, 'recent~1', 'recent', 20);
    expect(Number(await handle.command(['SCARD', set]))).toBeGreaterThanOrEqual(218);
    // Steady traffic: 300 calls reserved and settled.
    for (let i = 0; i < 300; i++) {
      await reserve(store, `ok~${i}`, `ok${i}`);
      expect(await store.settle(`ok~${i}`, 0.001)).toBe(true);
    }
    // Each reserve looked at 3 random members: ~1 in e^4.5 of the stale ones is left (about 3 of 220), never the
    // recent one.
    expect(Number(await handle.command(['SCARD', set]))).toBeLessThan(60);
    expect(await handle.command(['SISMEMBER', set, 'recent~1'])).toBe(1);
    expect(await store.unsettled('acme', 60_000)).toEqual([{ reservationId: 'recent~1', ledgerId: 'recent' }]);
  });

  it('lists nothing expired more than the store\'s horizon (15 minutes) ago, whatever settleForMs asks', async () => {
    const { prefix, handle, store } = await open();
    await reserve(store, 'old~1', 'old', 20);
    await reserve(store, 'newer~1', 'newer', 20);
    await handle.command(['HSET', `${prefix}budget:res:old~1`, 'exp', String(Date.now() - 16 * 60_000)]);
    await handle.command(['HSET', `${prefix}budget:res:newer~1`, 'exp', String(Date.now() - 14 * 60_000)]);
    expect(await store.unsettled('acme', 86_400_000)).toEqual([{ reservationId: 'newer~1', ledgerId: 'newer' }]);
  });

  it('lists a large set in chunks: every open member once, the finished and the stale left out', async () => {
    const { prefix, handle, store } = await open();
    const n = 2_500;
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(`big~${i}`);
    await Promise.all(ids.map((id, i) => store.reserve({ tenantId: 'acme', period: 'month', limitUsd: 10_000, estimateUsd: 1, reservationId: id, ledgerId: `big${i}` })));
    // Some finished since, some stale (records gone): left out, and out of the set after the listing.
    for (let i = 0; i < n; i += 10) expect(await store.release(`big~${i}`)).toBe(true);
    for (let i = 5; i < n; i += 10) await handle.command(['DEL', `${prefix}budget:res:big~${i}`]);
    const listed = await store.unsettled('acme', 60_000);
    const want = ids.filter((_, i) => i % 10 !== 0 && i % 10 !== 5);
    expect(listed.length).toBe(want.length);
    expect(listed.map((u) => u.reservationId).sort()).toEqual([...want].sort());
    expect(listed.every((u) => u.ledgerId === `big${u.reservationId.slice(4)}`)).toBe(true);
    expect(await handle.command(['SCARD', `${prefix}budget-open:acme`])).toBe(want.length);
  });

  it("a tenant's set never shares a name with a reservation's record (tenant `res`, reservation `open`)", async () => {
    const { store } = await open();
    await reserve(store, 'x~1', 'x', undefined, 'res');
    // Its record was `<prefix>budget:res:open`, the name of tenant `res`'s set: WRONGTYPE before.
    await reserve(store, 'open', 'y');
    expect(await store.unsettled('res', 60_000)).toEqual([{ reservationId: 'x~1', ledgerId: 'x' }]);
    expect(await store.unsettled('acme', 60_000)).toEqual([{ reservationId: 'open', ledgerId: 'y' }]);
    expect(await store.settle('open', 1)).toBe(true);
    expect(await store.settle('x~1', 1)).toBe(true);
    expect(await store.unsettled('res', 60_000)).toEqual([]);
  });

  it('a renewal moves the listed expiry', async () => {
    const { store } = await open();
    await reserve(store, 'long~1', 'long', 200);
    await store.renew(['long~1'], 60_000);
    await new Promise((r) => setTimeout(r, 300));
    // Renewed: still within 1 ms of its (new) expiry's horizon.
    expect(await store.unsettled('acme', 1)).toEqual([{ reservationId: 'long~1', ledgerId: 'long' }]);
  });

  it("raiseSpent takes out the cost of each pending row whose reservation is still open, atomically", async () => {
    const { store } = await open();
    await reserve(store, 'x~1', 'x');
    await reserve(store, 'y~1', 'y');
    await reserve(store, 'z~1', 'z');
    expect(await store.settle('y~1', 2)).toBe(true);
    // x: open (its $3 left to its settlement); y: settled since it was listed (counted by the raise); z: open, but a
    // pending entry naming another ledger row is not taken out (a reused reservation id).
    await store.raiseSpent('acme', 'week', 10, undefined, [
      { reservationId: 'x~1', ledgerId: 'x', costUsd: 3 },
      { reservationId: 'y~1', ledgerId: 'y', costUsd: 2 },
      { reservationId: 'z~1', ledgerId: 'other', costUsd: 1 },
    ]);
    expect((await store.spent('acme', 'week')).spentUsd).toBeCloseTo(7, 9);
    expect(await store.settle('x~1', 3)).toBe(true);
    expect((await store.spent('acme', 'week')).spentUsd).toBeCloseTo(10, 9);
    // Never lowers: a raise to less than the counter holds changes nothing.
    await store.raiseSpent('acme', 'week', 10, undefined, [{ reservationId: 'z~1', ledgerId: 'z', costUsd: 5 }]);
    expect((await store.spent('acme', 'week')).spentUsd).toBeCloseTo(10, 9);
    await expect(store.raiseSpent('acme', 'week', 10, undefined, [{ reservationId: 'z~1', ledgerId: 'z', costUsd: -1 }])).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('refuses a ledger id that is not a short non-empty string', async () => {
    const { store } = await open();
    await expect(store.reserve({ tenantId: 'acme', period: 'day', limitUsd: 1, estimateUsd: 0.1, reservationId: 'q~1', ledgerId: '' })).rejects.toMatchObject({ code: 'invalid_request', param: 'ledgerId' });
    await expect(store.reserve({ tenantId: 'acme', period: 'day', limitUsd: 1, estimateUsd: 0.1, reservationId: 'q~1', ledgerId: 'x'.repeat(201) })).rejects.toMatchObject({ code: 'invalid_request', param: 'ledgerId' });
  });
});

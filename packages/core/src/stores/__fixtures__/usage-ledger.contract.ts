import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import type { UsageEntryInput, UsageLedger } from '../../metering/types.js';
import { createStateStores } from '../create-state-stores.js';
import { spawnWorker, waitForLine } from './run-child.js';
import type { FixtureFactory, StoreFixture } from './store-fixtures.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 4, 1); // 2026-05-01

function entry(requestId: string, over: Partial<UsageEntryInput> = {}): UsageEntryInput {
  return { requestId, tenantId: 'acme', keyId: 'key_1', model: 'gpt-4o', deployment: 'openai-gpt-4o', provider: 'openai', inputTokens: 100, outputTokens: 50, costUsd: 0.001, latencyMs: 120, status: 'success', createdAt: T0, ...over };
}

export function usageLedgerContract(label: string, makeFixture: FixtureFactory): void {
  describe(`UsageLedger contract (${label})`, () => {
    let fx: StoreFixture;
    let ledger: UsageLedger;
    beforeEach(async () => {
      fx = await makeFixture();
      ledger = fx.stores.ledger;
    });
    afterEach(async () => {
      await fx.close();
    });

    it('records every field and reads it back', async () => {
      const full = entry('r1', {
        cachedInputTokens: 30,
        cacheWriteInputTokens: 40,
        cacheWrite1hInputTokens: 15,
        ttftMs: 45.5,
        cacheHit: true,
        stream: true,
        endpoint: '/v1/chat/completions',
        status: 'error',
        errorCode: 'timeout',
      });
      expect(await ledger.record(full)).toEqual({ inserted: true });
      expect(await ledger.get('r1')).toEqual({ ...full, cachedInputTokens: 30, cacheWriteInputTokens: 40, cacheWrite1hInputTokens: 15, cacheHit: true, stream: true });
      await ledger.record({ requestId: 'r2', tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 2, costUsd: 0, latencyMs: 3, status: 'success' });
      const r2 = await ledger.get('r2');
      expect(r2).toMatchObject({ cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0, cacheHit: false, stream: false });
      // The columns themselves (what a report reading the table sees).
      const rows = await fx.sql(`SELECT cache_write_input_tokens, cache_write_1h_input_tokens FROM llmrr_usage WHERE request_id = 'r1'`);
      expect(rows.map((r) => [Number(r.cache_write_input_tokens), Number(r.cache_write_1h_input_tokens)])).toEqual([[40, 15]]);
      // Listed entries carry them too.
      expect((await ledger.query({ tenantId: 'acme' })).find((e) => e.requestId === 'r1')).toMatchObject({ cacheWriteInputTokens: 40, cacheWrite1hInputTokens: 15 });
      expect(r2?.keyId).toBeUndefined();
      expect(r2?.ttftMs).toBeUndefined();
      expect(Math.abs((r2?.createdAt ?? 0) - Date.now())).toBeLessThan(60_000);
      expect(await ledger.get('missing')).toBeUndefined();
    });

    it('is idempotent by request id, also under concurrent duplicates', async () => {
      expect(await ledger.record(entry('dup', { costUsd: 1 }))).toEqual({ inserted: true });
      expect(await ledger.record(entry('dup', { costUsd: 99 }))).toEqual({ inserted: false });
      expect((await ledger.get('dup'))?.costUsd).toBe(1);
      const results = await Promise.all(Array.from({ length: 20 }, () => ledger.record(entry('race'))));
      expect(results.filter((r) => r.inserted)).toHaveLength(1);
      expect((await ledger.summary({ tenantId: 'acme' })).requests).toBe(2);
    });

    it('queries newest first with filters, limit and offset', async () => {
      for (let i = 0; i < 5; i++) await ledger.record(entry(`q${i}`, { createdAt: T0 + i * 1000, model: i % 2 ? 'claude' : 'gpt-4o' }));
      await ledger.record(entry('other', { tenantId: 'beta' }));
      const all = await ledger.query({ tenantId: 'acme' });
      expect(all.map((e) => e.requestId)).toEqual(['q4', 'q3', 'q2', 'q1', 'q0']);
      expect((await ledger.query({ tenantId: 'acme', limit: 2, offset: 1 })).map((e) => e.requestId)).toEqual(['q3', 'q2']);
      expect((await ledger.query({ tenantId: 'acme', model: 'claude' })).map((e) => e.requestId)).toEqual(['q3', 'q1']);
      expect((await ledger.query({ tenantId: 'acme', from: T0 + 1000, to: T0 + 3000 })).map((e) => e.requestId)).toEqual(['q2', 'q1']);
      expect(await ledger.query({ tenantId: 'nobody' })).toEqual([]);
      expect(await ledger.query({})).toHaveLength(6);
    });

    it('pages by a cursor (before): rows written between pages move no page, no row comes twice', async () => {
      // Same createdAt for several rows: the request id (in byte order: 'B' < 'a' < 'b') breaks the tie, as the listing sorts.
      for (const [id, at] of [['a1', T0], ['B1', T0], ['b1', T0], ['a0', T0 - 1000], ['z2', T0 + 1000]] as const) await ledger.record(entry(id, { createdAt: at }));
      const order = (await ledger.query({ tenantId: 'acme' })).map((e) => e.requestId);
      expect(order).toEqual(['z2', 'b1', 'a1', 'B1', 'a0']);
      const seen: string[] = [];
      let before: { createdAt: number; requestId: string } | undefined;
      for (let page = 0; page < 10; page++) {
        const rows = await ledger.query({ tenantId: 'acme', limit: 2, ...(before ? { before } : {}) });
        if (rows.length === 0) break;
        seen.push(...rows.map((e) => e.requestId));
        const last = rows.at(-1)!;
        before = { createdAt: last.createdAt, requestId: last.requestId };
        // A new call, and one still running when the listing began (dated by its arrival, between the pages' rows).
        if (page === 0) {
          await ledger.record(entry('new', { createdAt: T0 + 5000 }));
          await ledger.record(entry('a2', { createdAt: T0 }));
        }
      }
      // 'a2' sorts after the cursor 'b1' (a1 < a2 < b1): listed once; 'new' is ahead of the first page: not listed.
      expect(seen).toEqual(['z2', 'b1', 'a2', 'a1', 'B1', 'a0']);
      // Other filters apply with it.
      expect((await ledger.query({ tenantId: 'acme', before: { createdAt: T0, requestId: 'b1' }, from: T0 })).map((e) => e.requestId)).toEqual(['a2', 'a1', 'B1']);
      await expect(ledger.query({ before: { createdAt: Number.NaN, requestId: 'x' } })).rejects.toMatchObject({ code: 'invalid_request', param: 'before' });
    });

    it('pages by beforeId only from a row the listing holds: another tenant\'s, model\'s or a missing row is invalid_request naming beforeId, alike', async () => {
      for (const [id, at] of [['p0', T0], ['p1', T0 + 1000], ['p2', T0 + 2000], ['p3', T0 + 3000]] as const) await ledger.record(entry(id, { createdAt: at }));
      await ledger.record(entry('x-beta', { tenantId: 'beta', createdAt: T0 + 2500 }));
      await ledger.record(entry('x-claude', { model: 'claude', createdAt: T0 + 1500 }));
      await ledger.record(entry('x-aborted', { status: 'aborted', createdAt: T0 + 500 }));
      expect((await ledger.query({ tenantId: 'acme', model: 'gpt-4o', status: 'success', beforeId: 'p2' })).map((e) => e.requestId)).toEqual(['p1', 'p0']);
      expect((await ledger.query({ tenantId: 'acme', beforeId: 'x-claude', limit: 2 })).map((e) => e.requestId)).toEqual(['p1', 'x-aborted']);
      // A row outside the filters would page by its position (another tenant's row telling its time): refused, with
      // the same answer as a row that does not exist, so it tells nothing of the other row.
      const refusal = async (q: Parameters<UsageLedger['query']>[0]) => {
        const err = await ledger.query(q).then(() => undefined, (x: unknown) => x);
        expect(LLMError.isInstance(err), JSON.stringify(q)).toBe(true);
        const { code, param, message, statusCode } = err as LLMError;
        return { code, param, statusCode, message: message.replace(/"[^"]*"/, '"ID"') };
      };
      const missing = await refusal({ tenantId: 'acme', beforeId: 'no-such-row' });
      expect(missing).toMatchObject({ code: 'invalid_request', param: 'beforeId' });
      expect(await refusal({ tenantId: 'acme', beforeId: 'x-beta' })).toEqual(missing);
      expect(await refusal({ tenantId: 'acme', model: 'gpt-4o', beforeId: 'x-claude' })).toEqual(missing);
      expect(await refusal({ tenantId: 'acme', status: 'success', beforeId: 'x-aborted' })).toEqual(missing);
      expect(await refusal({ tenantId: 'acme', from: T0 + 1000, beforeId: 'p0' })).toEqual(missing);
      expect(await refusal({ tenantId: 'acme', keyId: 'key_2', beforeId: 'p1' })).toEqual(missing);
      // A position and a row together would be a guess at which was meant.
      expect(await refusal({ tenantId: 'acme', beforeId: 'p2', before: { createdAt: T0, requestId: 'p0' } })).toMatchObject({ code: 'invalid_request', param: 'beforeId' });
      expect(await refusal({ beforeId: '' })).toMatchObject({ code: 'invalid_request', param: 'beforeId' });
    });

    it('filters by status (query and summary); an unknown status is invalid_request naming status', async () => {
      await ledger.record(entry('st-ok', { createdAt: T0 + 2 }));
      await ledger.record(entry('st-err', { status: 'error', errorCode: 'timeout', createdAt: T0 + 1 }));
      await ledger.record(entry('st-ab', { status: 'aborted', errorCode: 'client_closed', createdAt: T0 }));
      await ledger.record(entry('st-ab-beta', { tenantId: 'beta', status: 'aborted' }));
      for (const status of ['success', 'error', 'aborted'] as const) {
        const rows = await ledger.query({ tenantId: 'acme', status });
        expect(rows.map((e) => e.status), status).toEqual([status]);
        expect((await ledger.summary({ tenantId: 'acme', status })).requests, status).toBe(1);
      }
      expect((await ledger.query({ status: 'aborted' })).map((e) => e.requestId)).toEqual(['st-ab-beta', 'st-ab']);
      expect(await ledger.summary({ status: 'aborted', groupBy: 'tenant' })).toMatchObject({ requests: 2, aborted: 2, errors: 0, groups: [expect.objectContaining({ key: 'acme', requests: 1 }), expect.objectContaining({ key: 'beta', requests: 1 })] });
      // It says so: the gateway asks it for a status page at any offset directly (`UsageLedger.filtersStatus`).
      expect(ledger.filtersStatus).toBe(true);
      for (const status of ['ok', 'ABORTED', '', 1, null]) {
        await expect(ledger.query({ status: status as never }), String(status)).rejects.toMatchObject({ code: 'invalid_request', param: 'status' });
        await expect(ledger.summary({ status: status as never }), String(status)).rejects.toMatchObject({ code: 'invalid_request', param: 'status' });
      }
    });

    it('counts aborted calls apart from errors (errors are calls that failed), in totals and groups', async () => {
      await ledger.record(entry('c-ok', { model: 'a' }));
      await ledger.record(entry('c-err', { model: 'a', status: 'error', errorCode: 'upstream_error' }));
      await ledger.record(entry('c-ab1', { model: 'a', status: 'aborted', errorCode: 'client_closed' }));
      await ledger.record(entry('c-ab2', { model: 'b', status: 'aborted', errorCode: 'client_closed' }));
      const s = await ledger.summary({ tenantId: 'acme', groupBy: 'model' });
      expect(s).toMatchObject({ requests: 4, errors: 1, aborted: 2 });
      expect(s.groups?.map((g) => [g.key, g.requests, g.errors, g.aborted])).toEqual([
        ['a', 3, 1, 1],
        ['b', 1, 0, 1],
      ]);
      expect(await ledger.summary({ tenantId: 'nobody' })).toMatchObject({ requests: 0, errors: 0, aborted: 0 });
    });

    it('summarizes totals and groups', async () => {
      await ledger.record(entry('s1', { model: 'a', costUsd: 0.1, latencyMs: 100 }));
      await ledger.record(entry('s2', { model: 'a', costUsd: 0.2, latencyMs: 300, status: 'error', errorCode: 'timeout', createdAt: T0 + DAY }));
      await ledger.record(entry('s3', { model: 'b', costUsd: 0.3, cacheHit: true, cachedInputTokens: 7, cacheWriteInputTokens: 20, cacheWrite1hInputTokens: 5 }));
      await ledger.record(entry('s4', { model: 'b', tenantId: 'beta', cacheWriteInputTokens: 1000, cacheWrite1hInputTokens: 1000 })); // other tenant
      const s = await ledger.summary({ tenantId: 'acme', groupBy: 'model' });
      expect(s).toMatchObject({ requests: 3, errors: 1, cacheHits: 1, inputTokens: 300, outputTokens: 150, cachedInputTokens: 7, cacheWriteInputTokens: 20, cacheWrite1hInputTokens: 5, groupBy: 'model' });
      expect(s.costUsd).toBe(0.6); // exact, not 0.6000000000000001
      expect(s.avgLatencyMs).toBeCloseTo((100 + 300 + 120) / 3, 6);
      expect(s.groups?.map((g) => [g.key, g.requests, g.costUsd, g.cacheWriteInputTokens, g.cacheWrite1hInputTokens])).toEqual([
        ['a', 2, 0.3, 0, 0],
        ['b', 1, 0.3, 20, 5],
      ]);
      const byTenant = await ledger.summary({ groupBy: 'tenant' });
      expect(byTenant.groups?.map((g) => [g.key, g.cacheWriteInputTokens, g.cacheWrite1hInputTokens])).toEqual([
        ['acme', 20, 5],
        ['beta', 1000, 1000],
      ]);
      expect(byTenant).toMatchObject({ cacheWriteInputTokens: 1020, cacheWrite1hInputTokens: 1005 });
      const byDay = await ledger.summary({ tenantId: 'acme', groupBy: 'day' });
      expect(byDay.groups?.map((g) => [g.key, g.requests])).toEqual([
        ['2026-05-01', 2],
        ['2026-05-02', 1],
      ]);
      const byStatus = await ledger.summary({ groupBy: 'status' });
      expect(byStatus.groups?.map((g) => g.key)).toEqual(['error', 'success']);
      const empty = await ledger.summary({ tenantId: 'none' });
      expect(empty).toMatchObject({ requests: 0, costUsd: 0, avgLatencyMs: 0, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 });
    });

    it('averages latency from whole microseconds, to the nanosecond (not the float sum of one database)', async () => {
      // SQLite sums floats compensated (Kahan), PostgreSQL plainly: 0.1 + 0.2 + 0.3 was 0.19999999999999998 as an
      // average in one and 0.20000000000000004 in the other for the same rows.
      for (const [i, latencyMs] of [0.1, 0.2, 0.3].entries()) await ledger.record(entry(`l${i}`, { latencyMs, model: 'lat' }));
      for (const [i, latencyMs] of [12.7, 0.001, 33.3333, 100.25].entries()) await ledger.record(entry(`m${i}`, { latencyMs, model: 'mix' }));
      const s = await ledger.summary({ tenantId: 'acme', groupBy: 'model' });
      // Each latency in whole microseconds (12.7 ms 12 700, 0.001 ms 1, 33.3333 ms 33 333, 100.25 ms 100 250): 146 284 / 4.
      expect(s.groups?.map((g) => [g.key, g.avgLatencyMs])).toEqual([
        ['lat', 0.2],
        ['mix', 36.571],
      ]);
      // (600 + 146 284) / 7 microseconds, to the nanosecond.
      expect(s.avgLatencyMs).toBe(20.983429);
    });

    // The UTC day and month boundary (in a non-UTC process and database, where a local-time grouping fails): usage-ledger-utc.test.ts.

    it('builds invoices per model for a period, totals exact', async () => {
      await ledger.record(entry('i1', { model: 'gpt-4o', inputTokens: 1000, outputTokens: 500, costUsd: 0.0125 }));
      await ledger.record(entry('i2', { model: 'gpt-4o', inputTokens: 2000, outputTokens: 100, costUsd: 0.0061 }));
      await ledger.record(entry('i3', { model: 'claude', inputTokens: 10, outputTokens: 10, costUsd: 0.1, cachedInputTokens: 5 }));
      await ledger.record(entry('i3b', { model: 'claude', inputTokens: 2000, outputTokens: 10, costUsd: 0.2, cacheWriteInputTokens: 1500, cacheWrite1hInputTokens: 1000 }));
      await ledger.record(entry('i4', { model: 'claude', costUsd: 5, createdAt: T0 + 31 * DAY })); // next period
      await ledger.record(entry('i5', { tenantId: 'beta', costUsd: 7 })); // other tenant
      const inv = await ledger.invoice('acme', T0, T0 + 31 * DAY);
      expect(inv).toMatchObject({
        tenantId: 'acme',
        periodStart: T0,
        periodEnd: T0 + 31 * DAY,
        currency: 'USD',
        requests: 4,
        inputTokens: 5010,
        outputTokens: 620,
        cachedInputTokens: 5,
        cacheWriteInputTokens: 1500,
        cacheWrite1hInputTokens: 1000,
      });
      expect(inv.lines).toEqual([
        { model: 'claude', requests: 2, inputTokens: 2010, outputTokens: 20, cachedInputTokens: 5, cacheWriteInputTokens: 1500, cacheWrite1hInputTokens: 1000, costUsd: 0.3, costNanoUsd: 300_000_000 },
        { model: 'gpt-4o', requests: 2, inputTokens: 3000, outputTokens: 600, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0, costUsd: 0.0186, costNanoUsd: 18_600_000 },
      ]);
      expect(inv.totalUsd).toBe(0.3186);
      expect((await ledger.invoice('acme', T0 + 40 * DAY, T0 + 50 * DAY)).lines).toEqual([]);
    });

    it("invoice lines add up to the total: integer nano-dollars exactly, the lines' USD once rounded to the nano-dollar", async () => {
      // Line costs whose float sum is off the total in the last digit (0.1 + 0.2 + 0.3 is 0.6000000000000001 in JS).
      const costs: Array<[string, number]> = [['m1', 0.1], ['m2', 0.2], ['m3', 0.3], ['m4', 0.000000007], ['m5', 0.07]];
      for (const [model, costUsd] of costs) await ledger.record(entry(`n-${model}`, { model, costUsd }));
      await ledger.record(entry('n-m5-b', { model: 'm5', costUsd: 0.07 / 3 })); // rounded to the nano-dollar when recorded
      const inv = await ledger.invoice('acme', T0, T0 + DAY);
      expect(inv.lines).toHaveLength(costs.length);
      const floatSum = inv.lines.reduce((a, l) => a + l.costUsd, 0);
      expect(floatSum).not.toBe(inv.totalUsd); // the case this is about
      for (const l of inv.lines) {
        expect(Number.isSafeInteger(l.costNanoUsd), l.model).toBe(true);
        expect(l.costUsd, l.model).toBe(l.costNanoUsd / 1e9);
      }
      expect(inv.lines.reduce((a, l) => a + l.costNanoUsd, 0)).toBe(inv.totalNanoUsd);
      expect(inv.totalUsd).toBe(inv.totalNanoUsd / 1e9);
      expect(Math.round(floatSum * 1e9)).toBe(inv.totalNanoUsd);
      // The stored rows, summed in the database, agree.
      const [row] = await fx.sql(`SELECT SUM(cost_nano) AS s FROM llmrr_usage WHERE tenant_id = 'acme'`);
      expect(Number(row?.s)).toBe(inv.totalNanoUsd);
      const empty = await ledger.invoice('acme', T0 + 40 * DAY, T0 + 50 * DAY);
      expect(empty).toMatchObject({ totalUsd: 0, totalNanoUsd: 0 });
    });

    it('rejects bad entries with a typed error naming the field', async () => {
      const bad = async (e: unknown, param: string) => {
        const err = await ledger.record(e as UsageEntryInput).then(() => undefined, (x: unknown) => x);
        expect(LLMError.isInstance(err) && err.code === 'invalid_request' && err.param).toBe(param);
      };
      await bad(entry('b1', { inputTokens: -1 }), 'inputTokens');
      await bad(entry('b2', { costUsd: Number.NaN }), 'costUsd');
      await bad(entry('b3', { status: 'ok' as never }), 'status');
      await bad({ ...entry('b4'), requestId: '' }, 'requestId');
      await bad({ ...entry('b5'), tenantId: undefined }, 'tenantId');
      await bad(entry('b6', { cacheWriteInputTokens: -1 }), 'cacheWriteInputTokens');
      await bad(entry('b7', { cacheWriteInputTokens: 10, cacheWrite1hInputTokens: 11 }), 'cacheWrite1hInputTokens');
      await bad(entry('b8', { cacheWrite1hInputTokens: 1 }), 'cacheWrite1hInputTokens'); // a 1-hour part of no writes
      expect(await ledger.query({})).toEqual([]);
    });

    it('keeps an entry recorded right before the process is killed', async () => {
      const child = spawnWorker(['record-and-hang', JSON.stringify(fx.childConfig), 'killed-1']);
      try {
        await waitForLine(child, 'recorded');
      } finally {
        child.kill('SIGKILL');
      }
      const signal = await new Promise((r) => child.once('close', (_code, sig) => r(sig)));
      expect(signal).toBe('SIGKILL'); // killed, not a clean exit that could have flushed anything
      // A fresh connection (as after a restart) sees it.
      const reopened = await createStateStores(fx.childConfig);
      try {
        expect(await reopened.ledger.get('killed-1')).toMatchObject({ tenantId: 'durable', costUsd: 0.5, outputTokens: 20 });
      } finally {
        await reopened.close();
      }
    }, 120_000);
  });
}

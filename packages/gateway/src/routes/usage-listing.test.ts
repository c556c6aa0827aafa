import { createStateStores, type StateStores, type UsageLedger, type UsageStatus } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_COUNTED_OFFSET, statusPageAtOffset, usagePage } from './usage-listing.js';

/**
 * `statusPageAtOffset` over core's own (memory) ledger, in chunks smaller than the pages, so a page spans chunk
 * boundaries: every page equals the ledger's own filtered page, and a ledger that ignores `status` is refused.
 */
let stores: StateStores;
const T0 = Date.UTC(2026, 10, 1);
const STATUSES: UsageStatus[] = ['success', 'error', 'success', 'aborted', 'success', 'error', 'error', 'success', 'success', 'error', 'success'];

beforeAll(async () => {
  stores = await createStateStores({ mode: 'memory' });
  for (const [i, status] of STATUSES.entries()) {
    // Two rows share each millisecond: the cursor's tie-break by request id is walked too.
    await stores.ledger.record({ requestId: `r${String(i).padStart(2, '0')}`, tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 1, status, createdAt: T0 + Math.floor(i / 2) });
  }
});
afterAll(async () => {
  await stores?.close();
});

describe('statusPageAtOffset', () => {
  it('every offset and limit of every status, in chunks of 1 to 4 rows, is the ledger\'s own filtered page', async () => {
    for (const status of ['success', 'error', 'aborted'] as const) {
      const all = await stores.ledger.query({ tenantId: 'acme', status, limit: 1000 });
      expect(all.length, status).toBe(STATUSES.filter((s) => s === status).length);
      for (const chunk of [1, 2, 3, 4]) {
        for (let offset = 0; offset <= all.length + 1; offset++) {
          for (const limit of [1, 2, 5]) {
            const page = await statusPageAtOffset(stores.ledger, { tenantId: 'acme', status, offset, limit }, chunk);
            expect(page.map((r) => r.requestId), `${status} chunk ${chunk} offset ${offset} limit ${limit}`).toEqual(all.slice(offset, offset + limit).map((r) => r.requestId));
          }
        }
      }
    }
  });

  it('a ledger that ignores status is refused (501 naming status), never paged wrong', async () => {
    const ignoring: Pick<UsageLedger, 'query'> = { query: ({ status: _status, ...q }) => stores.ledger.query(q) };
    const e = await statusPageAtOffset(ignoring, { tenantId: 'acme', status: 'error', offset: 1, limit: 1 }, 2).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'unsupported', statusCode: 501, param: 'status' });
  });

  it('a ledger that answers fewer rows than asked (capped below the chunk) still gets the right page: only an empty chunk ends the walk', async () => {
    const capped: Pick<UsageLedger, 'query'> = { query: (q) => stores.ledger.query({ ...q, limit: Math.min(q.limit ?? 100, 2) }) };
    for (const status of ['success', 'error'] as const) {
      const all = await stores.ledger.query({ tenantId: 'acme', status, limit: 1000 });
      for (let offset = 1; offset <= all.length; offset++) {
        const page = await statusPageAtOffset(capped, { tenantId: 'acme', status, offset, limit: 3 }, 4);
        expect(page.map((r) => r.requestId), `${status} offset ${offset}`).toEqual(all.slice(offset, offset + 3).map((r) => r.requestId));
      }
    }
  });

  it('a ledger that ignores before (and status) is refused (501), never answered with a row twice', async () => {
    const own = await createStateStores({ mode: 'memory' });
    try {
      for (let i = 0; i < 5; i++) {
        await own.ledger.record({ requestId: `s${i}`, tenantId: 'acme', model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0, latencyMs: 1, status: 'success', createdAt: T0 + i });
      }
      const dropping: Pick<UsageLedger, 'query'> = { query: ({ before: _before, status: _status, ...q }) => own.ledger.query(q) };
      for (const chunk of [2, 1000]) {
        const e = await statusPageAtOffset(dropping, { tenantId: 'acme', status: 'success', offset: 2, limit: 5 }, chunk).catch((x: unknown) => x);
        expect(e, `chunk ${chunk}`).toMatchObject({ code: 'unsupported', statusCode: 501, param: 'status' });
        expect((e as Error).message).toMatch(/does not take before/);
      }
      // The same ledger taking before again: the page.
      const taking: Pick<UsageLedger, 'query'> = { query: ({ status: _status, ...q }) => own.ledger.query(q) };
      expect((await statusPageAtOffset(taking, { tenantId: 'acme', status: 'success', offset: 2, limit: 5 }, 2)).map((r) => r.requestId)).toEqual(['s2', 's1', 's0']);
    } finally {
      await own.close();
    }
  });

  it(`an offset above ${MAX_COUNTED_OFFSET} is a 400 naming offset (page by beforeId), before any query`, async () => {
    let queries = 0;
    const counting: Pick<UsageLedger, 'query'> = { query: (q) => (queries++, stores.ledger.query(q)) };
    const e = await statusPageAtOffset(counting, { tenantId: 'acme', status: 'error', offset: MAX_COUNTED_OFFSET + 1, limit: 1 }, 1000).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'invalid_request', param: 'offset' });
    expect((e as Error).message).toMatch(/page by beforeId/);
    expect(queries).toBe(0);
    expect(await statusPageAtOffset(counting, { tenantId: 'acme', status: 'error', offset: MAX_COUNTED_OFFSET, limit: 1 }, 1000)).toEqual([]);
  });

  it('gives the event loop a turn between chunks (a synchronous driver would block it for the whole walk)', async () => {
    let turned = false;
    const turns: boolean[] = [];
    const watching: Pick<UsageLedger, 'query'> = { query: (q) => (turns.push(turned), stores.ledger.query(q)) };
    // setImmediate, not a 0 ms timer (really 1 ms, which a fast walk can finish within): the walk's own turn
    // (setImmediate, queued after this one) lets it run before the second query whatever the machine's speed.
    setImmediate(() => (turned = true));
    await statusPageAtOffset(watching, { tenantId: 'acme', status: 'success', offset: 5, limit: 1 }, 1);
    expect(turns.length).toBeGreaterThan(2);
    expect(turns.at(-1)).toBe(true);
  });
});

describe('usagePage', () => {
  it("core's own ledgers say they filter by status: a status page at any offset is one query of the ledger's, the offset its own", async () => {
    expect(stores.ledger.filtersStatus).toBe(true);
    const asked: Array<{ offset?: number; limit?: number }> = [];
    const own: Pick<UsageLedger, 'query' | 'filtersStatus'> = { filtersStatus: true, query: (q) => (asked.push({ offset: q.offset, limit: q.limit }), stores.ledger.query(q)) };
    const all = await stores.ledger.query({ tenantId: 'acme', status: 'success', limit: 1000 });
    const page = await usagePage(own, { tenantId: 'acme', status: 'success', offset: 2, limit: 2 }, 1000);
    expect(page.map((r) => r.requestId)).toEqual(all.slice(2, 4).map((r) => r.requestId));
    expect(asked).toEqual([{ offset: 2, limit: 2 }]);
    // Far past the cap too: the database counts it.
    expect(await usagePage(own, { tenantId: 'acme', status: 'success', offset: 1e9, limit: 2 }, 1000)).toEqual([]);
  });

  it('a ledger that does not say so is walked (the same page), and one that ignores status is the 501 at offset 0 too', async () => {
    const asked: number[] = [];
    const custom: Pick<UsageLedger, 'query'> = { query: (q) => (asked.push(q.offset ?? 0), stores.ledger.query(q)) };
    const all = await stores.ledger.query({ tenantId: 'acme', status: 'error', limit: 1000 });
    expect((await usagePage(custom, { tenantId: 'acme', status: 'error', offset: 1, limit: 2 }, 3)).map((r) => r.requestId)).toEqual(all.slice(1, 3).map((r) => r.requestId));
    expect(asked.every((o) => o === 0)).toBe(true);
    const ignoring: Pick<UsageLedger, 'query'> = { query: ({ status: _status, ...q }) => stores.ledger.query(q) };
    await expect(usagePage(ignoring, { tenantId: 'acme', status: 'error', offset: 0, limit: 5 }, 1000)).rejects.toMatchObject({ code: 'unsupported', statusCode: 501, param: 'status' });
  });
});

import { createStateStores, type StateStores, type UsageLedger, type UsageStatus } from '@llmrr/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusPageAtOffset } from './usage-listing.js';

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
});

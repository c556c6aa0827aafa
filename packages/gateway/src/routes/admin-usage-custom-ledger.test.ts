/**
 * `/admin/usage` and `/admin/usage/entries` over a `UsageLedger` of the caller's own (`GatewayOptions.stores.ledger`,
 * a supported extension point) written before `UsageQuery.beforeId` and `UsageQuery.status`: both are optional fields,
 * so such a ledger still type-checks and would silently ignore them (every "next page" the first page again, a
 * client paging until a short page looping forever; `?status=error` listing successful calls). The route resolves
 * `beforeId` itself (`ledger.get` -> `before`) and refuses rather than answers wrong rows when the ledger ignores
 * `status`. Real gateway over Node; the official `openai` client makes the calls whose rows the ledger records.
 */
import { LLMRouter, createStateStores, type Invoice, type StateStores, type UsageEntry, type UsageEntryInput, type UsageLedger, type UsageQuery, type UsageSummary, type UsageTotals } from '@llmrr/core';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGateway } from '../gateway.js';
import { serveGateway, type ServedGateway } from '../node/serve-gateway.js';
import { TEST_ADMIN_KEY, adminApi } from '../test-support/admin-api.js';
import { mockModel } from '../test-support/harness.js';
import type { Gateway, GatewayLogEntry } from '../types.js';

/**
 * A ledger as written against the interface before `beforeId` and `status`: filters by tenant, key, model and time,
 * pages by `offset` and the `before` cursor; its summaries count every call that is no success in `errors` and have
 * no `aborted`. With `knowsStatus` it filters by status and counts `aborted` apart, as the interface now asks.
 */
class ArrayLedger implements UsageLedger {
  readonly rows: UsageEntry[] = [];
  constructor(private readonly knowsStatus = false) {}
  async record(input: UsageEntryInput): Promise<{ inserted: boolean }> {
    if (this.rows.some((r) => r.requestId === input.requestId)) return { inserted: false };
    this.rows.push({ cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0, cacheHit: false, stream: false, createdAt: Date.now(), ...input } as UsageEntry);
    return { inserted: true };
  }
  async get(requestId: string): Promise<UsageEntry | undefined> {
    return this.rows.find((r) => r.requestId === requestId);
  }
  private matching(q: Omit<UsageQuery, 'limit' | 'offset' | 'before' | 'beforeId'>): UsageEntry[] {
    return this.rows
      .filter((r) => (q.tenantId === undefined || r.tenantId === q.tenantId) && (q.keyId === undefined || r.keyId === q.keyId) && (q.model === undefined || r.model === q.model))
      .filter((r) => (q.from === undefined || r.createdAt >= q.from) && (q.to === undefined || r.createdAt < q.to))
      .filter((r) => !this.knowsStatus || q.status === undefined || r.status === q.status);
  }
  async query(q: UsageQuery): Promise<UsageEntry[]> {
    const b = q.before;
    return this.matching(q)
      .filter((r) => !b || r.createdAt < b.createdAt || (r.createdAt === b.createdAt && r.requestId < b.requestId))
      .sort((x, y) => y.createdAt - x.createdAt || (x.requestId < y.requestId ? 1 : -1))
      .slice(q.offset ?? 0, (q.offset ?? 0) + (q.limit ?? 100));
  }
  async summary(q: Omit<UsageQuery, 'limit' | 'offset' | 'before' | 'beforeId'>): Promise<UsageSummary> {
    const rows = this.matching(q);
    const failed = (r: UsageEntry) => (this.knowsStatus ? r.status === 'error' : r.status !== 'success');
    const totals = {
      requests: rows.length,
      errors: rows.filter(failed).length,
      ...(this.knowsStatus ? { aborted: rows.filter((r) => r.status === 'aborted').length } : {}),
      cacheHits: 0,
      inputTokens: rows.reduce((a, r) => a + r.inputTokens, 0),
      outputTokens: rows.reduce((a, r) => a + r.outputTokens, 0),
      cachedInputTokens: 0,
      cacheWriteInputTokens: 0,
      cacheWrite1hInputTokens: 0,
      costUsd: 0,
      avgLatencyMs: 0,
    };
    return totals as UsageTotals;
  }
  async invoice(tenantId: string, periodStart: number, periodEnd: number): Promise<Invoice> {
    return { tenantId, periodStart, periodEnd, lines: [], requests: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0, totalUsd: 0, totalNanoUsd: 0, currency: 'USD', generatedAt: Date.now() };
  }
  async close(): Promise<void> {}
}

type Page = { status: number; retry: string | null; body: { data?: Array<{ requestId: string; status: string; model: string; createdAt: number }>; error?: { code: string; param?: string; message: string } } };

/** A served gateway over `ledger`; tenant acme makes 4 calls that succeed (model `mock`) and 2 that fail (`broken`). */
async function servedOver(ledger: ArrayLedger, logged: GatewayLogEntry[] = []) {
  const stores: StateStores = await createStateStores({ mode: 'memory' });
  const router = new LLMRouter({
    models: [mockModel('mock'), mockModel('broken', { failures: [{ code: 'invalid_response', times: 100 }] })],
    routing: { strategy: 'priority', retries: { max: 0 } },
  });
  const gateway: Gateway = createGateway({ router, stores: { ...stores, ledger }, log: (e) => logged.push(e), auth: { adminKey: TEST_ADMIN_KEY } });
  const served: ServedGateway = await serveGateway(gateway, { port: 0, host: '127.0.0.1' });
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
  const { secret } = await stores.tenants.createKey('acme', { name: 'sdk' });
  const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: secret, maxRetries: 0 });
  for (let i = 0; i < 6; i++) {
    const model = i % 3 === 1 ? 'broken' : 'mock';
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: `hi ${i}` }] }).catch((e: unknown) => {
      if (model === 'mock') throw e;
    });
  }
  await vi.waitFor(() => expect(ledger.rows).toHaveLength(6), { timeout: 10_000 });
  expect(ledger.rows.map((r) => r.status).sort()).toEqual(['error', 'error', 'success', 'success', 'success', 'success']);
  const admin = adminApi(() => gateway);
  const get = async (path: string): Promise<Page> => {
    const res = await admin('GET', path);
    return { status: res.status, retry: res.headers.get('x-should-retry'), body: (await res.json()) as Page['body'] };
  };
  return {
    get,
    close: async () => {
      await served.close();
      await gateway.close();
      await router.close();
      await stores.close();
    },
  };
}

describe('admin usage over a ledger of the caller\'s own that predates beforeId and status', () => {
  const ledger = new ArrayLedger();
  const logged: GatewayLogEntry[] = [];
  let s: Awaited<ReturnType<typeof servedOver>>;
  beforeAll(async () => {
    s = await servedOver(ledger, logged);
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  it('paging by beforeId lists every row once, newest first, and ends with a short page', async () => {
    const seen: string[] = [];
    let qs = '';
    for (let pages = 0; ; pages++) {
      expect(pages, 'pages by beforeId never end').toBeLessThan(5);
      const p = await s.get(`/admin/usage/entries?tenant=acme&limit=4${qs}`);
      expect(p.status).toBe(200);
      seen.push(...p.body.data!.map((e) => e.requestId));
      if (p.body.data!.length < 4) break;
      qs = `&beforeId=${p.body.data!.at(-1)!.requestId}`;
    }
    const newestFirst = [...ledger.rows].sort((x, y) => y.createdAt - x.createdAt || (x.requestId < y.requestId ? 1 : -1));
    expect(seen).toEqual(newestFirst.map((r) => r.requestId));
  });

  it("a beforeId of a row outside the listing's filters (another model's, status's, time range's) is the 400 of a row that does not exist", async () => {
    const shape = (p: Page) => ({ status: p.status, ...p.body.error, message: p.body.error?.message.replace(/"[^"]*"/, '"ID"'), request_id: undefined });
    const missing = shape(await s.get('/admin/usage/entries?tenant=acme&beforeId=no-such-request'));
    expect(missing).toMatchObject({ status: 400, code: 'invalid_request', param: 'beforeId' });
    const ok = ledger.rows.find((r) => r.status === 'success')!;
    const failed = ledger.rows.find((r) => r.status === 'error')!;
    for (const qs of [
      `model=broken&beforeId=${ok.requestId}`,
      `status=error&beforeId=${ok.requestId}`,
      `status=success&beforeId=${failed.requestId}`,
      `to=${ok.createdAt}&beforeId=${ok.requestId}`,
      `from=${ok.createdAt + 1}&beforeId=${ok.requestId}`,
      `key=key_other&beforeId=${ok.requestId}`,
    ]) {
      expect(shape(await s.get(`/admin/usage/entries?tenant=acme&${qs}`)), qs).toEqual(missing);
    }
    // Inside the filters it pages on (the row's own model, status, time range).
    expect((await s.get(`/admin/usage/entries?tenant=acme&model=mock&from=${ok.createdAt}&to=${ok.createdAt + 1}&beforeId=${ok.requestId}`)).status).toBe(200);
  });

  it('?status= the ledger ignores is a 501 unsupported naming status, not to be retried, never rows or totals of other statuses', async () => {
    const before = logged.length;
    for (const path of ['/admin/usage/entries?tenant=acme&status=error', '/admin/usage/entries?tenant=acme&status=success&limit=100', '/admin/usage?tenant=acme&status=error', '/admin/usage?status=success', '/admin/usage?tenant=acme&status=aborted&groupBy=model']) {
      const p = await s.get(path);
      expect({ status: p.status, retry: p.retry, code: p.body.error?.code, param: p.body.error?.param }, path).toEqual({ status: 501, retry: 'false', code: 'unsupported', param: 'status' });
      expect(p.body.error!.message, path).toMatch(/does not filter by status/);
    }
    // Past the first rows too: `offset` skips the ledger's rows of every status, so a page of the right status alone
    // there is still the wrong page (a row listed again, or one past the last of its status): refused as well.
    const newestFirst = [...ledger.rows].sort((x, y) => y.createdAt - x.createdAt || (x.requestId < y.requestId ? 1 : -1));
    const misplaced = newestFirst.findIndex((r, i) => newestFirst.filter((o) => o.status === r.status).indexOf(r) !== i);
    expect(misplaced).toBeGreaterThan(0);
    for (const offset of [misplaced, 4, 5]) {
      const p = await s.get(`/admin/usage/entries?tenant=acme&status=${newestFirst[offset]!.status}&offset=${offset}&limit=1`);
      expect({ status: p.status, code: p.body.error?.code, param: p.body.error?.param }, `offset ${offset}`).toEqual({ status: 501, code: 'unsupported', param: 'status' });
    }
    // Without status the ledger answers as it always did.
    expect((await s.get('/admin/usage?tenant=acme')).body).toMatchObject({ requests: 6, errors: 2 });
    // A capability the server lacks, said to the admin who asked (as a 4xx is): no server error in the log.
    expect(logged.slice(before)).toEqual([]);
  });
});

describe('admin usage over a ledger of the caller\'s own that filters by status', () => {
  const ledger = new ArrayLedger(true);
  let s: Awaited<ReturnType<typeof servedOver>>;
  beforeAll(async () => {
    s = await servedOver(ledger);
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  it('?status= lists and sums the calls of that status only, paged by beforeId to the end', async () => {
    for (const [status, n] of [['error', 2], ['success', 4], ['aborted', 0]] as const) {
      expect((await s.get(`/admin/usage?tenant=acme&status=${status}`)).body, status).toMatchObject({ requests: n, errors: status === 'error' ? n : 0, aborted: 0 });
      const seen: string[] = [];
      let qs = '';
      for (let pages = 0; ; pages++) {
        expect(pages, status).toBeLessThan(5);
        const p = await s.get(`/admin/usage/entries?tenant=acme&status=${status}&limit=3${qs}`);
        expect(p.status, status).toBe(200);
        expect(p.body.data!.filter((e) => e.status !== status), status).toEqual([]);
        seen.push(...p.body.data!.map((e) => e.requestId));
        if (p.body.data!.length < 3) break;
        qs = `&beforeId=${p.body.data!.at(-1)!.requestId}`;
      }
      expect(seen.sort(), status).toEqual(ledger.rows.filter((r) => r.status === status).map((r) => r.requestId).sort());
    }
  });

  it('?status= with offset pages over the calls of that status only, to a large offset', async () => {
    const newestFirst = [...ledger.rows].sort((x, y) => y.createdAt - x.createdAt || (x.requestId < y.requestId ? 1 : -1));
    for (const status of ['error', 'success'] as const) {
      const listed = newestFirst.filter((r) => r.status === status).map((r) => r.requestId);
      for (let offset = 0; offset <= listed.length; offset++) {
        const p = await s.get(`/admin/usage/entries?tenant=acme&status=${status}&offset=${offset}&limit=2`);
        expect({ status: p.status, rows: p.body.data?.map((e) => e.requestId) }, `${status} offset ${offset}`).toEqual({ status: 200, rows: listed.slice(offset, offset + 2) });
      }
      // Past MAX_COUNTED_OFFSET the gateway does not count (a ledger of one's own that does not say it filters by
      // status): a 400 naming offset, telling the client to page by beforeId.
      const far = await s.get(`/admin/usage/entries?tenant=acme&status=${status}&offset=1000000000&limit=1000`);
      expect({ status: far.status, param: far.body.error?.param }).toEqual({ status: 400, param: 'offset' });
      expect(far.body.error?.message).toMatch(/page by beforeId/);
      // From a beforeId cursor, offset counts the rows after it.
      const p = await s.get(`/admin/usage/entries?tenant=acme&status=${status}&beforeId=${listed[0]}&offset=1&limit=5`);
      expect(p.body.data?.map((e) => e.requestId), status).toEqual(listed.slice(2, 7));
    }
  });
});

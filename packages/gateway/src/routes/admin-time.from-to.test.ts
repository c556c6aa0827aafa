import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../test-support/harness.js';

/**
 * `from`/`to` of the admin usage, invoice and audit queries (`parseTime`, admin-time.ts) take epoch milliseconds
 * (digits only), a UTC month or day (`YYYY-MM`, `YYYY-MM-DD`, its first instant, as `period` reads it) or an ISO
 * date-time with `Z` or an offset (the rule of a key's `expiresAt`). Anything else is a 400 naming the parameter:
 * `Date.parse`'s legacy parser read free text as some date (`from=abc 1` was 2001-01-01, answered 200) and a
 * date-time without an offset in the server's local time zone, so two gateways in different zones gave different
 * invoices for the same query. A `to` before `from` is a 400 naming `to` (it was a 200 with a $0 invoice); an
 * invoice's `from` after now without `to` (which defaults to now) is a 400 naming `from`.
 */
const ADMIN = 'admin-secret-for-tests-0123456789';
const NOV_1 = Date.UTC(2026, 10, 1);
const DEC_1 = Date.UTC(2026, 11, 1);

describe('admin from/to query parameters', () => {
  let h: Harness;
  const tz = process.env.TZ;
  const get = async (path: string) => {
    const res = await h.gateway.fetch(new Request(`http://gateway.test${path}`, { headers: { authorization: `Bearer ${ADMIN}` } }));
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { type?: string; param?: string; message?: string } } };
  };

  beforeEach(async () => {
    h = await createHarness({ stores: 'memory', gateway: { auth: { adminKey: ADMIN } } });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    // One call at 02:00 UTC on 2026-11-01: in November whatever the server's time zone is.
    await h.stores!.ledger.record({ requestId: 'r1', tenantId: 'acme', model: 'mock', inputTokens: 10, outputTokens: 5, costUsd: 1.5, latencyMs: 3, status: 'success', createdAt: NOV_1 + 2 * 3_600_000 });
  });
  afterEach(async () => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
    await h.close();
  });

  for (const bad of ['abc 1', '-1', ' 5', '2026-11-01  00:00:00Z', 'Nov 1 2026', '2026-02-30T00:00:00Z', '1e12']) {
    it(`from=${JSON.stringify(bad)} is a 400 naming from, not an invoice from some other date`, async () => {
      const { status, body } = await get(`/admin/tenants/acme/invoice?from=${encodeURIComponent(bad)}`);
      expect(status, `answered ${status}, periodStart ${typeof body.periodStart === 'number' ? new Date(body.periodStart).toISOString() : JSON.stringify(body)}`).toBe(400);
      expect(body.error?.param).toBe('from');
    });
  }

  it('an ISO date-time without an offset is a 400 naming the parameter, in every server time zone', async () => {
    process.env.TZ = 'America/New_York';
    const month = await get('/admin/tenants/acme/invoice?period=2026-11');
    expect(month.body).toMatchObject({ periodStart: NOV_1, periodEnd: DEC_1, requests: 1, totalUsd: 1.5 });
    const from = await get('/admin/tenants/acme/invoice?from=2026-11-01T00:00:00&to=2026-12-01T00:00:00Z');
    expect(from.status).toBe(400);
    expect(from.body.error?.param).toBe('from');
    expect(from.body.error?.message).toContain('with Z or an offset');
    const to = await get('/admin/tenants/acme/invoice?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00');
    expect(to.status).toBe(400);
    expect(to.body.error?.param).toBe('to');
  });

  it('the accepted forms mean the same instant in any server time zone', async () => {
    process.env.TZ = 'Asia/Kolkata';
    const forms: Array<[string, string]> = [
      [String(NOV_1), String(DEC_1)],
      ['2026-11', '2026-12'],
      ['2026-11-01', '2026-12-01'],
      ['2026-11-01T00:00:00Z', '2026-12-01T00:00:00.000Z'],
      ['2026-11-01T01:00:00+01:00', '2026-11-30T19:00:00-05:00'],
    ];
    for (const [from, to] of forms) {
      const res = await get(`/admin/tenants/acme/invoice?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
      expect(res.body, `from=${from} to=${to}`).toMatchObject({ periodStart: NOV_1, periodEnd: DEC_1, requests: 1, totalUsd: 1.5 });
    }
    // A range that ends before the call: the offset is applied, not dropped.
    const before = await get(`/admin/tenants/acme/invoice?from=2026-11-01T00:00:00Z&to=${encodeURIComponent('2026-11-01T03:00:00+01:00')}`);
    expect(before.body).toMatchObject({ periodEnd: NOV_1 + 2 * 3_600_000, requests: 0 });
  });

  it('takes RFC 3339 date-times with an offset, T or a space: minute precision, basic offsets, fractions, lower case', async () => {
    process.env.TZ = 'Pacific/Auckland';
    const forms: Array<[string, string]> = [
      ['2026-11-01T01:00+01:00', '2026-12-01T00:00Z'],
      ['2026-11-01T01:00:00+0100', '2026-11-30T19:00-0500'],
      ['2026-11-01T01:00+01', '2026-12-01T05:30:00.000000+05:30'],
      ['2026-11-01t00:00:00z', '2026-11-30T23:59:59.999999999-00:00'],
      ['2026-11-01T00:00:00,000Z', '2026-12-01T00:00:00.0Z'],
      // RFC 3339 5.6's space for T: as `date --rfc-3339=seconds`, PostgreSQL and Python's str(datetime) print it.
      ['2026-11-01 00:00:00+00:00', '2026-12-01 00:00:00Z'],
      ['2026-11-01 01:00+01', '2026-11-30 19:00:00.000-05:00'],
    ];
    for (const [from, to] of forms) {
      const res = await get(`/admin/tenants/acme/invoice?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
      expect(res.body, `from=${from} to=${to}`).toMatchObject({ periodStart: NOV_1, requests: 1, totalUsd: 1.5 });
      expect(res.body.periodEnd, `to=${to}`).toBeGreaterThanOrEqual(DEC_1 - 1);
      expect(res.body.periodEnd, `to=${to}`).toBeLessThanOrEqual(DEC_1);
    }
    // Minute precision keeps its offset: 03:00+01:00 is 02:00Z, the call's instant, so the range [from, to) ends before it.
    const before = await get(`/admin/usage/entries?tenant=acme&from=2026-11-01T00:00Z&to=${encodeURIComponent('2026-11-01T03:00+01:00')}`);
    expect((before.body as { data?: unknown[] }).data).toEqual([]);
    const at = await get(`/admin/usage/entries?tenant=acme&from=${encodeURIComponent('2026-11-01T03:00+0100')}`);
    expect((at.body as { data?: unknown[] }).data).toHaveLength(1);
  });

  for (const bad of ['2026-11-01T00:00', '2026-11-01T24:00Z', '2026-11-01T00:60Z', '2026-11-01T00:00:61Z', '2026-11-01T00:00+24:00', '2026-11-01T00:00+01:60', '2026-11-01T00:00+1', '2026-11-01T00:00+01:0', '2026-11-01T0:00Z', '2026-11-01T00:00:00.Z', '2026-11-01TZ',
    // ISO 8601's basic form and hour precision are not RFC 3339 (the docs say which forms are taken).
    '20261101T000000Z', '2026-11-01T00Z', '2026-11-01 00Z', '2026-11-01_00:00Z']) {
    it(`to=${JSON.stringify(bad)} is a 400 naming to`, async () => {
      const { status, body } = await get(`/admin/usage?tenant=acme&to=${encodeURIComponent(bad)}`);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(body.error?.param).toBe('to');
      expect(body.error?.message).toContain('RFC 3339');
    });
  }

  // A range typed the wrong way round is impossible: answered as one, it said the tenant had spent nothing ($0, no lines).
  for (const path of [
    '/admin/tenants/acme/invoice?from=2026-12&to=2026-11',
    '/admin/usage?tenant=acme&from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z',
    '/admin/usage/entries?tenant=acme&from=2026-12&to=2026-11',
    '/admin/audit?from=2026-12&to=2026-11',
  ]) {
    it(`${path} (to before from) is a 400 naming to, not a 200 saying nothing happened`, async () => {
      // The same range the right way round has the row.
      const right = await get(path.replace('from=', 'x=').replace('to=', 'from=').replace('x=', 'to='));
      expect(right.status).toBe(200);
      if (!path.startsWith('/admin/audit')) expect(JSON.stringify(right.body)).toContain('1.5');
      const { status, body } = await get(path);
      expect(status, `answered ${status}: ${JSON.stringify(body).slice(0, 300)}`).toBe(400);
      expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'to' });
    });
  }

  it("an invoice's from after now without to (to defaults to now) is a 400 naming from, not an invoice ending before it starts", async () => {
    const { status, body } = await get('/admin/tenants/acme/invoice?from=2999-01');
    expect(status, JSON.stringify(body).slice(0, 300)).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'from' });
    // With a to after it, the same from is an (empty) range; usage without to has no end, so it is one too.
    expect((await get('/admin/tenants/acme/invoice?from=2999-01&to=2999-02')).body).toMatchObject({ periodStart: Date.UTC(2999, 0, 1), periodEnd: Date.UTC(2999, 1, 1), requests: 0 });
    expect((await get('/admin/usage?tenant=acme&from=2999-01')).status).toBe(200);
  });

  it('a range of no time (from equal to to) is empty, not refused', async () => {
    const res = await get(`/admin/tenants/acme/invoice?from=${NOV_1}&to=${NOV_1}`);
    expect(res.body).toMatchObject({ periodStart: NOV_1, periodEnd: NOV_1, requests: 0 });
  });

  it('usage and audit queries take the same forms and refuse the same input', async () => {
    const usage = await get('/admin/usage?tenant=acme&from=2026-11&to=2026-11-01T03:00:00Z');
    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({ requests: 1 });
    const entries = await get('/admin/usage/entries?tenant=acme&from=2026-11-01T02:00:00.001Z');
    expect((entries.body as { data?: unknown[] }).data).toEqual([]);
    for (const path of ['/admin/usage?to=abc%201', '/admin/usage/entries?to=2026-11-01T00:00:00', '/admin/audit?to=abc%201']) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.body.error?.param, path).toBe('to');
    }
    expect((await get('/admin/audit?from=2026-11-01T00:00:00%2B01:00')).status).toBe(200);
  });
});

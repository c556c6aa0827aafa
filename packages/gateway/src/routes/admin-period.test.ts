import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../test-support/harness.js';

/**
 * `periodRange` (admin-time.ts) once checked the month of `YYYY-MM` but not the month or day of
 * `YYYY-MM-DD`, and `Date.UTC` rolled an impossible date over: `period=2026-02-30` was answered with the
 * invoice of 2026-03-02 (200, no error), `2026-13-01` with 2027-01-01's, so an admin (or a billing script
 * looping over day numbers) got another day's invoice under the date it asked for; years 0000-0099 became
 * 1900-1999 (`Date.UTC` maps two-digit years). Found in review; now a 400 naming `period`.
 */
const ADMIN = 'admin-secret-for-tests-0123456789';

describe('GET /admin/tenants/:id/invoice?period=YYYY-MM-DD with an impossible date', () => {
  let h: Harness;
  const invoice = (period: string) =>
    h.gateway.fetch(new Request(`http://gateway.test/admin/tenants/acme/invoice?period=${period}`, { headers: { authorization: `Bearer ${ADMIN}` } }));

  beforeEach(async () => {
    h = await createHarness({ stores: 'memory', gateway: { auth: { adminKey: ADMIN } } });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  });
  afterEach(() => h.close());

  it('a real day is that UTC day', async () => {
    const res = await invoice('2026-02-28');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ periodStart: Date.UTC(2026, 1, 28), periodEnd: Date.UTC(2026, 2, 1) });
  });

  for (const period of ['2026-02-30', '2026-13-01', '2026-04-31', '2026-00-10']) {
    it(`${period} is a 400 naming period, not another day's invoice`, async () => {
      const res = await invoice(period);
      const body = (await res.json()) as { periodStart?: number; error?: { param?: string } };
      expect(res.status, `answered ${res.status} for ${body.periodStart !== undefined ? new Date(body.periodStart).toISOString() : JSON.stringify(body)}`).toBe(400);
      expect(body.error?.param).toBe('period');
    });
  }

  it('0099-01 is January of the year 99, not of 1999', async () => {
    const res = await invoice('0099-01');
    const body = (await res.json()) as { periodStart?: number };
    if (res.status === 200) expect(new Date(body.periodStart!).getUTCFullYear()).toBe(99);
    else expect(res.status).toBe(400);
  });

  it('a month runs to the 1st of the next, across a year end; a leap day is a day', async () => {
    const dec = (await (await invoice('2026-12')).json()) as { periodStart: number; periodEnd: number };
    expect(dec).toMatchObject({ periodStart: Date.UTC(2026, 11, 1), periodEnd: Date.UTC(2027, 0, 1) });
    const leap = await invoice('2028-02-29');
    expect(leap.status).toBe(200);
    expect(await leap.json()).toMatchObject({ periodStart: Date.UTC(2028, 1, 29), periodEnd: Date.UTC(2028, 2, 1) });
    expect((await invoice('2027-02-29')).status).toBe(400);
  });

  it('0000-01-05 is that day of the year 0', async () => {
    const res = await invoice('0000-01-05');
    expect(res.status).toBe(200);
    const start = new Date(((await res.json()) as { periodStart: number }).periodStart);
    expect([start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()]).toEqual([0, 0, 5]);
  });
});

describe('admin time parameters (from, to) past what a date can hold', () => {
  let h: Harness;
  const get = (path: string) => h.gateway.fetch(new Request(`http://gateway.test${path}`, { headers: { authorization: `Bearer ${ADMIN}` } }));

  beforeEach(async () => {
    h = await createHarness({ stores: 'memory', gateway: { auth: { adminKey: ADMIN } } });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  });
  afterEach(() => h.close());

  for (const [path, param] of [
    ['/admin/usage?from=99999999999999999999', 'from'],
    ['/admin/usage/entries?to=8640000000000001', 'to'],
    ['/admin/tenants/acme/invoice?to=99999999999999999999', 'to'],
    ['/admin/audit?from=99999999999999999999', 'from'],
  ] as const) {
    it(`${path} is a 400 naming ${param}`, async () => {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error?: { code?: string; param?: string } }).error).toMatchObject({ code: 'invalid_request', param });
    });
  }

  it('the last time a date can hold is taken', async () => {
    expect((await get('/admin/usage?to=8640000000000000')).status).toBe(200);
  });
});

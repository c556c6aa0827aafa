import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LLMError, type AuditInput } from '@llmrr/core';
import { MAY_HAVE_BEEN_WRITTEN_HEADER, STORE_MAY_HAVE_BEEN_WRITTEN_MESSAGE, STORE_UNAVAILABLE_MESSAGE } from '../http/error-body.js';
import { adminApi, createAdminHarness } from '../test-support/admin-api.js';
import { post, type Harness } from '../test-support/harness.js';
import type { GatewayLogEntry } from '../types.js';

const chat = { model: 'mock', messages: [{ role: 'user', content: 'hello there' }] };

describe('admin API: changing a key', () => {
  let h: Harness;
  let keyId: string;
  let secret: string;
  const admin = adminApi(() => h.gateway);
  const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
  const call = () => post(h.gateway, '/v1/chat/completions', chat, { authorization: `Bearer ${secret}` });
  const errorParam = async (res: Response) => ((await res.json()) as { error: { param?: string } }).error.param;

  beforeEach(async () => {
    h = await createAdminHarness();
    await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme' });
    const created = await json<{ key: { id: string }; secret: string }>(admin('POST', '/admin/tenants/acme/keys', { name: 'ci' }));
    keyId = created.key.id;
    secret = created.secret;
  });
  afterEach(() => h.close());

  it('PATCH changes name and limits; the next request obeys them; null clears', async () => {
    for (let i = 0; i < 3; i++) expect((await call()).status).toBe(200);
    const res = await admin('PATCH', `/admin/keys/${keyId}`, { name: 'ci-runner', limits: { rpm: 1 } });
    expect(res.status).toBe(200);
    const key = (await res.json()) as Record<string, unknown>;
    expect(key).toMatchObject({ id: keyId, name: 'ci-runner', limits: { rpm: 1 } });
    expect(key).not.toHaveProperty('hash');
    const first = await call();
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('1');
    const second = await call();
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0);

    const limits = await json<{ limits: unknown; current: { limitRequests?: number } }>(admin('GET', `/admin/keys/${keyId}/limits`));
    expect(limits.limits).toEqual({ rpm: 1 });
    expect(limits.current.limitRequests).toBe(1);

    expect((await admin('PATCH', `/admin/keys/${keyId}`, { limits: null })).status).toBe(200);
    expect((await call()).status).toBe(200);
    expect(await json(admin('GET', `/admin/keys/${keyId}/limits`))).toEqual({ limits: null, current: {} });

    const put = await admin('PUT', `/admin/keys/${keyId}/limits`, { maxConcurrency: 3 });
    expect(await put.json()).toMatchObject({ limits: { maxConcurrency: 3 }, name: 'ci-runner' });

    const audit = await h.stores!.audit.list({ target: keyId });
    expect(audit.map((e) => e.action)).toEqual(['key.create', 'key.update', 'key.update', 'key.limits.update']);
    expect(audit[1]!.details).toMatchObject({ tenantId: 'acme', fields: ['name', 'limits'], changes: { name: 'ci-runner', limits: { rpm: 1 } } });
    expect(audit[2]!.details).toMatchObject({ fields: ['limits'], changes: { limits: null } });
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  it('PATCH sets or clears the expiry (epoch ms or ISO date); a past expiry stops the key', async () => {
    const iso = await json<{ expiresAt: number }>(admin('PATCH', `/admin/keys/${keyId}`, { expiresAt: '2099-01-01T00:00:00Z' }));
    expect(iso.expiresAt).toBe(Date.UTC(2099, 0, 1));
    expect((await call()).status).toBe(200);
    await admin('PATCH', `/admin/keys/${keyId}`, { expiresAt: 1_000 });
    expect((await call()).status).toBe(401);
    const cleared = await json<Record<string, unknown>>(admin('PATCH', `/admin/keys/${keyId}`, { expiresAt: null }));
    expect(cleared).not.toHaveProperty('expiresAt');
    expect((await call()).status).toBe(200);
    // Each move of the expiry is in the audit log with the new value (epoch ms; null when cleared).
    const moves = await h.stores!.audit.list({ action: 'key.update', target: keyId });
    expect(moves.map((e) => e.details?.changes)).toEqual([{ expiresAt: Date.UTC(2099, 0, 1) }, { expiresAt: 1_000 }, { expiresAt: null }]);
  });

  it('two rotations of a key at once (both read it before either writes): one answers the secret in force, the other a 409 conflict', async () => {
    // As two gateway processes would: each reads the key, then both rotate it (held until both reads are done).
    const tenants = h.stores!.tenants;
    const getKey = tenants.getKey.bind(tenants);
    let reads = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    const spy = vi.spyOn(tenants, 'getKey').mockImplementation(async (id) => {
      const key = await getKey(id);
      if (++reads === 2) bothRead();
      await barrier;
      return key;
    });
    const [r1, r2] = await Promise.all([admin('POST', `/admin/keys/${keyId}/rotate`), admin('POST', `/admin/keys/${keyId}/rotate`)]);
    spy.mockRestore();
    expect([r1.status, r2.status].sort()).toEqual([200, 409]);
    expect(reads).toBe(2);
    const [won, lost] = r1.status === 200 ? [r1, r2] : [r2, r1];
    const { secret: rotated } = (await won.json()) as { secret: string };
    expect(((await lost.json()) as { error: { code: string; param: string } }).error).toMatchObject({ code: 'conflict', param: 'keyId' });
    expect((await post(h.gateway, '/v1/chat/completions', chat, { authorization: `Bearer ${rotated}` })).status).toBe(200);
    expect((await call()).status).toBe(401);
    // One rotation, one audit entry; a rotation after it (the key read anew) works.
    expect(await h.stores!.audit.list({ action: 'key.rotate', target: keyId })).toHaveLength(1);
    expect((await admin('POST', `/admin/keys/${keyId}/rotate`)).status).toBe(200);
  });

  it('an expiry takes an RFC 3339 date-time with an offset (T or a space, minute precision, +0100, fractions), on create and patch', async () => {
    const forms: Array<[string, number]> = [
      ['2099-01-01T01:00+01:00', Date.UTC(2099, 0, 1)],
      ['2099-01-01T01:00:00+0100', Date.UTC(2099, 0, 1)],
      ['2098-12-31T19:00-05', Date.UTC(2099, 0, 1)],
      ['2099-01-01t00:00:00.123456z', Date.UTC(2099, 0, 1) + 123],
      ['2099-01-01T00:00Z', Date.UTC(2099, 0, 1)],
      ['2099-01-01 00:00Z', Date.UTC(2099, 0, 1)],
      ['2099-01-01 00:00:00+00', Date.UTC(2099, 0, 1)],
    ];
    for (const [at, ms] of forms) {
      expect(await json<{ expiresAt: number }>(admin('PATCH', `/admin/keys/${keyId}`, { expiresAt: at })), at).toMatchObject({ expiresAt: ms });
      const created = await json<{ key: { expiresAt: number } }>(admin('POST', '/admin/tenants/acme/keys', { name: 'dated', expiresAt: at }));
      expect(created.key.expiresAt, at).toBe(ms);
    }
    expect((await call()).status).toBe(200);
    // Still refused, naming the field: no offset (the server's time zone would decide), a date alone, impossible values.
    for (const bad of ['2099-01-01T00:00', '2099-01-01', '2099-01-01T25:00Z', '2099-02-30T00:00Z', '2099-01-01T00:00+01:00:00', '20990101T0000Z', '2099-01-01T00Z']) {
      for (const res of [await admin('PATCH', `/admin/keys/${keyId}`, { expiresAt: bad }), await admin('POST', '/admin/tenants/acme/keys', { name: 'bad', expiresAt: bad })]) {
        expect(res.status, bad).toBe(400);
        const error = ((await res.json()) as { error: { param: string; message: string } }).error;
        expect(error.param, bad).toBe('expiresAt');
        expect(error.message, bad).toContain('RFC 3339');
      }
    }
  });

  it('refuses bad input by field, unknown keys (404) and revoked keys (409)', async () => {
    const bad = async (body: unknown, param: string) => {
      const res = await admin('PATCH', `/admin/keys/${keyId}`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await errorParam(res)).toBe(param);
    };
    await bad({ limits: { rpm: 0 } }, 'limits.rpm');
    await bad({ limits: { rpm: 'many' } }, 'limits.rpm');
    await bad({ name: '' }, 'name');
    await bad({ expiresAt: 'tomorrow' }, 'expiresAt');
    // Past the latest instant a date holds (8.64e15 ms): a 400, not a key whose expiry no date can show.
    await bad({ expiresAt: Number.MAX_SAFE_INTEGER }, 'expiresAt');
    await bad({ expiresAt: 8_640_000_000_000_001 }, 'expiresAt');
    expect((await admin('PATCH', `/admin/keys/${keyId}`, { expiresAt: 8_640_000_000_000_000 })).status).toBe(200);
    const tooLate = await admin('POST', '/admin/tenants/acme/keys', { name: 'late', expiresAt: Number.MAX_SAFE_INTEGER });
    expect({ status: tooLate.status, param: await errorParam(tooLate) }).toEqual({ status: 400, param: 'expiresAt' });
    await expect(h.stores!.tenants.createKey('acme', { name: 'late', expiresAt: Number.MAX_SAFE_INTEGER })).rejects.toMatchObject({ code: 'invalid_request', param: 'expiresAt' });
    const unknown = await admin('PATCH', `/admin/keys/${keyId}`, { secret: 'x' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain('secret');
    expect((await admin('PATCH', '/admin/keys/key_missing', { name: 'x' })).status).toBe(404);
    expect((await admin('PUT', '/admin/keys/key_missing/limits', { rpm: 1 })).status).toBe(404);
    expect((await admin('GET', '/admin/keys/key_missing/limits')).status).toBe(404);
    await admin('POST', `/admin/keys/${keyId}/revoke`);
    const revoked = await admin('PATCH', `/admin/keys/${keyId}`, { limits: { rpm: 5 } });
    expect(revoked.status).toBe(409);
  });

  it('revoke is idempotent: a key revoked already is answered as it is, with one audit entry in all', async () => {
    const first = await json<{ revokedAt: number }>(admin('POST', `/admin/keys/${keyId}/revoke`));
    expect(first.revokedAt).toEqual(expect.any(Number));
    expect((await call()).status).toBe(401);
    const again = await admin('DELETE', `/admin/keys/${keyId}`);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: keyId, revokedAt: first.revokedAt });
    expect((await admin('POST', `/admin/keys/${keyId}/revoke`)).status).toBe(200);
    expect(await h.stores!.audit.list({ action: 'key.revoke' })).toHaveLength(1);
    expect((await admin('POST', '/admin/keys/key_missing/revoke')).status).toBe(404);
  });

  // A PostgreSQL store whose COMMIT's answer is lost and whose read-back cannot tell (core's shared-stores tests make
  // it for real) fails with `details.mayHaveBeenWritten`: the key may exist, its secret shown to no one. The 503 says
  // so (a plain "retry later" made a second key), and tells retrying clients not to retry: `x-should-retry: false`
  // (the official clients retry a 503 on their own, as the gateway's answer lost after the provider accepted it
  // tells them not to), with `x-llmrr-may-have-been-written: true` a program reads. Any other store failure is still
  // the plain, retryable 503.
  it('a key creation or rotation the store cannot confirm is a 503 saying it may have been written, marked not to be retried', async () => {
    const lost = new LLMError({ code: 'store_unavailable', message: 'PostgreSQL did not finish a transaction within 5000 ms (at its COMMIT: the change may have been written)', details: { mayHaveBeenWritten: true } });
    const tenants = h.stores!.tenants;
    vi.spyOn(tenants, 'createKey').mockRejectedValueOnce(lost).mockRejectedValueOnce(new LLMError({ code: 'store_unavailable', message: 'PostgreSQL is unavailable: connect ECONNREFUSED 10.0.0.5:5432' }));
    vi.spyOn(tenants, 'rotateKey').mockRejectedValueOnce(lost);
    const answers = [await admin('POST', '/admin/tenants/acme/keys', { name: 'k2' }), await admin('POST', `/admin/keys/${keyId}/rotate`)];
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.headers.get('x-should-retry')).toBe('false');
      expect(res.headers.get(MAY_HAVE_BEEN_WRITTEN_HEADER)).toBe('true');
      const { error } = (await res.json()) as { error: Record<string, unknown> };
      expect(error).toMatchObject({ code: 'store_unavailable', message: STORE_MAY_HAVE_BEEN_WRITTEN_MESSAGE });
      expect(error.message).toMatch(/may have been written: check before retrying \(list the tenants, or the tenant's keys\)/);
      expect(error.message).not.toContain('5000 ms');
      // Nothing internal in the body: no details, no store message.
      expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'request_id', 'type']);
    }
    const plain = await admin('POST', '/admin/tenants/acme/keys', { name: 'k2' });
    expect(plain.status).toBe(503);
    expect(plain.headers.get('x-should-retry')).toBeNull();
    expect(plain.headers.get(MAY_HAVE_BEEN_WRITTEN_HEADER)).toBeNull();
    expect(((await plain.json()) as { error: { message: string } }).error.message).toBe(STORE_UNAVAILABLE_MESSAGE);
    // Nothing was written by these failures (the store's own failures here): the key is as it was. The plain failure
    // is not audited; the unconfirmed ones are, as unconfirmed.
    expect((await h.stores!.tenants.listKeys('acme')).map((k) => k.id)).toEqual([keyId]);
    expect(await h.stores!.audit.list({ action: 'key.rotate' })).toMatchObject([{ target: keyId, details: { tenantId: 'acme', confirmed: false } }]);
    expect(await h.stores!.audit.list({ action: 'key.create' })).toMatchObject([{ target: keyId }, { details: { tenantId: 'acme', name: 'k2', confirmed: false } }]);
  });

  // The case the 503 is for: the change ran, its answer lost, the read-back unable to tell. The change is in force
  // (listing the keys, as the message says, finds a created key), but the route failed before its audit entry: the
  // hash-chained log had none for a key that exists. Each change is now audited before that 503, marked unconfirmed;
  // a creation under the id the store names (core's PostgreSQL store: `details.id`), a key change with the tenant the
  // store names (`details.tenantId`: the routes do not read the key first, and the entry lacked it).
  it('a change the store cannot confirm, written in fact, is audited before its 503, marked confirmed: false', async () => {
    const tenants = h.stores!.tenants;
    const audited = (action: string) => h.stores!.audit.list({ action });
    const lost = (details?: Record<string, unknown>) =>
      new LLMError({ code: 'store_unavailable', message: 'PostgreSQL did not finish a transaction within 300 ms (at its COMMIT: the change may have been written)', details: { mayHaveBeenWritten: true, ...details } });
    /**
     * The store's own method runs (the change is written), then fails as a lost COMMIT answer does, its details saying
     * what core's PostgreSQL store says (`named`: a creation's id, a key change's tenant).
     */
    const writtenThenLost = <K extends 'createKey' | 'rotateKey' | 'revokeKey' | 'updateKey' | 'createTenant' | 'updateTenant' | 'deleteTenant'>(method: K, named?: (result: Awaited<ReturnType<typeof tenants[K]>>) => Record<string, unknown>) => {
      const real = (tenants[method] as (...a: unknown[]) => Promise<Awaited<ReturnType<typeof tenants[K]>>>).bind(tenants);
      vi.spyOn(tenants, method).mockImplementationOnce((async (...a: unknown[]) => {
        const result = await real(...a);
        throw lost(named?.(result));
      }) as never);
    };
    const unconfirmed = async (res: Response) => {
      expect(res.status).toBe(503);
      expect(res.headers.get(MAY_HAVE_BEEN_WRITTEN_HEADER)).toBe('true');
      // Its entry written: not said to be missing.
      expect(res.headers.get('x-llmrr-audit')).toBeNull();
    };

    writtenThenLost('createKey', (c) => ({ id: (c as { key: { id: string } }).key.id }));
    await unconfirmed(await admin('POST', '/admin/tenants/acme/keys', { name: 'k2' }));
    const made = (await tenants.listKeys('acme')).find((k) => k.id !== keyId)!;
    expect(made).toMatchObject({ name: 'k2' });
    expect(await h.stores!.audit.list({ action: 'key.create', target: made.id })).toMatchObject([{ details: { tenantId: 'acme', name: 'k2', confirmed: false } }]);

    const tenantOfKey = (key: unknown) => ({ tenantId: (key as { tenantId: string }).tenantId });
    writtenThenLost('updateKey', tenantOfKey);
    await unconfirmed(await admin('PATCH', `/admin/keys/${made.id}`, { name: 'k3' }));
    writtenThenLost('updateKey', tenantOfKey);
    await unconfirmed(await admin('PUT', `/admin/keys/${made.id}/limits`, { rpm: 7 }));
    writtenThenLost('rotateKey', (c) => tenantOfKey(c.key));
    await unconfirmed(await admin('POST', `/admin/keys/${made.id}/rotate`));
    writtenThenLost('revokeKey', (r) => tenantOfKey(r.key));
    await unconfirmed(await admin('POST', `/admin/keys/${made.id}/revoke`));
    expect(await tenants.getKey(made.id)).toMatchObject({ name: 'k3', limits: { rpm: 7 }, rotatedAt: expect.any(Number), revokedAt: expect.any(Number) });
    expect(await audited('key.update')).toMatchObject([{ target: made.id, details: { tenantId: 'acme', fields: ['name'], confirmed: false } }]);
    expect(await audited('key.limits.update')).toMatchObject([{ target: made.id, details: { tenantId: 'acme', limits: { rpm: 7 }, confirmed: false } }]);
    expect(await audited('key.rotate')).toMatchObject([{ target: made.id, details: { tenantId: 'acme', confirmed: false } }]);
    expect(await audited('key.revoke')).toMatchObject([{ target: made.id, details: { tenantId: 'acme', confirmed: false } }]);
    // The store's other details (its marker) stay out of the entry.
    expect((await audited('key.revoke'))[0]!.details).not.toHaveProperty('mayHaveBeenWritten');

    // A tenant created without an id: the entry names the id the store chose.
    writtenThenLost('createTenant', (t) => ({ id: (t as { id: string }).id }));
    await unconfirmed(await admin('POST', '/admin/tenants', { name: 'Beta' }));
    const beta = (await tenants.listTenants()).find((t) => t.name === 'Beta')!;
    expect(await h.stores!.audit.list({ action: 'tenant.create', target: beta.id })).toMatchObject([{ details: { name: 'Beta', confirmed: false } }]);
    writtenThenLost('updateTenant');
    await unconfirmed(await admin('PATCH', `/admin/tenants/${beta.id}`, { name: 'Beta 2' }));
    writtenThenLost('updateTenant');
    await unconfirmed(await admin('PUT', `/admin/tenants/${beta.id}/limits`, { rpm: 9 }));
    writtenThenLost('updateTenant');
    await unconfirmed(await admin('PUT', `/admin/tenants/${beta.id}/budget`, { amountUsd: 5, period: 'month' }));
    writtenThenLost('deleteTenant');
    await unconfirmed(await admin('DELETE', `/admin/tenants/${beta.id}`));
    expect(await tenants.getTenant(beta.id)).toBeUndefined();
    expect(await audited('tenant.update')).toMatchObject([{ target: beta.id, details: { fields: ['name'], confirmed: false } }]);
    expect(await audited('limits.update')).toMatchObject([{ target: beta.id, details: { limits: { rpm: 9 }, confirmed: false } }]);
    expect(await audited('budget.update')).toMatchObject([{ target: beta.id, details: { budget: { amountUsd: 5, period: 'month' }, confirmed: false } }]);
    expect(await audited('tenant.delete')).toMatchObject([{ target: beta.id, details: { confirmed: false } }]);
    // The chain holds them as any entry.
    expect(await h.stores!.audit.verify()).toMatchObject({ ok: true });
  });
});

// An unconfirmed change's `confirmed: false` entry not written either (the likely case: the audit log is on the
// PostgreSQL that just lost the change's answer): the 503 did not say the log lacks the entry (`x-llmrr-audit: failed`
// was set on a handler's success only), and the server log said the change was applied, which is what is not known.
describe('admin API: an unconfirmed change whose audit entry is not written either', () => {
  let h: Harness;
  let logs: GatewayLogEntry[];
  const admin = adminApi(() => h.gateway);

  beforeEach(async () => {
    logs = [];
    h = await createAdminHarness({ gateway: { log: (e) => logs.push(e) } });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  });
  afterEach(() => h.close());

  it('its 503 says the audit entry was not written (x-llmrr-audit: failed) and the server log does not say it was applied', async () => {
    const lost = new LLMError({
      code: 'store_unavailable',
      message: 'PostgreSQL did not finish a transaction within 5000 ms (at its COMMIT: the change may have been written)',
      details: { mayHaveBeenWritten: true, id: 'key_unconfirmed' },
    });
    vi.spyOn(h.stores!.tenants, 'createKey').mockRejectedValueOnce(lost);
    const audit = h.stores!.audit;
    const append = audit.append.bind(audit);
    audit.append = async (input: AuditInput) => {
      if (input.action === 'key.create') throw new LLMError({ code: 'store_unavailable', message: 'PostgreSQL is unavailable: connect ECONNREFUSED' });
      return append(input);
    };
    const res = await admin('POST', '/admin/tenants/acme/keys', { name: 'k' });
    expect(res.status).toBe(503);
    expect(res.headers.get(MAY_HAVE_BEEN_WRITTEN_HEADER)).toBe('true');
    expect(res.headers.get('x-llmrr-audit')).toBe('failed');
    const messages = logs.map((e) => e.message);
    expect(messages.filter((m) => /audit entry was not written/.test(m))).toEqual(['admin change may have been written; its audit entry was not written: key.create key_unconfirmed']);
    expect(messages.join('\n')).not.toMatch(/admin change applied/);
  });
});

import type { AuditInput } from '@llmrr/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayLogEntry } from '../types.js';
import { adminApi, createAdminHarness } from '../test-support/admin-api.js';
import { post, type Harness } from '../test-support/harness.js';

/**
 * The admin routes change the store first and append the audit entry after (the tenant store and the audit log
 * are separate stores, so they cannot share one transaction). When that append fails (the audit log's database
 * busy or unreachable for that one query, e.g. SQLite SQLITE_BUSY after busy_timeout or a lost PostgreSQL
 * connection), the change is in force all the same, so it is answered as done, with `x-llmrr-audit: failed`, and
 * the error is logged at error level. A rotation used to answer 500: the old secret no longer worked and the new
 * one, which exists only in the answer, was lost, locking the tenant out until someone rotated again.
 * (The failure is injected into `audit.append` only; the key store is the real SQLite one.)
 */
const chat = { model: 'mock', messages: [{ role: 'user', content: 'hello there' }] };

describe('admin changes when the audit append fails', () => {
  let h: Harness;
  let logs: GatewayLogEntry[];
  const admin = adminApi(() => h.gateway);
  const works = async (secret: string | undefined) => secret !== undefined && (await post(h.gateway, '/v1/chat/completions', chat, { authorization: `Bearer ${secret}` })).status === 200;
  /** Makes `audit.append` fail for `action` until the returned function is called. */
  const failAudit = (action: string) => {
    const audit = h.stores!.audit;
    const append = audit.append.bind(audit);
    audit.append = async (input: AuditInput) => {
      if (input.action === action) throw Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY' });
      return append(input);
    };
    return () => {
      audit.append = append;
    };
  };

  beforeEach(async () => {
    logs = [];
    h = await createAdminHarness({ gateway: { log: (e) => logs.push(e) } });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
  });
  afterEach(() => h.close());

  it('rotate answers the new secret (the old one no longer works), says the audit failed and logs the error', async () => {
    const { key, secret: oldSecret } = await h.stores!.tenants.createKey('acme', { name: 'prod' });
    expect(await works(oldSecret)).toBe(true);

    const restore = failAudit('key.rotate');
    const res = await admin('POST', `/admin/keys/${key.id}/rotate`);
    const body = (await res.json()) as { secret?: string; key?: { id?: string } };
    restore();

    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmrr-audit')).toBe('failed');
    expect(body.key?.id).toBe(key.id);
    expect(await works(oldSecret)).toBe(false);
    expect(await works(body.secret), 'the answered secret is the one in force').toBe(true);
    expect(logs).toEqual([expect.objectContaining({ level: 'error', message: expect.stringContaining(`key.rotate ${key.id}`), error: expect.objectContaining({ code: 'SQLITE_BUSY' }) })]);
    expect(await h.stores!.audit.list({ action: 'key.rotate' })).toEqual([]);
  });

  it('create answers the new key and its secret', async () => {
    const restore = failAudit('key.create');
    const res = await admin('POST', '/admin/tenants/acme/keys', { name: 'prod' });
    const body = (await res.json()) as { secret?: string };
    restore();
    expect(res.status).toBe(201);
    expect(res.headers.get('x-llmrr-audit')).toBe('failed');
    expect(await works(body.secret)).toBe(true);
    expect(logs.map((e) => e.level)).toEqual(['error']);
  });

  it('other changes are answered as applied too; with the audit log back, answers carry no header', async () => {
    const restore = failAudit('tenant.update');
    const res = await admin('PATCH', '/admin/tenants/acme', { name: 'Acme Inc' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmrr-audit')).toBe('failed');
    expect((await h.stores!.tenants.getTenant('acme'))?.name).toBe('Acme Inc');
    restore();
    const next = await admin('PATCH', '/admin/tenants/acme', { name: 'Acme' });
    expect(next.status).toBe(200);
    expect(next.headers.get('x-llmrr-audit')).toBeNull();
    expect((await h.stores!.audit.list({ action: 'tenant.update' })).map((e) => e.details?.fields)).toEqual([['name']]);
  });
});

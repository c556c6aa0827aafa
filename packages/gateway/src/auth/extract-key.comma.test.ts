/**
 * A key header holding a comma is one key like any other: an operator's admin or metrics key with a comma works when
 * sent once, a joined repeat (`a, b`) of tenant or admin keys matches nothing and is audited as an auth failure, and
 * demo mode still ignores a placeholder key with a comma.
 */
import { describe, expect, it } from 'vitest';
import { createHarness, get, mockModel, post } from '../test-support/harness.js';

describe('a comma in a configured admin or metrics key', () => {
  // LLMRR_ADMIN_KEY / LLMRR_METRICS_KEY accept any string of 16+ characters (settings.ts); a generated password may
  // hold a comma. One header carrying that exact key worked before the change.
  const ADMIN = 'admin-key,with-a-comma-0123456789';
  const METRICS = 'metrics-key,with-a-comma-0123456789';

  it('the admin API accepts its own configured admin key sent in one X-API-Key header', async () => {
    const h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { auth: { adminKey: ADMIN } } });
    try {
      const res = await get(h.gateway, '/admin/tenants', { 'x-api-key': ADMIN });
      expect(res.status, await res.clone().text()).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('/metrics accepts its own configured metrics key sent as one Bearer token', async () => {
    const h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { auth: { metricsKey: METRICS } } });
    try {
      const res = await get(h.gateway, '/metrics', { authorization: `Bearer ${METRICS}` });
      expect(res.status, await res.clone().text()).toBe(200);
    } finally {
      await h.close();
    }
  });
});

describe('a repeated or listed key header is still audited as an authentication failure', () => {
  it('tenant routes: X-API-Key "a, b" leaves an auth.failure audit row (it did before: unknown_key)', async () => {
    const h = await createHarness({ stores: 'memory', models: [mockModel('mock')] });
    try {
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
      const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': `${secret}, llmrr_guess` });
      expect(res.status).toBeGreaterThanOrEqual(400);
      const rows = await h.stores!.audit.list({ action: 'auth.failure', limit: 100 });
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  });

  it('admin routes: a listed X-API-Key guess at the admin key leaves an auth.failure audit row (scope admin)', async () => {
    const h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { auth: { adminKey: 'the-real-admin-key-0123456789' } } });
    try {
      const res = await get(h.gateway, '/admin/tenants', { 'x-api-key': 'guess-one, guess-two' });
      expect(res.status).toBeGreaterThanOrEqual(400);
      const rows = await h.stores!.audit.list({ action: 'auth.failure', limit: 100 });
      expect(rows.map((r) => (r.details as { extra?: { scope?: string } } | undefined)?.extra?.scope ?? r.details?.scope)).toContain('admin');
    } finally {
      await h.close();
    }
  });
});

describe('demo mode and a client that insists on sending some key', () => {
  // authenticate.ts: "clients that insist on sending some key (OPENAI_API_KEY=anything) still get the demo tenant".
  it('a placeholder key holding a comma (not one of ours) still gets the demo tenant', async () => {
    const h = await createHarness({ stores: 'memory', models: [mockModel('mock')], gateway: { auth: { demoTenantId: 'demo' } } });
    try {
      await h.stores!.tenants.createTenant({ id: 'demo', name: 'Demo' });
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }, { authorization: 'Bearer not-needed,really' });
      expect(res.status, await res.clone().text()).toBe(200);
    } finally {
      await h.close();
    }
  });
});

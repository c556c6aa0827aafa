import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, get, post, type Harness } from '../test-support/harness.js';

describe('/metrics behind auth.metricsKey', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('refuses scrapes without the metrics key (tenant ids and costs are in the labels) and serves them with it', async () => {
    h = await createHarness({ stores: 'memory', gateway: { auth: { metricsKey: 'metrics-secret-0123456789' } } });
    await h.stores!.tenants.createTenant({ id: 'customer-secret-name', name: 'x' });
    const { secret } = await h.stores!.tenants.createKey('customer-secret-name', { name: 'k' });
    const chat = { model: 'mock', messages: [{ role: 'user', content: 'hi' }] };
    expect((await post(h.gateway, '/v1/chat/completions', chat, { authorization: `Bearer ${secret}` })).status).toBe(200);

    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${secret}` }];
    for (const headers of attempts) {
      const res = await get(h.gateway, '/metrics', headers);
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(text).not.toContain('customer-secret-name');
      expect(text).not.toContain('metrics-secret');
    }
    const ok = await get(h.gateway, '/metrics', { authorization: 'Bearer metrics-secret-0123456789' });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('tenant="customer-secret-name"');
    expect((await get(h.gateway, '/metrics', { 'x-api-key': 'metrics-secret-0123456789' })).status).toBe(200);
  });

  it('a wrong or missing metrics key is audited as an auth failure (scope metrics), as a wrong admin key is', async () => {
    h = await createHarness({ stores: 'memory', gateway: { auth: { metricsKey: 'metrics-secret-0123456789', adminKey: 'admin-secret-for-tests-0123456789' } } });
    expect((await get(h.gateway, '/metrics', { authorization: 'Bearer wrong-metrics-key' })).status).toBe(401);
    expect((await get(h.gateway, '/metrics')).status).toBe(401);
    expect((await get(h.gateway, '/admin/tenants', { authorization: 'Bearer wrong-admin-key' })).status).toBe(401);
    expect((await get(h.gateway, '/metrics', { authorization: 'Bearer metrics-secret-0123456789' })).status).toBe(200);
    const failures = await h.stores!.audit.list({ action: 'auth.failure' });
    expect(failures.map((f) => f.details)).toEqual([
      expect.objectContaining({ scope: 'metrics', reason: 'wrong_metrics_key', path: '/metrics' }),
      expect.objectContaining({ scope: 'metrics', reason: 'missing_key', path: '/metrics' }),
      expect.objectContaining({ scope: 'admin', reason: 'wrong_admin_key' }),
    ]);
    expect(JSON.stringify(failures)).not.toContain('wrong-metrics-key');
    // Bounded like every auth failure: repeats from one source within the minute are counted, not a row each.
    for (let i = 0; i < 20; i++) expect((await get(h.gateway, '/metrics', { authorization: `Bearer wrong-${i}` })).status).toBe(401);
    const rows = (await h.stores!.audit.list({ action: 'auth.failure', limit: 1000 })).filter((f) => f.details?.scope === 'metrics');
    expect(rows.length).toBeLessThan(5);
  });
});

describe('/ready', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a failing readiness check is a 503 that does not echo the error text (it may hold connection details)', async () => {
    const logged: unknown[] = [];
    h = await createHarness({
      gateway: {
        ready: () => {
          throw new Error('connect ECONNREFUSED postgres://llmrr:hunter2@db.internal:5432');
        },
        log: (entry) => logged.push(entry.error),
      },
    });
    const res = await get(h.gateway, '/ready');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('db.internal');
    expect(JSON.parse(text)).toMatchObject({ status: 'not_ready' });
    expect(String(logged[0])).toContain('ECONNREFUSED');
  });
});

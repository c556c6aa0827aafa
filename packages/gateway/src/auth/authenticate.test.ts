import { closeAuthFailureAudit } from '@llmrr/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, post, type Harness } from '../test-support/harness.js';

const chat = { model: 'mock', messages: [{ role: 'user', content: 'hi' }] };

describe('auditing failed logins', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ stores: 'memory' });
  });
  afterEach(() => h.close());

  it('300 failures with the same wrong key are every one a 401, but one audit row now and one counted row later', async () => {
    const bad = `llmrr_${'Z'.repeat(43)}`;
    for (let i = 0; i < 300; i++) {
      const res = await post(h.gateway, '/v1/chat/completions', chat, { authorization: `Bearer ${bad}` });
      expect(res.status).toBe(401);
    }
    const now = await h.stores!.audit.list({ action: 'auth.failure' });
    expect(now).toHaveLength(1);
    expect(now[0]!.details).toMatchObject({ reason: 'unknown_key', keyPrefix: 'llmrr_ZZZZZZ' });
    expect(JSON.stringify(now)).not.toContain(bad);
    await closeAuthFailureAudit(h.stores!.audit); // as stores.close() does at shutdown
    const rows = await h.stores!.audit.list({ action: 'auth.failure' });
    expect(rows).toHaveLength(2);
    expect(rows[1]!.details).toMatchObject({ reason: 'unknown_key', repeated: true, count: 299 });
    expect((await h.stores!.audit.verify()).ok).toBe(true);
  });

  it('a flood of distinct keys is capped per window; the excess is counted in one suppressed row', async () => {
    for (let i = 0; i < 150; i++) {
      const key = `llmrr_${i.toString(36).padStart(6, '0')}${'q'.repeat(37)}`;
      expect((await post(h.gateway, '/v1/chat/completions', chat, { 'x-api-key': key })).status).toBe(401);
    }
    expect(await h.stores!.audit.list({ action: 'auth.failure', limit: 1000 })).toHaveLength(100);
    await closeAuthFailureAudit(h.stores!.audit);
    const suppressed = await h.stores!.audit.list({ action: 'auth.failure.suppressed' });
    expect(suppressed.map((r) => r.details?.count)).toEqual([50]);
  });

  it('keeps auditing a revoked key by key id, and different reasons separately', async () => {
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const { key, secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
    await h.stores!.tenants.revokeKey(key.id);
    for (let i = 0; i < 3; i++) expect((await post(h.gateway, '/v1/chat/completions', chat, { authorization: `Bearer ${secret}` })).status).toBe(401);
    expect((await post(h.gateway, '/v1/chat/completions', chat)).status).toBe(401);
    const rows = await h.stores!.audit.list({ action: 'auth.failure' });
    expect(rows.map((r) => [r.details?.reason, r.target])).toEqual([
      ['revoked', key.id],
      ['missing_key', undefined],
    ]);
  });
});

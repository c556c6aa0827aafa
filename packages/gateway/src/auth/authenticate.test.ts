import { closeAuthFailureAudit } from '@llmrr/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHarness, get, post, type Harness } from '../test-support/harness.js';
import type { GatewayLogEntry } from '../types.js';

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

describe('an auth-failure audit write that fails', () => {
  const ADMIN = 'admin-secret-for-tests-0123456789';
  let h: Harness | undefined;
  const logs: GatewayLogEntry[] = [];
  beforeEach(async () => {
    logs.length = 0;
    h = await createHarness({ stores: 'memory', gateway: { log: (e: GatewayLogEntry) => logs.push(e), auth: { metricsKey: 'metrics-secret-0123456789', adminKey: ADMIN } } });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await h?.close();
  });
  const failedWrite = () =>
    vi.waitFor(() => {
      const entry = logs.find((e) => e.message.startsWith('audit append failed'));
      if (!entry) throw new Error('not logged yet');
      return entry;
    });

  it("is logged under its own request's id (not the first request's to fail a login in the process), with the error", async () => {
    // The process's auditor is made at the gateway's start: the first failed login (here /metrics) does not keep it.
    const first = await get(h!.gateway, '/metrics', { authorization: 'Bearer wrong-metrics-key' });
    expect(first.status).toBe(401);
    const down = new Error('audit store down');
    vi.spyOn(h!.stores!.audit, 'append').mockRejectedValue(down);
    const second = await get(h!.gateway, '/admin/tenants', { authorization: 'Bearer wrong-admin-key' });
    expect(second.status).toBe(401);
    expect(await failedWrite()).toMatchObject({ level: 'error', message: 'audit append failed', requestId: second.headers.get('x-request-id'), error: down });

    // A model endpoint's failed login too (its error was dropped: the message was logged as the error).
    logs.length = 0;
    const third = await post(h!.gateway, '/v1/chat/completions', chat, { authorization: 'Bearer not-a-key' });
    expect(third.status).toBe(401);
    expect(await failedWrite()).toMatchObject({ message: 'audit append failed', requestId: third.headers.get('x-request-id'), error: down });
  });

  it('the counts of an ended window (no request of their own) are logged without a request id', async () => {
    for (let i = 0; i < 2; i++) expect((await post(h!.gateway, '/v1/chat/completions', chat, { authorization: 'Bearer not-a-key' })).status).toBe(401);
    const down = new Error('audit store down');
    vi.spyOn(h!.stores!.audit, 'append').mockRejectedValue(down);
    await closeAuthFailureAudit(h!.stores!.audit);
    const entry = await failedWrite();
    expect(entry).toMatchObject({ level: 'error', message: 'audit append failed (auth.failure counts of an ended window)', error: down });
    expect(entry.requestId).toBeUndefined();
  });
});

describe('the counts of an ended window written by another failed login', () => {
  let h: Harness | undefined;
  const logs: GatewayLogEntry[] = [];
  beforeEach(async () => {
    logs.length = 0;
    // Only the clocks are faked (the auditor's: Date.now dates its rows, performance.now measures its windows): timers
    // stay real.
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    vi.setSystemTime(Date.UTC(2026, 10, 28, 12, 0, 0));
    h = await createHarness({ stores: 'memory', gateway: { log: (e: GatewayLogEntry) => logs.push(e) } });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    vi.useRealTimers();
    await h?.close();
  });

  it("a failed write of them is logged without a request id, and only that login's own row under its id", async () => {
    // One source fails twice: one row now, one repeat counted for the end of its window.
    for (let i = 0; i < 2; i++) expect((await post(h!.gateway, '/v1/chat/completions', chat, { authorization: 'Bearer not-a-key' })).status).toBe(401);
    // The window ends; the store goes down; another source (no key at all) fails to log in and so ends the window.
    vi.advanceTimersByTime(61_000);
    const down = new Error('audit store down');
    vi.spyOn(h!.stores!.audit, 'append').mockRejectedValue(down);
    const other = await post(h!.gateway, '/v1/chat/completions', chat);
    expect(other.status).toBe(401);
    const failed = () => logs.filter((e) => e.message.startsWith('audit append failed'));
    await vi.waitFor(() => expect(failed()).toHaveLength(2));
    expect(failed().map((e) => ({ message: e.message, requestId: e.requestId ?? null, error: e.error })).sort((a, b) => a.message.localeCompare(b.message))).toEqual([
      { message: 'audit append failed', requestId: other.headers.get('x-request-id'), error: down },
      { message: 'audit append failed (auth.failure counts of an ended window)', requestId: null, error: down },
    ]);
  });
});

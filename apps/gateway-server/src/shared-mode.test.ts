/**
 * Shared mode end to end: TWO gateway server processes (src/main.ts, LLMRR_STATE=shared) on one real
 * Redis and one real PostgreSQL, started by vitest.global-setup.ts (tools/services/*.sh). Skipped, with
 * the reason, when redis-server or PostgreSQL is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSharedState, sharedModeSetup, sharedServices, startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

const ADMIN = 'shared-mode-admin-key-0123456789';
const TEST = 'two-process shared-mode test';
const services = sharedServices(TEST);
const { skip } = services;

/**
 * The mock deployment costs exactly $1 per call with `max_tokens: 4` (input free, 4 output words at
 * $250,000 per million): the budget's worst-case reservation equals the settled cost, so a budget of $N
 * admits exactly N calls. The exact cache is on, so the server puts it in Redis.
 */
const CONFIG = {
  version: 2,
  models: [
    { name: 'mock', engine: 'mock', price: { input: 0, output: 250_000 }, capabilities: ['chat', 'streaming', 'completion'], options: {} },
    { name: 'slow', engine: 'mock', price: { input: 0, output: 0 }, capabilities: ['chat', 'streaming'], options: { delayMs: 50 } },
  ],
  routing: { strategy: 'priority', retries: { max: 0 } },
  cache: { exact: { enabled: true, ttlMs: 600_000 } },
};

const appDir = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * A connection that takes the audit log's append lock of `schema` and keeps its transaction open: a stalled
 * appender (a process paused or cut off between its `pg_advisory_xact_lock` and its COMMIT keeps the lock until TCP
 * gives up, hours). Killing the child closes the connection, which frees the lock.
 */
function holdAuditLock(schema: string): Promise<ChildProcess> {
  const script = `
    const pg = require('pg');
    (async () => {
      const c = new pg.Client({ connectionString: process.env.PG_URL });
      await c.connect();
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['llmrr_audit:' + process.env.PG_SCHEMA]);
      process.stdout.write('locked\\n');
      process.stdin.resume();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: appDir, env: { ...process.env, NODE_OPTIONS: '', PG_URL: services.postgresUrl, PG_SCHEMA: schema }, stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}: ${err}`)));
  });
}

async function releaseAuditLock(holder: ChildProcess | undefined): Promise<void> {
  if (!holder || holder.exitCode !== null || holder.signalCode !== null) return;
  const exited = new Promise((r) => holder.once('exit', r));
  holder.kill('SIGKILL');
  await exited;
}

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: two gateway processes on one Redis and one PostgreSQL', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `gw_${id}`, prefix: `gw${id}:`, adminKey: ADMIN };
  let dir: string | undefined;
  let a: Gateway | undefined;
  let b: Gateway | undefined;
  const both = () => [a!, b!];

  const request = (g: Gateway, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${g.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
    });
  const admin = async <T = Record<string, unknown>>(g: Gateway, method: string, path: string, body?: unknown, status = 200): Promise<T> => {
    const res = await request(g, method, path, body, { authorization: `Bearer ${ADMIN}` });
    const text = await res.text();
    expect(res.status, `${g.name} ${method} ${path}: ${text}`).toBe(status);
    return JSON.parse(text) as T;
  };
  const chat = (g: Gateway, secret: string, content: string, extra: Record<string, unknown> = {}) =>
    request(g, 'POST', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content }], max_tokens: 4, ...extra }, { authorization: `Bearer ${secret}` });
  const tenantWithKey = async (g: Gateway, tenant: Record<string, unknown>): Promise<{ keyId: string; secret: string }> => {
    await admin(g, 'POST', '/admin/tenants', tenant, 201);
    const created = await admin<{ key: { id: string }; secret: string }>(g, 'POST', `/admin/tenants/${String(tenant.id)}/keys`, { name: 'test' }, 201);
    return { keyId: created.key.id, secret: created.secret };
  };

  beforeAll(async () => {
    const setup = sharedModeSetup(CONFIG, services, run);
    dir = setup.dir;
    const { env } = setup;
    // Both at once: their schema migrations meet under PostgreSQL's advisory lock.
    [a, b] = await Promise.all([startGateway('A', env), startGateway('B', env)]);
  }, 180_000);

  let holder: ChildProcess | undefined;

  afterAll(async () => {
    await releaseAuditLock(holder);
    await Promise.all([stopGateway(a), stopGateway(b)]);
    dropSharedState(TEST, services, run, dir);
  }, 60_000);

  it('serves in shared mode with the exact cache in Redis', () => {
    for (const g of both()) {
      expect(g.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(g.output()).toContain('state: shared');
      expect(g.output()).toContain('exact cache: on (Redis, shared)');
    }
    expect(a!.url).not.toBe(b!.url);
  });

  it('a key created through A authenticates on B; revoked through B, it fails on both', async () => {
    const { keyId, secret } = await tenantWithKey(a!, { id: 'keys', name: 'Keys' });
    const onB = await chat(b!, secret, 'hello from B');
    expect(onB.status).toBe(200);
    expect(((await onB.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('Mock answer to: hello');
    expect((await chat(a!, secret, 'hello from A')).status).toBe(200);
    await admin(b!, 'POST', `/admin/keys/${keyId}/revoke`);
    for (const g of both()) expect((await chat(g, secret, 'after revoke')).status, g.name).toBe(401);
  });

  it('a key revoked at once through A and B: one revocation time, one key.revoke audit entry (the store decides)', async () => {
    const { keyId } = await tenantWithKey(a!, { id: 'revokes', name: 'Revokes' });
    const perKey: number[] = [];
    for (let round = 0; round < 5; round++) {
      const id = round === 0 ? keyId : (await admin<{ key: { id: string } }>(a!, 'POST', '/admin/tenants/revokes/keys', { name: `k${round}` }, 201)).key.id;
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => admin<{ revokedAt?: number }>(i % 2 ? b! : a!, 'POST', `/admin/keys/${id}/revoke`)));
      expect(new Set(answers.map((r) => r.revokedAt)).size).toBe(1);
      perKey.push((await admin<{ data: unknown[] }>(a!, 'GET', `/admin/audit?action=key.revoke&target=${id}`)).data.length);
    }
    expect(perKey).toEqual([1, 1, 1, 1, 1]);
  });

  it('rate limits are shared: rpm counts requests on both processes', async () => {
    const { secret } = await tenantWithKey(a!, { id: 'rpm', name: 'Rpm', limits: { rpm: 4 } });
    // 10 at once, 5 to each process. One limiter across both: exactly 4 pass (per process: 8).
    const res = await Promise.all(Array.from({ length: 10 }, (_, i) => chat(i % 2 ? b! : a!, secret, `rpm ${i}`)));
    const statuses = res.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
    const refused = res.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('a key limit changed through A is enforced by B on its next request', async () => {
    const { keyId, secret } = await tenantWithKey(a!, { id: 'keylimits', name: 'Key limits' });
    for (let i = 0; i < 3; i++) expect((await chat(b!, secret, `free ${i}`)).status).toBe(200);
    await admin(a!, 'PATCH', `/admin/keys/${keyId}`, { limits: { rpm: 1 } });
    expect((await chat(b!, secret, 'limited 1')).status).toBe(200);
    expect((await chat(b!, secret, 'limited 2')).status).toBe(429);
    expect((await chat(a!, secret, 'limited 3')).status).toBe(429);
  });

  it('one budget shared by both processes is never overspent under 100 concurrent requests', async () => {
    const { secret } = await tenantWithKey(a!, { id: 'budget', name: 'Budget', budget: { amountUsd: 7, period: 'month' } });
    // Distinct prompts, so no answer comes from the cache (a cache hit would cost nothing).
    const res = await Promise.all(Array.from({ length: 100 }, (_, i) => chat(i % 2 ? b! : a!, secret, `req${i}`)));
    const statuses = res.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(7);
    expect(statuses.filter((s) => s === 402)).toHaveLength(93);
    const costs = res.filter((r) => r.status === 200).map((r) => Number(r.headers.get('x-llmrr-cost-usd')));
    expect(costs).toEqual(Array(7).fill(1));

    const entries = await admin<{ data: Array<{ status: string; costUsd: number }> }>(a!, 'GET', '/admin/usage/entries?tenant=budget&limit=1000');
    const settled = entries.data.filter((e) => e.status === 'success');
    expect(settled).toHaveLength(7);
    const spent = entries.data.reduce((sum, e) => sum + e.costUsd, 0);
    expect(spent).toBeLessThanOrEqual(7);
    expect(spent).toBeCloseTo(7, 9);
    const budget = await admin<{ spentUsd: number; reservedUsd: number; remainingUsd: number }>(b!, 'GET', '/admin/tenants/budget/budget');
    expect(budget.spentUsd).toBeCloseTo(7, 9);
    expect(budget.reservedUsd).toBe(0);
    expect(budget.remainingUsd).toBe(0);
  }, 120_000);

  it('ledger rows written by both processes appear in one invoice', async () => {
    const { secret } = await tenantWithKey(a!, { id: 'invoice', name: 'Invoice' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const g = i < 3 ? a! : b!;
      const clientId = `inv-${g.name}-${i}-${id}`;
      expect((await chat(g, secret, `invoice ${i}`, {})).status).toBe(200);
      // The gateway's own request id (x-request-id of the answer) is the ledger key; a client's id is only echoed.
      const res = await request(g, 'POST', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: `invoice id ${i}` }], max_tokens: 4 }, { authorization: `Bearer ${secret}`, 'x-request-id': clientId });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-client-request-id')).toBe(clientId);
      ids.push(res.headers.get('x-request-id')!);
    }
    for (const rid of ids) expect((await admin<{ tenantId: string }>(a!, 'GET', `/admin/usage/${rid}`)).tenantId).toBe('invoice');
    const month = new Date().toISOString().slice(0, 7);
    const invoices = await Promise.all(both().map((g) => admin<{ requests: number; totalUsd: number; lines: Array<{ model: string; requests: number }> }>(g, 'GET', `/admin/tenants/invoice/invoice?period=${month}`)));
    for (const inv of invoices) {
      expect(inv.requests).toBe(10);
      expect(inv.totalUsd).toBeCloseTo(10, 9);
      expect(inv.lines).toEqual([expect.objectContaining({ model: 'mock', requests: 10 })]);
    }
  });

  it('shares the exact cache: an answer stored through A is a hit on B', async () => {
    const { secret } = await tenantWithKey(a!, { id: 'cache', name: 'Cache' });
    const first = await chat(a!, secret, 'cache me');
    expect(first.headers.get('x-llmrr-cache')).toBe('miss');
    const second = await chat(b!, secret, 'cache me');
    expect(second.status).toBe(200);
    expect(second.headers.get('x-llmrr-cache')).toBe('hit-exact');
    expect(second.headers.get('x-llmrr-cost-usd')).toBe('0');
  });

  it('a tenant model added through A is served by B, and B follows its changes', async () => {
    const own = (reply: string) => ({ name: 'own-llm', engine: 'mock', price: { input: 0, output: 0 }, options: { reply } });
    const { secret } = await tenantWithKey(a!, { id: 'owner', name: 'Owner', models: [own('first version')] });
    const other = await tenantWithKey(a!, { id: 'other', name: 'Other' });
    const ask = async (g: Gateway, s: string) => {
      const res = await request(g, 'POST', '/v1/chat/completions', { model: 'own-llm', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${s}` });
      return res.status === 200 ? ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content : res.status;
    };
    expect(await ask(b!, secret)).toBe('first version');
    expect(await ask(b!, other.secret)).toBe(404);
    await admin(a!, 'PATCH', '/admin/tenants/owner', { models: [own('second version')] });
    expect(await ask(b!, secret)).toBe('second version');
    expect(await ask(a!, secret)).toBe('second version');
  });

  it('the audit chain written concurrently by both processes verifies', async () => {
    await admin(a!, 'POST', '/admin/tenants', { id: 'audit', name: 'Audit' }, 201);
    const before = await admin<{ count: number }>(a!, 'GET', '/admin/audit/verify');
    const work: Array<Promise<unknown>> = [];
    for (let i = 0; i < 12; i++) {
      for (const g of both()) {
        work.push(admin(g, 'POST', '/admin/tenants/audit/keys', { name: `${g.name}-${i}` }, 201));
        work.push(request(g, 'POST', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'x' }] }, { authorization: `Bearer llmrr_${'A'.repeat(43)}` }));
      }
    }
    await Promise.all(work);
    for (const g of both()) {
      const v = await admin<{ ok: boolean; count: number }>(g, 'GET', '/admin/audit/verify');
      expect(v.ok, g.name).toBe(true);
      // 24 key.create rows + one auth.failure row per process (its 11 repeats are counted in one more row at the window's end)
      expect(v.count).toBe(before.count + 26);
    }
    const entries = await admin<{ data: Array<{ seq: number; action: string; details?: { name?: string } }> }>(b!, 'GET', `/admin/audit?afterSeq=${before.count}&limit=1000`);
    expect(entries.data.map((e) => e.seq)).toEqual(Array.from({ length: 26 }, (_, i) => before.count + 1 + i));
    const created = entries.data.filter((e) => e.action === 'key.create').map((e) => e.details?.name ?? '');
    expect(created.filter((n) => n.startsWith('A-'))).toHaveLength(12);
    expect(created.filter((n) => n.startsWith('B-'))).toHaveLength(12);
    expect(entries.data.filter((e) => e.action === 'auth.failure')).toHaveLength(2);
  });

  // A stalled holder of the audit lock: every append waits at most 5 s for it (then fails, and is logged), and the
  // waiting appends hold at most two pool connections per process. Found by a hunt: the 401s waited for their rows
  // without a bound, their appends took the whole pool, and a valid key got a 500.
  it('a stalled audit appender: failed logins still get their 401, and a valid key is still served', async () => {
    const { secret } = await tenantWithKey(a!, { id: 'stalled', name: 'Stalled' });
    expect((await chat(b!, secret, 'before')).status).toBe(200);
    holder = await holdAuditLock(run.schema);
    try {
      const status = (key: string) =>
        request(b!, 'POST', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'x' }], max_tokens: 4 }, { authorization: `Bearer ${key}` }, AbortSignal.timeout(30_000)).then(
          (r) => r.status,
          (e: Error) => e.name,
        );
      // Twelve clients with mistyped keys (distinct sources: each one's first failure is an audit row), more than the pool.
      const failed = await Promise.all(Array.from({ length: 12 }, (_, i) => status(`llmrr_${String(i).padStart(2, '0')}${randomBytes(31).toString('base64url').slice(0, 41)}`)));
      const valid = await status(secret);
      expect({ failed, valid }).toEqual({ failed: Array(12).fill(401), valid: 200 });
      expect(b!.output()).toContain('audit append failed');
    } finally {
      await releaseAuditLock(holder);
    }
  }, 90_000);

  it('a stalled audit appender: a rotation is applied and answered with its new secret, marked x-llmrr-audit: failed', async () => {
    const { keyId, secret } = await tenantWithKey(a!, { id: 'rotated', name: 'Rotated' });
    holder = await holdAuditLock(run.schema);
    let rotated: Response;
    try {
      rotated = await request(a!, 'POST', `/admin/keys/${keyId}/rotate`, undefined, { authorization: `Bearer ${ADMIN}` }, AbortSignal.timeout(30_000));
    } finally {
      await releaseAuditLock(holder);
    }
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('x-llmrr-audit')).toBe('failed');
    const fresh = ((await rotated.json()) as { secret: string }).secret;
    expect((await chat(b!, secret, 'old secret')).status).toBe(401);
    expect((await chat(b!, fresh, 'new secret')).status).toBe(200);
    // Once the lock is free, appends work again on both processes and the chain still verifies.
    await admin(b!, 'PATCH', '/admin/tenants/rotated', { name: 'Rotated again' });
    const v = await admin<{ ok: boolean }>(a!, 'GET', '/admin/audit/verify');
    expect(v.ok).toBe(true);
  }, 90_000);
});

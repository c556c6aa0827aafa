/**
 * A gateway server process in shared mode whose Redis stops answering (a partition, a stalled primary) and then
 * goes away (connections dropped, nothing listening). Every request asks Redis first (rate limits, budget
 * reservation): it must get a 503 `store_unavailable` within the configured bound (`LLMRR_REDIS_TIMEOUT_MS`),
 * not hang and not a 500 `internal`, and the answer must not name the store's address (the server log does).
 * Real Redis and PostgreSQL (vitest.global-setup.ts); Redis is reached through a loopback TCP relay that the test
 * stalls, then closes. Then a second process whose PostgreSQL goes away the same way (connections dropped, nothing
 * listening: a restart, a failover): key lookups and admin calls get the same retryable 503, not a 500 `internal`.
 */
import { randomBytes } from 'node:crypto';
import { startTcpRelay, type TcpRelay } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSharedState, sharedModeSetup, sharedServices, startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

const ADMIN = 'shared-mode-outage-admin-key-0123';
const TEST = 'shared-mode Redis outage test';
const services = sharedServices(TEST);
const { skip } = services;
const TIMEOUT_MS = 300;

const CONFIG = {
  version: 2,
  models: [{ name: 'mock', engine: 'mock', price: { input: 1, output: 1 }, capabilities: ['chat'], options: {} }],
  routing: { strategy: 'priority', retries: { max: 0 } },
};

interface ErrorReply {
  status: number;
  ms: number;
  error: { type?: string; code?: string; message?: string };
}

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: Redis stalls, then goes away', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `outage_${id}`, prefix: `outage${id}:`, adminKey: ADMIN };
  let dir: string | undefined;
  let relay: TcpRelay | undefined;
  let g: Gateway | undefined;
  let secret = '';

  const request = (method: string, path: string, body: unknown, auth: string) =>
    fetch(`${g!.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, body: JSON.stringify(body) });
  const chat = async (content: string): Promise<ErrorReply> => {
    const t0 = Date.now();
    const res = await request('POST', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content }], max_tokens: 4 }, secret);
    const json = (await res.json()) as { error?: ErrorReply['error'] };
    return { status: res.status, ms: Date.now() - t0, error: json.error ?? {} };
  };

  beforeAll(async () => {
    const redis = new URL(services.redisUrl!);
    relay = await startTcpRelay({ host: redis.hostname, port: Number(redis.port) });
    const setup = sharedModeSetup(CONFIG, services, run);
    dir = setup.dir;
    g = await startGateway('A', { ...setup.env, LLMRR_REDIS_URL: `redis://127.0.0.1:${relay.port}`, LLMRR_REDIS_TIMEOUT_MS: String(TIMEOUT_MS) });
    const tenant = await request('POST', '/admin/tenants', { id: 'acme', name: 'Acme', limits: { rpm: 1000 }, budget: { amountUsd: 100, period: 'month' } }, ADMIN);
    expect(tenant.status).toBe(201);
    const key = await request('POST', '/admin/tenants/acme/keys', { name: 'ci' }, ADMIN);
    expect(key.status).toBe(201);
    secret = ((await key.json()) as { secret: string }).secret;
  }, 180_000);

  afterAll(async () => {
    await stopGateway(g);
    await relay?.close();
    dropSharedState(TEST, services, run, dir);
  }, 60_000);

  it('answers through the relay while Redis answers', async () => {
    const reply = await chat('hello');
    expect(reply.status, JSON.stringify(reply.error)).toBe(200);
  });

  it('a stalled Redis: 503 store_unavailable within the bound, without the store address', async () => {
    relay!.stall();
    const reply = await chat('while stalled');
    expect(reply.status, JSON.stringify(reply.error)).toBe(503);
    expect(reply.error).toMatchObject({ type: 'api_error', code: 'store_unavailable' });
    expect(reply.error.message).not.toContain(String(relay!.port));
    expect(reply.error.message).not.toContain('127.0.0.1');
    // The bound is 300 ms per call; a generous ceiling for a loaded machine, far below TCP keepalive (minutes).
    expect(reply.ms).toBeLessThan(10_000);
    // The operator sees what happened.
    expect(g!.output()).toContain(`within ${TIMEOUT_MS} ms`);
  }, 30_000);

  it('Redis gone (connections dropped, nothing listening): 503 store_unavailable, not a 500', async () => {
    await relay!.close();
    const reply = await chat('while down');
    expect(reply.status, JSON.stringify(reply.error)).toBe(503);
    expect(reply.error).toMatchObject({ type: 'api_error', code: 'store_unavailable' });
    expect(reply.ms).toBeLessThan(10_000);
  }, 30_000);
});

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: PostgreSQL goes away', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `pgdown_${id}`, prefix: `pgdown${id}:`, adminKey: ADMIN };
  let dir: string | undefined;
  let relay: TcpRelay | undefined;
  let g: Gateway | undefined;
  let secret = '';
  const password = `pgdown-password-${id}`;

  const request = (method: string, path: string, body: unknown, auth: string) =>
    fetch(`${g!.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const reply = async (res: Response) => ({ status: res.status, error: ((await res.json()) as { error?: ErrorReply['error'] }).error ?? {} });

  beforeAll(async () => {
    const pg = new URL(services.postgresUrl!);
    relay = await startTcpRelay({ host: pg.hostname, port: Number(pg.port) });
    const setup = sharedModeSetup(CONFIG, services, run);
    dir = setup.dir;
    pg.host = `127.0.0.1:${relay.port}`;
    // The test server trusts loopback: the password only checks that nothing prints it.
    pg.password = password;
    g = await startGateway('P', { ...setup.env, LLMRR_POSTGRES_URL: pg.href });
    expect((await request('POST', '/admin/tenants', { id: 'acme', name: 'Acme' }, ADMIN)).status).toBe(201);
    const key = await request('POST', '/admin/tenants/acme/keys', { name: 'ci' }, ADMIN);
    expect(key.status).toBe(201);
    secret = ((await key.json()) as { secret: string }).secret;
  }, 180_000);

  afterAll(async () => {
    await stopGateway(g);
    await relay?.close();
    dropSharedState(TEST, services, run, dir);
  }, 60_000);

  it('PostgreSQL gone: a valid key and an admin call get 503 store_unavailable, not a 500, without the address', async () => {
    const chat = () => request('POST', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }, secret);
    expect((await chat()).status).toBe(200);
    await relay!.close();
    for (const res of [await chat(), await request('GET', '/admin/tenants/acme', undefined, ADMIN)]) {
      const r = await reply(res);
      expect(r.status, JSON.stringify(r.error)).toBe(503);
      expect(r.error).toMatchObject({ type: 'api_error', code: 'store_unavailable' });
      expect(r.error.message).not.toContain(String(relay!.port));
      expect(r.error.message).not.toContain('127.0.0.1');
    }
    // The operator sees what happened, without the connection string's credentials.
    expect(g!.output()).toContain('PostgreSQL is unavailable');
    expect(g!.output()).not.toContain(password);
  }, 60_000);
});

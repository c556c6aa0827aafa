/**
 * `GET /ready` of a gateway server process in shared mode whose Redis went away: every model request is then a
 * 503 `store_unavailable` (shared-mode-store-outage.test.ts), so a readiness probe (Kubernetes, a load balancer)
 * sees the process as not ready too. The gateway's default check pings the stores (a Redis `PING` and a
 * PostgreSQL `SELECT 1`, each within `LLMRR_REDIS_TIMEOUT_MS`).
 * Real Redis and PostgreSQL (vitest.global-setup.ts); Redis reached through a loopback TCP relay, then closed.
 */
import { randomBytes } from 'node:crypto';
import { startTcpRelay, type TcpRelay } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSharedState, sharedModeSetup, sharedServices, startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

const ADMIN = 'ready-store-outage-admin-key-0123';
const TEST = 'shared-mode /ready on a Redis outage';
const services = sharedServices(TEST);
const { skip } = services;

const CONFIG = {
  version: 2,
  models: [{ name: 'mock', engine: 'mock', price: { input: 1, output: 1 }, capabilities: ['chat'], options: {} }],
  routing: { strategy: 'priority', retries: { max: 0 } },
};

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: /ready while Redis is gone', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `readyout_${id}`, prefix: `readyout${id}:`, adminKey: ADMIN };
  let dir: string | undefined;
  let relay: TcpRelay | undefined;
  let g: Gateway | undefined;
  let secret = '';
  const request = (method: string, path: string, body: unknown, auth: string) =>
    fetch(`${g!.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, body: JSON.stringify(body) });

  beforeAll(async () => {
    const redis = new URL(services.redisUrl!);
    relay = await startTcpRelay({ host: redis.hostname, port: Number(redis.port) });
    const setup = sharedModeSetup(CONFIG, services, run);
    dir = setup.dir;
    g = await startGateway('A', { ...setup.env, LLMRR_REDIS_URL: `redis://127.0.0.1:${relay.port}`, LLMRR_REDIS_TIMEOUT_MS: '300' });
    expect((await request('POST', '/admin/tenants', { id: 'acme', name: 'Acme', limits: { rpm: 1000 } }, ADMIN)).status).toBe(201);
    const key = await request('POST', '/admin/tenants/acme/keys', { name: 'ci' }, ADMIN);
    secret = ((await key.json()) as { secret: string }).secret;
  }, 180_000);

  afterAll(async () => {
    await stopGateway(g);
    await relay?.close();
    dropSharedState(TEST, services, run, dir);
  }, 60_000);

  it('is 200 while Redis answers, and 503 once every model request is a 503 store_unavailable', async () => {
    expect((await fetch(`${g!.url}/ready`)).status).toBe(200);
    await relay!.close();
    const chat = await request('POST', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }, secret);
    expect(chat.status).toBe(503);
    expect(((await chat.json()) as { error: { code: string } }).error.code).toBe('store_unavailable');
    const ready = await fetch(`${g!.url}/ready`);
    expect(ready.status, await ready.text()).toBe(503);
  }, 30_000);
});

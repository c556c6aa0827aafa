/**
 * Embedded mode, TWO gateway server processes (src/main.ts, LLMRR_STATE=embedded) on one LLMRR_DATA_DIR (one
 * SQLite file), a tenant deleted through A's admin API. Embedded mode has no deletion notices (stores.tenantEvents
 * is shared mode's): B refuses the deleted tenant's key at once (SQLite's data_version clears its authentication
 * cache), but keeps the tenant's own model (and its open circuit's llm_circuit_state series) in memory until it
 * restarts - the limit the gateway README's "Not done" and docs/core/tenancy.md state. When B learns to forget it,
 * this test fails: update those docs with it.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall, gatewayRequest as request, gatewaySetup, startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

const ADMIN = 'embedded-two-process-tenant-delete-admin-0123';

const CONFIG = {
  version: 2,
  models: [{ name: 'mock', engine: 'mock', price: { input: 0, output: 0 }, capabilities: ['chat', 'streaming', 'completion'], options: {} }],
  routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
};

describe('embedded mode: two gateway processes on one SQLite file, a tenant deleted through one', () => {
  let dir: string | undefined;
  let a: Gateway | undefined;
  let b: Gateway | undefined;

  const admin = <T = Record<string, unknown>>(g: Gateway, method: string, path: string, body: unknown, status: number) => adminCall<T>(g, ADMIN, method, path, body, status);
  const metrics = async (g: Gateway) => (await fetch(`${g.url}/metrics`)).text();

  beforeAll(async () => {
    const setup = gatewaySetup(CONFIG, 'embedded', ADMIN, 'llmrr-embedded-two-');
    dir = setup.dir;
    const env = setup.env;
    a = await startGateway('A', env);
    b = await startGateway('B', env);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([stopGateway(a), stopGateway(b)]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("B refuses the deleted tenant's key at once, and keeps its own model in memory (documented: no notices in embedded mode)", async () => {
    const failing = { name: 'own-llm', engine: 'mock', price: { input: 0, output: 0 }, options: { failures: [{ code: 'provider_error', message: 'down', times: 100 }] } };
    await admin(a!, 'POST', '/admin/tenants', { id: 'gone', name: 'Gone', models: [failing] }, 201);
    const secret = (await admin<{ secret: string }>(a!, 'POST', '/admin/tenants/gone/keys', { name: 'k' }, 201)).secret;
    const res = await request(b!, 'POST', '/v1/chat/completions', { model: 'own-llm', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
    expect(res.status).not.toBe(200);
    const series = /^llm_circuit_state\{[^}]*tenant="gone"[^}]*\} 2$/m;
    await vi.waitFor(async () => expect(await metrics(b!)).toMatch(series), { timeout: 15_000, interval: 100 });

    await admin(a!, 'DELETE', '/admin/tenants/gone', undefined, 200);
    expect(await metrics(a!)).not.toMatch(series);
    // The key is refused in B at once (SQLite's data_version) ...
    const after = await request(b!, 'POST', '/v1/chat/completions', { model: 'own-llm', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
    expect(after.status).toBe(401);
    // ... but nothing tells B of the deletion: the deleted tenant's model and circuit stay (README "Not done").
    expect(await metrics(b!)).toMatch(series);
  }, 90_000);
});

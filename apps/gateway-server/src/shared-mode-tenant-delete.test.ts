/**
 * A deleted tenant in shared mode: TWO gateway server processes (src/main.ts, LLMRR_STATE=shared) on one real Redis
 * and one real PostgreSQL (vitest.global-setup.ts). A tenant deleted through the admin API of one process is
 * forgotten by the other too (its own models, its circuits, what the strategies learned of it: Redis pub/sub), and a
 * tenant row written again under an id (a restore; the admin API itself refuses a deleted tenant's id) is another
 * incarnation to every process, which does not inherit the old one's in-memory state. Skipped, with the reason,
 * when redis-server or PostgreSQL is not installed.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dropSharedState, sharedModeSetup, sharedServices, sharedSql, startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

const ADMIN = 'shared-tenant-delete-admin-key-0123456789';
const TEST = 'two-process tenant deletion test';
const services = sharedServices(TEST);
const { skip } = services;

/** One failure opens a circuit, for long: an open circuit of a tenant's own model stays open through the test. */
const CONFIG = {
  version: 2,
  models: [{ name: 'mock', engine: 'mock', price: { input: 0, output: 0 }, capabilities: ['chat', 'streaming', 'completion'], options: {} }],
  routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 600_000 } },
};

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: a tenant deleted through one gateway process', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `gwt_${id}`, prefix: `gwt${id}:`, adminKey: ADMIN };
  let dir: string | undefined;
  let a: Gateway | undefined;
  let b: Gateway | undefined;

  const request = (g: Gateway, method: string, path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${g.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const admin = async <T = Record<string, unknown>>(g: Gateway, method: string, path: string, body: unknown, status: number): Promise<T> => {
    const res = await request(g, method, path, body, { authorization: `Bearer ${ADMIN}` });
    const text = await res.text();
    expect(res.status, `${g.name} ${method} ${path}: ${text}`).toBe(status);
    return JSON.parse(text) as T;
  };
  const keyOf = async (tenant: string) => (await admin<{ secret: string }>(a!, 'POST', `/admin/tenants/${tenant}/keys`, { name: 'k' }, 201)).secret;
  const chat = (g: Gateway, secret: string, model: string) =>
    request(g, 'POST', '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
  /** The line of `/api/status` the tenant of `secret` sees of `name` on `g`. */
  const statusOf = async (g: Gateway, secret: string, name: string) => {
    const res = await fetch(`${g.url}/api/status`, { headers: { authorization: `Bearer ${secret}` } });
    const body = (await res.json()) as { deployments: Array<{ name: string; requests?: number; failures?: number; circuit: string }> };
    return body.deployments.find((d) => d.name === name);
  };
  const metrics = async (g: Gateway) => (await fetch(`${g.url}/metrics`)).text();

  beforeAll(async () => {
    const setup = sharedModeSetup(CONFIG, services, run);
    dir = setup.dir;
    [a, b] = await Promise.all([startGateway('A', setup.env), startGateway('B', setup.env)]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([stopGateway(a), stopGateway(b)]);
    dropSharedState(TEST, services, run, dir);
  }, 60_000);

  it("B forgets a tenant deleted through A: its own model's open circuit leaves B's /metrics", async () => {
    const failing = { name: 'own-llm', engine: 'mock', price: { input: 0, output: 0 }, options: { failures: [{ code: 'provider_error', message: 'gone upstream detail', times: 100 }] } };
    await admin(a!, 'POST', '/admin/tenants', { id: 'gone', name: 'Gone', models: [failing] }, 201);
    const secret = await keyOf('gone');
    expect((await chat(b!, secret, 'own-llm')).status).not.toBe(200);
    const series = /^llm_circuit_state\{[^}]*tenant="gone"[^}]*\} 2$/m;
    // The failure reaches the circuit (through the shared circuit store) as the call settles, around its answer.
    await vi.waitFor(async () => expect(await metrics(b!)).toMatch(series), { timeout: 15_000, interval: 100 });

    await admin(a!, 'DELETE', '/admin/tenants/gone', undefined, 200);
    // A forgot it at once; B when the deletion's notice arrives (no request of the tenant reaches B any more).
    expect(await metrics(a!)).not.toMatch(series);
    await vi.waitFor(async () => expect(await metrics(b!)).not.toMatch(series), { timeout: 15_000, interval: 100 });
  }, 60_000);

  it("a tenant row written again under its id (a restore) is a new incarnation in B: none of the old one's counts or circuit", async () => {
    const own = { name: 'own-llm', engine: 'mock', price: { input: 0, output: 0 }, options: { reply: 'mine' } };
    await admin(a!, 'POST', '/admin/tenants', { id: 'again', name: 'Again', models: [own] }, 201);
    const old = await keyOf('again');
    for (let i = 0; i < 3; i++) expect((await chat(b!, old, 'own-llm')).status).toBe(200);
    expect(await statusOf(b!, old, 'own-llm')).toMatchObject({ requests: 3, circuit: 'closed' });

    // Deleted and written again straight in PostgreSQL (as a restore would): no process is told; the row's
    // createdAt is the new incarnation's. Its keys went with the old row (ON DELETE CASCADE).
    sharedSql(services, run, `
      BEGIN;
      CREATE TEMP TABLE old_row AS SELECT * FROM llmrr_tenants WHERE id = 'again';
      DELETE FROM llmrr_tenants WHERE id = 'again';
      INSERT INTO llmrr_tenants SELECT id, 'Again, new customer', tier, allowed_models, models, preferences, limits, budget, disabled, created_at + 1000, updated_at + 1000 FROM old_row;
      COMMIT;`);
    const fresh = await keyOf('again');
    expect((await chat(b!, old, 'own-llm')).status).toBe(401);
    // The new customer starts with nothing counted on its model in B (as in A, which never served the old one).
    expect(await statusOf(b!, fresh, 'own-llm')).toMatchObject({ requests: 0, circuit: 'closed' });
    expect((await chat(b!, fresh, 'own-llm')).status).toBe(200);
    expect(await statusOf(b!, fresh, 'own-llm')).toMatchObject({ requests: 1 });
  }, 60_000);
});

/**
 * A deleted tenant in shared mode: TWO gateway server processes (src/main.ts, LLMRR_STATE=shared) on one real Redis
 * and one real PostgreSQL (vitest.global-setup.ts). A tenant deleted through the admin API of one process is
 * forgotten by the other too (its own models, its circuits, what the strategies learned of it: Redis pub/sub), and a
 * tenant row written again under an id (a restore; the admin API itself refuses a deleted tenant's id) is another
 * incarnation to every process, which does not inherit the old one's in-process state, nor its own models' circuits
 * in Redis (keyed by the incarnation: README). Skipped, with the reason,
 * when redis-server or PostgreSQL is not installed.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { adminCall, dropSharedState, gatewayRequest as request, sharedServices, sharedSql, startSharedPair, stopSharedPair, type Gateway } from './test-support/gateway-processes.js';

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

  const admin = <T = Record<string, unknown>>(g: Gateway, method: string, path: string, body: unknown, status: number) => adminCall<T>(g, ADMIN, method, path, body, status);
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
    ({ dir, a, b } = await startSharedPair(CONFIG, services, run));
  }, 180_000);

  afterAll(() => stopSharedPair(TEST, services, run, { dir, a, b }), 60_000);

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

  it("a tenant row written again under its id (a restore) is a new incarnation in B: none of the old one's request counts", async () => {
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

  it("a restored tenant's own model starts with a closed circuit in both processes, though the old incarnation's is open in Redis", async () => {
    const failing = { name: 'own-llm', engine: 'mock', price: { input: 0, output: 0 }, options: { failures: [{ code: 'provider_error', message: 'down', times: 100 }] } };
    await admin(a!, 'POST', '/admin/tenants', { id: 'reborn', name: 'Reborn', models: [failing] }, 201);
    const old = await keyOf('reborn');
    expect((await chat(b!, old, 'own-llm')).status).not.toBe(200);
    // One failure opens it (cooldown 10 minutes), in Redis, shared by A and B for that incarnation.
    await vi.waitFor(async () => expect(await statusOf(b!, old, 'own-llm')).toMatchObject({ circuit: 'open' }), { timeout: 15_000, interval: 100 });

    // Written again straight in PostgreSQL (a restore), with a model that answers: another incarnation (createdAt).
    sharedSql(services, run, `
      BEGIN;
      CREATE TEMP TABLE old_row AS SELECT * FROM llmrr_tenants WHERE id = 'reborn';
      DELETE FROM llmrr_tenants WHERE id = 'reborn';
      INSERT INTO llmrr_tenants SELECT id, 'Reborn, new customer', tier, allowed_models,
        '[{"name":"own-llm","engine":"mock","price":{"input":0,"output":0},"options":{"reply":"mine"}}]'::jsonb,
        preferences, limits, budget, disabled, created_at + 1000, updated_at + 1000 FROM old_row;
      COMMIT;`);
    const fresh = await keyOf('reborn');
    // Its own model's circuits are keyed by the new incarnation: closed, so the calls reach the model.
    for (const g of [b!, a!]) {
      const res = await chat(g, fresh, 'own-llm');
      expect(res.status, await res.clone().text()).toBe(200);
      expect(await statusOf(g, fresh, 'own-llm')).toMatchObject({ circuit: 'closed' });
    }
  }, 60_000);
});

/**
 * A deletion notice racing a read of the tenant, in shared mode. Two gateways (A and B), each with its own
 * shared-mode stores on one real Redis and one real PostgreSQL, as two server processes would have; the admin API
 * and the model route over HTTP (serveGateway). They run in a plain Node child (tsx loader), written when vitest's
 * resolve conditions held `import`, under which pg could not load in this process (it can now, as
 * shared-mode-in-process.test.ts does).
 *
 * - `gate`: B authenticates a request of the tenant (its row read before the deletion); the deletion's notice
 *   reaches B before that read's answer is used: `TenantModelSync.sync` must not set the deleted tenant's models
 *   again (`begin`: the deletion was heard after the read began). The read is held by a gate around B's real
 *   tenant store, standing for a PostgreSQL answer on its way while A deletes (an exact reproduction).
 * - `cache`: with `authCacheTtlMs` B's cached key would answer after the notice; the notice drops B's cached
 *   lookups of the tenant (`PostgresTenantStore.invalidateCached`), so the key is refused and nothing comes back.
 */
const RACE_ADMIN = 'shared-tenant-delete-race-admin-key-0123';
const RACE_TEST = 'tenant deletion race test';
const src = dirname(fileURLToPath(import.meta.url));

/** The scenario, in the child (plain JavaScript, ESM). Prints one JSON line: what B's router holds at each step. */
const SCENARIO = String.raw`
import { LLMRouter, createStateStores } from '@llmrr/core';
import { createGateway } from '@llmrr/gateway';
import { serveGateway } from '@llmrr/gateway/node';

const env = process.env;
const ADMIN = env.ADMIN_KEY;
const CONFIG = {
  version: 2,
  models: [{ name: 'mock', engine: 'mock', price: { input: 0, output: 0 }, capabilities: ['chat', 'streaming', 'completion'], options: {} }],
  routing: { strategy: 'priority', retries: { max: 0 } },
};
const OWN = { name: 'own-llm', engine: 'mock', price: { input: 0, output: 0 }, options: { reply: 'mine' } };
const base = { mode: 'shared', redisUrl: env.REDIS_URL, postgresUrl: env.PG_URL, redisKeyPrefix: env.PREFIX, postgresSchema: env.SCHEMA };
const waitFor = async (ok, what) => {
  const until = Date.now() + 20000;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const gate = { armed: false, waiting: [], onHeld: undefined };
const held = new Promise((r) => (gate.onHeld = r));
function gated(t) {
  const g = Object.create(null);
  for (const k of ['createTenant', 'getTenant', 'listTenants', 'updateTenant', 'deleteTenant', 'createKey', 'rotateKey', 'revokeKey', 'updateKey', 'getKey', 'listKeys', 'close']) g[k] = (...a) => t[k](...a);
  g.authenticate = async (secret) => {
    const result = await t.authenticate(secret);
    if (gate.armed) await new Promise((resolve) => { gate.waiting.push(resolve); gate.onHeld(); });
    return result;
  };
  return g;
}

const nodes = [];
async function node(config, withGate) {
  const stores = await createStateStores(config);
  const router = new LLMRouter(structuredClone(CONFIG), { unknownTenant: 'shared', circuitStore: stores.circuits });
  await router.ready();
  const gatewayStores = withGate ? { ...stores, tenants: gated(stores.tenants) } : stores;
  const gateway = createGateway({ router, stores: gatewayStores, auth: { adminKey: ADMIN }, log: () => {} });
  const served = await serveGateway(gateway, { port: 0 });
  const n = { router, stores, gateway, served };
  nodes.push(n);
  return n;
}
const admin = async (n, method, path, body, status) => {
  const res = await fetch(n.served.url + path, { method, headers: { 'content-type': 'application/json', authorization: 'Bearer ' + ADMIN }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  if (res.status !== status) throw new Error(method + ' ' + path + ': ' + res.status + ' ' + text);
  return JSON.parse(text);
};
const chat = (n, secret) => fetch(n.served.url + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + secret }, body: JSON.stringify({ model: 'own-llm', messages: [{ role: 'user', content: 'hi' }] }) });
const ownOf = (n, tenant) => n.router.models(tenant).filter((d) => d.tenant === tenant).map((d) => d.name);

const out = {};
try {
  const scenario = env.SCENARIO;
  const tenant = scenario;
  const a = await node(base, false);
  const b = await node(scenario === 'cache' ? { ...base, authCacheTtlMs: 1500 } : base, scenario === 'gate');
  await admin(a, 'POST', '/admin/tenants', { id: tenant, name: 'T', models: [OWN] }, 201);
  const secret = (await admin(a, 'POST', '/admin/tenants/' + tenant + '/keys', { name: 'k' }, 201)).secret;
  out.firstStatus = (await chat(b, secret)).status;
  out.ownBefore = ownOf(b, tenant);
  let inFlight;
  if (scenario === 'gate') {
    gate.armed = true;
    inFlight = chat(b, secret);
    await held;
  }
  await admin(a, 'DELETE', '/admin/tenants/' + tenant, undefined, 200);
  await waitFor(() => ownOf(b, tenant).length === 0, 'B to hear the notice');
  out.ownAfterNotice = ownOf(b, tenant);
  if (scenario === 'gate') {
    gate.armed = false;
    for (const r of gate.waiting.splice(0)) r();
    out.inFlightStatus = (await inFlight).status;
  } else {
    out.staleStatus = (await chat(b, secret)).status;
  }
  // Once the key is refused in B (at once for the gate; after the auth cache entry expired otherwise).
  await waitFor(async () => (await chat(b, secret)).status === 401, 'the deleted key to be refused in B');
  out.finalStatus = 401;
  out.ownFinal = ownOf(b, tenant);
  out.metricsFinal = (await (await fetch(b.served.url + '/metrics')).text()).split('\n').filter((l) => l.includes('tenant="' + tenant + '"') && l.startsWith('llm_'));
} catch (e) {
  out.error = String(e && e.stack || e);
} finally {
  for (const n of nodes) {
    await n.served.close(0);
    await n.router.close();
    await n.gateway.close();
    await n.stores.close();
  }
}
console.log('RESULT ' + JSON.stringify(out));
process.exit(0);
`;

interface Outcome {
  firstStatus?: number;
  ownBefore?: string[];
  ownAfterNotice?: string[];
  inFlightStatus?: number;
  staleStatus?: number;
  finalStatus?: number;
  ownFinal?: string[];
  metricsFinal?: string[];
  error?: string;
}

function runScenario(scenario: 'gate' | 'cache', run: { schema: string; prefix: string }): Promise<Outcome> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--conditions=@llmrr/source', '--import', tsx, '--input-type=module', '-e', SCENARIO], {
    cwd: src,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', SCENARIO: scenario, ADMIN_KEY: RACE_ADMIN, REDIS_URL: services.redisUrl!, PG_URL: services.postgresUrl!, PREFIX: run.prefix, SCHEMA: run.schema },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.once('exit', () => {
      clearTimeout(guard);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) reject(new Error(`scenario ${scenario} printed no result:\n${out}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as Outcome);
    });
  });
}

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: a deletion notice racing a read of the tenant', () => {
  const runs: Array<{ schema: string; prefix: string; adminKey: string }> = [];
  const newRun = () => {
    const id = randomBytes(5).toString('hex');
    const r = { schema: `gwr_${id}`, prefix: `gwr${id}:`, adminKey: RACE_ADMIN };
    runs.push(r);
    return r;
  };
  afterAll(() => {
    for (const r of runs) dropSharedState(RACE_TEST, services, r, undefined);
  }, 60_000);

  it("a read of the tenant answered after B heard the deletion's notice does not set the deleted tenant's models again in B", async () => {
    const o = await runScenario('gate', newRun());
    expect(o.error).toBeUndefined();
    expect(o.firstStatus).toBe(200);
    expect(o.ownBefore).toEqual(['own-llm']);
    expect(o.ownAfterNotice).toEqual([]);
    // The tenant is deleted and its key refused; B must not hold its model (nothing would ever remove it again).
    expect(o.finalStatus).toBe(401);
    expect(o.ownFinal, JSON.stringify(o)).toEqual([]);
  }, 120_000);

  it("with authCacheTtlMs, the notice drops B's cached key lookups of the tenant: no cached answer sets its models again", async () => {
    const o = await runScenario('cache', newRun());
    expect(o.error).toBeUndefined();
    expect(o.firstStatus).toBe(200);
    expect(o.ownAfterNotice).toEqual([]);
    expect(o.finalStatus).toBe(401);
    expect(o.ownFinal, JSON.stringify(o)).toEqual([]);
  }, 120_000);
});

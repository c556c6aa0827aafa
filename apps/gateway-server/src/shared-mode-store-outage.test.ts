/**
 * A gateway server process in shared mode whose Redis stops answering (a partition, a stalled primary) and then
 * goes away (connections dropped, nothing listening). Every request asks Redis first (rate limits, budget
 * reservation): it must get a 503 `store_unavailable` within the configured bound (`LLMRR_REDIS_TIMEOUT_MS`),
 * not hang and not a 500 `internal`, and the answer must not name the store's address (the server log does).
 * Real Redis and PostgreSQL (vitest.global-setup.ts); Redis is reached through a loopback TCP relay that the test
 * stalls, then closes. Then a second process whose PostgreSQL stops answering (a partition: each query bounded by
 * `LLMRR_POSTGRES_QUERY_TIMEOUT_MS`, the stalled connection dropped) and then goes away the same way (connections
 * dropped, nothing listening: a restart, a failover): key lookups and admin calls get the same retryable 503, not a
 * 500 `internal`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
    g = await startGateway('P', { ...setup.env, LLMRR_POSTGRES_URL: pg.href, LLMRR_POSTGRES_QUERY_TIMEOUT_MS: String(TIMEOUT_MS) });
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

  // Before the bound, a key lookup on a pool connection whose PostgreSQL stopped answering waited until TCP gave up.
  it('PostgreSQL stalled (a partition): a valid key and an admin read get 503 store_unavailable, then 200 once it answers again', async () => {
    const chat = () => request('POST', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }, secret);
    // The request leaves its pool connections idle: the next ones take them, and they stall.
    expect((await chat()).status).toBe(200);
    relay!.stall();
    const t0 = Date.now();
    for (const res of [await chat(), await request('GET', '/admin/tenants/acme', undefined, ADMIN)]) {
      const r = await reply(res);
      expect(r.status, JSON.stringify(r.error)).toBe(503);
      expect(r.error).toMatchObject({ type: 'api_error', code: 'store_unavailable' });
      expect(r.error.message).not.toContain(String(relay!.port));
    }
    // 300 ms (+ 1 s for the client) per query; a generous ceiling for a loaded machine, far below TCP's (minutes).
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(g!.output()).toContain(`PostgreSQL did not answer a query within ${TIMEOUT_MS + 1_000} ms`);
    // New connections pass again (the stalled ones were dropped, not given back to the pool).
    relay!.reset();
    expect((await chat()).status).toBe(200);
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


/**
 * In a child process (pg does not load under this package's vitest conditions; as shared-mode-tenant-delete.test.ts
 * does): core's shared stores on real Redis and PostgreSQL, PostgreSQL behind a relay that holds its answers from a
 * ledger row's INSERT on, a gateway serving the mock model. Prints one line, `RESULT <json>`.
 */
const LEDGER_SCENARIO = String.raw`
import { LLMRouter, createStateStores } from '@llmrr/core';
import { startTcpRelay } from '@llmrr/core/test';
import { createGateway } from '@llmrr/gateway';
import { serveGateway } from '@llmrr/gateway/node';

const env = process.env;
const out = {};
const logged = [];
let next = 'pass';
const pg = new URL(env.PG_URL);
const relay = await startTcpRelay({ host: pg.hostname, port: Number(pg.port) });
pg.host = '127.0.0.1:' + relay.port;
const stores = await createStateStores({ mode: 'shared', redisUrl: env.REDIS_URL, postgresUrl: pg.href, redisKeyPrefix: env.PREFIX, postgresSchema: env.SCHEMA, postgresQueryTimeoutMs: Number(env.TIMEOUT_MS) });
const real = stores.ledger;
// 'hold': the answers are held from the INSERT on, and flushed once the write failed (this handler comes before the
// settle's retry); 'partition': held for good.
const record = (entry) => {
  const mode = next;
  next = 'pass';
  if (mode === 'pass') return real.record(entry);
  relay.hold();
  const written = real.record(entry);
  if (mode === 'hold') written.catch(() => relay.flush());
  return written;
};
const ledger = Object.assign(Object.create(real), { record });
const router = new LLMRouter(JSON.parse(env.CONFIG));
await router.ready();
const gateway = createGateway({ router, stores: { ...stores, ledger }, auth: { adminKey: env.ADMIN_KEY }, log: (e) => logged.push(e) });
const served = await serveGateway(gateway, { port: 0 });
const rows = async () => (await real.query({ tenantId: 'acme' })).map((e) => e.requestId + ' ' + e.status);
try {
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
  const { secret } = await stores.tenants.createKey('acme', { name: 'ci' });
  const chat = (content) => fetch(served.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + secret },
    body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content }], max_tokens: 4 }),
  });
  next = 'hold';
  const held = await chat('held');
  out.held = { status: held.status, id: held.headers.get('x-request-id'), body: await held.text() };
  out.heldRows = await rows();
  next = 'partition';
  const cut = await chat('partitioned');
  const id = cut.headers.get('x-request-id');
  out.cut = { status: cut.status, id, shouldRetry: cut.headers.get('x-should-retry'), code: (await cut.json()).error?.code };
  out.cutLogged = logged.filter((e) => e.requestId === id).map((e) => e.message);
  relay.reset();
  out.rows = await rows();
} catch (e) {
  out.error = String((e && e.stack) || e);
} finally {
  relay.reset();
  await served.close(0);
  await router.close();
  await gateway.close();
  await stores.close();
  await relay.close();
}
console.log('RESULT ' + JSON.stringify(out));
process.exit(0);
`;

interface LedgerOutcome {
  held: { status: number; id: string; body: string };
  heldRows: string[];
  cut: { status: number; id: string; shouldRetry: string | null; code?: string };
  cutLogged: string[];
  rows: string[];
  error?: string;
}

// The settle of an answered call writes its ledger row and tries once more when that fails (calls/settle.ts). A write
// to a PostgreSQL that stops answering is given up on after LLMRR_POSTGRES_QUERY_TIMEOUT_MS (+ 1 s) instead of holding
// the call until TCP gives up, and its row is neither written twice nor dropped without a word.
describe.skipIf(skip !== undefined)(skip ?? 'shared mode: a ledger write whose answer does not come', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `ledgerheld_${id}`, prefix: `ledgerheld${id}:`, adminKey: ADMIN };
  afterAll(() => dropSharedState(TEST, services, run, undefined), 60_000);

  it('a lost answer: the retry writes nothing more, 200 with one row; no answer to either write: a 500 internal not to retry, logged, the row there once', async () => {
    // A hang guard far past the bounds (300 ms + 1 s per write, 5 s for a new connection): before them, a write
    // waited for TCP.
    const o = await runScenario<LedgerOutcome>(LEDGER_SCENARIO, run);
    expect(o.error).toBeUndefined();
    expect(o.held.status, o.held.body).toBe(200);
    expect(o.heldRows).toEqual([`${o.held.id} success`]);
    expect(o.cut).toEqual({ status: 500, id: o.cut.id, shouldRetry: 'false', code: 'internal' });
    expect(o.cutLogged).toContain('writing the usage ledger failed');
    expect([...o.rows].sort()).toEqual([`${o.held.id} success`, `${o.cut.id} success`].sort());
  }, 120_000);
});

/**
 * In a child process, as LEDGER_SCENARIO: the shared stores with PostgreSQL behind a relay that, at the next COMMIT
 * sent, holds that connection's answers ('hold': the COMMIT runs, its answer never comes) or drops its bytes ('drop':
 * the COMMIT never reaches PostgreSQL); admin PATCHes of a tenant through the gateway. Prints `RESULT <json>`.
 */
const ADMIN_COMMIT_SCENARIO = String.raw`
import { LLMRouter, createStateStores } from '@llmrr/core';
import { startTcpRelay } from '@llmrr/core/test';
import { createGateway } from '@llmrr/gateway';
import { serveGateway } from '@llmrr/gateway/node';

const env = process.env;
const out = {};
const pg = new URL(env.PG_URL);
const relay = await startTcpRelay({ host: pg.hostname, port: Number(pg.port) });
pg.host = '127.0.0.1:' + relay.port;
const stores = await createStateStores({ mode: 'shared', redisUrl: env.REDIS_URL, postgresUrl: pg.href, redisKeyPrefix: env.PREFIX, postgresSchema: env.SCHEMA, postgresQueryTimeoutMs: Number(env.TIMEOUT_MS) });
// The pool's clients are wrapped to see their COMMITs go out; each is the relay's newest connection when first
// handed out (the calls below are sequential).
let atCommit;
const pool = stores.tenants.pg.pool;
const connect = pool.connect.bind(pool);
const wrap = (c) => {
  if (c.relayed === undefined) {
    const connection = (c.relayed = relay.opened - 1);
    const query = c.query.bind(c);
    c.query = (...a) => {
      if (atCommit && a[0] === 'COMMIT') {
        if (atCommit === 'hold') relay.hold(connection);
        else relay.stall(connection);
        atCommit = undefined;
      }
      return query(...a);
    };
  }
  return c;
};
pool.connect = (cb) => {
  const client = connect().then(wrap);
  if (!cb) return client;
  client.then((c) => cb(undefined, c), (e) => cb(e));
  return undefined;
};
const router = new LLMRouter(JSON.parse(env.CONFIG));
await router.ready();
const gateway = createGateway({ router, stores, auth: { adminKey: env.ADMIN_KEY }, log: () => undefined });
const served = await serveGateway(gateway, { port: 0 });
const patch = (name) => fetch(served.url + '/admin/tenants/acme', {
  method: 'PATCH',
  headers: { 'content-type': 'application/json', authorization: 'Bearer ' + env.ADMIN_KEY },
  body: JSON.stringify({ name }),
});
const audited = async () => (await stores.audit.list({ action: 'tenant.update', target: 'acme' })).length;
try {
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
  atCommit = 'hold';
  const applied = await patch('Acme 2');
  out.applied = { status: applied.status, audit: applied.headers.get('x-llmrr-audit'), name: (await applied.json()).name };
  out.appliedAudited = await audited();
  atCommit = 'drop';
  const lost = await patch('Acme 3');
  out.lost = { status: lost.status, code: (await lost.json()).error?.code };
  out.name = (await stores.tenants.getTenant('acme')).name;
  out.audited = await audited();
} catch (e) {
  out.error = String((e && e.stack) || e);
} finally {
  relay.reset();
  await served.close(0);
  await router.close();
  await gateway.close();
  await stores.close();
  await relay.close();
}
console.log('RESULT ' + JSON.stringify(out));
process.exit(0);
`;

// A tenant or key PATCH is a transaction whose COMMIT is bounded like every query: one whose COMMIT answer does not
// come (a partition at that moment) is read back on a new connection. Applied, it is answered 200 and audited, not a
// 503 for a change that stands (nor a hang until TCP gives up); not applied, it is the retryable 503.
describe.skipIf(skip !== undefined)(skip ?? 'shared mode: an admin change whose COMMIT answer does not come', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `commitheld_${id}`, prefix: `commitheld${id}:`, adminKey: ADMIN };
  afterAll(() => dropSharedState(TEST, services, run, undefined), 60_000);

  it('applied: 200 and its audit entry; never reached PostgreSQL: 503 store_unavailable, not applied, not audited', async () => {
    // A hang guard far past the bounds (300 ms + 1 s for the change, the same for its read-back).
    const o = await runScenario<Record<string, unknown>>(ADMIN_COMMIT_SCENARIO, run);
    expect(o).toEqual({
      applied: { status: 200, audit: null, name: 'Acme 2' },
      appliedAudited: 1,
      lost: { status: 503, code: 'store_unavailable' },
      name: 'Acme 2',
      audited: 1,
    });
  }, 120_000);
});

/**
 * Runs a scenario script in a child process (tsx, the package sources) with the shared services and `run`'s schema and
 * prefix, and gives what it printed as `RESULT <json>`; killed after 90 s (a hang guard far past every bound).
 */
async function runScenario<T>(script: string, run: { schema: string; prefix: string }): Promise<T> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--conditions=@llmrr/source', '--import', tsx, '--input-type=module', '-e', script], {
    cwd: dirname(fileURLToPath(import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', ADMIN_KEY: ADMIN, REDIS_URL: services.redisUrl!, PG_URL: services.postgresUrl!, PREFIX: run.prefix, SCHEMA: run.schema, TIMEOUT_MS: String(TIMEOUT_MS), CONFIG: JSON.stringify(CONFIG) },
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise<T>((resolve, reject) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', () => {
      clearTimeout(guard);
      const line = output.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) reject(new Error(`the scenario printed no result:\n${output}`));
      else resolve(JSON.parse(line.slice('RESULT '.length)) as T);
    });
  });
}

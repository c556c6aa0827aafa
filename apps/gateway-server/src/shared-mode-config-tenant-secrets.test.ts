/**
 * Shared mode (real PostgreSQL and Redis, gateway server processes): a v3 config tenant's model key given as ${VAR}
 * is stored redacted (`[redacted]`, apiKey and header values alike) and is in no table; a copy stored with the key by
 * an earlier version is written over at the next start, once (the start after that writes nothing: no thrash). A
 * tenant removed from the config is served from that stored copy: each call of its model fails naming the key to set
 * (nothing goes upstream without it), and once its key is set through the admin API in one process, another process
 * calls with it at its next request.
 */
import { startOpenAIWireServer } from '@llmrr/core/test';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { adminCall, dropSharedState, gatewayRequest, sharedModeSetup, sharedServices, sharedSql, startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

const ADMIN = 'shared-seed-redacted-admin-key-0123456789';
const TEST = 'shared-mode config tenant secrets test';
const SECRET = 'sk-live-shared-config-tenant-51c0ffee';
const services = sharedServices(TEST);

/** Every row of every table of the run's schema, as text (what a database dump would hold). */
function dump(schema: string): string {
  const script = `
    const pg = require('pg');
    (async () => {
      const c = new pg.Client({ connectionString: process.env.PG_URL });
      await c.connect();
      const { rows } = await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = $1", [process.env.PG_SCHEMA]);
      let out = '';
      for (const { table_name } of rows) {
        const r = await c.query('SELECT * FROM ' + process.env.PG_SCHEMA + '.' + table_name);
        out += table_name + ' ' + JSON.stringify(r.rows) + '\\n';
      }
      process.stdout.write(out);
      await c.end();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const cwd = dirname(dirname(fileURLToPath(import.meta.url)));
  const done = spawnSync(process.execPath, ['-e', script], { cwd, env: { ...process.env, NODE_OPTIONS: '', PG_URL: services.postgresUrl, PG_SCHEMA: schema }, encoding: 'utf8', timeout: 30_000 });
  if (done.status !== 0) throw new Error(done.stderr);
  return done.stdout;
}

describe.skipIf(services.skip !== undefined)(services.skip ?? 'shared mode: a v3 config tenant model key in PostgreSQL', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `gwr_${id}`, prefix: `gwr${id}:`, adminKey: ADMIN };
  const config = {
    version: 3,
    models: [{ name: 'mock', engine: 'mock' }],
    routing: { strategy: 'priority' },
    tenants: [{ id: 'acme', models: [{ name: 'own', engine: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', model: 'x', apiKey: '${SHARED_TENANT_KEY}', headers: { authorization: 'Bearer ${SHARED_TENANT_KEY}' } }] }],
  };
  const setup = sharedModeSetup(config, services, run);
  const env = { ...setup.env, SHARED_TENANT_KEY: SECRET };
  let g: Gateway | undefined;
  afterAll(async () => {
    await stopGateway(g);
    dropSharedState(TEST, services, run, setup.dir);
  }, 60_000);

  it('stores it redacted; an earlier copy with the key is written over once; the next start writes nothing', async () => {
    g = await startGateway('first', env);
    await stopGateway(g);
    expect(dump(run.schema)).toContain('llmrr_tenants');
    expect(dump(run.schema)).not.toContain(SECRET);

    // An earlier version stored the config's key in clear.
    sharedSql(services, run, `UPDATE llmrr_tenants SET models = jsonb_set(jsonb_set(models, '{0,apiKey}', to_jsonb('${SECRET}'::text)), '{0,headers,authorization}', to_jsonb('Bearer ${SECRET}'::text)) WHERE id = 'acme'`);
    expect(dump(run.schema)).toContain(SECRET);

    g = await startGateway('second', env);
    const second = g.output();
    await stopGateway(g);
    expect(second).toMatch(/tenant "acme" set to the config \([^)]*\): models/);
    expect(dump(run.schema).split('\n').filter((l) => l.startsWith('llmrr_tenants ')).join('\n')).not.toContain(SECRET);

    g = await startGateway('third', env);
    try {
      expect(g.output()).not.toMatch(/set to the config/);
      const audit = await adminCall<{ data: Array<{ action: string; details: Record<string, unknown> }> }>(g, ADMIN, 'GET', '/admin/audit?actor=config-file', undefined, 200);
      expect(audit.data.map((e) => e.action).sort()).toEqual(['tenant.create', 'tenant.update']);
      expect(JSON.stringify(audit.data)).not.toContain(SECRET);
    } finally {
      await stopGateway(g);
    }
  }, 300_000);
});

describe.skipIf(services.skip !== undefined)(services.skip ?? 'shared mode: a tenant removed from the config, its key set through the admin API', () => {
  const REMOVED_ADMIN = 'shared-removed-tenant-admin-key-0123456789';
  const REMOVED_SECRET = 'sk-shared-removed-tenant-7f00d';
  const id = randomBytes(5).toString('hex');
  const run = { schema: `gwr_${id}`, prefix: `gwr${id}:`, adminKey: REMOVED_ADMIN };
  let a: Gateway | undefined;
  let b: Gateway | undefined;
  let dir: string | undefined;
  const upstreamP = startOpenAIWireServer({ script: (r) => (r.headers.authorization === `Bearer ${REMOVED_SECRET}` ? { text: 'hello' } : { error: { status: 401, message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } }) });
  afterAll(async () => {
    await Promise.all([stopGateway(a), stopGateway(b)]);
    dropSharedState(TEST, services, run, dir);
    await (await upstreamP).close();
  }, 60_000);

  it("B calls nothing without the key (503 naming it) and logs once; after A PATCHes the key, B's next call goes through with it", async () => {
    const upstream = await upstreamP;
    const own = { name: 'own', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'x', apiKey: '${REMOVED_TENANT_KEY}' };
    const config = (tenants: unknown[]) => ({ version: 3, models: [{ name: 'mock', engine: 'mock' }], routing: { strategy: 'priority' }, tenants });
    const setup = sharedModeSetup(config([{ id: 'acme', models: [own] }]), services, run);
    dir = setup.dir;
    const env = { ...setup.env, REMOVED_TENANT_KEY: REMOVED_SECRET };
    const seed = await startGateway('seed', env);
    await stopGateway(seed);
    writeFileSync(join(dir, 'llmrr.config.json'), JSON.stringify(config([{ id: 'other' }])));
    [a, b] = await Promise.all([startGateway('A', env), startGateway('B', env)]);

    const { secret } = await adminCall<{ secret: string }>(a, REMOVED_ADMIN, 'POST', '/admin/tenants/acme/keys', { name: 'k' }, 201);
    const chat = (g: Gateway) => gatewayRequest(g, 'POST', '/v1/chat/completions', { model: 'own', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
    // Calls made before an operator notices (more than the circuit's default failureThreshold of 5): each a 503
    // naming the key to set, and none goes upstream (never a call without its key).
    for (let i = 0; i < 6; i++) {
      const res = await chat(b);
      expect({ status: res.status, code: ((await res.json()) as { error?: { code?: string } }).error?.code }).toEqual({ status: 503, code: 'no_deployment' });
    }
    expect(upstream.requests).toEqual([]);
    expect(b.output().split('\n').filter((l) => l.includes('"[redacted]" in the tenant store'))).toHaveLength(1);

    await adminCall(a, REMOVED_ADMIN, 'PATCH', '/admin/tenants/acme', { models: [{ ...own, apiKey: REMOVED_SECRET }] }, 200);
    // The fix is in force at B's next request (the README: set the keys through the admin API to keep serving it),
    // not a 503 circuit_open until a cooldown ends.
    const res = await chat(b);
    expect({ status: res.status, body: res.status === 200 ? null : await res.text() }).toEqual({ status: 200, body: null });
    expect(upstream.requests.at(-1)?.headers.authorization).toBe(`Bearer ${REMOVED_SECRET}`);
    expect((await chat(a)).status).toBe(200);
    // Nothing said again after the fix.
    expect(b.output().split('\n').filter((l) => l.includes('"[redacted]" in the tenant store'))).toHaveLength(1);
  }, 300_000);
});

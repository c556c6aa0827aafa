/**
 * Shared mode (real PostgreSQL and Redis, gateway server processes): a v3 config tenant's model key given as ${VAR}
 * is stored redacted (`[redacted]`, apiKey and header values alike) and is in no table; a copy stored with the key by
 * an earlier version is written over at the next start, once (the start after that writes nothing: no thrash).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { adminCall, dropSharedState, sharedModeSetup, sharedServices, sharedSql, startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

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

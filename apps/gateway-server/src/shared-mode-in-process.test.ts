/**
 * The gateway server in shared mode run inside this process (`startServer`), as an embedding program runs it, where
 * the other shared-mode tests spawn servers: a server process's exit closes every socket, so a PostgreSQL pool that
 * `close()` left open goes unseen there. pg and redis load in vitest's process since its resolve conditions hold no
 * `import` (vitest passes them to Node as `--conditions`; under `import` pg's CommonJS `require('pg-pool')` got
 * pg-pool's ES build, and pg could not make a pool). Real Redis and PostgreSQL (vitest.global-setup.ts).
 */
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readSettings } from './settings.js';
import { startServer, type RunningServer } from './start-server.js';
import { dropSharedState, sharedModeSetup, sharedServices } from './test-support/gateway-processes.js';

const TEST = 'shared-mode in-process server test';
const services = sharedServices(TEST);
const { skip } = services;

const CONFIG = {
  version: 2,
  models: [{ name: 'mock', engine: 'mock', price: { input: 1, output: 1 }, capabilities: ['chat'], options: {} }],
  routing: { strategy: 'priority', retries: { max: 0 } },
};

describe.skipIf(skip !== undefined)(skip ?? 'shared mode, the server in this process', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `inproc_${id}`, prefix: `inproc${id}:`, adminKey: 'in-process-admin-key-0123456789ab' };
  // The server's connections are told apart by their application_name (in its PostgreSQL URL).
  const app = `llmrr_inproc_${id}`;
  let dir: string | undefined;
  let server: RunningServer | undefined;
  let probe: pg.Client | undefined;
  const connections = async () =>
    Number((await probe!.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [app])).rows[0]!.n);

  beforeAll(async () => {
    probe = new pg.Client({ connectionString: services.postgresUrl });
    await probe.connect();
  });
  afterAll(async () => {
    await server?.close(1000);
    await probe?.end();
    dropSharedState(TEST, services, run, dir);
  }, 60_000);

  it('serves a call recorded in PostgreSQL; close() leaves none of its PostgreSQL connections open', async () => {
    const setup = sharedModeSetup(CONFIG, services, run);
    dir = setup.dir;
    const url = new URL(services.postgresUrl!);
    url.searchParams.set('application_name', app);
    const logged: string[] = [];
    server = await startServer(readSettings({ ...setup.env, LLMRR_POSTGRES_URL: url.href }, dir), (e) => logged.push(`${e.level} ${e.message}`));
    await server.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const { secret } = await server.stores.tenants.createKey('acme', { name: 'sdk' });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: secret, maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hello' }] }).withResponse();
    expect(res.data.choices[0]!.message.content).toBe('Mock answer to: hello');
    const requestId = res.response.headers.get('x-request-id')!;
    // The row is in PostgreSQL, in the run's schema (read there, not through the server's stores).
    await vi.waitFor(async () => {
      const rows = await probe!.query(`SELECT tenant_id, status FROM ${run.schema}.llmrr_usage WHERE request_id = $1`, [requestId]);
      expect(rows.rows).toEqual([{ tenant_id: 'acme', status: 'success' }]);
    }, { timeout: 10_000 });
    expect(await connections()).toBeGreaterThan(0);

    const closing = server;
    server = undefined;
    await closing.close(1000);
    await vi.waitFor(async () => expect(await connections()).toBe(0), { timeout: 10_000 });
    expect(logged.filter((l) => l.startsWith('error'))).toEqual([]);
  }, 60_000);
});

/**
 * A key's `lastUsedAt` is written in the background after a login (core's PostgreSQL tenant store): a write that
 * fails is dropped, and the login goes on. It was dropped unlogged (the store had no log hook), so a PostgreSQL
 * refusing those writes left keys shown as unused with nothing in the server log. The server passes its log to the
 * stores (`onError`): one warning line, naming no secret. Real Redis and PostgreSQL (vitest.global-setup.ts); the
 * write refused by a trigger on the keys table.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dropSharedState, sharedModeSetup, sharedServices, sharedSql, startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

const ADMIN = 'last-used-log-admin-key-0123456789';
const TEST = 'shared-mode lastUsedAt write failure log';
const services = sharedServices(TEST);
const { skip } = services;

const CONFIG = {
  version: 2,
  models: [{ name: 'mock', engine: 'mock', price: { input: 0, output: 0 }, capabilities: ['chat'], options: {} }],
  routing: { strategy: 'priority', retries: { max: 0 } },
};

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: a failed lastUsedAt write is in the server log', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `lu_${id}`, prefix: `lu${id}:`, adminKey: ADMIN };
  let dir: string | undefined;
  let g: Gateway | undefined;
  const request = (method: string, path: string, body: unknown, auth: string) =>
    fetch(`${g!.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, body: JSON.stringify(body) });

  beforeAll(async () => {
    const setup = sharedModeSetup(CONFIG, services, run);
    dir = setup.dir;
    g = await startGateway('A', setup.env);
  }, 180_000);

  afterAll(async () => {
    await stopGateway(g);
    dropSharedState(TEST, services, run, dir);
  }, 60_000);

  it('a login whose lastUsedAt write PostgreSQL refuses is answered, and the server logs one warning naming no secret', async () => {
    expect((await request('POST', '/admin/tenants', { id: 'acme', name: 'Acme' }, ADMIN)).status).toBe(201);
    const created = (await (await request('POST', '/admin/tenants/acme/keys', { name: 'ci' }, ADMIN)).json()) as { key: { id: string }; secret: string };
    sharedSql(
      services,
      run,
      `CREATE FUNCTION refuse_last_used() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'lastUsedAt writes refused by the test'; END $$ LANGUAGE plpgsql;
       CREATE TRIGGER refuse_last_used BEFORE UPDATE OF last_used_at ON llmrr_api_keys FOR EACH ROW EXECUTE FUNCTION refuse_last_used();`,
    );
    const chat = await request('POST', '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }, created.secret);
    expect(chat.status).toBe(200);
    const warnings = () => g!.output().split('\n').filter((line) => line.includes('lastUsedAt'));
    await vi.waitFor(() => expect(warnings()).toHaveLength(1), { timeout: 15_000 });
    expect(warnings()[0]).toBe('[warn] PostgreSQL: the lastUsedAt of 1 API key could not be written (dropped; the next use a minute later writes it): error: lastUsedAt writes refused by the test');
    expect(g!.output()).not.toContain(created.secret);
    const key = (await (await fetch(`${g!.url}/admin/keys/${created.key.id}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as Record<string, unknown>;
    expect(key).not.toHaveProperty('lastUsedAt');
  }, 60_000);
});

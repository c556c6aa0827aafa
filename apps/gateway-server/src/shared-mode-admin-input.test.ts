/**
 * The admin API of a gateway in shared mode (PostgreSQL) answers bad input as an embedded (SQLite) gateway
 * does: a NUL character in a path or query parameter or in a JSON string (PostgreSQL text and jsonb refuse
 * it: 22021 / 22P05) and an epoch-ms time past what a date can hold (BIGINT's range: 22003) are a 400
 * `invalid_request` naming the field. Found in review: they reached `toLLMError` as raw driver errors, a 500.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSharedState, sharedModeSetup, sharedServices, startGateway, stopGateway, type Gateway } from './test-support/gateway-processes.js';

const ADMIN = 'shared-mode-admin-key-0123456789';
const TEST = 'shared-mode admin input review test';
const services = sharedServices(TEST);
const { skip } = services;

const CONFIG = {
  version: 2,
  models: [{ name: 'mock', engine: 'mock', price: { input: 0, output: 0 }, capabilities: ['chat'], options: {} }],
  routing: { strategy: 'priority', retries: { max: 0 } },
};

const CASES: Array<{ name: string; method: string; path: string; body?: string; param: string }> = [
  { name: 'GET a tenant whose id has a NUL', method: 'GET', path: '/admin/tenants/a%00b', param: 'id' },
  { name: 'GET a key whose id has a NUL', method: 'GET', path: '/admin/keys/key_%00', param: 'keyId' },
  { name: 'POST a tenant whose name has a NUL', method: 'POST', path: '/admin/tenants', body: JSON.stringify({ name: 'Ac\u0000me' }), param: 'name' },
  { name: 'POST a tenant whose preferences hold a NUL', method: 'POST', path: '/admin/tenants', body: JSON.stringify({ name: 'Acme2', preferences: { note: '\u0000' } }), param: 'preferences.note' },
  { name: 'POST a key whose name has a NUL', method: 'POST', path: '/admin/tenants/acme/keys', body: JSON.stringify({ name: 'ci\u0000' }), param: 'name' },
  { name: 'GET usage filtered by a tenant with a NUL', method: 'GET', path: '/admin/usage?tenant=a%00', param: 'tenant' },
  { name: 'GET usage from a time past the BIGINT range', method: 'GET', path: '/admin/usage?from=99999999999999999999', param: 'from' },
  { name: 'GET an invoice up to a time past the BIGINT range', method: 'GET', path: '/admin/tenants/acme/invoice?to=99999999999999999999', param: 'to' },
  { name: 'GET audit entries from a time past the BIGINT range', method: 'GET', path: '/admin/audit?from=99999999999999999999', param: 'from' },
];

describe.skipIf(skip !== undefined)(skip ?? 'shared mode: bad admin input is a 400 naming the field, never a 500', () => {
  const id = randomBytes(5).toString('hex');
  const run = { schema: `rv_${id}`, prefix: `rv${id}:`, adminKey: ADMIN };
  let dir: string | undefined;
  let g: Gateway | undefined;
  const admin = (method: string, path: string, body?: string) =>
    fetch(`${g!.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body } : {}) });

  beforeAll(async () => {
    const setup = sharedModeSetup(CONFIG, services, run);
    dir = setup.dir;
    g = await startGateway('A', setup.env);
    expect((await admin('POST', '/admin/tenants', JSON.stringify({ id: 'acme', name: 'Acme' }))).status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await stopGateway(g);
    dropSharedState(TEST, services, run, dir);
  }, 60_000);

  for (const c of CASES) {
    it(`${c.name}: 400 naming ${c.param}`, async () => {
      const res = await admin(c.method, c.path, c.body);
      const text = await res.text();
      expect(res.status, `${c.method} ${c.path} answered ${res.status} ${text}`).toBe(400);
      expect((JSON.parse(text) as { error?: { code?: string; param?: string } }).error).toMatchObject({ code: 'invalid_request', param: c.param });
    });
  }
});

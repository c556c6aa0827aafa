import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminApi, createAdminHarness, OWN_ENGINE, ownEngineFactories } from '../test-support/admin-api.js';
import type { Harness } from '../test-support/harness.js';

/**
 * A URL the WHATWG parser would read with a digits-only password as its port (`https://user:123#a=b@host/`) is hidden
 * when in doubt (`PASSWORD_AS_PORT` in admin-secrets.ts), also when what follows the `?`/`#` holds `=`, `&` or `/` (a
 * password may): an ordinary URL of that shape (`smtp://mail:587?from=bot@...`) is shown hidden too. An IPv6 host
 * with a port is a URL: shown as stored, and it round-trips.
 */
describe('an option URL with a port and an @ in its query or fragment', () => {
  let h: Harness;
  const admin = adminApi(() => h.gateway);
  beforeEach(async () => {
    // Options of any name: an engine kind of the router's own (the built-in engines refuse keys they do not read).
    h = await createAdminHarness({ routerOptions: { engineFactories: ownEngineFactories } });
  });
  afterEach(() => h.close());

  it('a digits-only password before # or ? is hidden whatever follows it; an ordinary URL of that shape too', async () => {
    const options = {
      reply: 'x',
      search: 'https://user:123#a=b@host.example/',
      cache: 'redis://default:77#p&q@cache.example:6379/0',
      routed: 'https://user:9#x/y@host.example/',
      smtpUrl: 'smtp://mail.acme.example:587?from=bot@acme.example',
    };
    expect((await admin('POST', '/admin/tenants', { id: 'pw', name: 'Pw', models: [{ name: 'custom', engine: OWN_ENGINE, options }] })).status).toBe(201);
    const text = await (await admin('GET', '/admin/tenants/pw')).text();
    expect([...text.matchAll(/user:123|default:77|user:9#|mail\.acme\.example:587/g)].map((m) => m[0])).toEqual([]);
  });

  it('an IPv6 host with a port is shown as it is and round-trips GET -> PATCH', async () => {
    const options = { reply: 'x', local: 'http://[::1]:8080#owner@acme.example' };
    expect((await admin('POST', '/admin/tenants', { id: 'plain', name: 'Plain', models: [{ name: 'custom', engine: OWN_ENGINE, options }] })).status).toBe(201);
    const shown = (await (await admin('GET', '/admin/tenants/plain')).json()) as { models: Array<{ options: unknown }> };
    const saved = await admin('PATCH', '/admin/tenants/plain', { models: shown.models });
    expect({ options: shown.models[0]!.options, status: saved.status }).toEqual({ options, status: 200 });
  });
});

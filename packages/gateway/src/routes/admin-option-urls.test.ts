import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminApi, createAdminHarness } from '../test-support/admin-api.js';
import type { Harness } from '../test-support/harness.js';

/**
 * Option strings that are URLs have their userinfo and credential-named query values redacted (`isURLOption`,
 * `redactURL`), also those WHATWG `new URL` cannot parse: the multi-host connection strings of MongoDB replica sets and
 * libpq (`host1:port,host2:port`), whose password would otherwise be shown under any name the word rule does not know
 * (`mongoUri`, `databaseUrl`, `uri`); a query without credentials is kept, so such a tenant round-trips.
 */
describe('option URLs (isURLOption, redactURL) in the admin API', () => {
  let h: Harness;
  const admin = adminApi(() => h.gateway);
  beforeEach(async () => {
    h = await createAdminHarness();
  });
  afterEach(() => h.close());

  it('a multi-host connection string is shown without its password', async () => {
    const options = {
      reply: 'plain',
      mongoUri: 'mongodb://app:mongo-secret-1@db1.acme.internal:27017,db2.acme.internal:27017/chat?replicaSet=rs0',
      databaseUrl: 'postgresql://app:pg-secret-2@pg1.acme.internal:5432,pg2.acme.internal:5432/chat?target_session_attrs=read-write',
    };
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', models: [{ name: 'custom', engine: 'mock', options }] });
    const text = await (await admin('GET', '/admin/tenants/acme')).text();
    expect([...text.matchAll(/[a-z]+-secret-\d+/g)].map((m) => m[0])).toEqual([]);
  });

  // The changeset: "not eosToken, ... so a tenant without secrets round-trips". An option URL whose query holds no
  // credential (a docs link's `lang`, an API version) is shown with `[redacted]` values, and sent back as shown it is a 400.
  it('a tenant whose option URL has a query without credentials round-trips: GET -> PATCH as shown', async () => {
    const options = { reply: 'x', docs: 'https://acme.example/search?lang=en&page=2' };
    expect((await admin('POST', '/admin/tenants', { id: 'plain', name: 'Plain', models: [{ name: 'custom', engine: 'mock', options }] })).status).toBe(201);
    const shown = (await (await admin('GET', '/admin/tenants/plain')).json()) as { models: Array<{ options: unknown }> };
    const saved = await admin('PATCH', '/admin/tenants/plain', { models: shown.models });
    expect({ status: saved.status, body: saved.status === 200 ? undefined : await saved.text() }).toEqual({ status: 200, body: undefined });
    expect((await h.stores!.tenants.getTenant('plain'))?.models?.[0]?.options).toEqual(options);
  });
});

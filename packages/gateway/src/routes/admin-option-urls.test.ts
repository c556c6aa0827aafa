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

  // A fragment is read as a query is: its credential-named values are secrets (an OAuth implicit-flow redirect's token).
  it("an option URL's credential-named fragment values are shown redacted, and echoing them is a 400 naming the option", async () => {
    const options = { reply: 'x', callback: 'https://app.acme.example/cb#access_token=frag-secret-4&state=s1', mirror: 'mongodb://app:mongo-secret-5@h1:27017,h2:27017/db#token=frag-secret-6' };
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', models: [{ name: 'custom', engine: 'mock', options }] });
    const text = await (await admin('GET', '/admin/tenants/acme')).text();
    expect([...text.matchAll(/[a-z]+-secret-\d+/g)].map((m) => m[0])).toEqual([]);
    const shown = (JSON.parse(text) as { models: Array<{ options: Record<string, string> }> }).models[0]!;
    expect(shown.options).toEqual({ reply: 'x', callback: 'https://app.acme.example/cb#access_token=[redacted]&state=s1', mirror: 'mongodb://[redacted]@h1:27017,h2:27017/db#token=[redacted]' });
    const echoed = await admin('PATCH', '/admin/tenants/acme', { models: [shown] });
    expect({ status: echoed.status, error: ((await echoed.json()) as { error?: unknown }).error }).toMatchObject({ status: 400, error: { param: 'models.0.options.callback' } });
  });

  // The changeset: "not eosToken, ... so a tenant without secrets round-trips". An option URL whose query holds no
  // credential (a docs link's `lang`, an API version) is shown with `[redacted]` values, and sent back as shown it is a 400.
  it('a tenant whose option URL has a query without credentials round-trips: GET -> PATCH as shown', async () => {
    // Fragments too: an anchor, and values no credential rule names.
    const options = { reply: 'x', docs: 'https://acme.example/search?lang=en&page=2', guide: 'https://acme.example/guide#setup', viewer: 'https://acme.example/view#page=2&zoom=1' };
    expect((await admin('POST', '/admin/tenants', { id: 'plain', name: 'Plain', models: [{ name: 'custom', engine: 'mock', options }] })).status).toBe(201);
    const shown = (await (await admin('GET', '/admin/tenants/plain')).json()) as { models: Array<{ options: unknown }> };
    const saved = await admin('PATCH', '/admin/tenants/plain', { models: shown.models });
    expect({ status: saved.status, body: saved.status === 200 ? undefined : await saved.text() }).toEqual({ status: 200, body: undefined });
    expect((await h.stores!.tenants.getTenant('plain'))?.models?.[0]?.options).toEqual(options);
  });

  // A fragment's parts without `=` are anchors (kept beside its pairs), unless one reads as a key (below).
  it('an option URL whose fragment mixes an anchor and pairs, no credential, round-trips', async () => {
    const options = { reply: 'x', guide: 'https://acme.example/guide#intro&page=2', app: 'https://app.acme.example/#/settings/models?tab=keys&L10-L20', notes: 'https://acme.example/notes#installation-and-configuration-guide' };
    await h.stores!.tenants.createTenant({ id: 'plain', name: 'Plain', models: [{ name: 'custom', engine: 'mock', options }] });
    const shown = (await (await admin('GET', '/admin/tenants/plain')).json()) as { models: Array<{ options: unknown }> };
    const saved = await admin('PATCH', '/admin/tenants/plain', { models: shown.models });
    expect({ options: shown.models[0]!.options, status: saved.status }).toEqual({ options, status: 200 });
  });

  // A part without `=` that reads as a key (a key prefix, a long random token) hides the whole fragment, as such a part
  // hides a whole query; a single-page app's route (`#/callback?access_token=...`) has its pairs judged by name.
  it("an option URL's fragment part that reads as a key hides the fragment, and echoing it is a 400 naming the option", async () => {
    const options = {
      reply: 'x',
      keyed: 'https://acme.example/a#sk-live-frag-secret-1',
      hashed: 'https://acme.example/b#intro&9f86d081884c7d659a2feaa0c55ad015',
      route: 'https://app.acme.example/#/callback?access_token=frag-secret-2&state=s1',
    };
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', models: [{ name: 'custom', engine: 'mock', options }] });
    const text = await (await admin('GET', '/admin/tenants/acme')).text();
    expect([...text.matchAll(/[a-z]+-secret-\d+|9f86d081/g)].map((m) => m[0])).toEqual([]);
    const shown = (JSON.parse(text) as { models: Array<{ options: Record<string, string> }> }).models[0]!;
    expect(shown.options).toEqual({ reply: 'x', keyed: 'https://acme.example/a#[redacted]', hashed: 'https://acme.example/b#[redacted]', route: 'https://app.acme.example/#/callback?access_token=[redacted]&state=s1' });
    const echoed = await admin('PATCH', '/admin/tenants/acme', { models: [shown] });
    expect({ status: echoed.status, error: ((await echoed.json()) as { error?: unknown }).error }).toMatchObject({
      status: 400,
      error: { param: 'models.0.options.keyed', message: expect.stringContaining('models.0.options.keyed, models.0.options.hashed, models.0.options.route') },
    });
    expect((await h.stores!.tenants.getTenant('acme'))?.models?.[0]?.options).toEqual(options);
  });

  // The parser-refused form is matched as text: a fragment holding a line end (which `.` does not match) must not make
  // the match fail and the string be shown whole, password included.
  it('a multi-host connection string whose fragment holds a line end is shown without its password', async () => {
    const options = { reply: 'x', mirror: 'mongodb://app:mongo-secret-7@h1:27017,h2:27017/db#a\nb' };
    const created = await admin('POST', '/admin/tenants', { id: 'acme', name: 'Acme', models: [{ name: 'custom', engine: 'mock', options }] });
    expect(created.status).toBe(201);
    const text = (await created.text()) + (await (await admin('GET', '/admin/tenants/acme')).text());
    expect([...text.matchAll(/[a-z]+-secret-\d+/g)].map((m) => m[0])).toEqual([]);
    const shown = (JSON.parse(text.slice(text.lastIndexOf('{"id"'))) as { models: Array<{ options: Record<string, string> }> }).models[0]!;
    expect(shown.options.mirror).toBe('mongodb://[redacted]@h1:27017,h2:27017/db#a\nb');
  });
});

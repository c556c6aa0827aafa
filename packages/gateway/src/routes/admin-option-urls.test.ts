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

  /** Stores a tenant whose mock model has `options` (and `baseURL`), and reads it back: the answer's text and model. */
  async function readBack(options: Record<string, string>, baseURL?: string): Promise<{ text: string; model: { options: Record<string, string>; baseURL?: string } }> {
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', models: [{ name: 'custom', engine: 'mock', ...(baseURL ? { baseURL } : {}), options: { reply: 'x', ...options } }] });
    const text = await (await admin('GET', '/admin/tenants/acme')).text();
    return { text, model: (JSON.parse(text) as { models: Array<{ options: Record<string, string>; baseURL?: string }> }).models[0]! };
  }

  // A padded base64 token (`...==`) holds `=` but is no pair: it was judged by its "name", the token itself, and shown
  // (in a fragment, in an option URL's query, and in a baseURL's query as `?TOKEN=[redacted]`).
  it('a padded base64 token is a bare part: it hides the fragment or query as the unpadded one does', async () => {
    const token = 'YWRtaW46ZnJhZy1zZWNyZXQtMQ'; // base64("admin:frag-secret-1")
    const got = await readBack(
      { unpadded: `https://acme.example/a#${token}`, padded: `https://acme.example/b#intro&${token}==`, query: 'https://fn.acme.example/api?YWRtaW46cXVlcnktc2VjcmV0LTI=' },
      'https://llm.acme.example/v1?YWRtaW46YmFzZS1zZWNyZXQtMw==',
    );
    expect(got.text).not.toMatch(/YWRtaW46/);
    expect({ options: got.model.options, baseURL: got.model.baseURL }).toEqual({
      options: { reply: 'x', unpadded: 'https://acme.example/a#[redacted]', padded: 'https://acme.example/b#[redacted]', query: 'https://fn.acme.example/api?[redacted]' },
      baseURL: 'https://llm.acme.example/v1?[redacted]',
    });
  });

  // A value that reads as a key is redacted whatever its pair's name; plain values (numbers, short words, ids, UUIDs)
  // are kept, so such a tenant still round-trips.
  it('a query or fragment value that reads as a key is redacted under any name; plain values and UUIDs round-trip', async () => {
    const got = await readBack({
      cb: 'https://app.acme.example/cb#state=h3Kq-9ZbWx_T2pLm-Rv8aY&page=2',
      api: 'https://fn.acme.example/api?ref=sk-live-abc123&lang=en&id=123',
    });
    expect(got.model.options).toEqual({ reply: 'x', cb: 'https://app.acme.example/cb#state=[redacted]&page=2', api: 'https://fn.acme.example/api?ref=[redacted]&lang=en&id=123' });
    const plain = {
      reply: 'x',
      runs: 'https://app.acme.example/#/runs/550e8400-e29b-41d4-a716-446655440000?tab=logs&page=2',
      search: 'https://acme.example/search?id=123&lang=en&run=550E8400-E29B-41D4-A716-446655440000&model=DeepSeek-R1-Distill-Qwen-7B',
    };
    await h.stores!.tenants.createTenant({ id: 'plain', name: 'Plain', models: [{ name: 'custom', engine: 'mock', options: plain }] });
    const shown = (await (await admin('GET', '/admin/tenants/plain')).json()) as { models: Array<{ options: unknown }> };
    const saved = await admin('PATCH', '/admin/tenants/plain', { models: shown.models });
    expect({ options: shown.models[0]!.options, status: saved.status }).toEqual({ options: plain, status: 200 });
  });

  // A random token broken by `/`, `+`, `-` or `_` (base64, base64url) often has no unbroken run of 16 letters and
  // digits mixing both: it is judged by its characters' mix. Anchors of words (with capitals, digits, hyphens) are not.
  it('random tokens split by / + - _ in a fragment hide it; anchors of words, versions and model names round-trip', async () => {
    const got = await readBack({
      aws: 'https://acme.example/s3#wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      tok: 'https://acme.example/cb#h3Kq-9ZbWx_T2pLm-Rv8aY',
      plus: 'https://acme.example/cb#x&Zm9v+YmFy/Q2hhdDk4K3Jv',
    });
    expect(got.model.options).toEqual({ reply: 'x', aws: 'https://acme.example/s3#[redacted]', tok: 'https://acme.example/cb#[redacted]', plus: 'https://acme.example/cb#[redacted]' });
    const anchors = {
      reply: 'x',
      guide: 'https://docs.acme.example/guide#Section-2-Getting-Started',
      model: 'https://hub.acme.example/models#DeepSeek-R1-Distill-Qwen-7B',
      gguf: 'https://hub.acme.example/files#Meta-Llama-3-8B-Instruct-Q4_K_M',
      api: 'https://docs.acme.example/#/api/v2/Users/getUserById',
      lines: 'https://git.acme.example/blob/main/a.ts#L10-L20',
      settings: 'https://app.acme.example/#/settings/models',
      notes: 'https://acme.example/notes#installation-and-configuration-guide',
    };
    await h.stores!.tenants.createTenant({ id: 'plain', name: 'Plain', models: [{ name: 'custom', engine: 'mock', options: anchors }] });
    const shown = (await (await admin('GET', '/admin/tenants/plain')).json()) as { models: Array<{ options: unknown }> };
    const saved = await admin('PATCH', '/admin/tenants/plain', { models: shown.models });
    expect({ options: shown.models[0]!.options, status: saved.status }).toEqual({ options: anchors, status: 200 });
  });

  // `pk-` and `rk-` begin words (`PK and indexes`); only `sk-`, `sk_`, `rk_`, `pk_` are key prefixes.
  it('an anchor #pk-and-indexes (no credential) round-trips: GET -> PATCH as shown; #pk_live_... is hidden', async () => {
    const got = await readBack({ docs: 'https://docs.acme.example/db#pk-and-indexes', rk: 'https://docs.acme.example/db#rk-tree', stripe: 'https://acme.example/pay#pk_live_51Hx' });
    expect(got.model.options).toEqual({ reply: 'x', docs: 'https://docs.acme.example/db#pk-and-indexes', rk: 'https://docs.acme.example/db#rk-tree', stripe: 'https://acme.example/pay#[redacted]' });
    const saved = await admin('PATCH', '/admin/tenants/acme', { models: [{ name: 'custom', engine: 'mock', options: { ...got.model.options, stripe: 'https://acme.example/pay#intro' } }] });
    expect({ status: saved.status, body: saved.status === 200 ? undefined : await saved.text() }).toEqual({ status: 200, body: undefined });
  });

  // The userinfo of a string the URL parser refuses ran to the first `/`, `?` or `#`: a password holding one was shown
  // (before it as the "host", after it as a path or fragment). It now runs to the last `@` followed by a host list.
  it('a multi-host connection string whose password holds # / ? @ is shown without its password', async () => {
    const got = await readBack({
      hash: 'mongodb://app:mongo-secret-8#x@h1:27017,h2:27017/db',
      slash: 'mongodb://app:mongo/secret-9@h1:27017,h2:27017/db?replicaSet=rs0',
      mixed: 'postgresql://app:pg-secret-10?a@b#c@[::1]:5432,pg2:5432/chat',
      tagged: 'postgresql://pg1:5432,pg2:5432/chat?user=app@acme-pg&password=pg-secret-11',
    });
    expect([...got.text.matchAll(/[a-z]+[-/]secret-\d+/g)].map((m) => m[0])).toEqual([]);
    expect(got.model.options).toEqual({
      reply: 'x',
      hash: 'mongodb://[redacted]@h1:27017,h2:27017/db',
      slash: 'mongodb://[redacted]@h1:27017,h2:27017/db?replicaSet=rs0',
      mixed: 'postgresql://[redacted]@[::1]:5432,pg2:5432/chat',
      tagged: 'postgresql://pg1:5432,pg2:5432/chat?user=app@acme-pg&password=[redacted]',
    });
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminApi, createAdminHarness } from '../test-support/admin-api.js';
import type { Harness } from '../test-support/harness.js';

/**
 * An ordinary option URL with a port whose query or fragment holds an e-mail address (or an IPv6 host) is a URL, not a
 * digits-only password read as a port (`PASSWORD_AS_PORT` in admin-secrets.ts): shown as stored, and it round-trips.
 */
describe('an option URL with a port and an @ in its query or fragment', () => {
  let h: Harness;
  const admin = adminApi(() => h.gateway);
  beforeEach(async () => {
    h = await createAdminHarness();
  });
  afterEach(() => h.close());

  it('is shown as it is and round-trips GET -> PATCH', async () => {
    const options = {
      reply: 'x',
      smtpUrl: 'smtp://mail.acme.example:587?from=bot@acme.example',
      search: 'https://search.acme.internal:9200#/users/bob@acme.example/profile',
      local: 'http://[::1]:8080#owner@acme.example',
    };
    expect((await admin('POST', '/admin/tenants', { id: 'plain', name: 'Plain', models: [{ name: 'custom', engine: 'mock', options }] })).status).toBe(201);
    const shown = (await (await admin('GET', '/admin/tenants/plain')).json()) as { models: Array<{ options: unknown }> };
    const saved = await admin('PATCH', '/admin/tenants/plain', { models: shown.models });
    expect({ options: shown.models[0]!.options, status: saved.status }).toEqual({ options, status: 200 });
  });
});

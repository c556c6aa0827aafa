/**
 * A tenant of the gateway's tenant store preferring a strategy this router does not have (stored through a process
 * with other strategies, or before a config change) is the server's config error (`config_invalid` naming the
 * tenant's `preferences.strategy`, a 500 whose message is not sent), as for a tenant of the router's config: never
 * a 400 naming a `strategy` field the client never sent.
 */
import { describe, expect, it } from 'vitest';
import { createHarness, post } from '../test-support/harness.js';

describe('a stored tenant preferring a strategy this router does not have', () => {
  it('its chat completion is the server config error (500), not a 400 naming `strategy`', async () => {
    const h = await createHarness({ stores: 'memory' });
    try {
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', preferences: { strategy: 'house-special' } });
      const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${secret}` });
      const body = (await res.json()) as { error?: { param?: string | null; message?: string } };
      expect({ status: res.status, param: body.error?.param ?? null }).toEqual({ status: 500, param: null });
    } finally {
      await h.close();
    }
  });
});

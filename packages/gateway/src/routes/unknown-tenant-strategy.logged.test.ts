/**
 * A stored tenant's unknown `preferences.strategy` is the server's config error: a 500 ("Internal gateway error; see
 * the server log for this request id") on every endpoint that picks a deployment, and the server log holds it under
 * that request id (/api/route and /v1/embeddings answered the 500 without writing the log line it points to).
 */
import { describe, expect, it } from 'vitest';
import type { GatewayLogEntry } from '../types.js';
import { createHarness, post } from '../test-support/harness.js';

async function stored(logs: GatewayLogEntry[]) {
  const h = await createHarness({ stores: 'memory', gateway: { log: (e) => logs.push(e) } });
  await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', preferences: { strategy: 'house-special' } });
  const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
  return { h, auth: { authorization: `Bearer ${secret}` } };
}

describe('a stored tenant preferring a strategy this router does not have, outside the chat endpoints', () => {
  it.each([
    ['/api/route', { prompt: 'which one?' }],
    ['/v1/embeddings', { model: 'mock', input: 'hello' }],
    ['/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hi' }] }],
  ] as const)('%s answers the 500 "see the server log" and logs the config error under its request id', async (path, body) => {
    const logs: GatewayLogEntry[] = [];
    const { h, auth } = await stored(logs);
    try {
      const res = await post(h.gateway, path, body, auth);
      const requestId = res.headers.get('x-request-id');
      const json = (await res.json()) as { error?: { message?: string } };
      expect({ status: res.status, message: json.error?.message }).toEqual({ status: 500, message: 'Internal gateway error; see the server log for this request id' });
      // The server log must hold what the reply points to: the config error, under this request id.
      const logged = logs.filter((e) => e.requestId === requestId && (e.error as { code?: string } | undefined)?.code === 'config_invalid');
      expect(logged.length, `log entries: ${JSON.stringify(logs.map((e) => ({ message: e.message, requestId: e.requestId })))}`).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  });
});

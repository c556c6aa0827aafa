/**
 * A v3 tenant whose `preferences.strategy` names no registered strategy (a router whose `checkTenantStrategies()`
 * was not called, as `createGateway` does not): its calls are the server's config error, answered as the gateway's
 * internal error (500, the message logged, not sent), never a 400 naming a `strategy` field the client never sent.
 */
import { LLMError, LLMRouter } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import type { GatewayLogEntry } from '../types.js';
import { post } from '../test-support/harness.js';

describe('a v3 tenant preferring an unknown strategy, at the gateway', () => {
  it('a chat completion of the tenant is a 500 with the config error logged', async () => {
    const router = new LLMRouter({
      version: 3,
      models: [{ name: 'a', engine: 'mock' }],
      routing: { strategy: 'priority', retries: { max: 0 } },
      // A gateway without stores calls the router without a tenant: the config's default tenant's.
      tenants: [{ id: 'default', preferences: { strategy: 'prioritty' } }],
      defaultTenant: 'default',
    });
    const logged: GatewayLogEntry[] = [];
    const gateway = createGateway({ router, log: (e) => logged.push(e) });
    try {
      const res = await post(gateway, '/v1/chat/completions', { model: 'a', messages: [{ role: 'user', content: 'hi' }] });
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(text).not.toContain('prioritty');
      expect(JSON.parse(text)).not.toMatchObject({ error: { param: 'strategy' } });
      const error = logged.map((e) => e.error).find((e) => LLMError.isInstance(e));
      expect(error).toMatchObject({ code: 'config_invalid', param: 'preferences.strategy' });
      expect((error as LLMError).message).toContain('unknown strategy "prioritty"');
    } finally {
      await gateway.close();
      await router.close();
    }
  });
});

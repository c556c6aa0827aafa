/**
 * A v3 tenant whose preferences.strategy names no registered strategy (a router built without calling
 * `checkTenantStrategies()`, as an embedder's `new LLMRouter` or `createGateway` may be): its calls fail with
 * `config_invalid` naming the tenant and its `preferences.strategy` (the server's config, a 500 at the gateway),
 * not `invalid_request` naming a `strategy` field the caller never sent. A call that names an unknown strategy
 * itself still gets `invalid_request` for its `strategy`.
 */
import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { LLMRouter } from './llm-router.js';

const build = () =>
  new LLMRouter({
    version: 3,
    models: [{ name: 'a', engine: 'mock' }],
    routing: { strategy: 'priority', retries: { max: 0 } },
    tenants: [{ id: 'acme', preferences: { strategy: 'prioritty' } }],
  });

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('a v3 tenant preferring an unknown strategy', () => {
  it("a call that names no strategy fails as the tenant's config, naming its preferences.strategy", async () => {
    const router = build();
    try {
      const e = await failure(router.generate('hi', { tenant: 'acme' }));
      expect(LLMError.isInstance(e)).toBe(true);
      const err = e as LLMError;
      expect({ code: err.code, param: err.param, statusCode: err.statusCode }).toEqual({ code: 'config_invalid', param: 'preferences.strategy', statusCode: 500 });
      expect(err.message).toContain('tenant "acme"');
      expect(err.message).toContain('unknown strategy "prioritty"');
      // route() and stream() plan the same way.
      expect(await failure(router.route({ messages: [{ role: 'user', content: 'hi' }] }, { tenant: 'acme' }))).toMatchObject({ code: 'config_invalid', param: 'preferences.strategy' });
    } finally {
      await router.close();
    }
  });

  it("a call naming an unknown strategy itself is the caller's invalid `strategy`; a known one is served", async () => {
    const router = build();
    try {
      expect(await failure(router.generate('hi', { tenant: 'acme', strategy: 'nope' }))).toMatchObject({ code: 'invalid_request', param: 'strategy' });
      expect((await router.generate('hi', { tenant: 'acme', strategy: 'priority' })).deployment).toBe('a');
    } finally {
      await router.close();
    }
  });

  it('checkTenantStrategies() names the same field by its place in the config', () => {
    const router = build();
    expect(() => router.checkTenantStrategies()).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'tenants.0.preferences.strategy' }));
    void router.close();
  });
});

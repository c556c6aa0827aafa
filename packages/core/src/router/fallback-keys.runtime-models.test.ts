/**
 * `routing.fallbacks` map keys are not checked against the config's models: a key may name a model that joins the
 * router at run time (a tenant's own model handed to `setTenant`, as the gateway does for the admin API's tenant
 * models with a v2 config; a model added with `load()`). Such a config builds and its fallbacks apply.
 */
import { describe, expect, it } from 'vitest';
import { LLMRouter } from './llm-router.js';

describe('routing.fallbacks keys naming models that join at run time', () => {
  it("a v2 config whose fallback key names a runtime tenant's own model (gateway admin API models): builds and falls over", async () => {
    const router = new LLMRouter({
      version: 2,
      models: [{ name: 'shared', engine: 'mock', options: { reply: 'from shared' } }],
      routing: { strategy: 'priority', retries: { max: 0 }, fallbacks: { 'acme-ft': ['shared'] } },
    });
    try {
      router.setTenant({ id: 'acme', models: [{ name: 'acme-ft', engine: 'mock', options: { failures: [{ code: 'provider_error', times: 10 }] } }] });
      const r = await router.generate('hi', { tenant: 'acme', model: 'acme-ft' });
      expect(r.deployment).toBe('shared');
    } finally {
      await router.close();
    }
  });

  it('a fallback key naming a model added later with load(): builds and falls over', async () => {
    const router = new LLMRouter({
      models: [{ name: 'shared', engine: 'mock', options: { reply: 'from shared' } }],
      routing: { strategy: 'priority', retries: { max: 0 }, fallbacks: { later: ['shared'] } },
    });
    try {
      router.load({ name: 'later', engine: 'mock', options: { failures: [{ code: 'provider_error', times: 10 }] } });
      const r = await router.generate('hi', { model: 'later' });
      expect(r.deployment).toBe('shared');
    } finally {
      await router.close();
    }
  });
});

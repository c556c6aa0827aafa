/**
 * A tenant's allow-list names shared deployments; its own models are its by ownership. So an own model named like
 * a shared deployment's alias does not open that deployment, and a cascade the tenant may use may have an own model
 * (shadowing a shared one of its name) as a step: the view lists it and a call may run it.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../config/schema.js';
import { rejection } from '../test/async.test-helpers.js';
import { LLMRouter } from './llm-router.js';

const own = (name: string, reply: string): ModelConfigInput => ({ name, engine: 'mock', priority: 9, options: { reply } });

describe("LLMRouter tenant views: own models and the tenant's allow-list", () => {
  it('an own model named like a shared alias shows no shared deployment of that alias', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'cheap', engine: 'mock', priority: 5, options: { reply: 'shared cheap' } },
        { name: 'premium-a', engine: 'mock', alias: 'premium', priority: 1, options: { reply: 'shared premium' } },
      ],
      routing: { strategy: 'priority' },
    });
    router.setTenant({ id: 'acme', allowedModels: ['cheap'], models: [own('premium', 'own premium')] });
    expect(router.models('acme').map((m) => m.name)).toEqual(['cheap', 'premium']);
    expect((await router.generate('hi', { tenant: 'acme', model: 'premium' })).text).toBe('own premium');
    expect((await router.generate('hi', { tenant: 'acme' })).deployment).toBe('cheap');
    expect((await rejection(router.generate('hi', { tenant: 'acme', model: 'premium-a' }))).code).toBe('model_not_found');
    await router.close();
  });

  it('a cascade in the allow-list may have an own model as a step: listed and served', async () => {
    const router = new LLMRouter({
      models: [
        { name: 'weak', engine: 'mock', options: { reply: 'shared weak' } },
        { name: 'strong', engine: 'mock', options: { reply: 'shared strong' } },
      ],
      routing: { strategy: 'priority', cascades: [{ name: 'cas', weak: 'weak', strong: 'strong', verifier: 'always', threshold: 1 }] },
    }, { verifiers: { always: () => 1 } });
    router.setTenant({ id: 'acme', allowedModels: ['weak', 'cas'], models: [own('strong', 'own strong')] });
    expect(router.models('acme').map((m) => m.name)).toEqual(['weak', 'strong', 'cas']);
    // The verifier always escalates: the call ends on the tenant's own `strong`.
    const result = await router.generate('hi', { tenant: 'acme', model: 'cas' });
    expect([result.deployment, result.text]).toEqual(['strong', 'own strong']);
    // A per-call list still has to name the step.
    expect((await rejection(router.generate('hi', { tenant: 'acme', model: 'cas', allowedModels: ['weak', 'cas'] }))).code).toBe('permission_denied');
    // Without the tenant's view (another tenant of a v2 router: the shared models), the shared step is used.
    expect((await router.generate('hi', { tenant: 'other', model: 'cas' })).text).toBe('shared strong');
    await router.close();
  });
});

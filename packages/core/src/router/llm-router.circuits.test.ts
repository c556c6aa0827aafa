/**
 * `circuits()` and the `circuit` event with tenants' own models: an own model may share a shared deployment's
 * name, and its circuit is its own; both say which tenant owns it. Retired deployments (unloaded, of a removed
 * tenant) are not listed.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../config/schema.js';
import { LLMRouter } from './llm-router.js';
import type { RouterEvents } from './types.js';

const DOWN = { failures: [{ code: 'provider_unavailable', message: 'down', times: 1000 }] };
const model = (name: string, options: Record<string, unknown> = { reply: name }): ModelConfigInput => ({ name, engine: 'mock', options });

function router(now?: () => number): LLMRouter {
  return new LLMRouter(
    { models: [model('gpt'), model('other')], routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } } },
    now ? { now } : {},
  );
}

describe('LLMRouter.circuits', () => {
  it('lists a tenant\'s own model apart from the shared deployment of its name, with its tenant, and says so in the circuit event', async () => {
    const r = router().setTenant({ id: 'acme', models: [model('gpt', DOWN)] });
    const events: Array<RouterEvents['circuit']> = [];
    r.on('circuit', (e) => events.push(e));
    await expect(r.generate('hi', { tenant: 'acme', model: 'gpt' })).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect(events).toEqual([{ deployment: 'gpt', tenant: 'acme', from: 'closed', to: 'open' }]);
    expect(r.circuits()).toEqual([
      { deployment: 'gpt', state: 'closed' },
      { deployment: 'other', state: 'closed' },
      { deployment: 'gpt', tenant: 'acme', state: 'open' },
    ]);
    // The shared `gpt` still serves everyone else.
    expect((await r.generate('hi', { model: 'gpt' })).text).toBe('gpt');
    await r.close();
  });

  it('a shared deployment\'s circuit event has no tenant', async () => {
    const r = new LLMRouter({ models: [model('gpt', DOWN)], routing: { retries: { max: 0 }, circuitBreaker: { failureThreshold: 1 } } });
    const events: Array<RouterEvents['circuit']> = [];
    r.on('circuit', (e) => events.push(e));
    await expect(r.generate('hi')).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect(events).toEqual([{ deployment: 'gpt', from: 'closed', to: 'open' }]);
    expect(events[0]).not.toHaveProperty('tenant');
    await r.close();
  });

  it('leaves out retired deployments: an unloaded one, a removed tenant\'s, one a tenant dropped', async () => {
    const r = router()
      .setTenant({ id: 'acme', models: [model('acme-llm', DOWN), model('acme-old')] })
      .setTenant({ id: 'beta', models: [model('beta-llm')] });
    await expect(r.generate('hi', { tenant: 'acme', model: 'acme-llm' })).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect(r.circuits()).toContainEqual({ deployment: 'acme-llm', tenant: 'acme', state: 'open' });
    expect(r.unload('other')).toBe(true);
    r.setTenant({ id: 'beta', models: [] });
    expect(r.removeTenant('acme')).toBe(true);
    expect(r.circuits()).toEqual([{ deployment: 'gpt', state: 'closed' }]);
    await r.close();
  });

  it('reads an open circuit past its cooldown as half-open, as a call would find it', async () => {
    let t = 1_000;
    const r = router(() => t).setTenant({ id: 'acme', models: [model('acme-llm', DOWN)] });
    await expect(r.generate('hi', { tenant: 'acme', model: 'acme-llm' })).rejects.toMatchObject({ code: 'provider_unavailable' });
    expect(r.circuits().find((c) => c.tenant === 'acme')?.state).toBe('open');
    t += 60_000;
    expect(r.circuits().find((c) => c.tenant === 'acme')?.state).toBe('half-open');
    expect(r.models('acme').find((m) => m.name === 'acme-llm')?.stats.circuit).toBe('half-open');
    await r.close();
  });
});

/**
 * `TenantModelSync` on its own, over a real `LLMRouter` (mock engine): a tenant read begun before a deletion was
 * heard sets nothing of the deleted tenant again (`begin` / `sync(tenant, since)`), and what it remembers of
 * tenants stays bounded: nothing of a deleted tenant but a bounded record of recent deletions, and at most
 * MAX_INCARNATIONS tenants' incarnations (the least recently read forgotten as a deleted one is). Heap sizes are
 * measured after a full GC (v8's gc, exposed for this file).
 */
import { circuitKey, LLMError, LLMRouter, MemoryCircuitStateStore, type Tenant } from '@llmrr/core';
import { startOpenAIWireServer } from '@llmrr/core/test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { TenantModelSync } from './tenant-model-sync.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const heap = () => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
};

const OWN = { name: 'own-llm', engine: 'mock', price: { input: 0, output: 0 }, options: { reply: 'mine' } };
const T0 = 1_790_000_000_000;

/** A tenant as a store answers it: a fresh object and id string per read. */
const tenantOf = (id: string, extra: Partial<Tenant> = {}): Tenant => ({ id, name: 'T', tier: 'basic', preferences: {}, disabled: false, createdAt: T0, updatedAt: T0, ...extra });

describe('TenantModelSync', () => {
  let router: LLMRouter;
  const newSync = () => {
    router = new LLMRouter({ version: 2, models: [mockModel('mock', { reply: 'x' })], routing: { strategy: 'priority' } } as never, { unknownTenant: 'shared' });
    return new TenantModelSync(router);
  };
  const ownOf = (tenant: string) => router.models(tenant).filter((d) => d.tenant === tenant).map((d) => d.name);
  afterEach(async () => {
    await router.close();
  });

  it("a read begun before the tenant's deletion was heard sets none of its models again; a read begun after does", () => {
    const sync = newSync();
    const acme = tenantOf('acme', { models: [OWN] as never });
    sync.sync(acme, sync.begin());
    expect(ownOf('acme')).toEqual(['own-llm']);

    const since = sync.begin();
    // The deletion's notice arrives while the read is on its way (or a cached answer is about to be used).
    sync.deleted('acme');
    expect(ownOf('acme')).toEqual([]);
    expect(sync.sync(acme, since)).toBe(acme);
    expect(ownOf('acme')).toEqual([]);

    // Other tenants' reads are not held back by it.
    sync.sync(tenantOf('beta', { models: [OWN] as never }), since);
    expect(ownOf('beta')).toEqual(['own-llm']);
    // The tenant written again (a restore), read after the deletion: served again.
    sync.sync(tenantOf('acme', { models: [OWN] as never, createdAt: T0 + 1 }), sync.begin());
    expect(ownOf('acme')).toEqual(['own-llm']);
  });

  it("a tenant read with another createdAt (a restore) gets its own models' circuits keyed by it: not the old incarnation's", () => {
    // The circuit keys the router asks its store for (a shared store, Redis, keeps the old incarnation's for a day).
    const keys: string[] = [];
    const memory = new MemoryCircuitStateStore();
    router = new LLMRouter({ version: 2, models: [mockModel('mock', { reply: 'x' })], routing: { strategy: 'priority' } } as never, {
      unknownTenant: 'shared',
      circuitStore: { circuit: (key, options) => (keys.push(key), memory.circuit(key, options)) },
    });
    const sync = new TenantModelSync(router);
    sync.sync(tenantOf('acme', { models: [OWN] as never }), sync.begin());
    // Read again, unchanged: the same model and circuit.
    sync.sync(tenantOf('acme', { models: [OWN] as never }), sync.begin());
    sync.sync(tenantOf('acme', { models: [OWN] as never, createdAt: T0 + 1 }), sync.begin());
    // (Each own model's key ends in its config's fingerprint: the same config here.)
    const fingerprint = keys[1]!.split('#')[1];
    expect(keys).toEqual([circuitKey('mock'), circuitKey('own-llm', 'acme', T0, fingerprint), circuitKey('own-llm', 'acme', T0 + 1, fingerprint)]);
    expect(keys[1]).not.toBe(keys[2]);
    expect(ownOf('acme')).toEqual(['own-llm']);
  });

  it('a read older than every deletion remembered sets nothing up; its next read does', () => {
    const sync = newSync();
    const acme = tenantOf('acme', { models: [OWN] as never });
    const since = sync.begin();
    // More deletions of other tenants than are remembered while the read is on its way: acme's may be among them.
    for (let i = 0; i < 1_001; i++) sync.deleted(`other-${i}`);
    sync.sync(acme, since);
    expect(ownOf('acme')).toEqual([]);
    sync.sync(acme, sync.begin());
    expect(ownOf('acme')).toEqual(['own-llm']);
    // Fewer deletions than that during a read: only the tenant's own deletion holds it back.
    sync.forget('acme');
    const recent = sync.begin();
    for (let i = 0; i < 10; i++) sync.deleted(`again-${i}`);
    sync.sync(acme, recent);
    expect(ownOf('acme')).toEqual(['own-llm']);
  });

  it('keeps nothing of tenants (without own models) that were served once and then deleted', () => {
    const sync = newSync();
    const N = 200_000;
    const before = heap();
    for (let i = 0; i < N; i++) {
      const tenant = tenantOf(`tenant-${i.toString(36).padStart(8, '0')}-customer`, { createdAt: T0 + i, updatedAt: T0 + i });
      sync.sync(tenant, sync.begin());
      // Deleted (through this process, or a notice of another): the router forgets it.
      sync.deleted(tenant.id);
    }
    const retained = heap() - before;
    // Unbounded, one entry per deleted tenant would stay: about 140 bytes each (28 MB here).
    expect(retained, `${(retained / N).toFixed(1)} bytes per deleted tenant`).toBeLessThan(2_000_000);
    // The gateway's TenantModelSync lives as long as the gateway: still in use after the measurement.
    sync.deleted('tenant-last');
  }, 120_000);

  it('remembers at most 10000 tenants: the least recently read one is forgotten as a deleted one is, and set up again when read', () => {
    const sync = newSync();
    const forgot = vi.spyOn(router, 'forgetTenant');
    sync.sync(tenantOf('first', { models: [OWN] as never }), sync.begin());
    for (let i = 0; i < 9_998; i++) sync.sync(tenantOf(`t-${i}`));
    // Read again: now the most recently read.
    sync.sync(tenantOf('first', { models: [OWN] as never }), sync.begin());
    sync.sync(tenantOf('t-last'));
    sync.sync(tenantOf('t-after-last'));
    expect(forgot.mock.calls.map((c) => c[0])).toEqual(['t-0']);
    expect(ownOf('first')).toEqual(['own-llm']);
    for (let i = 0; i < 10_000; i++) sync.sync(tenantOf(`u-${i}`));
    expect(forgot).toHaveBeenCalledWith('first');
    expect(ownOf('first')).toEqual([]);
    sync.sync(tenantOf('first', { models: [OWN] as never }), sync.begin());
    expect(ownOf('first')).toEqual(['own-llm']);
    // (The spy keeps every call's arguments.)
    forgot.mockRestore();

    const before = heap();
    for (let i = 0; i < 100_000; i++) sync.sync(tenantOf(`many-${i.toString(36).padStart(8, '0')}-customer`));
    // Ten thousand remembered at most, whatever the number of tenants read (unbounded: about 14 MB here).
    expect(heap() - before).toBeLessThan(4_000_000);
    sync.sync(tenantOf('still-in-use'));
  }, 120_000);
});

/**
 * A tenant a v3 config defined is stored with its models' secrets as "[redacted]"; removed from the config, it is
 * served from that copy. The placeholder is never a credential, and a model is never called without what it stands
 * for: a redacted apiKey gives way to the model's apiKeyEnv; any other placeholder (an apiKey without apiKeyEnv, a
 * header value, the baseURL's query or userinfo, a credential option) makes each call of the model fail at once, a
 * 503 `no_deployment` naming the model and the fields to set, with no request sent. One log line per change names
 * the fields to set through the admin API.
 */
describe('TenantModelSync: a tenant model stored with "[redacted]" secrets', () => {
  it('never sends the placeholder: apiKeyEnv applies; a model missing any other secret fails naming it, nothing sent; logged once', async () => {
    const wire = await startOpenAIWireServer();
    const router = new LLMRouter({ version: 2, models: [mockModel('mock', { reply: 'x' })], routing: { strategy: 'priority' } } as never, { unknownTenant: 'shared', env: { ACME_KEY: 'sk-acme-from-env' } });
    const logs: string[] = [];
    const sync = new TenantModelSync(router, (m) => logs.push(m));
    try {
      const models = [
        { name: 'own', engine: 'openai-compatible', baseURL: wire.baseURL, model: 'x', apiKey: '[redacted]', apiKeyEnv: 'ACME_KEY', headers: { 'x-plain': 'kept' } },
        { name: 'gpt', engine: 'openai-compatible', preset: 'openai', baseURL: wire.baseURL, model: 'x', apiKey: '[redacted]\n' },
        // A server of the tenant's own that takes no key unless told: the call would go out without one.
        { name: 'keyless', engine: 'openai-compatible', baseURL: wire.baseURL, model: 'x', apiKey: '[redacted]' },
        { name: 'header', engine: 'openai-compatible', baseURL: wire.baseURL, model: 'x', headers: { 'x-upstream-token': ' [redacted]', 'x-plain': 'kept' } },
        { name: 'query', engine: 'openai-compatible', baseURL: `${wire.baseURL}?key=[redacted]`, model: 'x' },
      ];
      sync.sync(tenantOf('acme', { models: models as never }));
      // Read again unchanged (every request reads it): not said again.
      sync.sync(tenantOf('acme', { models: models as never }));
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatch(/^tenant "acme": models\.0\.apiKey, models\.1\.apiKey, models\.2\.apiKey, models\.3\.headers\.x-upstream-token, models\.4\.baseURL are "\[redacted\]" in the tenant store .*set them through the admin API/);

      const answer = await router.chat([{ role: 'user', content: 'hi' }], { model: 'own', tenant: 'acme' });
      expect(answer.text).toBeTruthy();
      const unset = { gpt: ['apiKey (or apiKeyEnv)'], keyless: ['apiKey (or apiKeyEnv)'], header: ['headers.x-upstream-token'], query: ['baseURL'] };
      for (const [model, fields] of Object.entries(unset)) {
        const failed = await router.chat([{ role: 'user', content: 'hi' }], { model, tenant: 'acme' }).catch((e: unknown) => e);
        expect(failed, model).toMatchObject({ code: 'no_deployment', statusCode: 503, deployment: model, details: { unsetSecrets: fields } });
        expect((failed as Error).message).toContain(`Model "${model}" cannot be called until its ${fields[0]} is set`);
        // Streamed alike: its only part is the error.
        const parts: Array<{ type: string; error?: unknown }> = [];
        for await (const part of router.stream({ messages: [{ role: 'user', content: 'hi' }] }, { model, tenant: 'acme' })) parts.push(part);
        expect(parts, model).toMatchObject([{ type: 'error', error: { code: 'no_deployment', deployment: model } }]);
      }
      expect(wire.requests.map((r) => [r.headers.authorization, r.headers['x-upstream-token'], r.headers['x-plain']])).toEqual([['Bearer sk-acme-from-env', undefined, 'kept']]);
    } finally {
      await router.close();
      await wire.close();
    }
  });
});

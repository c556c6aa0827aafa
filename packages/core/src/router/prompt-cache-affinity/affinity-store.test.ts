import { describe, expect, it } from 'vitest';
import { PromptCacheAffinitySchema } from '../../config/schema.js';
import type { RouterDeployment } from '../deployment.js';
import type { RankedCandidate } from '../types.js';
import { MemoryAffinityStore } from './affinity-store.js';
import { preferAffinity } from './prefer-affinity.js';
import { PromptCacheAffinity } from './prompt-cache-affinity.js';

describe('MemoryAffinityStore', () => {
  it('is bounded: past maxEntries the least recently used key is forgotten', () => {
    const store = new MemoryAffinityStore({ maxEntries: 2 });
    store.remember([{ key: 'a', ttlMs: 60_000 }], 'm', 'd1');
    store.remember([{ key: 'b', ttlMs: 60_000 }], 'm', 'd2');
    expect(store.find(['a'], ['m'])[0]?.deployment).toBe('d1'); // a is now the most recently used
    store.remember([{ key: 'c', ttlMs: 60_000 }], 'm', 'd3');
    expect(store.size).toBe(2);
    expect(store.find(['b'], ['m'])).toEqual([]);
    expect(store.find(['b', 'c', 'a'], ['m'])).toEqual([{ key: 'c', model: 'm', deployment: 'd3', ttlMs: 60_000 }]);
  });

  it('remembers a key per model: a turn on another model keeps the first model\'s deployment', () => {
    const store = new MemoryAffinityStore({ maxEntries: 10 });
    store.remember([{ key: 'k', ttlMs: 60_000 }], 'x', 'x1');
    store.remember([{ key: 'k', ttlMs: 60_000 }], 'y', 'y2');
    store.remember([{ key: 'shorter', ttlMs: 60_000 }], 'z', 'z1');
    expect(store.find(['k', 'shorter'], ['x', 'y', 'z', 'w'])).toEqual([
      { key: 'k', model: 'x', deployment: 'x1', ttlMs: 60_000 },
      { key: 'k', model: 'y', deployment: 'y2', ttlMs: 60_000 },
      { key: 'shorter', model: 'z', deployment: 'z1', ttlMs: 60_000 },
    ]);
  });

  it('forgets a key after its own TTL, and remembering again refreshes it', () => {
    let now = 1_000;
    const store = new MemoryAffinityStore({ maxEntries: 10, now: () => now });
    store.remember([{ key: 'short', ttlMs: 300_000 }, { key: 'long', ttlMs: 3_600_000 }], 'm', 'd1');
    now += 200_000;
    store.remember([{ key: 'short', ttlMs: 300_000 }], 'm', 'd1');
    now += 200_000; // 400 s after the first write, 200 s after the refresh
    expect(store.find(['short'], ['m'])[0]?.deployment).toBe('d1');
    now += 200_000;
    expect(store.find(['short'], ['m'])).toEqual([]);
    expect(store.find(['long'], ['m'])[0]?.deployment).toBe('d1');
  });

  it('refuses a bad maxEntries with a config_invalid error naming it', () => {
    expect(() => new MemoryAffinityStore({ maxEntries: 0 })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'maxEntries' }));
  });
});

describe('PromptCacheAffinity', () => {
  it('does no work for a request without marks or key (undefined, synchronously), nor when disabled', () => {
    const on = new PromptCacheAffinity(PromptCacheAffinitySchema.parse({}));
    expect(on.lookup({ messages: [{ role: 'user', content: 'hi' }] }, undefined, undefined, ['m'])).toBeUndefined();
    expect(on.lookup({ messages: [{ role: 'user', content: 'hi' }], promptCacheKey: 'k' }, undefined, undefined, [])).toBeUndefined();
    const off = new PromptCacheAffinity(PromptCacheAffinitySchema.parse({ enabled: false }));
    expect(off.lookup({ messages: [{ role: 'user', content: 'hi' }], promptCacheKey: 'k' }, undefined, undefined, ['m'])).toBeUndefined();
  });

  it('a store that fails is a miss, reported to onError, never a failed call', async () => {
    const errors: unknown[] = [];
    const affinity = new PromptCacheAffinity(PromptCacheAffinitySchema.parse({}), {
      store: {
        find: () => Promise.reject(new Error('redis down')),
        remember: () => Promise.reject(new Error('redis down')),
      },
    });
    affinity.onError = (e) => errors.push(e);
    const found = await affinity.lookup({ messages: [{ role: 'user', content: 'hi' }], promptCacheKey: 'k' }, undefined, undefined, ['m']);
    expect(found).toBeUndefined();
    affinity.remember({ keys: { source: 'promptCacheKey', lookup: ['k'], remember: [{ key: 'k', ttlMs: 1 }] }, hits: [] }, 'm', 'd');
    await new Promise((r) => setTimeout(r, 0));
    expect(errors).toHaveLength(2);
  });
});

describe('preferAffinity', () => {
  const dep = (name: string, modelId: string) => ({ deployment: { name, modelId } as unknown as RouterDeployment }) as RankedCandidate;
  const hit = (model: string, deployment: string) => ({ key: 'k', model, deployment, ttlMs: 1 });
  const names = (r: RankedCandidate[] | undefined) => r?.map((c) => c.deployment.name);

  it("puts the first choice's model's remembered deployment first; the rest keep their order", () => {
    const out = preferAffinity([dep('a', 'm'), dep('b', 'x'), dep('c', 'm')], [hit('x', 'b'), hit('m', 'c')]);
    expect(out.hit?.deployment).toBe('c');
    expect(names(out.ranked)).toEqual(['c', 'a', 'b']);
  });

  it('changes nothing when it is already first, not ranked, or only another model has a hit (the strategy chose the model)', () => {
    const ranked = [dep('a', 'm'), dep('b', 'x')];
    expect(preferAffinity(ranked, [hit('m', 'a')]).ranked).toBeUndefined();
    expect(preferAffinity(ranked, [hit('m', 'zzz')])).toEqual({ hit: hit('m', 'zzz'), ranked: undefined });
    expect(preferAffinity(ranked, [hit('x', 'b')])).toEqual({ hit: undefined, ranked: undefined });
    expect(preferAffinity(ranked, [hit('x', 'a')]).ranked).toBeUndefined();
  });
});

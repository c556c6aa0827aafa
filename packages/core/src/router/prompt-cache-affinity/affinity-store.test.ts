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
    store.remember([{ key: 'a', ttlMs: 60_000 }], 'd1');
    store.remember([{ key: 'b', ttlMs: 60_000 }], 'd2');
    expect(store.find(['a'])?.deployment).toBe('d1'); // a is now the most recently used
    store.remember([{ key: 'c', ttlMs: 60_000 }], 'd3');
    expect(store.size).toBe(2);
    expect(store.find(['b'])).toBeUndefined();
    expect(store.find(['b', 'c', 'a'])).toEqual({ key: 'c', deployment: 'd3', ttlMs: 60_000 });
  });

  it('forgets a key after its own TTL, and remembering again refreshes it', () => {
    let now = 1_000;
    const store = new MemoryAffinityStore({ maxEntries: 10, now: () => now });
    store.remember([{ key: 'short', ttlMs: 300_000 }, { key: 'long', ttlMs: 3_600_000 }], 'd1');
    now += 200_000;
    store.remember([{ key: 'short', ttlMs: 300_000 }], 'd1');
    now += 200_000; // 400 s after the first write, 200 s after the refresh
    expect(store.find(['short'])?.deployment).toBe('d1');
    now += 200_000;
    expect(store.find(['short'])).toBeUndefined();
    expect(store.find(['long'])?.deployment).toBe('d1');
  });

  it('refuses a bad maxEntries with a config_invalid error naming it', () => {
    expect(() => new MemoryAffinityStore({ maxEntries: 0 })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'maxEntries' }));
  });
});

describe('PromptCacheAffinity', () => {
  it('does no work for a request without marks or key (undefined, synchronously), nor when disabled', () => {
    const on = new PromptCacheAffinity(PromptCacheAffinitySchema.parse({}));
    expect(on.lookup({ messages: [{ role: 'user', content: 'hi' }] }, undefined, undefined)).toBeUndefined();
    const off = new PromptCacheAffinity(PromptCacheAffinitySchema.parse({ enabled: false }));
    expect(off.lookup({ messages: [{ role: 'user', content: 'hi' }], promptCacheKey: 'k' }, undefined, undefined)).toBeUndefined();
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
    const found = await affinity.lookup({ messages: [{ role: 'user', content: 'hi' }], promptCacheKey: 'k' }, undefined, undefined);
    expect(found).toBeUndefined();
    affinity.remember({ keys: { source: 'promptCacheKey', lookup: ['k'], remember: [{ key: 'k', ttlMs: 1 }] }, hit: undefined }, 'd');
    await new Promise((r) => setTimeout(r, 0));
    expect(errors).toHaveLength(2);
  });
});

describe('preferAffinity', () => {
  const dep = (name: string, modelId: string) => ({ deployment: { name, modelId } as unknown as RouterDeployment }) as RankedCandidate;
  const names = (r: RankedCandidate[] | undefined) => r?.map((c) => c.deployment.name);

  it('puts the remembered deployment first when it serves the model of the first choice; the rest keep their order', () => {
    expect(names(preferAffinity([dep('a', 'm'), dep('b', 'x'), dep('c', 'm')], 'c'))).toEqual(['c', 'a', 'b']);
  });

  it('changes nothing when it is already first, not ranked, or serves another model (the strategy chose the model)', () => {
    const ranked = [dep('a', 'm'), dep('b', 'x')];
    expect(preferAffinity(ranked, 'a')).toBeUndefined();
    expect(preferAffinity(ranked, 'zzz')).toBeUndefined();
    expect(preferAffinity(ranked, 'b')).toBeUndefined();
  });
});

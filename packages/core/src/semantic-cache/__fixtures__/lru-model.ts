/**
 * A reference LRU model of a byte- and count-bounded semantic store, and random operations checked against it after
 * every step (byte total recomputed from scratch, eviction order, both caps). Shared by the memory and SQLite store tests.
 */
import { expect } from 'vitest';
import { makeUsage } from '../../spec/index.js';
import { semanticEntryBytes, type MemorySemanticStore } from '../memory-semantic-store.js';
import type { SemanticEntry, SemanticStore } from '../semantic-store.js';

/** The seeded PRNG of the random operations (core's mulberry32). */
export { seededRandom as rng } from '../../util/seeded-random.js';

export const FAR = 4_000_000_000_000;
export const MAX_ENTRIES = 8;
export const MAX_BYTES = 20_000;

export interface Kept {
  id: number;
  bytes: number;
  tenant: string;
  user: string | undefined;
  ns: string;
}

/** Reference model: an LRU list bounded by count and bytes; an entry larger than the bound alone is refused. */
export class LruModel {
  list: Kept[] = [];
  constructor(
    public maxEntries: number,
    public maxBytes: number,
  ) {}
  get bytes(): number {
    return this.list.reduce((s, k) => s + k.bytes, 0);
  }
  evict(): void {
    while (this.list.length > this.maxEntries || this.bytes > this.maxBytes) this.list.shift();
  }
  touch(id: number): void {
    const i = this.list.findIndex((k) => k.id === id);
    if (i >= 0) this.list.push(...this.list.splice(i, 1));
  }
  remove(pred: (k: Kept) => boolean): number {
    const before = this.list.length;
    this.list = this.list.filter((k) => !pred(k));
    return before - this.list.length;
  }
}

export function entryOf(r: () => number, namespace: string): SemanticEntry {
  const big = r() < 0.1;
  const len = big ? 20_000 + Math.floor(r() * 5_000) : Math.floor(r() * 4_000);
  const tenant = r() < 0.5 ? 'acme' : 'globex';
  const u = r();
  const user = u < 0.33 ? undefined : u < 0.66 ? 'u1' : 'u2';
  return {
    namespace,
    tenant,
    ...(user !== undefined ? { user } : {}),
    prompt: `q ${Math.floor(r() * 1e9).toString(36)} ${'p'.repeat(Math.floor(r() * 300))}`,
    vector: Float32Array.from({ length: 4 }, () => r() - 0.5),
    answer: { text: 'x'.repeat(len), toolCalls: [], finishReason: 'stop', usage: makeUsage(1, 1), deployment: 'm', model: 'm', provider: 'p', createdAt: 0 },
    expiresAt: FAR,
  };
}

/** The store's ids, oldest use first (its catalog, read through a cast: the property under test). */
export function storeIds(store: SemanticStore): number[] {
  return [...(store as unknown as { catalog: { ids(): IterableIterator<number> } }).catalog.ids()];
}

export async function runOps(store: MemorySemanticStore, model: LruModel, r: () => number, steps: number, after?: () => void): Promise<void> {
  for (let step = 0; step < steps; step++) {
    const op = r();
    if (op < 0.4) {
      const e = entryOf(r, r() < 0.5 ? 'ns1' : 'ns2');
      const bytes = semanticEntryBytes(e);
      const id = await store.add(e);
      if (bytes > model.maxBytes) expect(id).toBe(0);
      else {
        expect(id).toBeGreaterThan(0);
        model.list.push({ id, bytes, tenant: e.tenant, user: e.user, ns: e.namespace });
        model.evict();
      }
    } else if (op < 0.5) {
      // Mixed namespaces: the batch's recency is its order.
      const batch = Array.from({ length: 1 + Math.floor(r() * 4) }, () => entryOf(r, r() < 0.5 ? 'ns1' : 'ns2'));
      const ids = await store.addMany(batch);
      batch.forEach((e, i) => {
        const bytes = semanticEntryBytes(e);
        if (bytes > model.maxBytes) expect(ids[i]).toBe(0);
        else model.list.push({ id: ids[i]!, bytes, tenant: e.tenant, user: e.user, ns: e.namespace });
      });
      model.evict();
    } else if (op < 0.65) {
      const k = model.list[Math.floor(r() * model.list.length)];
      if (k) {
        await store.touch(k.id);
        model.touch(k.id);
      }
    } else if (op < 0.75) {
      const k = model.list[Math.floor(r() * model.list.length)];
      if (k) {
        expect(await store.delete(k.id)).toBe(true);
        model.remove((m) => m.id === k.id);
      }
    } else if (op < 0.82) {
      const t = r() < 0.5 ? 'acme' : 'globex';
      expect(await store.eraseTenant(t)).toBe(model.remove((m) => m.tenant === t));
    } else if (op < 0.95) {
      const t = r() < 0.5 ? 'acme' : 'globex';
      const u = r() < 0.5 ? 'u1' : 'u2';
      expect(await store.eraseUser(t, u)).toBe(model.remove((m) => m.tenant === t && m.user === u));
    } else {
      await store.clear();
      model.list = [];
    }
    // The in-process total is the sum over what is kept, recomputed; the order is the LRU's.
    expect(storeIds(store)).toEqual(model.list.map((k) => k.id));
    expect(store.sizeBytes).toBe(model.bytes);
    expect(store.sizeBytes).toBeLessThanOrEqual(MAX_BYTES);
    expect(await store.size()).toBeLessThanOrEqual(MAX_ENTRIES);
    after?.();
  }
}

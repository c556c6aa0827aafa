import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/index.js';
import { MemoryCacheStore } from './memory-cache-store.js';

function clock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('MemoryCacheStore', () => {
  it('gets what was set, deletes and clears', () => {
    const s = new MemoryCacheStore<string>();
    s.set('a', 'A');
    expect(s.get('a')).toBe('A');
    expect(s.get('b')).toBeUndefined();
    expect(s.delete('a')).toBe(true);
    expect(s.delete('a')).toBe(false);
    s.set('x', 'X');
    s.clear();
    expect(s.size).toBe(0);
  });

  it('evicts the least recently used entry past maxEntries', () => {
    const s = new MemoryCacheStore<string>({ maxEntries: 2 });
    s.set('a', 'A');
    s.set('b', 'B');
    expect(s.get('a')).toBe('A'); // a is now more recent than b
    s.set('c', 'C');
    expect(s.get('b')).toBeUndefined();
    expect(s.get('a')).toBe('A');
    expect(s.get('c')).toBe('C');
    expect(s.size).toBe(2);
  });

  it('expires entries after the default TTL (injected clock)', () => {
    const c = clock();
    const s = new MemoryCacheStore<string>({ ttlMs: 1_000, now: c.now });
    s.set('a', 'A');
    c.advance(999);
    expect(s.get('a')).toBe('A');
    c.advance(2);
    expect(s.get('a')).toBeUndefined();
    expect(s.size).toBe(0);
  });

  it('honours a per-entry TTL over the default', () => {
    const c = clock();
    const s = new MemoryCacheStore<string>({ ttlMs: 10_000, now: c.now });
    s.set('short', 'S', 100);
    s.set('long', 'L');
    c.advance(101);
    expect(s.get('short')).toBeUndefined();
    expect(s.get('long')).toBe('L');
  });

  it('keeps entries without TTL until evicted', () => {
    const c = clock();
    const s = new MemoryCacheStore<string>({ now: c.now });
    s.set('a', 'A');
    c.advance(1e9);
    expect(s.get('a')).toBe('A');
  });

  it('bounds the total size in bytes, evicting old entries', () => {
    const s = new MemoryCacheStore<{ text: string }>({ maxEntries: 100, maxSizeBytes: 100 });
    s.set('a', { text: 'x'.repeat(30) }); // ~41 bytes of JSON + key
    s.set('b', { text: 'y'.repeat(30) });
    expect(s.size).toBe(2);
    s.set('c', { text: 'z'.repeat(30) });
    expect(s.get('a')).toBeUndefined();
    expect(s.size).toBe(2);
    expect(s.sizeBytes).toBeLessThanOrEqual(100);
    // Too big on its own: not stored.
    s.set('huge', { text: 'h'.repeat(500) });
    expect(s.get('huge')).toBeUndefined();
  });

  it('measures UTF-8 bytes, not characters', () => {
    const s = new MemoryCacheStore<string>({ maxSizeBytes: 1_000 });
    s.set('k', '字字字'); // JSON "字字字" = 2 quotes + 9 bytes, plus 1 for the key
    expect(s.sizeBytes).toBe(12);
  });

  it('deletes by prefix', () => {
    const s = new MemoryCacheStore<number>();
    s.set('t:a:1', 1);
    s.set('t:a:2', 2);
    s.set('t:ab:1', 3);
    expect(s.deleteByPrefix('t:a:')).toBe(2);
    expect(s.get('t:ab:1')).toBe(3);
    expect(s.size).toBe(1);
  });

  it('rejects nonsense sizes with a typed error naming the option', () => {
    for (const [opts, name] of [
      [{ maxEntries: 0 }, 'maxEntries'],
      [{ ttlMs: -1 }, 'ttlMs'],
      [{ maxSizeBytes: 1.5 }, 'maxSizeBytes'],
    ] as const) {
      try {
        new MemoryCacheStore(opts);
        expect.unreachable();
      } catch (e) {
        expect(LLMError.isInstance(e) && e.param).toBe(name);
      }
    }
    expect(() => new MemoryCacheStore<string>().set('a', 'A', 0)).toThrow(/ttlMs must be a positive integer/);
  });
});

import { describe, expect, it } from 'vitest';
import { normalize } from '../embeddings/embedder.js';
import { annReady } from './ann-loader.js';
import { FlatIndex } from './flat-index.js';
import { HybridIndex } from './hybrid-index.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
}
function vectors(n: number, d: number, seed = 1): Float32Array[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => normalize(Float32Array.from({ length: d }, r)));
}
function bruteTop(vs: Float32Array[], ids: number[], q: Float32Array): number {
  let best = -Infinity;
  let at = -1;
  vs.forEach((v, i) => {
    let s = 0;
    for (let j = 0; j < q.length; j++) s += v[j]! * q[j]!;
    if (s > best) [best, at] = [s, ids[i]!];
  });
  return at;
}

describe('FlatIndex', () => {
  it('finds the exact nearest neighbours, best first, and grows past its capacity', () => {
    const vs = vectors(300, 32);
    const idx = new FlatIndex(32, 4);
    vs.forEach((v, i) => idx.add(i + 100, v));
    expect(idx.size).toBe(300);
    for (const q of vectors(20, 32, 7)) {
      const top = idx.search(q, 3);
      expect(top).toHaveLength(3);
      expect(top[0]!.id).toBe(bruteTop(vs, vs.map((_, i) => i + 100), q));
      expect(top[0]!.score).toBeGreaterThanOrEqual(top[1]!.score);
      expect(top[1]!.score).toBeGreaterThanOrEqual(top[2]!.score);
    }
    expect(idx.search(vs[5]!, 1)[0]).toEqual({ id: 105, score: expect.closeTo(1, 5) });
  });

  it('removes by swapping the last vector in, keeping the others findable', () => {
    const vs = vectors(10, 8);
    const idx = new FlatIndex(8);
    vs.forEach((v, i) => idx.add(i, v));
    expect(idx.remove(3)).toBe(true);
    expect(idx.remove(3)).toBe(false);
    expect(idx.has(3)).toBe(false);
    expect(idx.size).toBe(9);
    for (const i of [0, 1, 2, 4, 9]) expect(idx.search(vs[i]!, 1)[0]!.id).toBe(i);
    expect(idx.search(vs[3]!, 1)[0]!.id).not.toBe(3);
  });

  it('replaces the vector of an existing id and refuses a wrong dimension', () => {
    const [a, b] = vectors(2, 4);
    const idx = new FlatIndex(4);
    idx.add(1, a!);
    idx.add(1, b!);
    expect(idx.size).toBe(1);
    expect(idx.search(b!, 1)[0]!.score).toBeCloseTo(1, 5);
    expect(() => idx.add(2, new Float32Array(3))).toThrow(/3 dimensions, the index 4/);
    expect(idx.search(new Float32Array(3), 1)).toEqual([]);
    expect(() => new FlatIndex(0)).toThrow(/dimensions/);
  });
});

describe('HybridIndex', () => {
  it('stays exact without usearch', () => {
    const idx = new HybridIndex(8, { annAbove: 4 });
    vectors(10, 8).forEach((v, i) => idx.add(i, v));
    expect(idx.kind).toBe('flat');
  });

  it('moves to usearch past annAbove and still finds every stored vector', async () => {
    const mod = await annReady();
    if (!mod) return expect.unreachable('usearch is a dev dependency of core and should load');
    const vs = vectors(400, 64, 3);
    const idx = new HybridIndex(64, { annAbove: 100, ann: mod });
    vs.forEach((v, i) => idx.add(i, v));
    expect(idx.kind).toBe('ann');
    expect(idx.size).toBe(400);
    let found = 0;
    vs.forEach((v, i) => {
      const [top] = idx.search(v, 1);
      if (top?.id === i && Math.abs(top.score - 1) < 1e-4) found++;
    });
    expect(found).toBeGreaterThanOrEqual(396); // HNSW recall on self-queries is ~100%
    expect(idx.remove(7)).toBe(true);
    expect(idx.has(7)).toBe(false);
    expect(idx.search(vs[7]!, 1)[0]?.id).not.toBe(7);
  });
});

describe('bulk loading', () => {
  it('addMany stays exact below annAbove and goes straight to usearch above it', async () => {
    const mod = await annReady();
    const vs = vectors(300, 32, 9);
    const small = new HybridIndex(32, { annAbove: 1_000, ann: mod });
    small.addMany([0, 1, 2], vs.slice(0, 3));
    expect(small.kind).toBe('flat');
    small.addMany(
      vs.slice(3).map((_, i) => i + 3),
      vs.slice(3),
    );
    expect(small.kind).toBe('flat');
    const big = new HybridIndex(32, { annAbove: 100, ann: mod });
    big.addMany([0, 1], vs.slice(0, 2));
    big.addMany(
      vs.slice(2).map((_, i) => i + 2),
      vs.slice(2),
    );
    expect(big.kind).toBe('ann');
    expect(big.size).toBe(300);
    big.addMany([1000], [vs[0]!]);
    expect(big.search(vs[123]!, 1)[0]!.id).toBe(123);
    expect(big.size).toBe(301);
  });
});

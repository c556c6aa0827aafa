import { describe, expect, it } from 'vitest';
import { llamaSeed } from '../gguf/gguf-request.js';
import { argmax, sampleToken, seededRandom } from './sampling.js';

describe('sampling', () => {
  it('is greedy at temperature 0 (first index on ties)', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(sampleToken([0, 5, 1], { temperature: 0 }, () => 0.99)).toBe(1);
  });

  it('repeats a seeded sequence', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  // Taken mod 2^32 (`seed >>> 0`), two client seeds gave the same text: -1 as 0xFFFFFFFF, 2^32 + 11 as 11, 2^40 as 0.
  // Seeds outside 0..0xFFFFFFFE are hashed instead, as gguf's `llamaSeed` does (one shared `uint32Seed`).
  it.each([
    [2 ** 32 + 11, 11],
    [-1, 0xffffffff],
    [2 ** 40, 0],
  ])('seed %d does not sample as seed %d (as on gguf)', (a, b) => {
    const draws = (seed: number) => {
      const r = seededRandom(seed);
      return Array.from({ length: 8 }, () => r());
    };
    expect(llamaSeed(a)).not.toBe(llamaSeed(b));
    expect(draws(a)).not.toEqual(draws(b));
    expect(draws(a)).toEqual(draws(a));
  });

  it('samples in proportion to softmax(logits / T)', () => {
    const random = seededRandom(1);
    const logits = [Math.log(1), Math.log(3)]; // probabilities 0.25 / 0.75 at T = 1
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) counts[sampleToken(logits, { temperature: 1 }, random)]!++;
    expect(counts[1]! / 4000).toBeGreaterThan(0.7);
    expect(counts[1]! / 4000).toBeLessThan(0.8);
  });

  it('keeps only the top-p nucleus', () => {
    const random = seededRandom(2);
    const logits = [Math.log(0.6), Math.log(0.3), Math.log(0.1)];
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(sampleToken(logits, { temperature: 1, topP: 0.85 }, random));
    expect([...seen].sort()).toEqual([0, 1]);
  });
});

describe('sampling: topK', () => {
  const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];
  const seen = (params: Parameters<typeof sampleToken>[1], seed: number) => {
    const random = seededRandom(seed);
    const s = new Set<number>();
    for (let i = 0; i < 500; i++) s.add(sampleToken(logits, params, random));
    return [...s].sort();
  };

  it('keeps only the K most likely tokens; K at or above the vocabulary keeps all', () => {
    expect(seen({ temperature: 1, topK: 2 }, 3)).toEqual([0, 1]);
    expect(seen({ temperature: 1, topK: 1 }, 4)).toEqual([0]);
    expect(seen({ temperature: 1, topK: 3 }, 5)).toEqual([0, 1, 2]);
    expect(seen({ temperature: 1, topK: 50 }, 6)).toEqual([0, 1, 2]);
  });

  it('applies top-p to the K kept, renormalized (0.5/0.8 = 0.625 of the mass: top-p 0.6 keeps one)', () => {
    expect(seen({ temperature: 1, topK: 2, topP: 0.6 }, 7)).toEqual([0]);
    // Without topK the same top-p keeps two (0.5 < 0.6).
    expect(seen({ temperature: 1, topP: 0.6 }, 8)).toEqual([0, 1]);
  });
});

import { describe, expect, it } from 'vitest';
import { seededRandom } from './sampling.js';
import { topIndices } from './top-indices.js';

/** The reference: a full sort, largest first, lower index first on ties. */
const sorted = (values: number[], k: number) =>
  values
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);

describe('topIndices', () => {
  it('is the first k of a full sort (ties: lower index first), for random values with many ties', () => {
    const random = seededRandom(11);
    for (let round = 0; round < 50; round++) {
      const values = Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 20) - 10);
      for (const k of [1, 2, 5, 20, 299, 1000]) expect(topIndices(values, k)).toEqual(sorted(values, k));
    }
  });

  it('takes Float32Array logits, and gives nothing for k 0', () => {
    expect(topIndices(new Float32Array([0.5, 2, -1, 2]), 3)).toEqual([1, 3, 0]);
    expect(topIndices([1, 2], 0)).toEqual([]);
  });
});

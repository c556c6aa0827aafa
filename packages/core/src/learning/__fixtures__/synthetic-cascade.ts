import type { CascadeScorerExample } from '../cascade/cascade-scorer-artifact.js';

/** Deterministic pseudo-random numbers in [0,1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Word problems with weak answers whose errors show (a wrong product, a cut-off answer, no final number),
 * for training the learned cascade scorer in tests: about 60% of the weak answers are right, 90% of the
 * strong ones. Not the shared data.
 */
export function syntheticCascadeExamples(n: number, seed = 11): CascadeScorerExample[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const a = 3 + Math.floor(r() * 40), b = 2 + Math.floor(r() * 9);
    const weakOk = r() < 0.6, strongOk = weakOk || r() < 0.75;
    const kind = r();
    const right = `Each box holds ${a} apples, so ${b} boxes hold ${a} * ${b} = ${a * b} apples.\n#### ${a * b}`;
    const weakResponse = weakOk
      ? right
      : kind < 0.5
        ? `Each box holds ${a} apples, so ${b} boxes hold ${a} * ${b} = ${a * b + 1 + Math.floor(r() * 9)} apples.\n#### ${a * b + 3}`
        : kind < 0.75
          ? `Each box holds ${a} apples, so ${b} boxes hold ${a} *`
          : `There are probably about ${a + b} apples, maybe more.`;
    return { id: `syn/${i}`, prompt: `A box holds ${a} apples. How many apples are in ${b} boxes?`, weakResponse, quality: [weakOk ? 1 : 0, strongOk ? 1 : 0] };
  });
}

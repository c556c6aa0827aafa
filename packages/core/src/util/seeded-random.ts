/** The largest seed `uint32Seed` keeps as is: 0xFFFFFFFF is llama.cpp's "pick a random seed". */
export const MAX_UINT32_SEED = 0xfffffffe;

/**
 * A 32-bit seed for an integer seed (a request's, a model's default): one from 0 to 0xFFFFFFFE is kept as is (the
 * seeds that always worked sample as before); any other (0xFFFFFFFF, larger, negative) is hashed (32-bit FNV-1a
 * over its decimal form) into 0..0xFFFFFFFE, so different seeds stay apart. Taken mod 2^32 instead, -1 sampled as
 * 0xFFFFFFFF (llama.cpp: a random seed per call), 2^32 + 11 as 11, 2^40 as 0. Used by the gguf and onnx engines.
 */
export function uint32Seed(seed: number): number {
  if (seed >= 0 && seed <= MAX_UINT32_SEED) return seed;
  const text = String(seed);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % (MAX_UINT32_SEED + 1);
}

/**
 * A seeded PRNG (mulberry32): uniform numbers in [0, 1), the same sequence for the same seed (an integer: one
 * outside 0..0xFFFFFFFE is hashed first, `uint32Seed`, not wrapped).
 */
export function seededRandom(seed: number): () => number {
  let a = uint32Seed(seed) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

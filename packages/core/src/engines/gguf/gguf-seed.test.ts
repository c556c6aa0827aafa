import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { LLAMA_MAX_SEED, llamaSeed, resolveSampling } from './gguf-request.js';
import { GgufOptionsSchema } from './gguf-options.js';
import { hasStoriesModel, storiesEngineForSuite, warnIfNoStoriesModel } from './stories-model.test-helpers.js';

warnIfNoStoriesModel('gguf seed');

// llama.cpp keeps the seed as a uint32 where 0xFFFFFFFF (LLAMA_DEFAULT_SEED) means "pick a random seed". Passed on
// as is, seed 4294967295 (and every integer congruent to it mod 2^32, Number.MAX_SAFE_INTEGER among them) sampled
// differently on every call although the client fixed it, and other seeds wrapped (4294967307 sampled as 11, -1 as 0).

describe('llamaSeed', () => {
  it('keeps seeds from 0 to 0xFFFFFFFE as they are (seeds that worked reproduce as before)', () => {
    for (const seed of [0, 1, 42, 2 ** 31, LLAMA_MAX_SEED]) expect(llamaSeed(seed)).toBe(seed);
  });

  it('hashes any other integer into 0..0xFFFFFFFE, deterministically, without wrapping onto the small seeds', () => {
    const others = [0xffffffff, 2 ** 32, 2 ** 32 + 11, -1, -11, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e300];
    const mapped = others.map(llamaSeed);
    for (const m of mapped) expect(Number.isInteger(m) && m >= 0 && m <= LLAMA_MAX_SEED).toBe(true);
    expect(others.map(llamaSeed)).toEqual(mapped);
    expect(new Set(mapped).size).toBe(others.length);
    expect(mapped).not.toContain(0);
    expect(mapped).not.toContain(11);
  });

  it('applies to the request seed and to the model default seed', () => {
    const messages: GenerateRequest['messages'] = [{ role: 'user', content: 'hi' }];
    expect(resolveSampling({ messages, seed: 7 }, GgufOptionsSchema.parse({})).seed).toBe(7);
    expect(resolveSampling({ messages, seed: 0xffffffff }, GgufOptionsSchema.parse({})).seed).toBe(llamaSeed(0xffffffff));
    expect(resolveSampling({ messages }, GgufOptionsSchema.parse({ seed: Number.MAX_SAFE_INTEGER })).seed).toBe(llamaSeed(Number.MAX_SAFE_INTEGER));
    expect(resolveSampling({ messages }, GgufOptionsSchema.parse({})).seed).toBeUndefined();
  });
});

describe.skipIf(!hasStoriesModel)('gguf engine: a fixed seed samples the same text', () => {
  const engine = storiesEngineForSuite();
  const request = (seed: number): GenerateRequest => ({
    messages: [{ role: 'user', content: 'Once upon a time' }],
    maxTokens: 60,
    temperature: 1.2,
    seed,
  });

  it.each([4294967295, Number.MAX_SAFE_INTEGER, -1])('seed %d gives the same text on every call', async (seed) => {
    const texts = new Set<string>();
    for (let i = 0; i < 4; i++) texts.add((await engine().generate(request(seed))).text);
    expect(texts.size).toBe(1);
  }, 120_000);

  it('seed -1 and 2^32 + 11 no longer sample as seeds 0 and 11', async () => {
    const text = async (seed: number) => (await engine().generate(request(seed))).text;
    expect(await text(-1)).not.toBe(await text(0));
    expect(await text(2 ** 32 + 11)).not.toBe(await text(11));
  }, 120_000);
});

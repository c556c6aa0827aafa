import { beforeAll, describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { hasStoriesModel, storiesEngineForSuite } from './stories-model.test-helpers.js';

// The penalty window is bounded by the context. At 26b9c22 ggufRepeatPenalty set node-llama-cpp's `lastTokens` to the
// request's maxTokens, which nothing bounds (the router and resolveLocalSampling only check a positive integer).
// node-llama-cpp passes it as `repeatPenaltyMaxTokens` to its addon, which allocates
// `RingBuffer<llama_token>(maxTokens)` (a zeroed std::vector) and llama.cpp's penalties sampler another ring buffer
// of that size: 8 bytes per maxTokens, once per call, however short the answer (the answer cannot outgrow the
// 512-token context: disableContextShift). Without a penalty the window is node-llama-cpp's 64 tokens. maxTokens 1e9
// asks for 8 GB; above 2^31 the Int32Value wraps.

const story = (extra: Partial<GenerateRequest>): GenerateRequest => ({ messages: [{ role: 'user', content: 'Once upon a time' }], ...extra });

describe.skipIf(!hasStoriesModel)('gguf engine: penalty window', () => {
  const e = storiesEngineForSuite();
  beforeAll(async () => {
    await e().generate(story({ maxTokens: 20, frequencyPenalty: 0.5 })); // model loaded, one penalized call made
  });

  it("a caller's huge maxTokens with a penalty costs no memory beyond the context: the window is bounded by the context size", async () => {
    // Measured at 26b9c22: peak RSS +~400 MB for maxTokens 50,000,000 with frequencyPenalty 0.5 (+~9 MB without the
    // penalty), for an answer of 507 tokens. 25,000,000 asks for ~200 MB; a 100 MB bound leaves a wide margin.
    const before = process.resourceUsage().maxRSS;
    const r = await e().generate(story({ maxTokens: 25_000_000, frequencyPenalty: 0.5 }));
    const grownKB = process.resourceUsage().maxRSS - before;
    expect(r.finishReason).toBe('length'); // stopped at the end of the context, as without the penalty
    expect(grownKB).toBeLessThan(100 * 1024);
  }, 60_000);
});

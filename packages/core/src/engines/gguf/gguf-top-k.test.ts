import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { rejection } from '../../test/async.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { GgufEngine, createGgufEngine } from './gguf-engine.js';

// `topK` reaches llama.cpp's sampler: with topK 1 only the most likely token can be drawn, so a hot, seeded
// sampling gives the greedy answer whatever the seed. Against the real stories260K model.

const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const sharedDir = process.env['LLMRR_SHARED_DIR'] ?? resolve(repoRoot, '../shared');
const modelsDir = join(sharedDir, 'models');
const hasModel = existsSync(join(modelsDir, 'stories260K.gguf'));
if (!hasModel) console.warn(`[gguf topK tests] ${join(modelsDir, 'stories260K.gguf')} not found: skipped (set LLMRR_SHARED_DIR)`);

const base: GenerateRequest = { messages: [{ role: 'user', content: 'Once upon a time' }], maxTokens: 24 };

describe.skipIf(!hasModel)('gguf engine: topK', () => {
  let e: GgufEngine;
  beforeAll(() => {
    e = createGgufEngine(ModelConfigSchema.parse({ name: 'stories', engine: 'gguf', path: 'stories260K.gguf', options: { threads: 1 } }), defaultEngineContext({ baseDir: modelsDir }));
  });
  afterAll(async () => {
    await e?.close();
  });

  it('topK 1 at temperature 2 gives the greedy answer for every seed; without it the seeds disagree', async () => {
    const greedy = (await e.generate({ ...base, temperature: 0 })).text;
    expect(greedy.length).toBeGreaterThan(0);
    const seeds = [1, 2, 3];
    for (const seed of seeds) {
      const r = await e.generate({ ...base, temperature: 2, topK: 1, seed });
      expect(r.text).toBe(greedy);
      expect(r.warnings).toBeUndefined();
    }
    // The control: the same hot sampling without topK is not the greedy answer for all three seeds.
    const hot = await Promise.all(seeds.map(async (seed) => (await e.generate({ ...base, temperature: 2, seed })).text));
    expect(hot.some((t) => t !== greedy)).toBe(true);
  });

  it('a topK that is not an integer >= 1 is an invalid_request naming topK', async () => {
    for (const topK of [0, 1.5, -3]) {
      expect(await rejection(e.generate({ ...base, topK }))).toMatchObject({ code: 'invalid_request', param: 'topK' });
    }
  });
});

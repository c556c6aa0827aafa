import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import { startGeminiWireServer, type GeminiWireServer } from '../../test/gemini-wire-server.js';
import { markedEverywhere as marked, withoutCacheControl } from '../../test/cache-control-marks.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { createGeminiEngine } from './create-gemini-engine.js';

// Gemini caches prompts on its own (implicit caching): prompt-cache breakpoints (`cacheControl`) are an
// Anthropic hint and must never reach the generateContent body.

let server: GeminiWireServer;
beforeAll(async () => {
  server = await startGeminiWireServer({ apiKey: 'gm-test' });
});
afterAll(() => server.close());

describe('gemini engine: cacheControl', () => {
  it('sends the same body with and without breakpoints, with no cache field in it', async () => {
    const model = ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model: 'gemini-test', baseURL: server.url, apiKey: 'gm-test' });
    const engine = createGeminiEngine(model, defaultEngineContext({ env: {} }));
    await engine.generate(marked);
    const withMarks = JSON.stringify(server.requests.at(-1)!.body);
    await engine.generate(withoutCacheControl(marked));
    expect(withMarks).toBe(JSON.stringify(server.requests.at(-1)!.body));
    expect(withMarks).not.toMatch(/cache_?control/i);
  });
});

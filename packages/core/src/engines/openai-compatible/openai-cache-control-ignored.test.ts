import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { markedEverywhere as marked, withoutCacheControl } from '../../test/cache-control-marks.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';

// OpenAI-compatible providers cache prompts on their own: prompt-cache breakpoints (`cacheControl`) are an
// Anthropic hint and must never reach their wire bodies (a strict provider would refuse an unknown field).

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer();
});
afterAll(() => server.close());

describe('openai-compatible engine: cacheControl', () => {
  it('sends the same body with and without breakpoints, with no cache field in it', async () => {
    const engine = new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'd', model: 'gpt-test', baseURL: server.baseURL }), defaultEngineContext({ env: {} }));
    await engine.generate(marked);
    const withMarks = server.requests.at(-1)!.rawBody;
    await engine.generate(withoutCacheControl(marked));
    expect(withMarks).toBe(server.requests.at(-1)!.rawBody);
    expect(withMarks).not.toMatch(/cache_?control/i);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest, ReasoningOptions } from '../../spec/index.js';
import { startGeminiWireServer, type GeminiWireServer } from '../../test/gemini-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { createGeminiEngine } from './create-gemini-engine.js';

// Found in review of commit be0df6a, fixed since: Google's `-latest` aliases fell outside geminiThinkingRange's table (it matches
// `gemini-<version>-...` only), so budgets went out unclamped and 0 was sent as 0.

let server: GeminiWireServer;
beforeAll(async () => {
  server = await startGeminiWireServer({ apiKey: 'gm-test' });
});
afterAll(() => server.close());
afterEach(() => {
  server.requests.length = 0;
});

function engine(model: string) {
  const config = ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model, baseURL: server.url, apiKey: 'gm-test' });
  return createGeminiEngine(config, defaultEngineContext({ env: {} }));
}

const ask = (reasoning: ReasoningOptions): GenerateRequest => ({ messages: [{ role: 'user', content: 'Think about it' }], reasoning });
const thinkingConfig = () => (server.requests[0]!.body!.generationConfig as { thinkingConfig?: Record<string, unknown> } | undefined)?.thinkingConfig;

describe('Gemini -latest aliases', () => {
  // `gemini-pro-latest` is Google's alias for the newest Pro model (Gemini 2.5 Pro, later Gemini 3 Pro): neither can
  // turn thinking off, and 2.5 Pro answers 400 "Budget 0 is invalid. This model only works in thinking mode."
  // normalizeModelId turns the alias into `gemini-pro`, which no row of MODELS matches, so effort none (a chat
  // client's reasoning_effort "none") is sent as thinkingBudget 0.
  it('gemini-pro-latest, effort none: not thinkingBudget 0', async () => {
    await engine('gemini-pro-latest').generate(ask({ effort: 'none' }));
    expect(thinkingConfig()?.thinkingBudget).not.toBe(0);
  });

  // `gemini-flash-latest` (2.5 Flash, range 0-24576): Claude Code's 31999 goes out unclamped, a 400. The same
  // value on `gemini-2.5-flash` is clamped (gemini-reasoning-limits.test.ts).
  it('gemini-flash-latest, budgetTokens 31999: a thinkingBudget within 0-24576', async () => {
    await engine('gemini-flash-latest').generate(ask({ budgetTokens: 31999 }));
    expect(thinkingConfig()?.thinkingBudget).toBeLessThanOrEqual(24576);
  });
});

describe('Gemini -latest aliases: the range of their tier', () => {
  it('gemini-flash-lite-latest: 0 stays 0, 100 -> 512; gemini-pro-latest: 31999 -> 31999, 0 -> 128; models/ prefix ignored', async () => {
    await engine('gemini-flash-lite-latest').generate(ask({ budgetTokens: 0 }));
    await engine('gemini-flash-lite-latest').generate(ask({ budgetTokens: 100 }));
    await engine('models/gemini-pro-latest').generate(ask({ budgetTokens: 31999 }));
    await engine('gemini-pro-latest').generate(ask({ budgetTokens: 0 }));
    const budgets = server.requests.map((r) => (r.body!.generationConfig as { thinkingConfig: { thinkingBudget: number } }).thinkingConfig.thinkingBudget);
    expect(budgets).toEqual([0, 512, 31999, 128]);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest, ReasoningOptions } from '../../spec/index.js';
import { startGeminiWireServer, type GeminiWireServer } from '../../test/gemini-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { createGeminiEngine } from './create-gemini-engine.js';

// Review tests (commit 877e737): thinkingConfig values real Gemini models refuse with a 400.

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

describe('review: gemini thinkingConfig within what each model accepts', () => {
  // Gemini 3 Pro takes thinkingLevel low or high only (minimal and medium are Gemini 3 Flash levels; 3.1 Pro has
  // no minimal either): "none" -> "minimal" is a 400 there. Its lowest level is low.
  it('gemini-3-pro-preview, effort none: not thinkingLevel "minimal"', async () => {
    await engine('gemini-3-pro-preview').generate(ask({ effort: 'none' }));
    expect(thinkingConfig()?.thinkingLevel).not.toBe('minimal');
  });

  // Gemini 2.5 Pro cannot turn thinking off (range 128-32768): thinkingBudget 0 is a 400.
  it('gemini-2.5-pro, effort none: not thinkingBudget 0', async () => {
    await engine('gemini-2.5-pro').generate(ask({ effort: 'none' }));
    expect(thinkingConfig()?.thinkingBudget).not.toBe(0);
  });

  // Gemini 2.5 Flash takes 0-24576. 31999 is the budget Claude Code sends ("ultrathink"), which the gateway
  // passes on as reasoning.budgetTokens; unclamped it is a 400 on Flash.
  it('gemini-2.5-flash, budgetTokens 31999: a thinkingBudget within 0-24576', async () => {
    await engine('gemini-2.5-flash').generate(ask({ budgetTokens: 31999 }));
    expect(thinkingConfig()?.thinkingBudget).toBeLessThanOrEqual(24576);
  });
});

import { describe, expect, it } from 'vitest';
import { ask, useGeminiReasoning } from '../../test/reasoning-wire.test-helpers.js';

// thinkingConfig values real Gemini models refuse with a 400, each sent once before a fix: found in the
// reviews of commit 877e737 (per-model ranges and levels) and of commit be0df6a (Google's `-latest` aliases fell
// outside geminiThinkingRange's table, which matches `gemini-<version>-...` only, so budgets went out unclamped
// and 0 was sent as 0).

const { wire, engine, thinkingConfig } = useGeminiReasoning();

describe('gemini thinkingConfig within what each model accepts', () => {
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
  // value on `gemini-2.5-flash` is clamped (above).
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
    const budgets = wire.server.requests.map((r) => (r.body!.generationConfig as { thinkingConfig: { thinkingBudget: number } }).thinkingConfig.thinkingBudget);
    expect(budgets).toEqual([0, 512, 31999, 128]);
  });
});

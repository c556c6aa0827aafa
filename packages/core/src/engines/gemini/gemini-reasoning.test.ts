import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import type { ReasoningOptions } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { ask, useGeminiReasoning } from '../../test/reasoning-wire.test-helpers.js';

// `request.reasoning` -> `generationConfig.thinkingConfig`, asserted on the body a local Gemini wire server receives.

const { wire, engine } = useGeminiReasoning();

const sent = (i = 0) => wire.server.requests[i]!.body!.generationConfig as Record<string, unknown> | undefined;

describe('gemini 2.5 (and unversioned ids): thinkingBudget', () => {
  it.each([
    ['none', { thinkingBudget: 0 }],
    ['minimal', { thinkingBudget: 512, includeThoughts: true }],
    ['low', { thinkingBudget: 1024, includeThoughts: true }],
    ['medium', { thinkingBudget: 2048, includeThoughts: true }],
    ['high', { thinkingBudget: 4096, includeThoughts: true }],
    ['xhigh', { thinkingBudget: 8192, includeThoughts: true }],
    ['max', { thinkingBudget: 16384, includeThoughts: true }],
  ] as const)('effort %s -> %j', async (effort, thinkingConfig) => {
    await engine('gemini-2.5-flash').generate(ask({ effort }));
    expect(wire.server.requests[0]!.body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Think about it' }] }], generationConfig: { thinkingConfig } });
  });

  it('budgetTokens is sent as is (0 turns thinking off), next to the other generation settings', async () => {
    await engine('gemini-2.5-pro').generate(ask({ budgetTokens: 700 }, { maxTokens: 5000, temperature: 0.5 }));
    await engine('gemini-flash-latest').generate(ask({ budgetTokens: 0 }));
    expect(sent(0)).toEqual({ maxOutputTokens: 5000, temperature: 0.5, thinkingConfig: { thinkingBudget: 700, includeThoughts: true } });
    expect(sent(1)).toEqual({ thinkingConfig: { thinkingBudget: 0 } });
  });
});

describe('gemini 3 and later: thinkingLevel for an effort', () => {
  it.each([
    ['none', { thinkingLevel: 'minimal' }],
    ['minimal', { thinkingLevel: 'minimal', includeThoughts: true }],
    ['low', { thinkingLevel: 'low', includeThoughts: true }],
    ['medium', { thinkingLevel: 'medium', includeThoughts: true }],
    ['high', { thinkingLevel: 'high', includeThoughts: true }],
    ['xhigh', { thinkingLevel: 'high', includeThoughts: true }],
    ['max', { thinkingLevel: 'high', includeThoughts: true }],
  ] as const)('effort %s -> %j (Gemini 3 Flash: minimal, low, medium, high)', async (effort, thinkingConfig) => {
    await engine('gemini-3-flash-preview').generate(ask({ effort }));
    expect(sent()).toEqual({ thinkingConfig });
  });

  // Gemini 3 Pro takes only low and high, 3.1 Pro low, medium and high (minimal, or medium on 3 Pro, is a 400):
  // none is the lowest level, a missing level the nearest above it.
  it.each([
    ['gemini-3-pro-preview', ['low', 'low', 'low', 'high', 'high', 'high']],
    ['gemini-3.1-pro-preview', ['low', 'low', 'low', 'medium', 'high', 'high']],
  ] as const)('%s: none, minimal, low, medium, high, max -> %j', async (model, levels) => {
    for (const effort of ['none', 'minimal', 'low', 'medium', 'high', 'max'] as const) await engine(model).generate(ask({ effort }));
    expect(wire.server.requests.map((_, i) => (sent(i) as { thinkingConfig: { thinkingLevel: string } }).thinkingConfig.thinkingLevel)).toEqual(levels);
    expect(sent(0)).toEqual({ thinkingConfig: { thinkingLevel: 'low' } });
  });

  it('model ids with a models/ prefix or a minor version count; a budget alone is still a thinkingBudget', async () => {
    await engine('models/gemini-3.1-flash').generate(ask({ effort: 'low', budgetTokens: 3000 }));
    await engine('gemini-3-flash').generate(ask({ budgetTokens: 3000 }));
    expect(sent(0)).toEqual({ thinkingConfig: { thinkingLevel: 'low', includeThoughts: true } });
    expect(sent(1)).toEqual({ thinkingConfig: { thinkingBudget: 3000, includeThoughts: true } });
  });
});

describe('gemini: thinking within each model\'s range (gemini-thinking-models.ts)', () => {
  // 2.5 Pro 128-32768 (cannot turn thinking off), 2.5 Flash 0-24576, 2.5 Flash-Lite 512-24576 or 0.
  it.each([
    ['gemini-2.5-pro', [128, 128, 512, 31_999]],
    ['models/gemini-2.5-flash', [0, 1, 512, 24_576]],
    ['gemini-2.5-flash-lite-preview-09-2025', [0, 512, 512, 24_576]],
    // Was "an unknown alias: as asked" until the graceful-degrade review: the -latest aliases get their tier's range.
    ['gemini-flash-latest', [0, 1, 512, 24_576]],
    ['gemini-pro-latest', [128, 128, 512, 31_999]],
  ] as const)('%s: budgets 0, 1, 512, 31999 -> %j', async (model, budgets) => {
    for (const budgetTokens of [0, 1, 512, 31_999]) await engine(model).generate(ask({ budgetTokens }));
    expect(wire.server.requests.map((_, i) => (sent(i) as { thinkingConfig: { thinkingBudget: number } }).thinkingConfig.thinkingBudget)).toEqual(budgets);
  });

  it('effort none: 0 where thinking can be off, else the lowest budget; a budget above the range is its top', async () => {
    await engine('gemini-2.5-pro').generate(ask({ effort: 'none' }));
    await engine('gemini-2.5-flash-lite').generate(ask({ effort: 'none' }));
    await engine('gemini-2.5-pro').generate(ask({ budgetTokens: 40_000 }));
    expect([sent(0), sent(1), sent(2)]).toEqual([
      { thinkingConfig: { thinkingBudget: 128 } },
      { thinkingConfig: { thinkingBudget: 0 } },
      { thinkingConfig: { thinkingBudget: 32_768, includeThoughts: true } },
    ]);
  });

  it('Gemini 3: a budget of 0 alone is the lowest level (thinking cannot be off there)', async () => {
    await engine('gemini-3-pro-preview').generate(ask({ budgetTokens: 0 }));
    expect(sent()).toEqual({ thinkingConfig: { thinkingLevel: 'low' } });
  });

  it('a deployment without the reasoning capability (configured, or a Gemini 2.0 model id) is sent no thinkingConfig', async () => {
    await engine('gemini-2.5-flash', { capabilities: ['chat', 'streaming'] }).generate(ask({ effort: 'high' }));
    await engine('gemini-2.0-flash').generate(ask({ budgetTokens: 2048 }));
    await engine('gemini-2.0-flash', { capabilities: ['chat', 'reasoning'] }).generate(ask({ budgetTokens: 2048 }));
    expect([sent(0), sent(1), sent(2)]).toEqual([undefined, undefined, { thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } }]);
    expect(engine('gemini-1.5-pro-002').capabilities.reasoning).toBe(false);
    expect(engine('gemini-2.5-flash').capabilities.reasoning).toBe(true);
  });
});

describe('gemini: the rest', () => {
  it('streams send it too; no reasoning: no thinkingConfig', async () => {
    await collect(engine('gemini-2.5-flash').stream(ask({ effort: 'low' })));
    await engine('gemini-2.5-flash').generate(ask(undefined));
    expect(wire.server.requests[0]!.rpc).toBe('streamGenerateContent');
    expect(sent(0)).toEqual({ thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
    expect(sent(1)).toBeUndefined();
  });

  it('providerOptions.gemini.generationConfig.thinkingConfig wins', async () => {
    await engine('gemini-2.5-flash').generate(ask({ effort: 'high' }, { providerOptions: { gemini: { generationConfig: { thinkingConfig: { thinkingBudget: -1 } } } } }));
    expect(sent()).toEqual({ thinkingConfig: { thinkingBudget: -1 } });
  });

  it('thought parts come back as reasoning', async () => {
    wire.server.enqueue({ parts: [{ text: 'Six times seven.', thought: true }, { text: '42' }] });
    const result = await engine('gemini-2.5-flash').generate(ask({ effort: 'medium' }));
    expect(result).toMatchObject({ text: '42', reasoning: 'Six times seven.' });
  });

  it('a bad value is refused before the call, naming the field', async () => {
    const e = await engine('gemini-2.5-flash')
      .generate(ask({ effort: 'deep' } as unknown as ReasoningOptions))
      .catch((x: unknown) => x);
    expect(LLMError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ code: 'invalid_request', param: 'reasoning.effort', provider: 'gemini' });
    expect(wire.server.requests).toHaveLength(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { streamedWarnings } from '../../test/call-warnings.test-helpers.js';
import { useGeminiWireServer } from './gemini-wire.test-helpers.js';

// The warnings the Gemini engine gives say what really went on the wire, the caller's providerOptions included.
// Against the local Gemini wire server, which records the bodies the engine sent.

const wire = useGeminiWireServer();
const { engine: engineFor } = wire;

describe('gemini warnings: what the body carries', () => {
  it('a thinkingConfig given in providerOptions.gemini.generationConfig is what is sent: no warning names a thinkingLevel that was not sent', async () => {
    // The docs' own example of providerOptions.gemini (docs/core/gemini.md) is a generationConfig.thinkingConfig; it
    // replaces the one the engine maps from `reasoning` ("providerOptions still win over it", spec/messages.ts).
    const request: GenerateRequest = {
      messages: [{ role: 'user', content: 'hi' }],
      reasoning: { effort: 'medium' },
      providerOptions: { gemini: { generationConfig: { thinkingConfig: { thinkingLevel: 'low' } } } },
    };
    const engine = engineFor({ model: 'gemini-3-pro-preview' });
    const result = await engine.generate(request);
    const generatedBody = wire.server.requests.at(-1)!.body as { generationConfig: { thinkingConfig: unknown } };
    const parts = await collect(engine.stream(request));
    expect(parts.at(-1)?.type).toBe('finish');
    const streamedBody = wire.server.requests.at(-1)!.body as { generationConfig: { thinkingConfig: unknown } };
    // On the wire: the caller's thinkingLevel low, not the high that medium maps to on Gemini 3 Pro.
    for (const body of [generatedBody, streamedBody]) expect(body.generationConfig.thinkingConfig).toEqual({ thinkingLevel: 'low' });
    // The call must not claim it sent thinkingLevel high (what medium maps to on this model).
    for (const warnings of [result.warnings ?? [], streamedWarnings(parts) ?? []]) {
      expect(warnings.map((w) => w.message).join(' ')).not.toContain('thinkingLevel high');
      // It names what was sent, and why.
      expect(warnings).toEqual([
        { code: 'setting_changed', field: 'reasoning.effort', message: 'reasoning.effort medium was sent as thinkingLevel low: providerOptions.gemini.generationConfig.thinkingConfig took its place.' },
      ]);
    }
  });

  it('a providerOptions thinkingConfig that asks what reasoning asked, or thinks on a deployment without the capability: no false warning', async () => {
    const engine = engineFor({ model: 'gemini-2.5-flash' });
    const same = await engine.generate({
      messages: [{ role: 'user', content: 'hi' }],
      reasoning: { budgetTokens: 30000 },
      providerOptions: { gemini: { generationConfig: { thinkingConfig: { thinkingBudget: 30000 } } } },
    });
    expect((wire.server.requests.at(-1)!.body as { generationConfig: { thinkingConfig: unknown } }).generationConfig.thinkingConfig).toEqual({ thinkingBudget: 30000 });
    // Not "clamped to 24576": the caller's 30000 went out (the model may refuse it; that is the provider's answer).
    expect(same.warnings).toBeUndefined();
    const noCapability = engineFor({ model: 'gemini-2.0-flash' });
    const request: GenerateRequest = {
      messages: [{ role: 'user', content: 'hi' }],
      reasoning: { effort: 'high' },
      providerOptions: { gemini: { generationConfig: { thinkingConfig: { thinkingBudget: 1000 } } } },
    };
    const result = await noCapability.generate(request);
    const parts = await collect(noCapability.stream(request));
    const expected = [{ code: 'setting_changed', field: 'reasoning.effort', message: 'reasoning.effort high (a budget of 4096 tokens) was sent as thinkingBudget 1000: providerOptions.gemini.generationConfig.thinkingConfig took its place.' }];
    expect(result.warnings).toEqual(expected);
    expect(streamedWarnings(parts)).toEqual(expected);
  });

  it('a providerOptions thinkingConfig without a level or budget takes the place of reasoning: not sent, said so', async () => {
    const result = await engineFor().generate({
      messages: [{ role: 'user', content: 'hi' }],
      reasoning: { effort: 'low' },
      providerOptions: { gemini: { generationConfig: { thinkingConfig: { includeThoughts: true } } } },
    });
    expect((wire.server.requests.at(-1)!.body as { generationConfig: { thinkingConfig: unknown } }).generationConfig.thinkingConfig).toEqual({ includeThoughts: true });
    expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'reasoning', message: expect.stringContaining('providerOptions.gemini.generationConfig.thinkingConfig') }]);
  });
});

import { describe, expect, it } from 'vitest';
import type { CallWarning } from '../../spec/warnings.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// Request settings next to verbatim providerOptions.anthropic fields: never replaced in silence (from the review of
// 2bc4d57, "truthful thinking warnings for verbatim forms"; "says when providerOptions.anthropic.system replaced
// system text").

const wire = useAnthropicWireServer();
const { engine, lastBody } = wire;
const hi = [{ role: 'user' as const, content: 'hi' }];
const fields = (warnings: CallWarning[] | undefined) => (warnings ?? []).map((w) => w.field);

describe('anthropic: reasoning next to a verbatim adaptive thinking form', () => {
  it('reports reasoning.effort none (thinking off) when a verbatim adaptive form turns thinking on in its place', async () => {
    // reasoning.effort "none" turns thinking off (spec/reasoning.ts). The adaptive form's effort is meant to come
    // from reasoning, but "none" is no effort: readAsk drops it and adaptive thinking goes out, while
    // replacedReasoning skips every adaptive form, so nothing says that the caller's "off" was not sent.
    const result = await engine({ model: 'claude-opus-4-8' }).generate({
      messages: hi,
      reasoning: { effort: 'none' },
      providerOptions: { anthropic: { thinking: { type: 'adaptive' } } },
    });
    expect(lastBody().thinking).toEqual({ type: 'adaptive' });
    expect(result.warnings).toEqual([
      {
        code: 'setting_not_sent',
        field: 'reasoning.effort',
        message: 'reasoning.effort none was not sent: providerOptions.anthropic.thinking is given and decides the thinking in its place.',
      },
    ]);
  });

  it('reports reasoning.budgetTokens 0 the same way, on a model that takes both forms', async () => {
    const result = await engine({ model: 'claude-opus-4-6' }).generate({
      messages: hi,
      reasoning: { budgetTokens: 0 },
      providerOptions: { anthropic: { thinking: { type: 'adaptive' } } },
    });
    expect(lastBody().thinking).toEqual({ type: 'adaptive' });
    expect(lastBody().output_config).toBeUndefined();
    expect(result.warnings).toEqual([expect.objectContaining({ code: 'setting_not_sent', field: 'reasoning.budgetTokens' })]);
  });

  it('does not report a reasoning that asks for thinking: the adaptive form takes its effort', async () => {
    const result = await engine({ model: 'claude-opus-4-8' }).generate({
      messages: hi,
      reasoning: { effort: 'high' },
      providerOptions: { anthropic: { thinking: { type: 'adaptive' } } },
    });
    expect(lastBody()).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
    expect(result.warnings).toBeUndefined();
  });

  it('reports reasoning.budgetTokens when a verbatim adaptive form sends it as an effort (adaptive-only model) or as another budget (manual-only model)', async () => {
    // Without the verbatim form, the same budget on Opus 4.8 is reported (setting_changed reasoning.budgetTokens,
    // "sent as adaptive thinking with output_config.effort high"); with it, askedBudget ignores reasoning.budgetTokens
    // and the same change goes unreported.
    const opus = await engine({ model: 'claude-opus-4-8' }).generate({
      messages: hi,
      reasoning: { budgetTokens: 5000 },
      providerOptions: { anthropic: { thinking: { type: 'adaptive' } } },
    });
    expect(lastBody()).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
    expect(fields(opus.warnings)).toContain('reasoning.budgetTokens');
    expect(opus.warnings).toEqual([
      {
        code: 'setting_changed',
        field: 'reasoning.budgetTokens',
        message: 'reasoning.budgetTokens 5000 was sent as adaptive thinking with output_config.effort high: claude-opus-4-8 takes adaptive thinking only, not a budget.',
      },
    ]);

    // On a manual-only model the adaptive form becomes a budget, but the effort's budget (4096), not the caller's
    // 5000: the only warning names providerOptions.anthropic.thinking, none says the 5000 was not sent.
    const sonnet = await engine({ model: 'claude-sonnet-4-5' }).generate({
      messages: hi,
      reasoning: { budgetTokens: 5000 },
      providerOptions: { anthropic: { thinking: { type: 'adaptive' } } },
    });
    const sent = (lastBody().thinking as { budget_tokens?: number }).budget_tokens;
    if (sent !== 5000) expect(fields(sonnet.warnings)).toContain('reasoning.budgetTokens');
    expect(lastBody().thinking).toEqual({ type: 'enabled', budget_tokens: 5000 });
    expect(fields(sonnet.warnings)).toEqual(['providerOptions.anthropic.thinking']);
  });

  it('on a model that takes both forms, sends the budget as its effort without a warning (the documented mapping)', async () => {
    const result = await engine({ model: 'claude-opus-4-6' }).generate({
      messages: hi,
      reasoning: { budgetTokens: 1500 },
      providerOptions: { anthropic: { thinking: { type: 'adaptive' } } },
    });
    expect(lastBody()).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } });
    expect(result.warnings).toBeUndefined();
  });

  it('on a manual-only model, reports the budget lowered below maxTokens besides the adaptive form sent as a budget', async () => {
    const result = await engine({ model: 'claude-sonnet-4-5' }).generate({
      messages: hi,
      maxTokens: 3000,
      reasoning: { budgetTokens: 5000 },
      providerOptions: { anthropic: { thinking: { type: 'adaptive' } } },
    });
    expect(lastBody()).toMatchObject({ max_tokens: 3000, thinking: { type: 'enabled', budget_tokens: 2999 } });
    expect(result.warnings).toEqual([
      { code: 'setting_changed', field: 'providerOptions.anthropic.thinking', message: 'Adaptive thinking was sent as budget_tokens 2999: claude-sonnet-4-5 takes manual thinking only.' },
      { code: 'setting_changed', field: 'reasoning.budgetTokens', message: 'reasoning.budgetTokens 5000 was sent as budget_tokens 2999: thinking must stay below max_tokens 3000.' },
    ]);
  });
});

describe('anthropic: providerOptions.anthropic fields present but undefined', () => {
  it('keeps the system prompt (or says it was not sent) when providerOptions.anthropic.system is undefined', async () => {
    // convertToAnthropicRequest decides "given verbatim" with `system !== undefined` (no warnings), but
    // Object.assign(body, extra) copies the own undefined property over the converted system: the system prompt
    // disappears from the body with no warning. A caller writing `{ system: options.system }` hits it.
    const result = await engine().generate({
      messages: [{ role: 'system', content: 'Be terse.' }, ...hi],
      providerOptions: { anthropic: { system: undefined } },
    });
    const kept = JSON.stringify(lastBody()).includes('Be terse.');
    if (!kept) expect(fields(result.warnings)).toContain('messages.0');
    expect(lastBody().system).toBe('Be terse.');
    expect(result.warnings).toBeUndefined();
  });

  it('keeps the converted messages, tools and tool_choice (with disable_parallel_tool_use) under undefined fields of the same names', async () => {
    const tools = [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: {} } }];
    const result = await engine().generate({
      messages: hi,
      tools,
      toolChoice: 'required',
      parallelToolCalls: false,
      providerOptions: { anthropic: { messages: undefined, tools: undefined, tool_choice: undefined, thinking: undefined, output_config: undefined } },
    });
    const body = lastBody();
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    expect(body.tools).toEqual([expect.objectContaining({ name: 'get_weather' })]);
    expect(body.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    expect(Object.hasOwn(body, 'thinking')).toBe(false);
    expect(result.warnings).toBeUndefined();
  });

  it('an undefined temperature there does not hide the request temperature from the thinking rules', async () => {
    const result = await engine().generate({
      messages: hi,
      temperature: 0.3,
      reasoning: { effort: 'high' },
      providerOptions: { anthropic: { temperature: undefined } },
    });
    expect(lastBody().temperature).toBe(0.3);
    expect(lastBody().thinking).toBeUndefined();
    expect(fields(result.warnings)).toEqual(['reasoning']);
  });
});

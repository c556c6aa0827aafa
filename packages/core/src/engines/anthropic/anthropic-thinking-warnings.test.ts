import { describe, expect, it } from 'vitest';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// Warnings of thinking asked for through a verbatim providerOptions.anthropic.thinking together with
// request.reasoning: they name the field that decided and say what happened to the other (first found in the
// review of bc17e81).

const wire = useAnthropicWireServer();
const { engine, lastBody } = wire;
const hi = [{ role: 'user' as const, content: 'hi' }];

describe('anthropic: thinking warnings with a verbatim thinking form', () => {
  it('reports a verbatim thinking budget sent as adaptive thinking under providerOptions.anthropic.thinking.budget_tokens, also when reasoning.effort is set', async () => {
    const result = await engine({ model: 'claude-opus-4-8' }).generate({
      messages: hi,
      reasoning: { effort: 'low' },
      providerOptions: { anthropic: { thinking: { type: 'enabled', budget_tokens: 5000 } } },
    });
    // The verbatim form wins (applyThinking): its budget of 5000 goes as adaptive thinking at the budget's effort.
    expect(lastBody()).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
    for (const w of result.warnings ?? []) expect(w.message).not.toMatch(/effort low was sent as output_config\.effort high: claude-opus-4-8 takes low/);
    expect(result.warnings?.map((w) => w.field)).toContain('providerOptions.anthropic.thinking.budget_tokens');
    // And reasoning.effort, which the verbatim form took the place of, is reported as not sent.
    expect(result.warnings).toEqual([
      {
        code: 'setting_changed',
        field: 'providerOptions.anthropic.thinking.budget_tokens',
        message: 'providerOptions.anthropic.thinking.budget_tokens 5000 was sent as adaptive thinking with output_config.effort high: claude-opus-4-8 takes adaptive thinking only, not a budget.',
      },
      {
        code: 'setting_not_sent',
        field: 'reasoning.effort',
        message: 'reasoning.effort low was not sent: providerOptions.anthropic.thinking is given and decides the thinking in its place.',
      },
    ]);
  });

  it('reasoning.budgetTokens equal to the verbatim budget (the gateway sends an enabled form with display both ways) is not reported', async () => {
    const result = await engine({ model: 'claude-sonnet-4-5' }).generate({
      messages: hi,
      reasoning: { budgetTokens: 5000 },
      providerOptions: { anthropic: { thinking: { type: 'enabled', budget_tokens: 5000, display: 'summarized' } } },
    });
    expect(lastBody()).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 5000, display: 'summarized' } });
    expect(result.warnings).toBeUndefined();
    // Another budget is replaced, and says so.
    const other = await engine({ model: 'claude-sonnet-4-5' }).generate({
      messages: hi,
      reasoning: { budgetTokens: 2048 },
      providerOptions: { anthropic: { thinking: { type: 'enabled', budget_tokens: 5000 } } },
    });
    expect(lastBody()).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 5000 } });
    expect(other.warnings?.map((w) => `${w.code} ${w.field}`)).toEqual(['setting_not_sent reasoning.budgetTokens']);
  });

  it('a verbatim disabled form: reasoning that asks for thinking is reported, reasoning that turns it off is not', async () => {
    const on = await engine({ model: 'claude-sonnet-4-5' }).generate({ messages: hi, reasoning: { effort: 'high' }, providerOptions: { anthropic: { thinking: { type: 'disabled' } } } });
    expect(lastBody().thinking).toEqual({ type: 'disabled' });
    expect(on.warnings?.map((w) => `${w.code} ${w.field}`)).toEqual(['setting_not_sent reasoning.effort']);
    const off = await engine({ model: 'claude-sonnet-4-5' }).generate({ messages: hi, reasoning: { effort: 'none' }, providerOptions: { anthropic: { thinking: { type: 'disabled' } } } });
    expect(off.warnings).toBeUndefined();
  });

  it('a verbatim adaptive form takes its effort from reasoning.effort: nothing replaced, nothing to report', async () => {
    const result = await engine({ model: 'claude-opus-4-8' }).generate({ messages: hi, reasoning: { effort: 'low' }, providerOptions: { anthropic: { thinking: { type: 'adaptive' } } } });
    expect(lastBody()).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } });
    expect(result.warnings).toBeUndefined();
  });

  it('reasoning.effort alone still reports a level the model lacks as the level sent', async () => {
    const result = await engine({ model: 'claude-opus-4-8' }).generate({ messages: hi, reasoning: { effort: 'minimal' } });
    expect(lastBody()).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } });
    expect(result.warnings?.map((w) => `${w.code} ${w.field}`)).toEqual(['setting_changed reasoning.effort']);
  });
});

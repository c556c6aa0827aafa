import { LLMError } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { AnthropicMessagesRequestSchema } from '../schemas/anthropic-messages.js';
import { checkThinkingBudget, messagesToGenerateRequest } from './to-generate-request.js';

const base = { model: 'claude', max_tokens: 4000, messages: [{ role: 'user', content: 'hi' }] };
const convert = (extra: Record<string, unknown>) => messagesToGenerateRequest(validateBody(AnthropicMessagesRequestSchema, { ...base, ...extra }));

function refusal(fn: () => unknown): LLMError {
  try {
    fn();
  } catch (e) {
    if (LLMError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected an LLMError');
}

describe('messages thinking -> core reasoning', () => {
  // disabled asks for no thinking: a budget of 0 (Gemini 2.5 Flash turns thinking off, an OpenAI family its lowest
  // effort), not effort none, which OpenAI-compatible models outside core's family table would be sent as it is
  // (grok-3-mini and vLLM up to 0.15 refuse it: reviews of 877e737 and 1b98193); verbatim for Anthropic deployments.
  it('enabled -> budgetTokens, disabled -> budgetTokens 0 (verbatim for Anthropic), absent -> nothing', () => {
    expect(convert({ thinking: { type: 'enabled', budget_tokens: 2048 } })).toMatchObject({ reasoning: { budgetTokens: 2048 } });
    expect(convert({ thinking: { type: 'enabled', budget_tokens: 2048 } }).providerOptions).toBeUndefined();
    const disabled = convert({ thinking: { type: 'disabled' } });
    expect(disabled.reasoning).toEqual({ budgetTokens: 0 });
    expect(disabled.providerOptions).toEqual({ anthropic: { thinking: { type: 'disabled' } } });
    expect(convert({}).reasoning).toBeUndefined();
  });

  it('forms the core field cannot say also go verbatim in providerOptions.anthropic.thinking (top_k is the core topK)', () => {
    const adaptive = convert({ thinking: { type: 'adaptive' }, top_k: 5 });
    expect(adaptive).toMatchObject({ topK: 5, providerOptions: { anthropic: { thinking: { type: 'adaptive' } } } });
    expect(adaptive.providerOptions?.anthropic).not.toHaveProperty('top_k');
    expect(convert({ thinking: { type: 'adaptive' } }).reasoning).toBeUndefined();
    expect(convert({ thinking: { type: 'between_tools' } }).providerOptions).toEqual({ anthropic: { thinking: { type: 'between_tools' } } });
    const shown = convert({ thinking: { type: 'enabled', budget_tokens: 1024, display: 'omitted' } });
    expect(shown).toMatchObject({ reasoning: { budgetTokens: 1024 }, providerOptions: { anthropic: { thinking: { type: 'enabled', budget_tokens: 1024, display: 'omitted' } } } });
  });

  it('output_config.effort steers adaptive thinking: the core effort (fitted per model by the engine), not sent verbatim', () => {
    const low = convert({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } });
    expect(low.reasoning).toEqual({ effort: 'low' });
    expect(low.providerOptions).toEqual({ anthropic: { thinking: { type: 'adaptive' } } });
    // Other output_config keys still reach Anthropic deployments as they are.
    const format = { type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'string' } } } };
    const withFormat = convert({ thinking: { type: 'adaptive' }, output_config: { effort: 'max', format } });
    expect(withFormat).toMatchObject({ reasoning: { effort: 'max' }, providerOptions: { anthropic: { output_config: { format } } } });
    expect((withFormat.providerOptions?.anthropic as { output_config?: object }).output_config).not.toHaveProperty('effort');
    // Without adaptive thinking the effort is not a thinking request: verbatim for Anthropic deployments only.
    const plain = convert({ output_config: { effort: 'medium' } });
    expect(plain.reasoning).toBeUndefined();
    expect(plain.providerOptions).toEqual({ anthropic: { output_config: { effort: 'medium' } } });
    const manual = convert({ thinking: { type: 'enabled', budget_tokens: 2048 }, output_config: { effort: 'low' } });
    expect(manual).toMatchObject({ reasoning: { budgetTokens: 2048 }, providerOptions: { anthropic: { output_config: { effort: 'low' } } } });
  });

  it('output_config.effort null (the SDK\u2019s OutputConfig allows it) asks for no effort', () => {
    const none = convert({ thinking: { type: 'adaptive' }, output_config: { effort: null } });
    expect(none.reasoning).toBeUndefined();
    expect(none.providerOptions).toEqual({ anthropic: { thinking: { type: 'adaptive' }, output_config: { effort: null } } });
  });

  it.each([
    [{ effort: 'extreme' }, 'output_config.effort'],
    ['high', 'output_config'],
    [{ format: { type: 'json_schema' } }, 'output_config.format.schema'],
    [{ format: { type: 'json_object', schema: {} } }, 'output_config.format.type'],
  ])('output_config %j is a 400 naming %s', (output_config, param) => {
    expect(refusal(() => convert({ output_config }))).toMatchObject({ code: 'invalid_request', param });
  });

  it.each([
    [{ type: 'enabled', budget_tokens: 1023 }, 'thinking.budget_tokens'],
    [{ type: 'enabled', budget_tokens: 2048.5 }, 'thinking.budget_tokens'],
    [{ type: 'enabled' }, 'thinking.budget_tokens'],
    [{ type: 'enabled', budget_tokens: 2048, display: 'full' }, 'thinking.display'],
    [{ type: 'sometimes' }, 'thinking.type'],
    ['on', 'thinking'],
  ])('%j is a 400 naming %s', (thinking, param) => {
    const e = refusal(() => convert({ thinking }));
    expect(e).toMatchObject({ code: 'invalid_request', param });
  });

  it('checkThinkingBudget: budget_tokens must be below max_tokens', () => {
    expect(() => checkThinkingBudget({ max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 3999 } })).not.toThrow();
    expect(() => checkThinkingBudget({ max_tokens: 4000, thinking: { type: 'disabled' } })).not.toThrow();
    expect(() => checkThinkingBudget({ max_tokens: 4000 })).not.toThrow();
    const e = refusal(() => checkThinkingBudget({ max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 4000 } }));
    expect(e).toMatchObject({ code: 'invalid_request', param: 'thinking.budget_tokens' });
  });
});

describe('thinking blocks in messages -> reasoning parts', () => {
  const turn = (content: unknown) => convert({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content }, { role: 'user', content: 'go on' }] }).messages[1];

  it('an assistant turn keeps its thinking and redacted_thinking blocks, in order, next to its text and tool calls', () => {
    const m = turn([
      { type: 'thinking', thinking: 'First.', signature: 'sig-1' },
      { type: 'redacted_thinking', data: 'ENC' },
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } },
    ]);
    expect(m).toEqual({
      role: 'assistant',
      content: 'Checking.',
      toolCalls: [{ id: 'toolu_1', name: 'f', arguments: '{"a":1}' }],
      reasoning: [
        { type: 'reasoning', text: 'First.', signature: 'sig-1' },
        { type: 'reasoning', text: '', redactedData: 'ENC' },
      ],
    });
  });

  it('a thinking block without a signature (or an empty one) is kept as unsigned reasoning; no thinking, no field', () => {
    expect(turn([{ type: 'thinking', thinking: 'Hmm.', signature: '' }, { type: 'text', text: 'x' }])).toEqual({ role: 'assistant', content: 'x', reasoning: [{ type: 'reasoning', text: 'Hmm.' }] });
    expect(turn([{ type: 'thinking', thinking: 'Hmm.' }])).toEqual({ role: 'assistant', content: '', reasoning: [{ type: 'reasoning', text: 'Hmm.' }] });
    expect(turn([{ type: 'text', text: 'x' }])).toEqual({ role: 'assistant', content: 'x' });
  });

  it.each([
    [{ role: 'user', content: [{ type: 'thinking', thinking: 'x', signature: 'y' }] }, 'messages.0.content.0.type'],
    [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'redacted_thinking', data: 'x' }] }, 'messages.0.content.1.type'],
    // A malformed block is reported at its missing field (the content's list form is the one that fits), as for every block type.
    [{ role: 'assistant', content: [{ type: 'redacted_thinking' }] }, 'messages.0.content.0.data'],
    [{ role: 'assistant', content: [{ type: 'thinking', signature: 'y' }] }, 'messages.0.content.0.thinking'],
  ])('%j is a 400 naming %s', (message, param) => {
    const e = refusal(() => convert({ messages: [message] }));
    expect(e).toMatchObject({ code: 'invalid_request', param });
  });
});

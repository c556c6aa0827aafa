import { describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import type { GenerateRequest, ReasoningOptions, StreamPart } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { ask, outcome, useAnthropicReasoning } from '../../test/reasoning-wire.test-helpers.js';

// `request.reasoning` -> Messages `thinking`, asserted on the body a local Anthropic wire server receives.

const { wire, engine } = useAnthropicReasoning();

async function refusal(request: GenerateRequest): Promise<LLMError> {
  const e = await engine()
    .generate(request)
    .catch((x: unknown) => x);
  if (!LLMError.isInstance(e)) throw new Error(`expected an LLMError, got ${String(e)}`);
  expect(wire.server.requests).toHaveLength(0);
  return e;
}

describe('anthropic: reasoning -> thinking', () => {
  it.each([
    ['minimal', 1024],
    ['low', 1024],
    ['medium', 2048],
    ['high', 4096],
    ['xhigh', 8192],
    ['max', 16384],
  ] as const)('effort %s -> thinking enabled with budget_tokens %i, max_tokens raised above it', async (effort, budget) => {
    await engine().generate(ask({ effort }));
    expect(wire.server.requests[0]!.body).toEqual({
      model: 'claude-test-1',
      max_tokens: budget + 4096,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Think about it' }] }],
      stream: false,
      thinking: { type: 'enabled', budget_tokens: budget },
    });
  });

  it('effort none and budget 0 -> thinking disabled; max_tokens untouched', async () => {
    await engine().generate(ask({ effort: 'none' }));
    await engine().generate(ask({ budgetTokens: 0 }, { maxTokens: 100, temperature: 0.2 }));
    expect(wire.server.requests.map((r) => [r.body!.thinking, r.body!.max_tokens, r.body!.temperature])).toEqual([
      [{ type: 'disabled' }, 4096, undefined],
      [{ type: 'disabled' }, 100, 0.2],
    ]);
  });

  it('budgetTokens is sent as is (over an effort), raised to the minimum 1024; an explicit maxTokens above it is kept', async () => {
    await engine().generate(ask({ effort: 'low', budgetTokens: 5000 }, { maxTokens: 6000 }));
    await engine().generate(ask({ budgetTokens: 600 }, { maxTokens: 2000 }));
    await engine({ maxOutputTokens: 10_000 }).generate(ask({ budgetTokens: 3000 }));
    await engine().generate(ask({ budgetTokens: 3000 }));
    expect(wire.server.requests.map((r) => [r.body!.thinking, r.body!.max_tokens])).toEqual([
      [{ type: 'enabled', budget_tokens: 5000 }, 6000],
      [{ type: 'enabled', budget_tokens: 1024 }, 2000],
      // max_tokens = budget + the engine default, within the model's maxOutputTokens (its cap, here 10000).
      [{ type: 'enabled', budget_tokens: 3000 }, 10_000],
      // No maxOutputTokens configured: budget + the engine's default of 4096.
      [{ type: 'enabled', budget_tokens: 3000 }, 7096],
    ]);
  });

  // maxOutputTokens is the model's cap (Anthropic: "max_tokens: 68096 > 64000, which is the maximum allowed"):
  // max_tokens never goes above it; a budget that does not fit under it shrinks, or thinking is left off.
  it('a budget that does not fit under maxOutputTokens shrinks to maxOutputTokens - 1, or thinking is left off below 1024', async () => {
    await engine({ maxOutputTokens: 64_000 }).generate(ask({ budgetTokens: 64_000 }));
    await engine({ maxOutputTokens: 8192 }).generate(ask({ effort: 'max' }));
    await engine({ maxOutputTokens: 1000 }).generate(ask({ budgetTokens: 3000 }));
    expect(wire.server.requests.map((r) => [r.body!.thinking, r.body!.max_tokens])).toEqual([
      [{ type: 'enabled', budget_tokens: 63_999 }, 64_000],
      [{ type: 'enabled', budget_tokens: 8191 }, 8192],
      [undefined, 1000],
    ]);
  });

  // Anthropic takes any budget in [1024, max_tokens - 1]: the budget of an effort (our own table) is fitted under
  // the caller's maxTokens; a budget the caller gave explicitly is not changed, and is refused as Anthropic would.
  it('an effort budget at or above the caller maxTokens shrinks to maxTokens - 1 (thinking left off below 1024)', async () => {
    await engine().generate(ask({ effort: 'high' }, { maxTokens: 4096 }));
    await engine().generate(ask({ effort: 'high' }, { maxTokens: 3000 }));
    await engine().generate(ask({ effort: 'low' }, { maxTokens: 1000, temperature: 0.2 }));
    expect(wire.server.requests.map((r) => [r.body!.thinking, r.body!.max_tokens, r.body!.temperature])).toEqual([
      [{ type: 'enabled', budget_tokens: 4095 }, 4096, undefined],
      [{ type: 'enabled', budget_tokens: 2999 }, 3000, undefined],
      [undefined, 1000, 0.2],
    ]);
  });

  // Was a refusal naming maxTokens until the graceful-degrade review: the router caps maxTokens to the
  // deployment's maxOutputTokens before the engine, so a budget valid for the caller's max_tokens must still fit.
  it('a caller maxTokens at or below an explicit budgetTokens shrinks it too (thinking left off below 1024)', async () => {
    await engine().generate(ask({ budgetTokens: 4096 }, { maxTokens: 4096 }));
    await engine().generate(ask({ budgetTokens: 3000 }, { maxTokens: 500 }));
    await engine().generate(ask({ budgetTokens: 512 }, { maxTokens: 800 }));
    expect(wire.server.requests.map((r) => [r.body!.thinking, r.body!.max_tokens])).toEqual([
      [{ type: 'enabled', budget_tokens: 4095 }, 4096],
      [undefined, 500],
      [undefined, 800],
    ]);
  });

  it('a deployment without the reasoning capability (configured, or a Claude 3.5 model id) is sent no thinking', async () => {
    await engine({ capabilities: ['chat', 'streaming', 'tools'] }).generate(ask({ effort: 'high' }, { temperature: 0.2 }));
    await engine({ model: 'claude-3-5-haiku-20241022' }).generate(ask({ budgetTokens: 2048 }));
    await engine({ model: 'claude-3-5-haiku-20241022', capabilities: ['chat', 'reasoning'] }).generate(ask({ budgetTokens: 2048 }));
    expect(wire.server.requests.map((r) => r.body!.thinking)).toEqual([undefined, undefined, { type: 'enabled', budget_tokens: 2048 }]);
    expect(engine({ model: 'claude-3-5-haiku' }).capabilities.reasoning).toBe(false);
    expect(engine({ model: 'anthropic.claude-3-7-sonnet-20250219-v1:0' }).capabilities.reasoning).toBe(true);
  });

  // Was a refusal by field until the graceful-degrade review: the same request works without reasoning, so the
  // caller's sampling and format settings win and thinking (which Anthropic refuses with them) is dropped.
  it('temperature other than 1, topP below 0.95, forced tool use and JSON mode drop thinking; the settings are sent', async () => {
    const tools = [{ name: 'calc', parameters: { type: 'object' } }];
    const toolUse = { content: [{ type: 'tool_use' as const, id: 'toolu_1', name: 'calc', input: {} }] };
    const jsonUse = { content: [{ type: 'tool_use' as const, id: 'toolu_2', name: 'json_answer', input: { a: 1 } }] };
    wire.server.enqueue({ content: 'ok' }, { content: 'ok' }, toolUse, toolUse, jsonUse);
    await engine().generate(ask({ effort: 'low' }, { temperature: 0.7 }));
    await engine().generate(ask({ effort: 'low' }, { topP: 0.9 }));
    await engine().generate(ask({ effort: 'low' }, { tools, toolChoice: 'required' }));
    await engine().generate(ask({ effort: 'low' }, { tools, toolChoice: { name: 'calc' } }));
    const json = await engine().generate(ask({ effort: 'low' }, { responseFormat: { type: 'json_object' } }));
    expect(json.text).toBe('{"a":1}');
    expect(wire.server.requests.map((r) => r.body!.thinking)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(wire.server.requests.map((r) => [r.body!.temperature, r.body!.top_p, (r.body!.tool_choice as { type?: string } | undefined)?.type])).toEqual([
      [0.7, undefined, undefined],
      [undefined, 0.9, undefined],
      [undefined, undefined, 'any'],
      [undefined, undefined, 'tool'],
      [undefined, undefined, 'tool'],
    ]);
  });

  it('temperature 1, topP 0.95, toolChoice auto are allowed with thinking', async () => {
    const tools = [{ name: 'calc', parameters: { type: 'object' } }];
    await engine().generate(ask({ effort: 'low' }, { temperature: 1, topP: 0.95, tools, toolChoice: 'auto' }));
    expect(wire.server.requests[0]!.body).toMatchObject({ temperature: 1, top_p: 0.95, tool_choice: { type: 'auto' }, thinking: { type: 'enabled', budget_tokens: 1024 } });
  });

  // Until the graceful-degrade review providerOptions.anthropic.thinking went out verbatim past every check; now it
  // picks the form (adaptive, display) and the same rules apply (here: temperature 0.3 drops it).
  it('providerOptions.anthropic.thinking picks the form; reasoning gives the effort; the same checks apply', async () => {
    await engine().generate(ask({ effort: 'medium' }, { maxTokens: 8000, providerOptions: { anthropic: { thinking: { type: 'adaptive', display: 'omitted' } } } }));
    await engine().generate(ask({ effort: 'high' }, { temperature: 0.3, providerOptions: { anthropic: { thinking: { type: 'adaptive' } } } }));
    expect(wire.server.requests[0]!.body).toMatchObject({ thinking: { type: 'adaptive', display: 'omitted' }, output_config: { effort: 'medium' }, max_tokens: 8000 });
    expect(wire.server.requests[1]!.body).toMatchObject({ max_tokens: 4096, temperature: 0.3 });
    expect(wire.server.requests[1]!.body).not.toHaveProperty('thinking');
  });

  it('a bad value is refused before the call, naming the field', async () => {
    expect(await refusal(ask({ budgetTokens: -5 }))).toMatchObject({ code: 'invalid_request', param: 'reasoning.budgetTokens' });
  });

  it('the thinking the provider answers with comes back as reasoning (generate and stream)', async () => {
    const reply = { content: [{ type: 'thinking' as const, thinking: 'Six times seven.', signature: 'sig' }, { type: 'text' as const, text: '42' }] };
    wire.server.enqueue(reply, reply);
    const result = await engine().generate(ask({ effort: 'medium' }));
    expect(result).toMatchObject({ text: '42', reasoning: 'Six times seven.' });
    const parts: StreamPart[] = await collect(engine().stream(ask({ effort: 'medium' })));
    expect(parts.filter((p) => p.type === 'reasoning-delta').map((p) => (p as { delta: string }).delta).join('')).toBe('Six times seven.');
    expect(wire.server.requests[1]!.body).toMatchObject({ stream: true, thinking: { type: 'enabled', budget_tokens: 2048 } });
  });

  // The count body carries the thinking the generation would send, without fitting the budget under max_tokens
  // (count_tokens has none). Until the graceful-degrade review a temperature was ignored here; now it drops
  // thinking in the count as in the generation.
  // Changed expectation (third review): the count body used to skip the budget fitting and sent
  // `budget_tokens: 4096` where the messages body, for the same request, sends no thinking (4096 does not fit under
  // maxTokens 1) or a smaller budget. It now counts the request the messages body sends.
  it('an exact count sends the thinking form of the messages body (budget fitted under the same maxTokens)', async () => {
    const e = engine({ options: { exactTokenCount: true } });
    for (const maxTokens of [1, 3000, undefined]) {
      await e.countTokens!(ask({ effort: 'high' }, maxTokens === undefined ? {} : { maxTokens }));
    }
    expect(wire.server.requests.map((r) => r.path)).toEqual(Array(3).fill('/v1/messages/count_tokens'));
    expect(wire.server.requests[0]!.body).toEqual({
      model: 'claude-test-1',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Think about it' }] }],
    });
    expect(wire.server.requests.map((r) => (r.body as Record<string, unknown>).thinking)).toEqual([
      undefined,
      { type: 'enabled', budget_tokens: 2999 },
      { type: 'enabled', budget_tokens: 4096 },
    ]);
    expect(wire.server.requests.some((r) => 'max_tokens' in (r.body as Record<string, unknown>))).toBe(false);
  });
});

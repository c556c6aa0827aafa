import { describe, expect, it } from 'vitest';
import type { GenerateRequest, ReasoningOptions } from '../../spec/index.js';
import { ask, outcome, useAnthropicReasoning } from '../../test/reasoning-wire.test-helpers.js';
import { anthropicThinkingMode } from './anthropic-thinking-models.js';

// Found in review of commit be0df6a (reasoning degrades gracefully), fixed since. Intended: a request that works without
// `reasoning` never becomes a provider 400 or our own 400 because it carries `reasoning`.

/**
 * Models that take only adaptive thinking. AWS Bedrock's Claude guide, "Adaptive thinking"
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html): "Claude Mythos 5,
 * Claude Fable 5, Claude Opus 4.7, and Claude Mythos Preview only support adaptive thinking. Manual extended
 * thinking (thinking.type: "enabled" with budget_tokens) and disabled thinking (thinking.type: "disabled") are not
 * supported on these models and will return a 400 error." The API's message: '"thinking.type.enabled" is not
 * supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
 * (reported for claude-opus-4-7 in NousResearch/hermes-agent#11137 and for claude-sonnet-5 in MemberJunction's
 * UsesAdaptiveThinking docs). All of these ids are in @anthropic-ai/sdk 1.14's `Model` union.
 */
const ADAPTIVE_ONLY = /^claude-(?:opus-4-7|mythos|fable|sonnet-5|opus-5)/;

const { wire, engine } = useAnthropicReasoning(
  {
    checkThinkingBlocks: true,
    handler: (req) => {
      const body = req.body as { model?: string; thinking?: { type?: string } } | undefined;
      const type = body?.thinking?.type;
      if (body?.model && ADAPTIVE_ONLY.test(body.model) && (type === 'enabled' || type === 'disabled')) {
        return {
          error: {
            status: 400,
            message: `"thinking.type.${type}" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.`,
          },
        };
      }
      return { content: 'ok' };
    },
  },
  { model: 'claude-sonnet-4-5' },
);

describe('Anthropic models that refuse manual thinking', () => {
  // anthropicModelThinks assumes every id not in its Claude <= 3.5 list takes `{ type: "enabled", budget_tokens }`.
  // Opus 4.7 and the Claude 5 / Mythos / Fable models refuse that form (adaptive only): every request carrying an
  // effort (any OpenAI client with reasoning_effort routed to them) becomes a provider 400.
  it.each(['claude-opus-4-7', 'claude-sonnet-5', 'claude-mythos-preview'])('%s, effort high: the call succeeds (no manual thinking sent)', async (model) => {
    expect(await outcome(engine({ model }).generate(ask({ effort: 'high' })))).toBe('ok');
  });

  it.each(['claude-opus-4-7', 'claude-mythos-preview'])('%s, effort none: the call succeeds (no thinking "disabled" sent)', async (model) => {
    expect(await outcome(engine({ model }).generate(ask({ effort: 'none' })))).toBe('ok');
  });
});

describe('our own 400 for requests that work without reasoning', () => {
  // Reasoning is "a hint" (reasoningEnabled's comment), dropped where it cannot be applied; yet with a sampling
  // temperature, a topP, JSON mode or a forced tool, the engine refuses the whole request (invalid_request /
  // unsupported). The same request without reasoning works on this deployment. An OpenAI-wire client that sends
  // reasoning_effort with response_format json_schema (common with gpt-5) to a router holding Claude gets a 400
  // whenever Claude is picked.
  it('effort medium + temperature 0.2: succeeds (thinking dropped)', async () => {
    expect(await outcome(engine().generate(ask({ effort: 'medium' }, { temperature: 0.2 })))).toBe('ok');
    expect(wire.server.requests[0]?.body?.thinking).toBeUndefined();
  });

  it('effort medium + JSON mode: succeeds (thinking dropped)', async () => {
    wire.server.enqueue({ content: [{ type: 'tool_use', id: 'toolu_1', name: 'json', input: { a: 1 } }] });
    expect(await outcome(engine().generate(ask({ effort: 'medium' }, { responseFormat: { type: 'json_object' } })))).toBe('ok');
  });

  it('effort low + toolChoice required: succeeds (thinking dropped)', async () => {
    wire.server.enqueue({ content: [{ type: 'tool_use', id: 'toolu_1', name: 'calc', input: {} }] });
    const tools = [{ name: 'calc', parameters: { type: 'object' } }];
    expect(await outcome(engine().generate(ask({ effort: 'low' }, { tools, toolChoice: 'required' })))).toBe('ok');
  });
});

describe('explicit budget against the router-clamped maxTokens', () => {
  // The router clamps maxTokens to the deployment's maxOutputTokens (RouterDeployment.requestFor) before the
  // engine sees it. An Anthropic-wire client's `max_tokens: 20000, thinking: {enabled, budget_tokens: 10000}` is
  // valid for Anthropic, works without thinking on a deployment with maxOutputTokens 8192 (clamped to 8192), but
  // with thinking the engine now sees maxTokens 8192 <= budget 10000 and refuses it (explicit budgets never shrink).
  it('budgetTokens 10000 with maxTokens clamped to 8192: succeeds with a budget below 8192', async () => {
    // The engine receives what RouterDeployment.requestFor passes on: maxTokens already clamped to the cap.
    const r = await outcome(engine({ maxOutputTokens: 8192 }).generate(ask({ budgetTokens: 10_000 }, { maxTokens: 8192 })));
    expect(r).toBe('ok');
    const body = wire.server.requests[0]?.body as { max_tokens: number; thinking?: { budget_tokens: number } } | undefined;
    expect(body?.max_tokens).toBeLessThanOrEqual(8192);
  });
});

describe('an explicit budget below 1024 raised above the caller maxTokens, then refused', () => {
  // budgetTokens 512 (a Gemini-sized budget, valid for every engine) with maxTokens 800: Gemini sends 512, OpenAI
  // effort "low"; the Anthropic engine raises it to 1024, then refuses the request because 800 <= 1024 and the
  // budget is "explicit" - blaming the caller for a budget it did not ask for. Thinking could be dropped (the
  // caller's budget does not fit Anthropic's minimum), as for an effort.
  it('budgetTokens 512, maxTokens 800: succeeds', async () => {
    expect(await outcome(engine().generate(ask({ budgetTokens: 512 }, { maxTokens: 800 })))).toBe('ok');
  });
});

describe('adaptive-only models: the body sent', () => {
  const body = (i = 0) => wire.server.requests[i]!.body as Record<string, unknown>;

  it('effort -> thinking adaptive with output_config.effort (minimal -> low); a budget -> the effort of its budget', async () => {
    const opus = engine({ model: 'claude-opus-4-7' });
    for (const effort of ['minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const) await opus.generate(ask({ effort }, { maxTokens: 8000 }));
    await opus.generate(ask({ budgetTokens: 2000 }, { maxTokens: 8000 }));
    expect(wire.server.requests.map((r) => [r.body!.thinking, r.body!.output_config, r.body!.max_tokens])).toEqual([
      [{ type: 'adaptive' }, { effort: 'low' }, 8000],
      [{ type: 'adaptive' }, { effort: 'low' }, 8000],
      [{ type: 'adaptive' }, { effort: 'medium' }, 8000],
      [{ type: 'adaptive' }, { effort: 'high' }, 8000],
      [{ type: 'adaptive' }, { effort: 'xhigh' }, 8000],
      [{ type: 'adaptive' }, { effort: 'max' }, 8000],
      [{ type: 'adaptive' }, { effort: 'medium' }, 8000],
    ]);
  });

  it('effort none, budget 0 and a verbatim disabled send no thinking and no output_config', async () => {
    const opus = engine({ model: 'anthropic.claude-opus-4-7' });
    await opus.generate(ask({ effort: 'none' }));
    await opus.generate(ask({ budgetTokens: 0 }));
    await opus.generate(ask(undefined as unknown as ReasoningOptions, { providerOptions: { anthropic: { thinking: { type: 'disabled' } } } }));
    for (let i = 0; i < 3; i++) {
      expect(body(i)).not.toHaveProperty('thinking');
      expect(body(i)).not.toHaveProperty('output_config');
    }
  });

  it('a verbatim enabled form (with display) becomes adaptive with the effort of its budget, display kept', async () => {
    await engine({ model: 'claude-sonnet-5' }).generate({
      messages: [{ role: 'user', content: 'Hi' }],
      maxTokens: 6000,
      providerOptions: { anthropic: { thinking: { type: 'enabled', budget_tokens: 4000, display: 'omitted' } } },
    });
    expect(body()).toMatchObject({ thinking: { type: 'adaptive', display: 'omitted' }, output_config: { effort: 'high' }, max_tokens: 6000 });
    expect(body().thinking).not.toHaveProperty('budget_tokens');
  });

  it('the caller output_config is merged over the effort; max_tokens is raised for thinking when the caller set none', async () => {
    await engine({ model: 'claude-opus-4-7' }).generate(ask({ effort: 'low' }, { providerOptions: { anthropic: { output_config: { effort: 'high' } } } }));
    await engine({ model: 'claude-opus-4-7', maxOutputTokens: 3000 }).generate(ask({ effort: 'high' }));
    expect(body(0)).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
    expect(body(1)).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' }, max_tokens: 3000 });
  });

  it('an exact count sends the adaptive form and its effort to count_tokens', async () => {
    await engine({ model: 'claude-opus-4-7', options: { exactTokenCount: true } }).countTokens!(ask({ effort: 'medium' }));
    expect(wire.server.requests[0]!.path).toBe('/v1/messages/count_tokens');
    expect(body()).toEqual({
      model: 'claude-opus-4-7',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Think about it' }] }],
      thinking: { type: 'adaptive' },
      output_config: { effort: 'medium' },
    });
  });

  it('temperature, JSON mode and an unsigned tool turn drop adaptive thinking as they drop manual thinking', async () => {
    const opus = engine({ model: 'claude-opus-4-7' });
    await opus.generate(ask({ effort: 'high' }, { temperature: 0.2 }));
    await opus.generate({
      messages: [
        { role: 'user', content: 'Oslo?' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'toolu_x', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
        { role: 'tool', toolCallId: 'toolu_x', content: '18C' },
      ],
      tools: [{ name: 'get_weather', parameters: { type: 'object' } }],
      reasoning: { effort: 'high' },
    });
    expect(wire.server.requests.map((r) => [r.body!.thinking, r.body!.output_config])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
    ]);
  });
});

describe('adaptive asked of models with other forms', () => {
  const body = (i = 0) => wire.server.requests[i]!.body as Record<string, unknown>;

  it('Claude 4.5 (manual only): a verbatim adaptive becomes a budget (effort high, or the request effort), display kept', async () => {
    await engine().generate({ messages: [{ role: 'user', content: 'Hi' }], maxTokens: 8000, providerOptions: { anthropic: { thinking: { type: 'adaptive', display: 'summarized' } } } });
    await engine().generate(ask({ effort: 'medium' }, { maxTokens: 8000, providerOptions: { anthropic: { thinking: { type: 'adaptive' } } } }));
    expect(body(0)).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 4096, display: 'summarized' }, max_tokens: 8000 });
    expect(body(1)).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2048 } });
    expect(body(0)).not.toHaveProperty('output_config');
  });

  it('Claude Opus 4.6 (both forms): reasoning goes as a budget, a verbatim adaptive as adaptive', async () => {
    await engine({ model: 'claude-opus-4-6' }).generate(ask({ effort: 'medium' }, { maxTokens: 8000 }));
    await engine({ model: 'claude-opus-4-6' }).generate(ask({ effort: 'low' }, { maxTokens: 8000, providerOptions: { anthropic: { thinking: { type: 'adaptive' } } } }));
    expect(body(0)).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2048 } });
    expect(body(1)).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } });
  });

  it('Claude 3.5 (no thinking): a verbatim form is dropped too', async () => {
    await engine({ model: 'claude-3-5-haiku-20241022' }).generate({ messages: [{ role: 'user', content: 'Hi' }], providerOptions: { anthropic: { thinking: { type: 'enabled', budget_tokens: 2048, display: 'summarized' } } } });
    expect(body()).not.toHaveProperty('thinking');
  });

  it.each([
    ['claude-3-5-sonnet-20241022', 'none'],
    ['claude-3-7-sonnet-20250219', 'manual'],
    ['claude-sonnet-4-20250514', 'manual'],
    ['claude-opus-4-1', 'manual'],
    ['anthropic/claude-sonnet-4.5', 'manual'],
    ['claude-haiku-4-5-20251001', 'manual'],
    ['claude-opus-4-5-20251101', 'manual'],
    ['claude-opus-4-6', 'both'],
    ['claude-sonnet-4-6', 'both'],
    ['claude-test-1', 'both'],
    ['claude-opus-4-7', 'adaptive'],
    ['claude-opus-4-8', 'adaptive'],
    ['us.anthropic.claude-mythos-preview', 'adaptive'],
    ['claude-fable-5-2', 'adaptive'],
    ['claude-sonnet-5', 'adaptive'],
    ['claude-opus-5-5', 'adaptive'],
    ['claude-haiku-5-5', 'adaptive'],
  ] as const)('anthropicThinkingMode(%s) = %s', (id, mode) => {
    expect(anthropicThinkingMode(id)).toBe(mode);
  });
});

import { describe, expect, it } from 'vitest';
import type { GenerateRequest, ReasoningOptions } from '../../spec/index.js';
import { ask, outcome, useAnthropicReasoning } from '../../test/reasoning-wire.test-helpers.js';
import { anthropicEffort } from './anthropic-efforts.js';
import { anthropicThinkingMode } from './anthropic-thinking-models.js';

// Found by the third reasoning review (of commit ecd447f). Rule: a request that works without `reasoning` never
// becomes a 400 because of it. Each case below works without reasoning and, before the fixes, failed with it.
//
// The wire server answers as the real API does for the rules these tests exercise:
// - Extended-thinking guide, "Feature compatibility": thinking is not compatible with temperature or top_k
//   modifications nor with forced tool use (400).
// - Effort guide (https://platform.claude.com/docs/en/build-with-claude/effort), per-level "Available on":
//   xhigh only on Claude Fable 5, Mythos 5, Opus 5, Opus 4.8, Opus 4.7 and Sonnet 5 (not Opus 4.6, Sonnet 4.6,
//   Mythos Preview); Claude Code's model-config table: "Opus 4.6 and Sonnet 4.6: low, medium, high, max".
// - Bedrock adaptive-thinking guide: Opus 4.7 / Mythos Preview refuse thinking.type "enabled" (400).
// - Claude 3.5 and earlier have no extended thinking (400 on a `thinking` field).

const XHIGH = /claude-(?:fable-5|mythos-5|opus-5|opus-4-8|opus-4-7|sonnet-5)/;
const ADAPTIVE_ONLY = /claude-(?:opus-4-7|mythos)/;
const NO_THINKING = /claude-3-5-/;

const { wire, engine } = useAnthropicReasoning({
  handler: (req) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const model = String(b.model);
    const type = (b.thinking as { type?: string } | undefined)?.type;
    const on = type === 'enabled' || type === 'adaptive';
    const effort = (b.output_config as { effort?: string } | undefined)?.effort;
    const bad = (message: string) => ({ error: { status: 400, message } });
    if (b.thinking !== undefined && NO_THINKING.test(model)) return bad(`thinking: Extra inputs are not permitted (${model})`);
    if (type === 'enabled' && ADAPTIVE_ONLY.test(model)) return bad('"thinking.type.enabled" is not supported for this model.');
    if (on && b.top_k !== undefined) return bad('`top_k` may not be set when thinking is enabled');
    if (on && b.temperature !== undefined && b.temperature !== 1) return bad('`temperature` may only be set to 1 when thinking is enabled');
    const tc = (b.tool_choice as { type?: string } | undefined)?.type;
    if (on && (tc === 'any' || tc === 'tool')) return bad('Thinking may not be enabled when tool_choice forces tool use.');
    if (effort === 'xhigh' && !XHIGH.test(model)) return bad(`output_config.effort: "xhigh" is not supported by ${model}`);
    return { content: 'ok' };
  },
});

describe('output_config.effort xhigh sent to models without it', () => {
  // applyThinking used to map xhigh -> "xhigh" for every adaptive model. Opus 4.6 / Sonnet 4.6 and Mythos Preview
  // have max but not xhigh (effort guide); they now get the nearest level not above it (anthropicEffort: high).
  it('claude-mythos-preview (adaptive-only), effort xhigh: works as without reasoning', async () => {
    expect(await outcome(engine('claude-mythos-preview').generate(ask(undefined)))).toBe('ok');
    expect(await outcome(engine('claude-mythos-preview').generate(ask({ effort: 'xhigh' })))).toBe('ok');
  });

  it.each(['claude-opus-4-6', 'claude-sonnet-4-6'])('%s, adaptive asked via providerOptions + effort xhigh: works', async (model) => {
    const req = ask({ effort: 'xhigh' }, { providerOptions: { anthropic: { thinking: { type: 'adaptive' } } } });
    expect(await outcome(engine(model).generate(req))).toBe('ok');
  });
});

describe('output_config.effort per model (nearest level the model has, not above the asked one)', () => {
  const efforts = ['minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
  it.each([
    ['claude-opus-4-6', ['low', 'low', 'medium', 'high', 'high', 'max']],
    ['claude-sonnet-4-6', ['low', 'low', 'medium', 'high', 'high', 'max']],
    ['us.anthropic.claude-mythos-preview', ['low', 'low', 'medium', 'high', 'high', 'max']],
    ['claude-opus-4-5-20251101', ['low', 'low', 'medium', 'high', 'high', 'high']],
    ['claude-opus-4-7', ['low', 'low', 'medium', 'high', 'xhigh', 'max']],
    ['claude-opus-4-8', ['low', 'low', 'medium', 'high', 'xhigh', 'max']],
    ['claude-sonnet-5', ['low', 'low', 'medium', 'high', 'xhigh', 'max']],
    ['claude-fable-5', ['low', 'low', 'medium', 'high', 'xhigh', 'max']],
    ['claude-mythos-5', ['low', 'low', 'medium', 'high', 'xhigh', 'max']],
    ['anthropic/claude-opus-5', ['low', 'low', 'medium', 'high', 'xhigh', 'max']],
    // Not in the table: sent as asked.
    ['my-proxy-claude', ['low', 'low', 'medium', 'high', 'xhigh', 'max']],
  ])('%s', (model, expected) => {
    expect(efforts.map((e) => anthropicEffort(model, e))).toEqual(expected);
  });

  it('on the wire: Opus 4.6 (adaptive asked) and Mythos Preview send high for xhigh and max for max', async () => {
    const adaptive = { providerOptions: { anthropic: { thinking: { type: 'adaptive' } } } };
    await engine('claude-opus-4-6').generate(ask({ effort: 'xhigh' }, adaptive));
    await engine('claude-opus-4-6').generate(ask({ effort: 'max' }, adaptive));
    await engine('claude-mythos-preview').generate(ask({ effort: 'xhigh' }));
    await engine('claude-opus-4-7').generate(ask({ effort: 'xhigh' }));
    expect(wire.server.requests.map((r) => [(r.body as Record<string, unknown>).thinking, (r.body as Record<string, unknown>).output_config])).toEqual([
      [{ type: 'adaptive' }, { effort: 'high' }],
      [{ type: 'adaptive' }, { effort: 'max' }],
      [{ type: 'adaptive' }, { effort: 'high' }],
      [{ type: 'adaptive' }, { effort: 'xhigh' }],
    ]);
  });

  it('a caller output_config.effort is sent as given (not mapped)', async () => {
    await engine('claude-opus-4-6').generate(ask({ effort: 'high' }, { providerOptions: { anthropic: { thinking: { type: 'adaptive' }, output_config: { effort: 'max' } } } }));
    expect((wire.server.requests[0]!.body as Record<string, unknown>).output_config).toEqual({ effort: 'max' });
  });
});

describe('conflicts set through providerOptions.anthropic are not seen by conflictsWithThinking', () => {
  // The gateway's /v1/messages route puts a client's `top_k` into providerOptions.anthropic.top_k
  // (to-generate-request.ts). conflictsWithThinking used to look only at request.temperature/topP and
  // body.tool_choice, while Object.assign(body, extra) runs after applyThinking, so top_k/temperature/tool_choice
  // given there met thinking on the wire. It now checks the body as sent. Without reasoning each request works.
  it('top_k 40 + effort high on claude-sonnet-4-5: works (thinking dropped, like temperature)', async () => {
    const req = (r?: ReasoningOptions) => ask(r, { providerOptions: { anthropic: { top_k: 40 } } });
    expect(await outcome(engine('claude-sonnet-4-5').generate(req(undefined)))).toBe('ok');
    expect(await outcome(engine('claude-sonnet-4-5').generate(req({ effort: 'high' })))).toBe('ok');
  });

  it('providerOptions temperature 0.2 + effort high on claude-sonnet-4-5: works', async () => {
    const req = (r?: ReasoningOptions) => ask(r, { providerOptions: { anthropic: { temperature: 0.2 } } });
    expect(await outcome(engine('claude-sonnet-4-5').generate(req(undefined)))).toBe('ok');
    expect(await outcome(engine('claude-sonnet-4-5').generate(req({ effort: 'high' })))).toBe('ok');
  });

  it('top_k 40 + effort high on claude-opus-4-7 (adaptive): works', async () => {
    const req = (r?: ReasoningOptions) => ask(r, { providerOptions: { anthropic: { top_k: 40 } } });
    expect(await outcome(engine('claude-opus-4-7').generate(req(undefined)))).toBe('ok');
    expect(await outcome(engine('claude-opus-4-7').generate(req({ effort: 'high' })))).toBe('ok');
  });
});

describe('the body as sent decides: providerOptions.anthropic values against the thinking rules', () => {
  const body = (i = 0) => wire.server.requests[i]!.body as Record<string, unknown>;
  const tools = [{ name: 'lookup', parameters: { type: 'object', properties: {} } }];

  it.each([
    ['top_p 0.5', { top_p: 0.5 }],
    ['tool_choice any', { tool_choice: { type: 'any' } }],
    ['tool_choice tool', { tool_choice: { type: 'tool', name: 'lookup' } }],
  ])('%s on claude-sonnet-4-5 and claude-opus-4-7: thinking dropped, request works', async (_label, extra) => {
    for (const model of ['claude-sonnet-4-5', 'claude-opus-4-7']) {
      const req = ask({ effort: 'high' }, { tools, providerOptions: { anthropic: extra } });
      expect(await outcome(engine(model).generate(req))).toBe('ok');
    }
    expect(body(0)).not.toHaveProperty('thinking');
    expect(body(1)).not.toHaveProperty('thinking');
    expect(body(1)).not.toHaveProperty('output_config');
  });

  it('values thinking allows (temperature 1, top_p 0.95, tool_choice auto) keep thinking', async () => {
    const extra = { temperature: 1, top_p: 0.95, tool_choice: { type: 'auto' } };
    expect(await outcome(engine('claude-sonnet-4-5').generate(ask({ effort: 'high' }, { tools, providerOptions: { anthropic: extra } })))).toBe('ok');
    expect(body(0)).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 4096 }, ...extra });
  });

  it('a providerOptions value overrides the request one: temperature 0.2 in the request, 1 in providerOptions -> thinking kept', async () => {
    const req = ask({ effort: 'high' }, { temperature: 0.2, providerOptions: { anthropic: { temperature: 1 } } });
    expect(await outcome(engine('claude-sonnet-4-5').generate(req))).toBe('ok');
    expect(body(0)).toMatchObject({ thinking: { type: 'enabled' }, temperature: 1 });
  });

  it('a verbatim providerOptions thinking form meets the same rules (top_k drops it)', async () => {
    const req = ask(undefined, { providerOptions: { anthropic: { top_k: 5, thinking: { type: 'enabled', budget_tokens: 2048 } } } });
    expect(await outcome(engine('claude-sonnet-4-5').generate(req))).toBe('ok');
    expect(body(0)).not.toHaveProperty('thinking');
    expect(body(0)).toMatchObject({ top_k: 5 });
  });
});

describe('Bedrock cross-region prefixes the id normalizer does not know', () => {
  // normalizeModelId's BEDROCK_PREFIX took us|eu|apac|global only; Bedrock's cross-region profiles also use jp.,
  // au. and us-gov. (AWS CDK CrossRegionInferenceProfileRegion: GLOBAL, EU, US, US_GOV, APAC, JP, AU). Such an
  // id matched none of the ^claude- patterns: Opus 4.7 was taken as "both" (got manual thinking), Claude 3.5
  // Sonnet as a thinking model (got thinking at all).
  it.each(['jp.anthropic.claude-opus-4-7', 'au.anthropic.claude-opus-4-7', 'us-gov.anthropic.claude-opus-4-7'])('%s is adaptive-only', (id) => {
    expect(anthropicThinkingMode(id)).toBe('adaptive');
  });

  it('jp.anthropic.claude-opus-4-7, effort high: works (adaptive, not enabled)', async () => {
    expect(await outcome(engine('jp.anthropic.claude-opus-4-7').generate(ask({ effort: 'high' })))).toBe('ok');
  });

  it('us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0, effort high: works (no thinking sent)', async () => {
    const e = engine('us-gov.anthropic.claude-3-5-sonnet-20240620-v1:0');
    expect(await outcome(e.generate(ask(undefined)))).toBe('ok');
    expect(await outcome(e.generate(ask({ effort: 'high' })))).toBe('ok');
  });
});

describe('count_tokens body vs messages body', () => {
  // The count body used to skip the max_tokens fitting, so where the messages body drops thinking (the budget
  // cannot fit under the caller's maxTokens: 500 - 1 < 1024) the count body still carried
  // `thinking: {enabled, budget_tokens: 4096}`. Both bodies now come from the same conversion.
  it('claude-sonnet-4-5, effort high, maxTokens 500: both bodies agree on thinking', async () => {
    const e = engine({ model: 'claude-sonnet-4-5', options: { exactTokenCount: true } });
    const req = ask({ effort: 'high' }, { maxTokens: 500 });
    await e.generate(req);
    await e.countTokens(req);
    const message = wire.server.requests.find((r) => r.path.endsWith('/v1/messages'))!.body as Record<string, unknown>;
    const count = wire.server.requests.find((r) => r.path.endsWith('/count_tokens'))!.body as Record<string, unknown>;
    expect(message.thinking).toBeUndefined();
    expect(count.thinking).toEqual(message.thinking);
  });
});

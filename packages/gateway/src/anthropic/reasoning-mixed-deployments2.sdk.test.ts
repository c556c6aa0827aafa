import { startAnthropicWireServer, type AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clearRequests, servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// Found in review of commit be0df6a (reasoning degrades gracefully across mixed deployments), fixed since; against a served gateway
// with the official SDKs. Intended: a request that works without reasoning never becomes a provider 400 or our
// own 400 because it carries reasoning. Upstream: the local Anthropic wire server; its handler answers forced
// tool calls with the forced tool, and answers 400 to manual/disabled thinking on the adaptive-only models, as
// Anthropic documents (AWS Bedrock Claude guide, "Adaptive thinking": "Claude Mythos 5, Claude Fable 5, Claude
// Opus 4.7, and Claude Mythos Preview only support adaptive thinking. Manual extended thinking (thinking.type:
// "enabled" with budget_tokens) and disabled thinking (thinking.type: "disabled") are not supported on these
// models and will return a 400 error.").

const ADAPTIVE_ONLY = /^claude-(?:opus-4-7|mythos|fable|sonnet-5|opus-5)/;

let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  claudeUp = await startAnthropicWireServer({
    apiKey: 'ak',
    checkThinkingBlocks: true,
    handler: (req) => {
      const body = (req.body ?? {}) as { model?: string; thinking?: { type?: string }; tool_choice?: { type?: string; name?: string } };
      const type = body.thinking?.type;
      if (body.model && ADAPTIVE_ONLY.test(body.model) && (type === 'enabled' || type === 'disabled')) {
        return {
          error: {
            status: 400,
            message: `"thinking.type.${type}" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.`,
          },
        };
      }
      if (body.tool_choice?.type === 'tool' && body.tool_choice.name) {
        return { content: [{ type: 'tool_use', id: 'toolu_json', name: body.tool_choice.name, input: { answer: 42 } }] };
      }
      return { content: 'ok' };
    },
  });
  gw = await servedGateway({
    models: [
      // No `capabilities`: reasoning comes from the model id (anthropicModelThinks), as in most configs.
      { name: 'sonnet', engine: 'anthropic', baseURL: claudeUp.url, model: 'claude-sonnet-4-5', apiKey: 'ak' },
      // The model's real output cap declared (Claude Sonnet 4.5: 64000; a deployment may declare less).
      { name: 'sonnet-16k', engine: 'anthropic', baseURL: claudeUp.url, model: 'claude-sonnet-4-5', apiKey: 'ak', maxOutputTokens: 16000 },
      { name: 'opus47', engine: 'anthropic', baseURL: claudeUp.url, model: 'claude-opus-4-7', apiKey: 'ak' },
      // Cannot think (anthropicModelThinks false): reasoning is dropped here.
      { name: 'haiku35', engine: 'anthropic', baseURL: claudeUp.url, model: 'claude-3-5-haiku-20241022', apiKey: 'ak' },
    ],
    upstreams: [claudeUp],
  });
});
afterAll(() => gw?.close());
afterEach(() => clearRequests(claudeUp));

const anthropic = () => gw.anthropic();
const openai = () => gw.openai();
const outcome = (p: Promise<unknown>): Promise<string> => p.then(
  () => 'ok',
  (e: unknown) => (e instanceof Error ? e.message : String(e)),
);

describe('chat completions reasoning_effort on a Claude deployment: our own 400', () => {
  // gpt-5 clients commonly send reasoning_effort together with response_format; the same request without
  // reasoning_effort works on Claude (JSON mode is a forced tool). With it the engine refuses the whole request
  // ("JSON mode cannot be combined with thinking"), instead of dropping thinking as it does elsewhere.
  it('reasoning_effort medium + response_format json_object: 200', async () => {
    const r = await outcome(
      openai().chat.completions.create({
        model: 'sonnet',
        reasoning_effort: 'medium',
        response_format: { type: 'json_object' },
        messages: [{ role: 'user', content: 'Give me JSON' }],
      }),
    );
    expect(r).toBe('ok');
  });

  it('reasoning_effort low + temperature 0.3: 200', async () => {
    const r = await outcome(
      openai().chat.completions.create({ model: 'sonnet', reasoning_effort: 'low', temperature: 0.3, messages: [{ role: 'user', content: 'Hi' }] }),
    );
    expect(r).toBe('ok');
  });
});

describe('/v1/messages thinking on a deployment with maxOutputTokens: our own 400', () => {
  // max_tokens 20000 with budget_tokens 18000 is valid for Anthropic (Claude Code's "ultrathink" is the same shape:
  // max_tokens 32000, budget 31999; 20000 keeps the SDK's non-streaming time check quiet). The router clamps
  // max_tokens to the deployment's maxOutputTokens (16000) before the engine, which then refuses the explicit
  // budget as >= maxTokens. Without thinking the same request works (clamped to 16000).
  it('max_tokens 20000, budget_tokens 18000, deployment cap 16000: 200, within the cap', async () => {
    const r = await outcome(
      anthropic().messages.create({
        model: 'sonnet-16k',
        max_tokens: 20000,
        thinking: { type: 'enabled', budget_tokens: 18000 },
        messages: [{ role: 'user', content: 'Think hard' }],
      }),
    );
    expect(r).toBe('ok');
    const body = claudeUp.requests[0]?.body as { max_tokens?: number; thinking?: unknown } | undefined;
    expect(body?.max_tokens).toBeLessThanOrEqual(16000);
    expect(body?.thinking).toEqual({ type: 'enabled', budget_tokens: 15999 });
  });
});

describe('adaptive-only Claude models get manual thinking: provider 400', () => {
  // anthropicModelThinks assumes every Claude 4+ id takes `{ type: "enabled", budget_tokens }`; claude-opus-4-7
  // (in @anthropic-ai/sdk 1.14's Model union) refuses it. An OpenAI client's reasoning_effort becomes a 400.
  it('chat reasoning_effort high on claude-opus-4-7: 200', async () => {
    const r = await outcome(openai().chat.completions.create({ model: 'opus47', reasoning_effort: 'high', messages: [{ role: 'user', content: 'Hi' }] }));
    expect(r).toBe('ok');
    expect(claudeUp.requests[0]?.body).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
  });

  it('chat reasoning_effort none on claude-opus-4-7: 200 (no thinking "disabled")', async () => {
    const r = await outcome(openai().chat.completions.create({ model: 'opus47', reasoning_effort: 'none', messages: [{ role: 'user', content: 'Hi' }] }));
    expect(r).toBe('ok');
    expect(claudeUp.requests[0]?.body?.thinking).toBeUndefined();
  });

  it('/v1/messages thinking disabled on claude-opus-4-7: 200 (nothing sent); adaptive on claude-sonnet-4-5: a budget', async () => {
    const base = { max_tokens: 8000, messages: [{ role: 'user' as const, content: 'Hi' }] };
    expect(await outcome(anthropic().messages.create({ ...base, model: 'opus47', thinking: { type: 'disabled' } }))).toBe('ok');
    expect(await outcome(anthropic().messages.create({ ...base, model: 'sonnet', thinking: { type: 'adaptive', display: 'omitted' } }))).toBe('ok');
    expect(claudeUp.requests[0]?.body?.thinking).toBeUndefined();
    expect(claudeUp.requests[1]?.body?.thinking).toEqual({ type: 'enabled', budget_tokens: 4096, display: 'omitted' });
  });
});

describe('adaptive thinking steered by output_config.effort (Claude Code on Opus 4.7)', () => {
  it('reaches the upstream as the client set it, fitted to the model; other deployments get the effort as a budget', async () => {
    const base = { max_tokens: 8000, messages: [{ role: 'user' as const, content: 'Hi' }], thinking: { type: 'adaptive' as const } };
    const client = anthropic();
    expect(await outcome(client.messages.create({ ...base, model: 'opus47', output_config: { effort: 'low' } }))).toBe('ok');
    expect(await outcome(client.messages.create({ ...base, model: 'sonnet', output_config: { effort: 'low' } }))).toBe('ok');
    expect(claudeUp.requests[0]?.body).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } });
    // claude-sonnet-4-5 has no adaptive thinking: the effort's budget (low = 1024), not the engine's default high.
    expect(claudeUp.requests[1]?.body?.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
  });
});

describe('verbatim thinking forms bypass every graceful-degrade rule', () => {
  // to-generate-request.ts sends `enabled` with a `display` setting (ThinkingConfigEnabled.display in
  // @anthropic-ai/sdk 1.14) and `adaptive` verbatim in providerOptions.anthropic.thinking; the Anthropic engine
  // then skips applyThinking entirely, so neither the capability drop (Claude 3.5 cannot think: Anthropic 400) nor
  // the unsigned-tool-turn drop nor the max_tokens fitting applies. The plain `enabled` form is dropped here.
  it('enabled + display "summarized" on claude-3-5-haiku: no thinking sent upstream', async () => {
    await outcome(
      anthropic().messages.create({
        model: 'haiku35',
        max_tokens: 4000,
        thinking: { type: 'enabled', budget_tokens: 2048, display: 'summarized' },
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    );
    expect(claudeUp.requests[0]?.body?.thinking).toBeUndefined();
  });

  it('enabled + display on a tool turn without signed thinking (from a chat client or another provider): 200', async () => {
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
    const r = await outcome(
      anthropic().messages.create({
        model: 'sonnet',
        max_tokens: 4000,
        thinking: { type: 'enabled', budget_tokens: 2048, display: 'summarized' },
        tools,
        messages: [
          { role: 'user', content: 'Oslo?' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_x', name: 'get_weather', input: { city: 'Oslo' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: '18C' }] },
        ],
      }),
    );
    expect(r).toBe('ok');
  });
});

describe('controls: the same requests without reasoning work (these pass)', () => {
  it('response_format json_object, temperature 0.3, on sonnet; max_tokens 20000 on sonnet-16k; opus47 plain', async () => {
    const results = [
      await outcome(openai().chat.completions.create({ model: 'sonnet', response_format: { type: 'json_object' }, messages: [{ role: 'user', content: 'Give me JSON' }] })),
      await outcome(openai().chat.completions.create({ model: 'sonnet', temperature: 0.3, messages: [{ role: 'user', content: 'Hi' }] })),
      await outcome(anthropic().messages.create({ model: 'sonnet-16k', max_tokens: 20000, messages: [{ role: 'user', content: 'Think hard' }] })),
      await outcome(openai().chat.completions.create({ model: 'opus47', messages: [{ role: 'user', content: 'Hi' }] })),
    ];
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok']);
  });
});

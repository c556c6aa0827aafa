import type Anthropic from '@anthropic-ai/sdk';
import { parseList } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import type { ModelInput } from '../test-support/harness.js';
import { overWireUpstreams } from '../test-support/served-over-wire-upstreams.js';

// Review tests (commit 877e737, reasoning effort and thinking blocks), against a served gateway with the
// official SDKs. Upstreams: the local wire servers; the Anthropic one checks thinking blocks as the real API
// does (`checkThinkingBlocks`).

const wire = overWireUpstreams(
  (u) => {
    const capabilities: ModelInput['capabilities'] = ['chat', 'streaming', 'tools', 'reasoning'];
    return [
      { name: 'claude', engine: 'anthropic', baseURL: u.anthropic.url, model: 'claude-test', apiKey: 'ak', capabilities },
      { name: 'gpt4o', engine: 'openai-compatible', baseURL: u.openai.baseURL, model: 'gpt-4o', apiKey: 'k', capabilities },
      // A model outside core's OpenAI family table that takes reasoning_effort, but not "none" (xAI: low and high).
      { name: 'grok', engine: 'openai-compatible', baseURL: u.openai.baseURL, model: 'grok-3-mini', apiKey: 'k', capabilities },
      // Groq's qwen3 (outside the table) takes "none" (thinking off) and reasons when the field is absent.
      { name: 'qwen-groq', engine: 'openai-compatible', preset: 'groq', baseURL: u.openai.baseURL, model: 'qwen/qwen3-32b', apiKey: 'gsk', capabilities },
      { name: 'gem-pro', engine: 'gemini', baseURL: u.gemini.url, model: 'gemini-2.5-pro', apiKey: 'gk', capabilities },
      { name: 'gem-flash', engine: 'gemini', baseURL: u.gemini.url, model: 'gemini-2.5-flash', apiKey: 'gk', capabilities },
      { name: 'gpt5', engine: 'openai-compatible', preset: 'openai', baseURL: u.openai.baseURL, model: 'gpt-5-mini', apiKey: 'k', capabilities },
      { name: 'gpt51', engine: 'openai-compatible', preset: 'openai', baseURL: u.openai.baseURL, model: 'gpt-5.1', apiKey: 'k', capabilities },
      // A deployment that declares it cannot reason (no `reasoning` capability).
      { name: 'gpt4o-plain', engine: 'openai-compatible', baseURL: u.openai.baseURL, model: 'gpt-4o', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools'] },
    ];
  },
  { anthropic: { checkThinkingBlocks: true } },
);

const anthropic = () => wire.gw.anthropic();
const openai = () => wire.gw.openai();

/** The `x-llmrr-warnings` members about thinking (field `thinking...` or `output_config...`): code, field, message. */
function thinkingWarnings(header: string | null): Array<{ code: string; field: unknown; message: string }> {
  if (header === null) return [];
  return parseList(header)
    .map(([item, params]) => ({ code: String(item), field: params.get('field'), message: String(params.get('message')) }))
    .filter((m) => String(m.field).startsWith('thinking') || String(m.field).startsWith('output_config'));
}

describe('/v1/messages thinking {type: "disabled"} on non-Anthropic deployments: effort none, where the model can', () => {
  // `disabled` asks for no thinking. The gateway turns it into effort "none" (verbatim `disabled` for Anthropic
  // deployments): a model that thinks by default turns it off where it can.

  // Gemini 2.5 Flash thinks by default ("dynamic thinking") unless sent thinkingBudget 0 (Google's thinking guide);
  // without it the client gets thinking it turned off, and pays for the thought tokens (billed as output).
  it('a Gemini 2.5 Flash upstream is sent thinkingBudget 0: no thinking block', async () => {
    const message = await anthropic().messages.create({
      model: 'gem-flash',
      max_tokens: 300,
      thinking: { type: 'disabled' },
      messages: [{ role: 'user', content: 'Say hi' }],
    });
    const config = wire.upstreams.gemini.requests[0]!.body!.generationConfig as { thinkingConfig?: { thinkingBudget?: number; includeThoughts?: boolean } } | undefined;
    expect(config?.thinkingConfig).toEqual({ thinkingBudget: 0 });
    expect(message.content.every((b) => b.type === 'text')).toBe(true);
  });

  // gpt-5 takes no reasoning_effort "none" (gpt-5.1 and later do): its lowest effort, with a warning. The warning
  // names the client's field, `thinking` ("thinking disabled was sent as ..."), not `thinking.budget_tokens`: the
  // disabled form has no budget (core's budget of 0 is the gateway's mapping).
  it('an OpenAI gpt-5 upstream is sent its lowest reasoning_effort (minimal), with a warning naming thinking', async () => {
    const { response } = await anthropic()
      .messages.create({ model: 'gpt5', max_tokens: 100, thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(wire.upstreams.openai.requests[0]!.body).toMatchObject({ reasoning_effort: 'minimal' });
    const warnings = thinkingWarnings(response.headers.get('x-llmrr-warnings'));
    expect(warnings).toEqual([{ code: 'setting_changed', field: 'thinking', message: expect.stringMatching(/^thinking disabled was sent as reasoning_effort minimal: gpt-5-mini cannot turn thinking off/) }]);
    expect(warnings[0]!.message).not.toMatch(/budget/);
  });

  // A deployment without the reasoning capability is sent no reasoning_effort, and told nothing: off is no loss.
  it('an OpenAI upstream without the reasoning capability is sent no reasoning_effort, no warning', async () => {
    const { response } = await anthropic()
      .messages.create({ model: 'gpt4o-plain', max_tokens: 100, thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(wire.upstreams.openai.requests[0]!.body).not.toHaveProperty('reasoning_effort');
    expect(response.headers.get('x-llmrr-warnings')).toBeNull();
  });

  // A deployment that declares `reasoning` for a model outside core's family table, on a server not known to take
  // reasoning_effort "none": many such servers refuse it (xAI grok-3-mini takes "low" and "high" only,
  // UKGovernmentBEIS/inspect_ai#2734; vLLM up to 0.15 a 400 literal_error, llm-jp/llm-jp-judge#56). It is sent nothing
  // (its default, which may be to think), with a setting_not_sent warning naming `thinking` so the client knows
  // thinking may still be on; a chat client's own reasoning_effort "none" goes as asked.
  it('an OpenAI-compatible upstream outside the family table (gpt-4o, grok-3-mini with reasoning) is not sent "none", and the client is told', async () => {
    for (const model of ['gpt4o', 'grok']) {
      const { data, response } = await anthropic()
        .messages.create({ model, max_tokens: 100, thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'Hi' }] })
        .withResponse();
      expect(data.content.every((b) => b.type === 'text')).toBe(true);
      expect(thinkingWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([
        { code: 'setting_not_sent', field: 'thinking', message: expect.stringMatching(/^thinking disabled was not sent: .* not known to take reasoning_effort none for (?:grok-3-mini|gpt-4o), so the model may still think/) },
      ]);
    }
    expect(wire.upstreams.openai.requests.map((r) => (r.body as Record<string, unknown>).reasoning_effort)).toEqual([undefined, undefined]);
    await openai().chat.completions.create({ model: 'grok', reasoning_effort: 'none', messages: [{ role: 'user', content: 'Hi' }] });
    expect(wire.upstreams.openai.requests[2]!.body).toMatchObject({ reasoning_effort: 'none' });
  });

  // Groq documents reasoning_effort "none" as thinking off for qwen/qwen3-32b (which reasons when the field is absent).
  // Served as asked: no warning about thinking.
  it('a Groq upstream outside the family table (qwen/qwen3-32b) is sent reasoning_effort "none", no warning', async () => {
    const { data: message, response } = await anthropic()
      .messages.create({ model: 'qwen-groq', max_tokens: 100, thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(wire.upstreams.openai.requests[0]!.body).toMatchObject({ model: 'qwen/qwen3-32b', reasoning_effort: 'none' });
    expect(message.content.every((b) => b.type === 'text')).toBe(true);
    expect(thinkingWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([]);
  });

  // gpt-5.1 takes "none" (thinking off, as asked): nothing to warn about.
  it('an OpenAI gpt-5.1 upstream is sent reasoning_effort "none", no warning', async () => {
    const { response } = await anthropic()
      .messages.create({ model: 'gpt51', max_tokens: 100, thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'Hi' }] })
      .withResponse();
    expect(wire.upstreams.openai.requests[0]!.body).toMatchObject({ model: 'gpt-5.1', reasoning_effort: 'none' });
    expect(thinkingWarnings(response.headers.get('x-llmrr-warnings'))).toEqual([]);
  });

  // Gemini 2.5 Pro cannot turn thinking off: thinkingBudget 0 is a 400 ("Budget 0 is invalid. This model only
  // works in thinking mode"; its range is 128-32768, as the comment of REASONING_BUDGETS itself says).
  it('a Gemini 2.5 Pro upstream is not sent thinkingBudget 0; the warning names thinking', async () => {
    const { response } = await anthropic()
      .messages.create({
        model: 'gem-pro',
        max_tokens: 100,
        thinking: { type: 'disabled' },
        messages: [{ role: 'user', content: 'Hi' }],
      })
      .withResponse();
    const config = wire.upstreams.gemini.requests[0]!.body!.generationConfig as { thinkingConfig?: { thinkingBudget?: number } } | undefined;
    expect(config?.thinkingConfig?.thinkingBudget).not.toBe(0);
    const warnings = thinkingWarnings(response.headers.get('x-llmrr-warnings'));
    expect(warnings).toEqual([{ code: 'setting_changed', field: 'thinking', message: expect.stringMatching(/^thinking disabled was sent as thinkingBudget 128: gemini-2.5-pro takes 128 to 32768 and cannot turn thinking off/) }]);
    expect(warnings[0]!.message).not.toMatch(/budget_tokens/);
  });
});

describe('review: /v1/messages thinking enabled on a deployment without the reasoning capability', () => {
  // Claude Code sends `thinking` on most requests. Before 877e737 a deployment behind /v1/messages ignored it; now
  // gpt-4o is sent reasoning_effort, which it refuses ("Unsupported parameter: 'reasoning_effort' is not supported
  // with this model"), although the deployment's config says it cannot reason.
  it('is not sent reasoning_effort', async () => {
    await anthropic().messages.create({
      model: 'gpt4o-plain',
      max_tokens: 4000,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [{ role: 'user', content: 'Hi' }],
    });
    expect(wire.upstreams.openai.requests[0]!.body).not.toHaveProperty('reasoning_effort');
  });
});

describe('review: chat completions reasoning_effort + tools on an Anthropic deployment', () => {
  // The chat-completions wire has no place for signed thinking blocks, so the client gives the tool turn back
  // without them; the Anthropic engine still sends `thinking: enabled`, and Anthropic answers 400 "Expected
  // `thinking` or `redacted_thinking`, but found `tool_use`" on the second turn of every tool loop.
  it('the second turn of a two-turn tool loop succeeds', async () => {
    wire.upstreams.anthropic.enqueue({
      content: [
        { type: 'thinking', thinking: 'Call the tool.', signature: 'sig-chat-1' },
        { type: 'tool_use', id: 'toolu_c1', name: 'get_weather', input: { city: 'Oslo' } },
      ],
    });
    wire.upstreams.anthropic.enqueue({ content: 'Sunny in Oslo.' });
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const first = await openai().chat.completions.create({
      model: 'claude',
      reasoning_effort: 'medium',
      tools,
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    });
    const call = first.choices[0]!.message.tool_calls![0]!;
    const second = await openai()
      .chat.completions.create({
        model: 'claude',
        reasoning_effort: 'medium',
        tools,
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          first.choices[0]!.message,
          { role: 'tool', tool_call_id: call.id, content: '18C' },
        ],
      })
      .catch((e: unknown) => e);
    expect(second instanceof Error ? second.message : 'ok').toBe('ok');
  });
});

describe('review: /v1/messages thinking tool loop that moves from an OpenAI deployment to Anthropic', () => {
  // Turn 1 (a fallback, or another model name) answers on an OpenAI-compatible deployment: its reasoning comes
  // out as a thinking block with signature "", which the SDK keeps and gives back. Turn 2 goes to Claude with
  // thinking on: the engine (rightly) drops the unsigned block, and Anthropic refuses the tool turn without one.
  it('the second turn on Claude succeeds', async () => {
    wire.upstreams.openai.setScript({ reasoning: 'Use the tool.', text: '', toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] });
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];
    const thinking = { type: 'enabled' as const, budget_tokens: 1024 };
    const first = await anthropic().messages.create({ model: 'gpt4o', max_tokens: 4000, thinking, tools, messages: [{ role: 'user', content: 'Oslo?' }] });
    expect(first.content[0]).toEqual({ type: 'thinking', thinking: 'Use the tool.', signature: '' });
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    wire.upstreams.anthropic.enqueue({ content: 'Sunny.' });
    const second = await anthropic()
      .messages.create({
        model: 'claude',
        max_tokens: 4000,
        thinking,
        tools,
        messages: [
          { role: 'user', content: 'Oslo?' },
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18C' }] },
        ],
      })
      .catch((e: unknown) => e);
    expect(second instanceof Error ? second.message : 'ok').toBe('ok');
  });
});

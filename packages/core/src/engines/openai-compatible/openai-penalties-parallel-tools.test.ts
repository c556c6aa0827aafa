import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import type { CallWarning, GenerateRequest, ToolDefinition } from '../../spec/index.js';
import { generateAndStream } from '../../test/call-warnings.test-helpers.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// frequencyPenalty, presencePenalty and parallelToolCalls on the chat-completions wire: sent where the provider and
// model take them (the recorded body), not sent and said so (`setting_not_sent`) where they are documented to
// refuse them, in generate and in stream alike. Against the local OpenAI wire server, which records every body.

const wire = useOpenAIWireServer({ script: { text: 'one two three' } });

const weather: ToolDefinition = { name: 'weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } };
const hi = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...extra });
const all = (extra: Partial<GenerateRequest> = {}): GenerateRequest => hi({ frequencyPenalty: 0.5, presencePenalty: -0.25, parallelToolCalls: false, tools: [weather], ...extra });

/** generate and stream the request; both recorded bodies and both warning lists (which must agree). */
async function both(config: Partial<ModelConfigInput>, request: GenerateRequest): Promise<{ warnings: CallWarning[] | undefined; bodies: Record<string, unknown>[] }> {
  const { generated, streamed, bodies } = await generateAndStream(wire.engine(config), request, wire.lastBody);
  expect(bodies[1]!.stream).toBe(true);
  expect(streamed).toEqual(generated);
  return { warnings: generated, bodies };
}

const openai = (model: string): Partial<ModelConfigInput> => ({ preset: 'openai', apiKey: 'k', baseURL: wire.server.baseURL, model });
const notSent = (field: string, why: string): CallWarning => ({ code: 'setting_not_sent', field, message: expect.stringContaining(why) as unknown as string });

describe('openai-compatible: frequencyPenalty, presencePenalty, parallelToolCalls', () => {
  it('a request without them: the body is what it always was (no new key)', async () => {
    const { warnings, bodies } = await both({}, hi({ temperature: 0.3 }));
    expect(warnings).toBeUndefined();
    expect(bodies[0]).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], temperature: 0.3 });
    expect(bodies[1]).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], temperature: 0.3, stream: true, stream_options: { include_usage: true } });
  });

  it('a generic server and every preset documented to take them: all three sent (parallel_tool_calls with the tools)', async () => {
    const configs: Array<Partial<ModelConfigInput>> = [
      {},
      openai('gpt-4o'),
      openai('gpt-5-chat-latest'), // not a reasoning model: takes the penalties
      { preset: 'azure-openai', apiKey: 'k', baseURL: wire.server.baseURL, model: 'gpt-4.1' },
      ...(['groq', 'together', 'mistral', 'deepseek', 'openrouter', 'ollama', 'vllm', 'lmstudio', 'llamacpp'] as const).map((preset) => ({ preset, apiKey: 'k', baseURL: wire.server.baseURL })),
      { preset: 'deepseek', apiKey: 'k', baseURL: wire.server.baseURL, model: 'deepseek-chat' },
    ];
    for (const config of configs) {
      const { warnings, bodies } = await both(config, all());
      for (const body of bodies) {
        expect(body, JSON.stringify(config)).toMatchObject({ frequency_penalty: 0.5, presence_penalty: -0.25, parallel_tool_calls: false });
        expect(body.tools).toHaveLength(1);
      }
      expect(warnings, JSON.stringify(config)).toBeUndefined();
    }
  });

  it('parallelToolCalls: true (the default) is not sent, and that is no loss; without tools neither value is sent (OpenAI answers 400 to it)', async () => {
    const asked = await both({}, hi({ parallelToolCalls: true, tools: [weather] }));
    for (const body of asked.bodies) expect(body).not.toHaveProperty('parallel_tool_calls');
    expect(asked.warnings).toBeUndefined();
    for (const parallelToolCalls of [false, true]) {
      const { warnings, bodies } = await both({}, hi({ parallelToolCalls }));
      for (const body of bodies) expect(body).not.toHaveProperty('parallel_tool_calls');
      expect(warnings).toBeUndefined();
    }
    // tools: [] sends no tools, so no parallel_tool_calls either
    const empty = await both({}, hi({ parallelToolCalls: false, tools: [] }));
    for (const body of empty.bodies) expect(body).not.toHaveProperty('parallel_tool_calls');
    expect(empty.warnings).toBeUndefined();
  });

  it('OpenAI o-series (openai and azure-openai): neither the penalties nor parallel_tool_calls are sent, and the call says so', async () => {
    for (const config of [openai('o3-mini'), openai('o4-mini-2025-04-16'), { preset: 'azure-openai', apiKey: 'k', baseURL: wire.server.baseURL, model: 'o1' }] as const) {
      const { warnings, bodies } = await both(config, all());
      for (const body of bodies) {
        expect(body).not.toHaveProperty('frequency_penalty');
        expect(body).not.toHaveProperty('presence_penalty');
        expect(body).not.toHaveProperty('parallel_tool_calls');
        expect(body.tools).toHaveLength(1);
      }
      expect(warnings).toEqual([
        notSent('frequencyPenalty', 'reasoning models'),
        notSent('presencePenalty', 'reasoning models'),
        notSent('parallelToolCalls', 'o-series models'),
      ]);
    }
  });

  it('gpt-5 family: penalties never sent (not even at reasoning effort none); parallel_tool_calls sent but at effort minimal', async () => {
    const medium = await both(openai('gpt-5'), all({ reasoning: { effort: 'medium' } }));
    for (const body of medium.bodies) {
      expect(body).not.toHaveProperty('frequency_penalty');
      expect(body.parallel_tool_calls).toBe(false);
      expect(body.reasoning_effort).toBe('medium');
    }
    expect(medium.warnings?.map((w) => w.field)).toEqual(['frequencyPenalty', 'presencePenalty']);

    const minimal = await both(openai('gpt-5-mini'), all({ reasoning: { effort: 'minimal' } }));
    for (const body of minimal.bodies) {
      expect(body.reasoning_effort).toBe('minimal');
      expect(body).not.toHaveProperty('parallel_tool_calls');
    }
    expect(minimal.warnings?.at(-1)).toEqual({
      code: 'setting_not_sent',
      field: 'parallelToolCalls',
      message: 'parallelToolCalls false was not sent: OpenAI refuses parallel_tool_calls at reasoning_effort minimal; the model may call several tools in one answer.',
    });

    const none = await both(openai('gpt-5.1'), hi({ frequencyPenalty: 1, reasoning: { effort: 'none' }, temperature: 0.2 }));
    for (const body of none.bodies) {
      expect(body).not.toHaveProperty('frequency_penalty');
      expect(body.temperature).toBe(0.2);
    }
    expect(none.warnings).toEqual([notSent('frequencyPenalty', 'OpenAI reasoning models (gpt-5.1) refuse sampling penalties')]);
  });

  it('gpt-oss elsewhere (vLLM, Groq) takes the penalties: the OpenAI reasoning limit is OpenAI-hosted only', async () => {
    for (const preset of ['vllm', 'groq'] as const) {
      const { warnings, bodies } = await both({ preset, apiKey: 'k', baseURL: wire.server.baseURL, model: 'openai/gpt-oss-20b' }, all());
      for (const body of bodies) expect(body).toMatchObject({ frequency_penalty: 0.5, presence_penalty: -0.25, parallel_tool_calls: false });
      expect(warnings).toBeUndefined();
    }
  });

  it('deepseek-reasoner ignores the penalties (DeepSeek says so): not sent, and said so; parallel_tool_calls still sent', async () => {
    const { warnings, bodies } = await both({ preset: 'deepseek', apiKey: 'k', baseURL: wire.server.baseURL, model: 'deepseek-reasoner' }, all());
    for (const body of bodies) {
      expect(body).not.toHaveProperty('frequency_penalty');
      expect(body).not.toHaveProperty('presence_penalty');
      expect(body.parallel_tool_calls).toBe(false);
    }
    expect(warnings).toEqual([notSent('frequencyPenalty', 'deepseek-reasoner ignores'), notSent('presencePenalty', 'deepseek-reasoner ignores')]);
  });

  it('what the model would refuse but is no loss says nothing: a penalty of 0, parallelToolCalls true', async () => {
    const { warnings, bodies } = await both(openai('o3'), hi({ frequencyPenalty: 0, presencePenalty: 0, parallelToolCalls: true, tools: [weather] }));
    for (const body of bodies) {
      expect(body).not.toHaveProperty('frequency_penalty');
      expect(body).not.toHaveProperty('parallel_tool_calls');
    }
    expect(warnings).toBeUndefined();
  });

  it('providerOptions still win, and the warnings say what went on the wire', async () => {
    const changed = await both({}, all({ providerOptions: { openai: { frequency_penalty: 1.5, parallel_tool_calls: true } } }));
    for (const body of changed.bodies) expect(body).toMatchObject({ frequency_penalty: 1.5, presence_penalty: -0.25, parallel_tool_calls: true });
    expect(changed.warnings).toEqual([
      { code: 'setting_changed', field: 'frequencyPenalty', message: 'frequencyPenalty was sent as the value of providerOptions.openai.frequency_penalty.' },
      { code: 'setting_changed', field: 'parallelToolCalls', message: 'parallelToolCalls was sent as the value of providerOptions.openai.parallel_tool_calls.' },
    ]);

    // The caller may send what the mapping holds back: then it went on the wire, and no warning says otherwise.
    const forced = await both(openai('o3'), all({ providerOptions: { openai: { frequency_penalty: 0.5, presence_penalty: -0.25, parallel_tool_calls: false } } }));
    for (const body of forced.bodies) expect(body).toMatchObject({ frequency_penalty: 0.5, presence_penalty: -0.25, parallel_tool_calls: false });
    expect(forced.warnings).toBeUndefined();

    // The preset's own key wins over `openai`, and removing a field (undefined) is said as removed.
    const removed = await both({ preset: 'groq', apiKey: 'k', baseURL: wire.server.baseURL }, all({ providerOptions: { openai: { presence_penalty: 1 }, groq: { presence_penalty: undefined, parallel_tool_calls: undefined } } }));
    for (const body of removed.bodies) {
      expect(body).not.toHaveProperty('presence_penalty');
      expect(body).not.toHaveProperty('parallel_tool_calls');
      expect(body.frequency_penalty).toBe(0.5);
    }
    expect(removed.warnings).toEqual([
      { code: 'setting_not_sent', field: 'presencePenalty', message: 'presencePenalty was not sent: providerOptions.groq.presence_penalty removed it.' },
      {
        code: 'setting_not_sent',
        field: 'parallelToolCalls',
        message: 'parallelToolCalls false was not sent: providerOptions.groq.parallel_tool_calls removed it; the model may call several tools in one answer.',
      },
    ]);
  });
});

describe('openai-compatible: logitBias on OpenAI reasoning models (the penalties rule)', () => {
  it.each(['o3-mini', 'gpt-5'])('%s: logit_bias not sent (the API refuses it), said as the penalties are', async (model) => {
    const { warnings, bodies } = await both(openai(model), hi({ logitBias: { '50256': -100 }, frequencyPenalty: 0.5 }));
    for (const body of bodies) {
      expect(body).not.toHaveProperty('frequency_penalty');
      expect(body).not.toHaveProperty('logit_bias');
    }
    expect(warnings).toEqual([
      notSent('frequencyPenalty', `OpenAI reasoning models (${model}) refuse sampling penalties`),
      { code: 'setting_not_sent', field: 'logitBias', message: `logitBias was not sent: OpenAI reasoning models (${model}) refuse logit_bias.` },
    ]);
  });

  it('logitBias alone (no penalty beside it) is said too', async () => {
    const { warnings, bodies } = await both(openai('o3'), hi({ logitBias: { '50256': -100 } }));
    for (const body of bodies) expect(body).not.toHaveProperty('logit_bias');
    expect(warnings).toEqual([{ code: 'setting_not_sent', field: 'logitBias', message: 'logitBias was not sent: OpenAI reasoning models (o3) refuse logit_bias.' }]);
  });

  it('a chat model (gpt-5-chat-latest, gpt-4o) and a deployment the caller sends it to itself: logit_bias sent, no warning', async () => {
    for (const model of ['gpt-5-chat-latest', 'gpt-4o']) {
      const { warnings, bodies } = await both(openai(model), hi({ logitBias: { '50256': -100 } }));
      for (const body of bodies) expect(body.logit_bias).toEqual({ '50256': -100 });
      expect(warnings).toBeUndefined();
    }
    const forced = await both(openai('o3'), hi({ logitBias: { '1': 1 }, providerOptions: { openai: { logit_bias: { '2': 2 } } } }));
    for (const body of forced.bodies) expect(body.logit_bias).toEqual({ '2': 2 });
    expect(forced.warnings).toBeUndefined();
  });
});

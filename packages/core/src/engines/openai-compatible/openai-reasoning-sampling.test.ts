import { describe, expect, it } from 'vitest';
import type { ModelConfigInput } from '../../config/schema.js';
import type { CallWarning, GenerateRequest } from '../../spec/index.js';
import { generateAndStream } from '../../test/call-warnings.test-helpers.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// temperature, top_p and stop on the chat-completions wire: held back from OpenAI's reasoning models, which refuse
// them (a temperature or top_p other than 1: "Only the default (1) value is supported"; stop: "Unsupported
// parameter"), and stop cut to OpenAI's 4; each said in a warning, in generate and in stream alike. Against the local
// OpenAI wire server, which records every body.

const wire = useOpenAIWireServer({ script: { text: 'ok' } });
const hi = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...extra });

async function both(config: Partial<ModelConfigInput>, request: GenerateRequest): Promise<{ warnings: CallWarning[] | undefined; body: Record<string, unknown> }> {
  const { generated, streamed, bodies } = await generateAndStream(wire.engine(config), request, wire.lastBody);
  expect(streamed).toEqual(generated);
  const { stream: _s, stream_options: _o, ...streamedBody } = bodies[1]!;
  expect(streamedBody).toEqual(bodies[0]);
  return { warnings: generated, body: bodies[0]! };
}

const openai = (model: string, extra: Partial<ModelConfigInput> = {}): Partial<ModelConfigInput> => ({ preset: 'openai', apiKey: 'k', baseURL: wire.server.baseURL, model, ...extra });
const fields = (warnings: CallWarning[] | undefined) => (warnings ?? []).map((w) => [w.code, w.field]);
const SAMPLING = { temperature: 0.4, topP: 0.9, stop: ['END'] };

describe('openai-compatible: temperature, top_p and stop on reasoning models', () => {
  it('o3, gpt-5-mini, a freely named deployment with the reasoning capability: none sent, each warned', async () => {
    for (const config of [openai('o3'), openai('gpt-5-mini'), openai('my-deployment', { capabilities: ['chat', 'reasoning'] })]) {
      const { warnings, body } = await both(config, hi(SAMPLING));
      expect(body).not.toHaveProperty('temperature');
      expect(body).not.toHaveProperty('top_p');
      expect(body).not.toHaveProperty('stop');
      expect(fields(warnings)).toEqual([
        ['setting_not_sent', 'temperature'],
        ['setting_not_sent', 'topP'],
        ['setting_not_sent', 'stop'],
      ]);
    }
  });

  it('temperature and top_p of 1 (the default) are sent, no warning', async () => {
    const { warnings, body } = await both(openai('gpt-5-mini'), hi({ temperature: 1, topP: 1 }));
    expect(body).toMatchObject({ temperature: 1, top_p: 1 });
    expect(warnings).toBeUndefined();
  });

  it('gpt-5.2 at reasoning_effort none (or none asked) takes temperature and top_p, not stop; at low, neither', async () => {
    const none = await both(openai('gpt-5.2', { capabilities: ['chat', 'reasoning'] }), hi({ ...SAMPLING, reasoning: { effort: 'none' } }));
    expect(none.body).toMatchObject({ temperature: 0.4, top_p: 0.9, reasoning_effort: 'none' });
    expect(fields(none.warnings)).toEqual([['setting_not_sent', 'stop']]);
    const low = await both(openai('gpt-5.2', { capabilities: ['chat', 'reasoning'] }), hi({ ...SAMPLING, reasoning: { effort: 'low' } }));
    expect(low.body).not.toHaveProperty('temperature');
    expect(fields(low.warnings)).toEqual([
      ['setting_not_sent', 'temperature'],
      ['setting_not_sent', 'topP'],
      ['setting_not_sent', 'stop'],
    ]);
  });

  it('gpt-4o, gpt-5-chat-latest and another preset get all three; providerOptions win (no warning)', async () => {
    for (const config of [openai('gpt-4o'), openai('gpt-5-chat-latest'), {}]) {
      const { warnings, body } = await both(config, hi(SAMPLING));
      expect(body).toMatchObject({ temperature: 0.4, top_p: 0.9, stop: ['END'] });
      expect(warnings).toBeUndefined();
    }
    const forced = await both(openai('o3'), hi({ ...SAMPLING, providerOptions: { openai: { temperature: 0.2 } } }));
    expect(forced.body).toMatchObject({ temperature: 0.2 });
    // The temperature set there is the caller's: sent as given, nothing said about it.
    expect(fields(forced.warnings)).toEqual([
      ['setting_not_sent', 'topP'],
      ['setting_not_sent', 'stop'],
    ]);
  });
});

describe('openai-compatible: more than 4 stop sequences', () => {
  const stop = ['a', 'b', 'c', 'd', 'e'];
  it('openai sends the first 4 with a setting_changed warning; other presets all', async () => {
    const cut = await both(openai('gpt-4o'), hi({ stop }));
    expect(cut.body.stop).toEqual(['a', 'b', 'c', 'd']);
    expect(fields(cut.warnings)).toEqual([['setting_changed', 'stop']]);
    const all = await both({}, hi({ stop }));
    expect(all.body.stop).toEqual(stop);
    expect(all.warnings).toBeUndefined();
  });
});

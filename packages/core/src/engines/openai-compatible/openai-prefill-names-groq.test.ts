import { describe, expect, it } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { generateAndStream } from '../../test/call-warnings.test-helpers.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

// Against the local OpenAI wire server, which records the bodies the engine sent: a prefill is continued or warned
// only when the request asks for a continuation (`continueFinalMessage`, which the gateway's /v1/messages sets); the
// presets' defaults (`mistral`: prefix, `llamacpp`: native); a message name OpenAI refuses is refused before the call
// only for `openai` and `azure-openai`; Groq's refused fields follow `options.logitBias` / `options.messageNames`, and
// a `baseURL` on api.groq.com is known as Groq.

const wire = useOpenAIWireServer({ script: { text: 'Paris"}' } });

const PREFILL: GenerateRequest = {
  messages: [
    { role: 'user', content: 'The capital of France?' },
    { role: 'assistant', content: '{"capital": "' },
  ],
};
const asked = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ ...PREFILL, continueFinalMessage: true, ...extra });

async function both(config: Partial<ModelConfigInput>, request: GenerateRequest) {
  const { generated, streamed, bodies } = await generateAndStream(wire.engine(config), request, wire.lastBody);
  return { generated: generated ?? [], streamed: streamed ?? [], bodies: bodies as Array<{ messages: Array<Record<string, unknown>> } & Record<string, unknown>> };
}

describe('openai-compatible: an assistant prefill', () => {
  it('without continueFinalMessage (chat completions: OpenAI answers a new turn): sent as it is, no fields, no warning, whatever the deployment', async () => {
    // (The mistral preset refuses it before the call, as Mistral would: openai-mistral-final-assistant.test.ts; told
    // its server takes it, it sends it as it is too.)
    const configs = [{}, { preset: 'openai' }, { preset: 'mistral', options: { refusesFinalAssistant: false } }, { options: { prefill: 'continue_final_message' } }];
    for (const config of configs as Array<Partial<ModelConfigInput>>) {
      const { generated, streamed, bodies } = await both({ apiKey: 'k', baseURL: wire.server.baseURL, ...config }, PREFILL);
      expect(generated).toEqual([]);
      expect(streamed).toEqual([]);
      for (const body of bodies) {
        expect(body.messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "' });
        expect(body).not.toHaveProperty('continue_final_message');
        expect(body).not.toHaveProperty('add_generation_prompt');
      }
    }
  });

  it('asked, without a way: the warning names the message', async () => {
    const { generated, streamed } = await both({}, asked());
    const warning = { code: 'setting_not_sent', field: 'messages.1', message: expect.stringContaining('was not continued') };
    expect(generated).toEqual([warning]);
    expect(streamed).toEqual([warning]);
  });

  it('asked, a whitespace-only final assistant message asks nothing to be continued: no warning, no fields', async () => {
    const blank = asked({ messages: [PREFILL.messages[0]!, { role: 'assistant', content: ' \n\t' }] });
    const { generated, bodies } = await both({ options: { prefill: 'continue_final_message' } }, blank);
    expect(generated).toEqual([]);
    for (const body of bodies) expect(body).not.toHaveProperty('continue_final_message');
    expect((await both({}, blank)).generated).toEqual([]);
  });

  it('the mistral preset continues it with prefix true; llamacpp sends it as it is (native); options.prefill overrides both', async () => {
    const mistral = await both({ preset: 'mistral', apiKey: 'k', baseURL: wire.server.baseURL }, asked());
    expect(mistral.generated).toEqual([]);
    for (const body of mistral.bodies) expect(body.messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "', prefix: true });
    const llama = await both({ preset: 'llamacpp', baseURL: wire.server.baseURL }, asked());
    expect(llama.generated).toEqual([]);
    for (const body of llama.bodies) expect(body.messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "' });
    const vllmLike = await both({ preset: 'llamacpp', baseURL: wire.server.baseURL, options: { prefill: 'continue_final_message' } }, asked());
    for (const body of vllmLike.bodies) expect(body).toMatchObject({ continue_final_message: true, add_generation_prompt: false });
  });

  it('the vllm preset continues it with continue_final_message and add_generation_prompt false (vLLM 0.6.4 and later), no warning; options.prefill overrides it', async () => {
    const vllm = await both({ preset: 'vllm', baseURL: wire.server.baseURL }, asked());
    expect(vllm.generated).toEqual([]);
    expect(vllm.streamed).toEqual([]);
    for (const body of vllm.bodies) {
      expect(body).toMatchObject({ continue_final_message: true, add_generation_prompt: false });
      expect(body.messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "' });
    }
    // Not asked (chat completions without continue_final_message): nothing added.
    for (const body of (await both({ preset: 'vllm', baseURL: wire.server.baseURL }, PREFILL)).bodies) expect(body).not.toHaveProperty('continue_final_message');
    const native = await both({ preset: 'vllm', baseURL: wire.server.baseURL, options: { prefill: 'native' } }, asked());
    for (const body of native.bodies) expect(body).not.toHaveProperty('continue_final_message');
  });

  // A vLLM older than 0.6.3 takes no `continue_final_message` (and 0.6.3 repeats the prefill first): the preset's way
  // is turned off with `prefill: "none"`, which is the absent way's (sent as it is, warned, so not cached).
  it('options.prefill "none" turns a preset\'s way off: sent as it is, no fields, the setting_not_sent warning naming options.prefill', async () => {
    for (const preset of ['vllm', 'mistral', 'llamacpp']) {
      // (Mistral refuses a final assistant message without prefix: true, so the mistral preset would refuse the request
      // before the call: told its server takes it, it is sent as for the others.)
      const options = preset === 'mistral' ? { prefill: 'none', refusesFinalAssistant: false } : { prefill: 'none' };
      const { generated, streamed, bodies } = await both({ preset, apiKey: 'k', baseURL: wire.server.baseURL, options }, asked());
      const warning = { code: 'setting_not_sent', field: 'messages.1', message: expect.stringContaining('options.prefill is "none"') };
      expect({ preset, generated, streamed }).toEqual({ preset, generated: [warning], streamed: [warning] });
      for (const body of bodies) {
        expect(body.messages.at(-1)).toEqual({ role: 'assistant', content: '{"capital": "' });
        expect(body).not.toHaveProperty('continue_final_message');
        expect(body).not.toHaveProperty('add_generation_prompt');
      }
    }
    // Not asked: nothing added, nothing warned.
    const plain = await both({ preset: 'vllm', baseURL: wire.server.baseURL, options: { prefill: 'none' } }, PREFILL);
    expect(plain.generated).toEqual([]);
    // Another value is still a config error naming the option.
    expect(() => wire.engine({ preset: 'vllm', baseURL: wire.server.baseURL, options: { prefill: 'off' } })).toThrow(/options\.prefill/);
  });
});

describe('openai-compatible: a message name OpenAI refuses', () => {
  const named = (name: string): GenerateRequest => ({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi', name }] });

  it.each(['openai', 'azure-openai'])('the %s preset: unsupported (a 400) naming messages.N.name, nothing sent', async (preset) => {
    const engine = wire.engine({ preset, apiKey: 'k', baseURL: wire.server.baseURL });
    const before = wire.server.requests.length;
    await expect(engine.generate(named('Dr Who'))).rejects.toMatchObject({ code: 'unsupported', param: 'messages.1.name' });
    await expect(engine.generate(named('Andr\u00e9'))).rejects.toMatchObject({ code: 'unsupported', param: 'messages.1.name' });
    expect(wire.server.requests.length).toBe(before);
    // Letters, digits, _ and -, of any length: sent (OpenAI decides the length).
    const long = `a_b-C9${'x'.repeat(80)}`;
    await engine.generate(named(long));
    expect((wire.lastBody().messages as Array<{ name?: string }>)[1]!.name).toBe(long);
  });

  it('another server (no preset, vllm): any name is sent as it is', async () => {
    for (const config of [{}, { preset: 'vllm' }] as Array<Partial<ModelConfigInput>>) {
      await wire.engine({ baseURL: wire.server.baseURL, ...config }).generate(named('Dr Who'));
      expect((wire.lastBody().messages as Array<{ name?: string }>)[1]!.name).toBe('Dr Who');
    }
  });
});

describe('openai-compatible: Groq refused fields, by preset, option and host', () => {
  const NAMED: GenerateRequest = { messages: [{ role: 'user', content: 'Hi', name: 'alice' }], logitBias: { '1734': -100 } };

  it('options.logitBias and options.messageNames override the groq preset (and turn either off elsewhere)', async () => {
    const on = await both({ preset: 'groq', apiKey: 'k', baseURL: wire.server.baseURL, options: { logitBias: true, messageNames: true } }, NAMED);
    expect(on.generated).toEqual([]);
    for (const body of on.bodies) {
      expect(body.logit_bias).toEqual({ '1734': -100 });
      expect(body.messages[0]).toMatchObject({ name: 'alice' });
    }
    const off = await both({ options: { logitBias: false, messageNames: false } }, NAMED);
    expect(off.generated.map((w) => w.field)).toEqual(['logitBias', 'messages.0.name']);
    for (const body of off.bodies) {
      expect(body).not.toHaveProperty('logit_bias');
      expect(body.messages[0]).not.toHaveProperty('name');
    }
  });

  it('a baseURL on api.groq.com without a preset is Groq: neither sent, said so naming Groq', async () => {
    // The engine's fetch seam takes Groq's URL to the local server.
    const fetchToWire: typeof fetch = (input, init) => globalThis.fetch(String(input instanceof Request ? input.url : input).replace('https://api.groq.com/openai/v1', wire.server.baseURL), init);
    const engine = (options?: Record<string, unknown>) =>
      new OpenAICompatibleEngine(
        ModelConfigSchema.parse({ name: 'g', model: 'llama-3.3-70b-versatile', apiKey: 'k', baseURL: 'https://api.groq.com/openai/v1', ...(options ? { options } : {}) }),
        defaultEngineContext({ env: {}, fetch: fetchToWire }),
      );
    const { generated, bodies } = await generateAndStream(engine(), NAMED, wire.lastBody);
    expect(generated).toEqual([
      { code: 'setting_not_sent', field: 'logitBias', message: 'logitBias was not sent: Groq refuses logit_bias.' },
      { code: 'setting_not_sent', field: 'messages.0.name', message: 'messages.0.name was not sent: Groq refuses messages[].name.' },
    ]);
    for (const body of bodies as Array<Record<string, unknown>>) {
      expect(body).not.toHaveProperty('logit_bias');
      expect((body.messages as Array<Record<string, unknown>>)[0]).not.toHaveProperty('name');
    }
    // The options override it there too.
    await engine({ logitBias: true }).generate(NAMED);
    expect(wire.lastBody().logit_bias).toEqual({ '1734': -100 });
  });
});

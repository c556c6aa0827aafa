import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../spec/index.js';
import { generateAndStream } from '../test/call-warnings.test-helpers.js';
import { useAnthropicWireServer } from './anthropic/anthropic-wire.test-helpers.js';
import { useGeminiWireServer } from './gemini/gemini-wire.test-helpers.js';
import { useOpenAIWireServer } from './openai-compatible/openai-wire.test-helpers.js';

// `providerOptions[provider]` is merged over the wire body by the three HTTP engines. Options parsed from JSON (a
// config file, a request body) can carry an own key named `__proto__`: an assignment (`Object.assign`) does not copy
// it, it replaces the body's prototype instead, so the field never reaches the wire and the fields of that object
// are read as if the body held them. Against the local wire servers, which record the bodies received.

const openai = useOpenAIWireServer({ script: { text: 'one two' } });
const anthropic = useAnthropicWireServer({ keepRequests: true });
const gemini = useGeminiWireServer();

/** An Azure OpenAI deployment `prod-gpt41` of model `gpt-4.1` on the OpenAI wire server. */
const azure = () => openai.engine({ preset: 'azure-openai', apiKey: 'k', baseURL: openai.server.baseURL, model: 'gpt-4.1', options: { deployment: 'prod-gpt41' } });
const hi = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...extra });

/** `{ [provider]: { __proto__: { ... }, ... } }` as JSON.parse makes it: `__proto__` an own field. */
function withProtoKey(provider: string, fields: Record<string, unknown>, proto: Record<string, unknown>): GenerateRequest['providerOptions'] {
  return JSON.parse(JSON.stringify({ [provider]: fields }).replace(/^\{"[^"]+":\{/, `{"${provider}":{"__proto__":${JSON.stringify(proto)},`)) as GenerateRequest['providerOptions'];
}

describe('providerOptions: an own __proto__ key is copied as a field, never as the body prototype', () => {
  it('openai-compatible: sent as given; a tools list inside it is not read as the body\'s (no parallel_tool_calls)', async () => {
    const options = withProtoKey('openai', { metadata: { a: '1' } }, { tools: [{ type: 'function', function: { name: 'x', parameters: {} } }] });
    expect(Object.hasOwn(options!.openai!, '__proto__')).toBe(true);
    const { bodies } = await generateAndStream(openai.engine(), hi({ parallelToolCalls: false, providerOptions: options }), openai.lastBody);
    for (const body of bodies) {
      expect(body.metadata).toEqual({ a: '1' });
      expect(Object.hasOwn(body, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(body, '__proto__')?.value).toEqual({ tools: [{ type: 'function', function: { name: 'x', parameters: {} } }] });
      expect(body.parallel_tool_calls).toBeUndefined();
    }
  });

  it('anthropic: sent as given', async () => {
    const options = withProtoKey('anthropic', { metadata: { user_id: 'u1' } }, { temperature: 0.5 });
    const { bodies } = await generateAndStream(anthropic.engine(), hi({ maxTokens: 64, providerOptions: options }), anthropic.lastBody);
    for (const body of bodies) {
      expect(body.metadata).toEqual({ user_id: 'u1' });
      expect(Object.getOwnPropertyDescriptor(body, '__proto__')?.value).toEqual({ temperature: 0.5 });
    }
  });

  it('gemini: sent as given', async () => {
    const options = withProtoKey('gemini', { safetySettings: [] }, { cachedContent: 'cachedContents/x' });
    const { bodies } = await generateAndStream(gemini.engine(), hi({ providerOptions: options }), gemini.lastBody);
    for (const body of bodies) {
      expect(body.safetySettings).toEqual([]);
      expect(Object.getOwnPropertyDescriptor(body, '__proto__')?.value).toEqual({ cachedContent: 'cachedContents/x' });
    }
  });
});

describe('providerOptions: the engine keeps model and stream', () => {
  it('openai-compatible: providerOptions.openai.model / stream are not sent; a setting_not_sent warning names the model option', async () => {
    const { generated, streamed, bodies } = await generateAndStream(openai.engine(), hi({ providerOptions: { openai: { model: 'gpt-4o-mini', stream: true } } }), openai.lastBody);
    expect(bodies.map((b) => [b.model, b.stream])).toEqual([['gpt-4o', undefined], ['gpt-4o', true]]);
    const warning = { code: 'setting_not_sent', field: 'providerOptions.openai.model', message: expect.stringContaining('gpt-4o') };
    expect(generated).toEqual([warning]);
    expect(streamed).toEqual([warning]);
  });

  it('openai-compatible: the preset\'s own key too (providerOptions.deepseek.model)', async () => {
    const engine = openai.engine({ preset: 'deepseek', apiKey: 'k', baseURL: openai.server.baseURL, model: 'deepseek-chat' });
    const result = await engine.generate(hi({ providerOptions: { deepseek: { model: 'deepseek-reasoner' } } }));
    expect(openai.lastBody().model).toBe('deepseek-chat');
    expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'providerOptions.deepseek.model', message: expect.any(String) }]);
  });

  it('anthropic: providerOptions.anthropic.model / stream are not sent; a setting_not_sent warning names the model option', async () => {
    const { generated, streamed, bodies } = await generateAndStream(anthropic.engine(), hi({ maxTokens: 64, providerOptions: { anthropic: { model: 'claude-opus-4-1', stream: true } } }), anthropic.lastBody);
    expect(bodies.map((b) => [b.model, b.stream])).toEqual([['claude-test-1', false], ['claude-test-1', true]]);
    const warning = { code: 'setting_not_sent', field: 'providerOptions.anthropic.model', message: expect.stringContaining('claude-test-1') };
    expect(generated).toEqual([warning]);
    expect(streamed).toEqual([warning]);
  });

  it('gemini: providerOptions.gemini.model / stream are not sent (the model is the URL\'s); a setting_not_sent warning names the model option', async () => {
    const { generated, streamed, bodies } = await generateAndStream(gemini.engine(), hi({ providerOptions: { gemini: { model: 'models/gemini-2.5-pro', stream: true } } }), gemini.lastBody);
    expect(bodies.map((b) => [Object.hasOwn(b, 'model'), Object.hasOwn(b, 'stream')])).toEqual([[false, false], [false, false]]);
    const warning = { code: 'setting_not_sent', field: 'providerOptions.gemini.model', message: expect.stringContaining('gemini-2.5-flash') };
    expect(generated).toEqual([warning]);
    expect(streamed).toEqual([warning]);
  });

  it('openai-compatible on Azure (the URL names the model): another model there is not sent; the warning says the URL names it', async () => {
    const { generated, streamed, bodies } = await generateAndStream(azure(), hi({ providerOptions: { openai: { model: 'gpt-4o-mini' } } }), openai.lastBody);
    expect(bodies.map((b) => b.model)).toEqual([undefined, undefined]);
    const warning = { code: 'setting_not_sent', field: 'providerOptions.openai.model', message: expect.stringContaining('the deployment (its URL) names the model') };
    expect(generated).toEqual([warning]);
    expect(streamed).toEqual([warning]);
  });

  it("the deployment's own model there is not sent either, and no warning (nothing changed)", async () => {
    const same = [
      { engine: openai.engine(), request: hi({ providerOptions: { openai: { model: 'gpt-4o' } } }), lastBody: openai.lastBody, model: 'gpt-4o' },
      { engine: openai.engine({ preset: 'deepseek', apiKey: 'k', baseURL: openai.server.baseURL, model: 'deepseek-chat' }), request: hi({ providerOptions: { deepseek: { model: 'deepseek-chat' } } }), lastBody: openai.lastBody, model: 'deepseek-chat' },
      { engine: anthropic.engine(), request: hi({ maxTokens: 64, providerOptions: { anthropic: { model: 'claude-test-1' } } }), lastBody: anthropic.lastBody, model: 'claude-test-1' },
      { engine: gemini.engine(), request: hi({ providerOptions: { gemini: { model: 'gemini-2.5-flash' } } }), lastBody: gemini.lastBody, model: undefined },
      { engine: gemini.engine(), request: hi({ providerOptions: { gemini: { model: 'models/gemini-2.5-flash' } } }), lastBody: gemini.lastBody, model: undefined },
      // Azure (the URL names the deployment, the body no model): the deployment's model, or its Azure deployment name.
      { engine: azure(), request: hi({ providerOptions: { openai: { model: 'gpt-4.1' } } }), lastBody: openai.lastBody, model: undefined },
      { engine: azure(), request: hi({ providerOptions: { 'azure-openai': { model: 'gpt-4.1' } } }), lastBody: openai.lastBody, model: undefined },
      { engine: azure(), request: hi({ providerOptions: { openai: { model: 'prod-gpt41' } } }), lastBody: openai.lastBody, model: undefined },
    ];
    for (const { engine, request, lastBody, model } of same) {
      const { generated, streamed, bodies } = await generateAndStream(engine, request, lastBody);
      expect(bodies.map((b) => b.model)).toEqual([model, model]);
      expect([generated, streamed]).toEqual([undefined, undefined]);
    }
  });
});

import { startAnthropicWireServer, startGeminiWireServer, startOpenAIWireServer, type AnthropicWireServer, type GeminiWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// A deployment whose upstream model id is wrong (a typo, a retired model): the provider answers 404 (OpenAI
// `model_not_found` "The model `gpt-4o-typo` does not exist or you do not have access to it.", Anthropic
// `not_found_error` "model: claude-typo", Gemini NOT_FOUND "models/gemini-typo is not found for API version v1beta").
// The client named a model the gateway has: that is the gateway's upstream failure, a 502 `provider_model_not_found`
// naming the deployment (no key), and a failure of that deployment, so the call falls over to the next one. The
// gateway's own unknown-model answer stays a 404 `model_not_found`.

let gw: SdkGateway;
let openai: OpenAIWireServer;
let anthropic: AnthropicWireServer;
let gemini: GeminiWireServer;
let good: OpenAIWireServer;
beforeAll(async () => {
  openai = await startOpenAIWireServer({
    script: (r) => ({ error: { status: 404, type: 'invalid_request_error', code: 'model_not_found', message: `The model \`${(r.body as { model: string }).model}\` does not exist or you do not have access to it.` } }),
  });
  anthropic = await startAnthropicWireServer({ handler: (r) => ({ error: { status: 404, type: 'not_found_error', message: `model: ${(r.body as { model: string }).model}` } }) });
  gemini = await startGeminiWireServer({ apiKey: 'gk', handler: () => ({ error: { status: 404, message: 'models/gemini-typo is not found for API version v1beta, or is not supported for generateContent.' } }) });
  good = await startOpenAIWireServer({ script: { text: 'served by the fallback' } });
  const chat = ['chat', 'streaming'] as const;
  gw = await servedGateway({
    models: [
      { name: 'gpt', engine: 'openai-compatible', preset: 'openai', baseURL: openai.baseURL, model: 'gpt-4o-typo', apiKey: 'sk-secret-openai-0123456789', capabilities: [...chat] },
      { name: 'claude', engine: 'anthropic', baseURL: anthropic.url, model: 'claude-typo', apiKey: 'sk-ant-secret-0123456789', capabilities: [...chat] },
      { name: 'gem', engine: 'gemini', baseURL: gemini.url, model: 'gemini-typo', apiKey: 'gk', capabilities: [...chat] },
      { name: 'backup', engine: 'openai-compatible', baseURL: good.baseURL, model: 'x', apiKey: 'k', capabilities: [...chat] },
    ],
    upstreams: [openai, anthropic, gemini, good],
  });
});
afterAll(() => gw?.close());

const failure = (e: unknown) => ({ status: (e as { status?: number }).status, error: (e as { error?: { error?: unknown } & Record<string, unknown> }).error });

describe('an upstream 404 for the deployment\'s model id', () => {
  it.each(['gpt', 'claude', 'gem'])('%s: a 502 provider_model_not_found naming the deployment, streamed or not, no secret', async (model) => {
    for (const stream of [false, true]) {
      const call = async (): Promise<void> => {
        const answer = await gw.openai().chat.completions.create({ model, stream, messages: [{ role: 'user', content: 'hi' }] });
        if (stream) for await (const chunk of answer as AsyncIterable<unknown>) void chunk;
      };
      const e = await call().then(() => expect.fail('answered'), failure);
      expect(e.status).toBe(502);
      expect(e.error).toMatchObject({ type: 'api_error', code: 'provider_model_not_found', param: null });
      const message = (e.error as { message: string }).message;
      expect(message).toContain(`"${model}"`);
      expect(message).not.toMatch(/secret|sk-/);
    }
  });

  it('/v1/messages too: an api_error 502 for the Anthropic client', async () => {
    const e = await gw
      .anthropic()
      .messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .then(() => expect.fail('answered'), failure);
    expect(e.status).toBe(502);
    expect(e.error).toMatchObject({ type: 'error', error: { type: 'api_error', code: 'provider_model_not_found' } });
  });

  it('counts as the deployment failing: the call falls over to the next deployment', async () => {
    const answer = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], llmrr: { fallbacks: ['backup'] } } as never);
    expect((answer as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('served by the fallback');
  });

  it("the gateway's own unknown model stays a 404 model_not_found", async () => {
    const e = await gw.openai().chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }).then(() => expect.fail('answered'), failure);
    expect(e.status).toBe(404);
    expect(e.error).toMatchObject({ code: 'model_not_found', param: 'model' });
  });
});

/**
 * An empty `user` on /v1/embeddings is no user, as chat completions take it (`if (body.user)`): not sent upstream,
 * no warning from a deployment that could not send one.
 */
import { startGeminiWireServer, startOpenAIWireServer } from '@llmrr/core/test';
import { afterEach, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let gw: SdkGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('an empty user on /v1/embeddings', () => {
  it('is not sent upstream and warns nothing, as on chat completions', async () => {
    const wire = await startOpenAIWireServer();
    const gemini = await startGeminiWireServer({ apiKey: 'gk' });
    gw = await servedGateway({
      models: [
        { name: 'emb', engine: 'openai-compatible', baseURL: wire.baseURL, apiKey: 'k', model: 'text-embedding-3-small', capabilities: ['embeddings'] },
        { name: 'chat', engine: 'openai-compatible', baseURL: wire.baseURL, apiKey: 'k', model: 'gpt-4o-mini', capabilities: ['chat'] },
        { name: 'gem', engine: 'gemini', baseURL: gemini.url, apiKey: 'gk', model: 'gemini-embedding-001' },
      ],
      upstreams: [wire, gemini],
    });
    const client = gw.openai();
    const chat = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], user: '' }).withResponse();
    const chatBody = wire.requests.at(-1)?.body as Record<string, unknown>;
    const emb = await client.embeddings.create({ model: 'emb', input: 'x', user: '' }).withResponse();
    const embBody = wire.requests.at(-1)?.body as Record<string, unknown>;
    const gem = await client.embeddings.create({ model: 'gem', input: 'x', user: '' }).withResponse();
    expect({
      chatSendsUser: 'user' in chatBody,
      chatWarnings: chat.response.headers.get('x-llmrr-warnings'),
      embSendsUser: 'user' in embBody,
      gemWarnings: gem.response.headers.get('x-llmrr-warnings'),
    }).toEqual({ chatSendsUser: false, chatWarnings: null, embSendsUser: false, gemWarnings: null });
  });
});

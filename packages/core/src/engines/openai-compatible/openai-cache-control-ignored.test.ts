import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/index.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';

// OpenAI-compatible providers cache prompts on their own: prompt-cache breakpoints (`cacheControl`) are an
// Anthropic hint and must never reach their wire bodies (a strict provider would refuse an unknown field).

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer();
});
afterAll(() => server.close());

const m = { type: 'ephemeral', ttl: '1h' } as const;
const marked: GenerateRequest = {
  cacheControl: m,
  tools: [{ name: 'calc', parameters: { type: 'object' }, cacheControl: m }],
  messages: [
    { role: 'system', content: 'S', cacheControl: m },
    { role: 'user', content: [{ type: 'text', text: 'look', cacheControl: m }, { type: 'image', data: 'iVBORw0KGgo=', mediaType: 'image/png', cacheControl: m }], cacheControl: m },
    { role: 'assistant', content: null, toolCalls: [{ id: 't1', name: 'calc', arguments: '{}' }], cacheControl: m },
    { role: 'tool', toolCallId: 't1', content: '4', cacheControl: m },
  ],
};

describe('openai-compatible engine: cacheControl', () => {
  it('sends the same body with and without breakpoints, with no cache field in it', async () => {
    const engine = new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'd', model: 'gpt-test', baseURL: server.baseURL }), defaultEngineContext({ env: {} }));
    await engine.generate(marked);
    const withMarks = server.requests.at(-1)!.rawBody;
    const plain = JSON.parse(JSON.stringify(marked), (key, value) => (key === 'cacheControl' ? undefined : value)) as GenerateRequest;
    await engine.generate(plain);
    expect(withMarks).toBe(server.requests.at(-1)!.rawBody);
    expect(withMarks).not.toMatch(/cache_?control/i);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../config/schema.js';
import type { GenerateRequest } from '../../spec/messages.js';
import { startGeminiWireServer, type GeminiWireServer } from '../../test/gemini-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { createGeminiEngine } from './create-gemini-engine.js';

// Gemini caches prompts on its own (implicit caching): prompt-cache breakpoints (`cacheControl`) are an
// Anthropic hint and must never reach the generateContent body.

let server: GeminiWireServer;
beforeAll(async () => {
  server = await startGeminiWireServer({ apiKey: 'gm-test' });
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

describe('gemini engine: cacheControl', () => {
  it('sends the same body with and without breakpoints, with no cache field in it', async () => {
    const model = ModelConfigSchema.parse({ name: 'gem', engine: 'gemini', model: 'gemini-test', baseURL: server.url, apiKey: 'gm-test' });
    const engine = createGeminiEngine(model, defaultEngineContext({ env: {} }));
    await engine.generate(marked);
    const withMarks = JSON.stringify(server.requests.at(-1)!.body);
    const plain = JSON.parse(JSON.stringify(marked), (key, value) => (key === 'cacheControl' ? undefined : value)) as GenerateRequest;
    await engine.generate(plain);
    expect(withMarks).toBe(JSON.stringify(server.requests.at(-1)!.body));
    expect(withMarks).not.toMatch(/cache_?control/i);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, mockModel, post, type Harness } from '../test-support/harness.js';

// Ignored top-level fields said in x-llmrr-warnings: values that ask for nothing say nothing, and
// every field the gateway does not act on is said, through the routes themselves.

let h: Harness;
beforeAll(async () => {
  h = await createHarness({ models: [mockModel('mock')] });
});
afterAll(() => h?.close());

const ASK = [{ role: 'user', content: 'Hello' }];

describe('ignored top-level fields, through the routes', () => {
  it('/v1/messages: speed "standard" (Anthropic\u2019s default speed, @anthropic-ai/sdk 1.14 MessageCreateParams.speed) asks for nothing: no warning', async () => {
    const res = await post(h.gateway, '/v1/messages', { model: 'mock', max_tokens: 20, messages: ASK, speed: 'standard' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('/v1/chat/completions and /v1/responses: prompt_cache_options at its documented defaults (mode implicit, ttl 30m; openai 6.49) asks for nothing: no warning', async () => {
    const options = { mode: 'implicit', ttl: '30m' };
    const chat = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: ASK, prompt_cache_options: options });
    expect(chat.status).toBe(200);
    expect(chat.headers.get('x-llmrr-warnings')).toBeNull();
    const responses = await post(h.gateway, '/v1/responses', { model: 'mock', input: 'Hello', prompt_cache_options: options });
    expect(responses.status).toBe(200);
    expect(responses.headers.get('x-llmrr-warnings')).toBeNull();
  });

  it('a top-level "__proto__" field that asks for something is said like any other field (not dropped in silence by the schema copy)', async () => {
    // Chat's fast check leaves a body with an own __proto__ key to zod, whose copy drops it; /v1/messages always copies.
    const chat = await post(h.gateway, '/v1/chat/completions', '{"model":"mock","messages":[{"role":"user","content":"Hello"}],"__proto__":{"logprobs":true}}');
    expect(chat.status).toBe(200);
    expect(chat.headers.get('x-llmrr-warnings') ?? '(no header)').toContain('field="__proto__"');
    const messages = await post(h.gateway, '/v1/messages', '{"model":"mock","max_tokens":20,"messages":[{"role":"user","content":"Hello"}],"__proto__":{"speed":"fast"}}');
    expect(messages.status).toBe(200);
    expect(messages.headers.get('x-llmrr-warnings') ?? '(no header)').toContain('field="__proto__"');
  });
});

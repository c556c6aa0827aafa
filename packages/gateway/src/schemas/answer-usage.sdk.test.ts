import type Anthropic from '@anthropic-ai/sdk';
import type { AnthropicWireServer, AnthropicWireUsage } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

// A router cache hit (the gateway's exact cache) calls no provider: it read nothing from the provider's prompt
// cache and wrote nothing to it. Its answer's usage reports 0 cache reads and writes (as the ledger records 0
// for hits), not the original call's numbers; input and output tokens stay the original's. /v1/messages (JSON
// and streamed), /v1/chat/completions and /v1/responses, with the official SDKs.

let claudeUp: AnthropicWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  ({ gw, upstreams: { anthropic: claudeUp } } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude')], { cache: { exact: { enabled: true } } }));
});
afterAll(() => gw?.close());

const EPH = { type: 'ephemeral' } as const;
// 50 uncached input tokens, 4000 read from the prompt cache, 1000 written to it, 20 out: 5050 input in all.
const CACHE_USAGE = {
  input_tokens: 50,
  output_tokens: 20,
  cache_read_input_tokens: 4000,
  cache_creation_input_tokens: 1000,
  cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 0 },
} as AnthropicWireUsage;

const question = (text: string): Anthropic.MessageCreateParamsNonStreaming => ({
  model: 'claude',
  max_tokens: 100,
  system: [{ type: 'text', text: 'A long style guide.', cache_control: EPH }],
  messages: [{ role: 'user', content: text }],
});

describe('router cache hits report no prompt-cache reads or writes', () => {
  it('/v1/messages JSON: the miss reports the provider\u2019s cache, the hit 0 reads and writes, all input in input_tokens', async () => {
    claudeUp.enqueue({ content: 'Sunny.', usage: CACHE_USAGE });
    const body = question('Weather in Paris? (hit usage, JSON)');
    const miss = await gw.anthropic().messages.create(body).withResponse();
    expect(miss.response.headers.get('x-llmrr-cache')).toBe('miss');
    expect(miss.data.usage).toMatchObject({ input_tokens: 50, output_tokens: 20, cache_read_input_tokens: 4000, cache_creation_input_tokens: 1000 });
    const hit = await gw.anthropic().messages.create(body).withResponse();
    expect(hit.response.headers.get('x-llmrr-cache')).toBe('hit-exact');
    expect(hit.data.usage).toMatchObject({
      input_tokens: 5050,
      output_tokens: 20,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    });
  });

  it('/v1/messages streamed: message_delta of a hit has 0 reads and writes', async () => {
    claudeUp.enqueue({ content: 'Sunny.', usage: CACHE_USAGE, chunks: 2 });
    const body = question('Weather in Rome? (hit usage, stream)');
    const miss = await gw.anthropic().messages.stream(body).finalMessage();
    expect(miss.usage).toMatchObject({ input_tokens: 50, cache_read_input_tokens: 4000, cache_creation_input_tokens: 1000 });
    const hit = await gw.anthropic().messages.stream(body).finalMessage();
    expect(hit.usage).toMatchObject({ input_tokens: 5050, output_tokens: 20, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  });

  it('/v1/chat/completions: prompt_tokens as the original, cached_tokens and cache_write_tokens 0 on the hit', async () => {
    claudeUp.enqueue({ content: 'Sunny.', usage: CACHE_USAGE });
    const body = { model: 'claude', max_tokens: 100, messages: [{ role: 'user' as const, content: 'Weather in Oslo? (hit usage, chat)' }] };
    const miss = await gw.openai().chat.completions.create(body);
    expect(miss.usage).toMatchObject({ prompt_tokens: 5050, prompt_tokens_details: { cached_tokens: 4000, cache_write_tokens: 1000 } });
    const hit = await gw.openai().chat.completions.create(body).withResponse();
    expect(hit.response.headers.get('x-llmrr-cache')).toBe('hit-exact');
    expect(hit.data.usage).toMatchObject({ prompt_tokens: 5050, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 } });
  });

  it('/v1/responses: input_tokens as the original, cached_tokens 0 on the hit', async () => {
    claudeUp.enqueue({ content: 'Sunny.', usage: CACHE_USAGE });
    const body = { model: 'claude', input: 'Weather in Lima? (hit usage, responses)' };
    const miss = await gw.openai().responses.create(body);
    expect(miss.usage).toMatchObject({ input_tokens: 5050, input_tokens_details: { cached_tokens: 4000 } });
    const hit = await gw.openai().responses.create(body);
    expect(hit.usage).toMatchObject({ input_tokens: 5050, output_tokens: 20, input_tokens_details: { cached_tokens: 0 } });
    expect(claudeUp.requests.filter((r) => JSON.stringify(r.body).includes('hit usage, responses'))).toHaveLength(1);
  });
});

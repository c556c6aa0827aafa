import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mathCascade } from '../test-support/math-cascade.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// Review of a38df52 (answer-usage.ts): "a router cache hit reports no provider cache reads or writes". The
// answer zeroes the cache counts whenever `result.cached` is set. For an escalated cascade, `result.cached` is the
// STRONG step's, while `result.usage` is the sum of both steps (core cascadeResult, each step already without
// the counts of a router cache hit). When the strong step is a router cache hit and the weak step a provider
// call that read its prompt cache, the ledger (settle.ts leaves an escalated cascade's sum alone) records the
// weak call's cache reads, but the answer says 0: the ledger and the answer disagree, and the client is told it
// read nothing from the prompt cache while it is billed for the weak call's reads.

const QUESTION = 'Janet has 16 eggs. She eats 3 and bakes with 4. She sells the rest at $2 each. How many dollars does she make? (review a38df52)';
const WRONG = 'She has 16 - 3 - 4 = 9 eggs left. She makes 9 * 2 = 19 dollars.\n#### 19';
const STRONG = 'Janet sells 16 - 3 - 4 = 9 eggs for 9 * 2 = 18 dollars.\n#### 18';
// The weak call: 400 prompt tokens, 300 of them read from the provider's prompt cache.
const WEAK_USAGE = { prompt_tokens: 400, completion_tokens: 20, total_tokens: 420, prompt_tokens_details: { cached_tokens: 300 } };
const STRONG_USAGE = { prompt_tokens: 41, completion_tokens: 25, total_tokens: 66, prompt_tokens_details: { cached_tokens: 0 } };

let weak: OpenAIWireServer;
let strong: OpenAIWireServer;
let gw: SdkGateway;

beforeAll(async () => {
  weak = await startOpenAIWireServer();
  strong = await startOpenAIWireServer({ script: { text: STRONG, usage: STRONG_USAGE, streamUsage: 'always' } });
  gw = await servedGateway({
    ...mathCascade(weak, strong, { cachedInput: 0.1 }),
    cache: { exact: { enabled: true } },
    upstreams: [weak, strong],
  });
});
afterAll(async () => {
  await gw?.close();
});
beforeEach(() => {
  weak.requests.length = 0;
  strong.requests.length = 0;
});

describe('an escalated cascade whose strong step is a router cache hit', () => {
  it('/v1/chat/completions: the answer reports the weak call\u2019s prompt-cache reads, as the ledger records them', async () => {
    const messages = [{ role: 'user' as const, content: QUESTION }];
    // The strong model answered this question before: its answer is in the exact cache.
    const direct = await gw.openai().chat.completions.create({ model: 'gpt-4', messages }).withResponse();
    expect(direct.response.headers.get('x-llmrr-cache')).toBe('miss');
    expect(strong.requests).toHaveLength(1);

    // Now through the cascade: the weak model is called (a miss; it read 300 tokens from its prompt cache), its
    // wrong answer escalates, and the strong step is answered from the router cache.
    weak.setScript({ text: WRONG, usage: WEAK_USAGE });
    const { data, response } = await gw.openai().chat.completions.create({ model: 'math-cascade', messages }).withResponse();
    expect(data.choices[0]!.message.content).toBe(STRONG);
    expect(response.headers.get('x-llmrr-cascade')).toBe('escalated');
    expect(weak.requests).toHaveLength(1);
    expect(strong.requests).toHaveLength(1);

    const row = await gw.ledger.get(response.headers.get('x-request-id')!);
    // The ledger: both steps' tokens, the weak call's 300 cache reads (the strong hit read none).
    expect(row).toMatchObject({ status: 'success', inputTokens: 441, cachedInputTokens: 300, cacheHit: true });
    // The answer must say the same. a38df52: `cached_tokens: 0` (answerUsage zeroes the whole sum because the
    // strong step's `cached` is 'exact').
    expect(data.usage).toMatchObject({ prompt_tokens: 441, prompt_tokens_details: { cached_tokens: row!.cachedInputTokens } });
  });

  it('/v1/chat/completions streamed: the usage chunk reports the weak call\u2019s prompt-cache reads, as the ledger records them', async () => {
    const messages = [{ role: 'user' as const, content: `${QUESTION} (stream)` }];
    await gw.openai().chat.completions.create({ model: 'gpt-4', messages });
    weak.setScript({ text: WRONG, usage: WEAK_USAGE, streamUsage: 'always' });
    const { data: stream, response } = await gw.openai().chat.completions.create({ model: 'math-cascade', messages, stream: true, stream_options: { include_usage: true } }).withResponse();
    let usage: unknown;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(weak.requests).toHaveLength(1);
    expect(strong.requests).toHaveLength(1);
    const row = await gw.ledger.get(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'success', inputTokens: 441, cachedInputTokens: 300 });
    // a38df52: `cached_tokens: 0`.
    expect(usage).toMatchObject({ prompt_tokens: 441, prompt_tokens_details: { cached_tokens: row!.cachedInputTokens } });
  });
});

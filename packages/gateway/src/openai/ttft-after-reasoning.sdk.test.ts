/**
 * The time to first token of a stream whose upstream reasons before it answers (DeepSeek-R1 on vLLM and the like
 * stream `reasoning_content` before the answer). README, "Metrics": `llm_time_to_first_token_seconds` (and the
 * ledger's `ttftMs` of a stream) runs from the request's arrival at the gateway to the first content part the
 * client's wire carries. The legacy completion (`/v1/completions`) has no field for reasoning, so its stream sends
 * none of it (as the JSON answer leaves it out): its first token is the answer's first text. A chat completion
 * streams the reasoning as `reasoning_content`: its first token is the first reasoning delta.
 * Real gateway over node:http, the official openai client, a local OpenAI-wire upstream, in-memory (SQLite) stores.
 */
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAT_DONE, chatChunk as chunk, chatUsageChunk } from '../test-support/openai-chat-sse.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let upstream: OpenAIWireServer;
let gw: SdkGateway;
beforeAll(async () => {
  upstream = await startOpenAIWireServer();
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming', 'completion'] }],
    upstreams: [upstream],
  });
  // A first call, so connection setup does not count in the measured one.
  await gw.openai().completions.create({ model: 'gpt', prompt: 'warm up' });
});
afterAll(async () => gw?.close());

/** Thinking first, then (each event `GAP_MS` after the one before) the answer. */
const GAP_MS = 400;
const SSE =
  chunk({ role: 'assistant', content: '', reasoning_content: 'Let me think about it.' }) +
  chunk({ content: 'Forty-two.' }) +
  chunk({}, 'stop') +
  chatUsageChunk({ prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 }) +
  CHAT_DONE;

async function ttftSeconds(): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  const value = (name: string) => Number(text.split('\n').find((l) => l.startsWith(`${name}{model="gpt"}`))?.split(' ').pop() ?? 0);
  return { sum: value('llm_time_to_first_token_seconds_sum'), count: value('llm_time_to_first_token_seconds_count') };
}

describe('time to first token of a stream after reasoning', () => {
  it('of /v1/completions is when the client got the first text, in the ledger and in llm_time_to_first_token_seconds', async () => {
    upstream.setScript({ rawSSE: SSE, chunkDelayMs: GAP_MS });
    const before = await ttftSeconds();
    const started = performance.now();
    const { data: stream, response } = await gw.openai().completions.create({ model: 'gpt', prompt: 'What is six times seven?', stream: true }).withResponse();
    let firstTextMs: number | undefined;
    let text = '';
    for await (const c of stream) {
      const piece = c.choices[0]?.text ?? '';
      if (piece !== '' && firstTextMs === undefined) firstTextMs = performance.now() - started;
      text += piece;
    }
    expect(text).toBe('Forty-two.');
    // The client waited at least one gap for its first text.
    expect(firstTextMs!).toBeGreaterThanOrEqual(GAP_MS - 50);
    const row = await gw.ledger.get(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'success', stream: true });
    // What was recorded is the same wait (it cannot be much shorter than the gap the client saw).
    expect(row!.ttftMs!).toBeGreaterThanOrEqual(GAP_MS - 100);
    const after = await ttftSeconds();
    expect(after.count - before.count).toBe(1);
    expect((after.sum - before.sum) * 1000).toBeGreaterThanOrEqual(GAP_MS - 100);
  });

  it('of /v1/chat/completions is when the client got the first reasoning delta', async () => {
    upstream.setScript({ rawSSE: SSE, chunkDelayMs: GAP_MS });
    const started = performance.now();
    const { data: stream, response } = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'What is six times seven?' }], stream: true }).withResponse();
    let firstReasoningMs: number | undefined;
    let text = '';
    for await (const c of stream) {
      const delta = c.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      if (delta?.reasoning_content && firstReasoningMs === undefined) firstReasoningMs = performance.now() - started;
      text += delta?.content ?? '';
    }
    expect(text).toBe('Forty-two.');
    const row = await gw.ledger.get(response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ status: 'success', stream: true });
    // The gateway's clock starts after the client's and stops before the client reads the delta: the reasoning
    // delta's time is at most what the client saw; the answer's text came a whole gap later.
    expect(firstReasoningMs).toBeDefined();
    expect(row!.ttftMs!).toBeLessThanOrEqual(firstReasoningMs!);
  });
});

/**
 * A cached Anthropic thinking + tool-use answer through `LLMRouter`: a hit (exact or semantic, in memory or in
 * the real Redis of the test setup) gives back the signed and redacted thinking blocks as `reasoningParts`,
 * streamed or not, and a streamed hit replays them as the live stream carried them. So the client's next
 * turn, which must send those blocks back, passes the local wire server's check (the real API's 400
 * "Expected `thinking` or `redacted_thinking`, but found `tool_use`" otherwise).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CachedAnswer } from '../cache/exact-cache.js';
import { RedisCacheStore } from '../cache/redis-cache-store.js';
import type { RouterConfigInput } from '../config/schema.js';
import '../engines/index.js';
import { MockEngine } from '../engines/mock/mock-engine.js';
import type { ChatMessage, GenerateRequest, StreamPart } from '../spec/index.js';
import { testServiceUrls } from '../stores/__fixtures__/store-fixtures.js';
import { startAnthropicWireServer, type AnthropicWireServer } from '../test/anthropic-wire-server.js';
import { LLMRouter } from './llm-router.js';
import { StreamAccumulator } from './stream-accumulator.js';
import type { RouterResult, RouterStreamPart } from './types.js';

const { redisUrl } = testServiceUrls();
const noRedis = redisUrl ? undefined : 'Redis (LLMRR_TEST_REDIS_URL) not available: the Redis cases are skipped';

let server: AnthropicWireServer;
const routers: LLMRouter[] = [];
const stores: RedisCacheStore<CachedAnswer>[] = [];
beforeAll(async () => {
  server = await startAnthropicWireServer({ apiKey: 'ak', checkThinkingBlocks: true });
});
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
  await Promise.all(stores.splice(0).map(async (s) => (await s.clear(), await s.close())));
  server.requests.length = 0;
});
afterAll(async () => {
  await server.close();
});

const tools = [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
const blocks = [
  { type: 'thinking' as const, thinking: 'The user wants the weather in Paris. I will call get_weather.', signature: 'sig-A' },
  { type: 'redacted_thinking' as const, data: 'ENC-1' },
  { type: 'text' as const, text: 'Let me check.' },
  { type: 'tool_use' as const, id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
];
const expectedParts = [
  { type: 'reasoning', text: 'The user wants the weather in Paris. I will call get_weather.', signature: 'sig-A' },
  { type: 'reasoning', text: '', redactedData: 'ENC-1' },
];
const ask = (q: string): GenerateRequest => ({ messages: [{ role: 'user', content: q }], tools, reasoning: { budgetTokens: 1024 } });
/** The next turn, as a client builds it: the answer (with its reasoning blocks) back, then the tool result. */
const next = (q: string, r: RouterResult, toolResult: string): GenerateRequest => {
  const assistant: ChatMessage = { role: 'assistant', content: r.text === '' ? null : r.text, toolCalls: r.toolCalls, ...(r.reasoningParts ? { reasoning: r.reasoningParts } : {}) };
  return { ...ask(q), messages: [...ask(q).messages, assistant, { role: 'tool', toolCallId: 'toolu_1', content: toolResult }] };
};

type Kind = 'exact-memory' | 'exact-redis' | 'semantic-memory' | 'semantic-redis';

function router(kind: Kind, store?: RedisCacheStore<CachedAnswer>): LLMRouter {
  const cache: RouterConfigInput['cache'] = kind.startsWith('exact')
    ? { exact: { enabled: true } }
    : {
        semantic: {
          enabled: true,
          embedder: 'emb',
          threshold: 0.9,
          ...(kind === 'semantic-redis' ? { store: { type: 'redis' as const, url: redisUrl!, prefix: `t${randomBytes(6).toString('hex')}` } } : {}),
        },
      };
  const r = new LLMRouter(
    {
      models: [
        { name: 'claude', engine: 'anthropic', model: 'claude-test', baseURL: server.url, apiKey: 'ak', capabilities: ['chat', 'streaming', 'tools', 'reasoning'] },
        { name: 'emb', engine: 'mock', capabilities: ['embeddings'] },
      ],
      routing: { strategy: 'priority', retries: { max: 0 } },
      cache,
    },
    { env: {}, engines: { emb: new MockEngine({ modelId: 'mock-embed' }) }, ...(store ? { cacheStore: store } : {}) },
  );
  routers.push(r);
  return r;
}

async function collect(stream: AsyncIterable<RouterStreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const p of stream) if (p.type !== 'route') parts.push(p);
  return parts;
}

/** The parts that carry a block's end: signatures and redacted blocks, in order. */
const closing = (parts: StreamPart[]) => parts.filter((p) => p.type === 'reasoning-delta' && (p.signature !== undefined || p.redactedData !== undefined));

function fold(parts: StreamPart[]) {
  const acc = new StreamAccumulator(() => 0);
  for (const p of parts) acc.add(p);
  return acc.result();
}

async function cachedThinkingTurn(kind: Kind): Promise<void> {
  const store = kind === 'exact-redis' ? await RedisCacheStore.connect<CachedAnswer>(redisUrl!, { keyPrefix: `t${randomBytes(6).toString('hex')}:` }) : undefined;
  if (store) stores.push(store);
  const r = router(kind, store);
  const q = `Weather in Paris? (${kind})`;
  const cached = kind.startsWith('exact') ? 'exact' : 'semantic';

  // The live (streamed) first turn: stored in the cache.
  server.enqueue({ content: blocks, chunks: 3, usage: { input_tokens: 40, output_tokens: 60 } });
  const live = r.stream(ask(q));
  const liveParts = await collect(live);
  const first = await live.result;
  expect(first.cached).toBe(false);
  expect(first.reasoningParts).toEqual(expectedParts);

  // Non-streamed hit.
  const hit = await r.generate(ask(q));
  expect(hit.cached).toBe(cached);
  expect(hit.reasoningParts).toEqual(first.reasoningParts);
  expect(hit.reasoning).toBe(first.reasoning);
  expect(hit.toolCalls).toEqual(first.toolCalls);

  // Streamed hit: the same closing parts as the live stream, folding to the same blocks.
  const s = r.stream(ask(q));
  const replayed = await collect(s);
  const streamedHit = await s.result;
  expect(streamedHit.cached).toBe(cached);
  expect(streamedHit.reasoningParts).toEqual(first.reasoningParts);
  expect(closing(replayed)).toEqual(closing(liveParts));
  expect(closing(replayed)).toEqual([
    { type: 'reasoning-delta', delta: '', signature: 'sig-A' },
    { type: 'reasoning-delta', delta: '', redactedData: 'ENC-1' },
  ]);
  const folded = fold(replayed);
  expect(folded.reasoningParts).toEqual(first.reasoningParts);
  expect(folded.reasoning).toBe(first.reasoning);
  expect(folded.text).toBe(first.text);
  expect(folded.toolCalls).toEqual(first.toolCalls);
  expect(server.requests).toHaveLength(1); // both hits came from the cache

  // The next turns, from each hit, are accepted upstream with the blocks given back unchanged.
  server.enqueue({ content: 'It is sunny, 18C.' }, { content: 'Still sunny.' });
  expect((await r.generate(next(q, hit, '18C, sunny'))).text).toBe('It is sunny, 18C.');
  const s2 = r.stream(next(q, streamedHit, '18C, sunny (again)'));
  expect(fold(await collect(s2)).text).toBe('Still sunny.');
  expect(server.requests).toHaveLength(3);
  for (const i of [1, 2]) {
    const assistant = (server.requests[i]!.body!.messages as Array<{ role: string; content: unknown }>)[1];
    expect(assistant).toEqual({ role: 'assistant', content: blocks });
  }
}

describe('LLMRouter: cached thinking blocks', () => {
  it('exact cache, memory store', () => cachedThinkingTurn('exact-memory'));
  it.skipIf(noRedis !== undefined)(noRedis ?? 'exact cache, Redis store (real Redis)', () => cachedThinkingTurn('exact-redis'));
  it('semantic cache, memory store', () => cachedThinkingTurn('semantic-memory'));
  it.skipIf(noRedis !== undefined)(noRedis ?? 'semantic cache, Redis store (real Redis)', () => cachedThinkingTurn('semantic-redis'));
});

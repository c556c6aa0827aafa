/**
 * Signed and redacted reasoning blocks (Anthropic thinking) in the exact and semantic caches: stored with the
 * answer, given back on a hit, and replayed as the parts a live stream carries (each block's deltas, then its
 * signature part, or the redacted part), so folding the replay gives the same `reasoningParts`. Entries stored
 * without them (older versions) stay valid. Against the real Redis of the test setup when it runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReasoningBlocks, StreamAccumulator } from '../router/stream-accumulator.js';
import { SemanticCache } from '../semantic-cache/semantic-cache.js';
import { BagOfWordsEmbedder } from '../semantic-cache/__fixtures__/bag-of-words-embedder.js';
import { SqliteSemanticStore } from '../semantic-cache/sqlite-semantic-store.js';
import { makeUsage, type GenerateRequest, type ReasoningPart, type StreamPart } from '../spec/index.js';
import { testServiceUrls } from '../stores/__fixtures__/store-fixtures.js';
import type { CacheStore } from './cache-store.js';
import { ExactCache, type CachedAnswer } from './exact-cache.js';
import { RedisCacheStore } from './redis-cache-store.js';
import { replayAsStream } from './replay-stream.js';

const req: GenerateRequest = { messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [{ name: 'get_weather', parameters: { type: 'object' } }], reasoning: { budgetTokens: 1024 } };
const scope = { models: ['claude'], tenant: 't1' };
const reasoningParts: ReasoningPart[] = [
  { type: 'reasoning', text: 'The user wants the weather.  I will call\nget_weather.', signature: 'sig-A' },
  { type: 'reasoning', text: '', redactedData: 'ENC-1' },
  { type: 'reasoning', text: 'Then answer.', signature: 'sig-B' },
  { type: 'reasoning', text: '', signature: 'sig-empty' },
];
const reasoning = reasoningParts.map((p) => p.text).join('');

function thinkingAnswer(over: Partial<CachedAnswer> = {}): Omit<CachedAnswer, 'createdAt'> {
  return {
    text: 'Let me check.',
    toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
    finishReason: 'tool-calls',
    usage: makeUsage(40, 60),
    deployment: 'claude',
    model: 'claude-test',
    provider: 'anthropic',
    reasoning,
    reasoningParts,
    id: 'msg_1',
    ...over,
  };
}

async function collect(it: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const out: StreamPart[] = [];
  for await (const p of it) out.push(p);
  return out;
}

/** The stream folded as the router folds a live one. */
function fold(parts: StreamPart[]) {
  const acc = new StreamAccumulator(() => 0);
  for (const p of parts) acc.add(p);
  return acc.result();
}

describe('replayAsStream with reasoning blocks', () => {
  it('replays each block as a live stream does: its deltas, then its signature part; a redacted block as one part', async () => {
    const parts = await collect(replayAsStream({ ...thinkingAnswer(), createdAt: 1 }));
    const r = parts.filter((p): p is Extract<StreamPart, { type: 'reasoning-delta' }> => p.type === 'reasoning-delta');
    // Closing and redacted parts, in order, with empty deltas (as the Anthropic stream decoder emits them).
    expect(r.filter((p) => p.signature !== undefined || p.redactedData !== undefined)).toEqual([
      { type: 'reasoning-delta', delta: '', signature: 'sig-A' },
      { type: 'reasoning-delta', delta: '', redactedData: 'ENC-1' },
      { type: 'reasoning-delta', delta: '', signature: 'sig-B' },
      { type: 'reasoning-delta', delta: '', signature: 'sig-empty' },
    ]);
    // The first block's text comes in several word deltas before its signature.
    const firstSig = r.findIndex((p) => p.signature === 'sig-A');
    expect(firstSig).toBeGreaterThan(2);
    expect(r.slice(0, firstSig).map((p) => p.delta).join('')).toBe(reasoningParts[0]!.text);
    // Reasoning comes before the text and the tool calls.
    const lastReasoning = parts.map((p) => p.type).lastIndexOf('reasoning-delta');
    expect(parts.findIndex((p) => p.type === 'text-delta')).toBeGreaterThan(lastReasoning);
    const blocks = new ReasoningBlocks();
    for (const p of r) blocks.add(p);
    expect(blocks.parts()).toEqual(reasoningParts);
    const folded = fold(parts);
    expect(folded.reasoningParts).toEqual(reasoningParts);
    expect(folded.reasoning).toBe(reasoning);
    expect(folded.text).toBe('Let me check.');
    expect(folded.toolCalls).toEqual(thinkingAnswer().toolCalls);
  });

  it('an answer without blocks (an older entry, or unsigned reasoning) replays its reasoning text as before', async () => {
    const { reasoningParts: _dropped, ...old } = thinkingAnswer();
    const parts = await collect(replayAsStream({ ...old, createdAt: 1 }));
    expect(parts.some((p) => p.type === 'reasoning-delta' && (p.signature !== undefined || p.redactedData !== undefined))).toBe(false);
    const folded = fold(parts);
    expect(folded.reasoning).toBe(reasoning);
    expect(folded.reasoningParts).toBeUndefined();
  });
});

/** The exact cache over one store: stores the blocks, gives them back, and an entry without them still serves. */
async function exactCacheKeepsBlocks(store: CacheStore<CachedAnswer>): Promise<void> {
  const cache = new ExactCache({ config: { enabled: true }, store, now: () => 5_000 });
  // A router result carries more than the answer: only the answer's fields are kept.
  expect(await cache.store(req, scope, { ...thinkingAnswer(), cost: { totalUsd: 1 }, attempts: [] } as Omit<CachedAnswer, 'createdAt'>)).toBe(true);
  const hit = await cache.lookup(req, scope);
  expect(hit).toEqual({ ...thinkingAnswer(), createdAt: 5_000 });
  expect(hit!.reasoningParts).toEqual(reasoningParts);
  expect(fold(await collect(replayAsStream(hit!))).reasoningParts).toEqual(reasoningParts);

  // An entry written before reasoningParts were kept.
  const { reasoningParts: _dropped, ...old } = thinkingAnswer();
  const oldReq: GenerateRequest = { ...req, messages: [{ role: 'user', content: 'older' }] };
  await store.set(await cache.key(oldReq, scope), { ...old, createdAt: 1 }, 60_000);
  const oldHit = await cache.lookup(oldReq, scope);
  expect(oldHit).toEqual({ ...old, createdAt: 1 });
  expect(fold(await collect(replayAsStream(oldHit!))).reasoning).toBe(reasoning);
}

describe('ExactCache keeps reasoning blocks', () => {
  it('memory store', async () => {
    await exactCacheKeepsBlocks(new ExactCache().backend);
  });

  const { redisUrl } = testServiceUrls();
  const skip = redisUrl ? undefined : 'Redis (LLMRR_TEST_REDIS_URL) not available: the Redis case is skipped';
  const opened: RedisCacheStore<CachedAnswer>[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });
  it.skipIf(skip !== undefined)(skip ?? 'Redis store (real Redis)', async () => {
    const store = await RedisCacheStore.connect<CachedAnswer>(redisUrl!, { keyPrefix: `t${randomBytes(6).toString('hex')}:` });
    opened.push(store);
    await exactCacheKeepsBlocks(store);
    await store.clear();
  });
});

describe('SemanticCache keeps reasoning blocks', () => {
  it('stores them with the answer and gives them back on a hit; an answer without them stays without', async () => {
    const cache = new SemanticCache({ config: { enabled: true, threshold: 0.8, guardAbove: 0.8 }, embedder: new BagOfWordsEmbedder(), now: () => 7_000 });
    expect(await cache.store(req, scope, thinkingAnswer())).toBe(true);
    const hit = await cache.lookup(req, scope);
    expect(hit?.answer).toEqual({ ...thinkingAnswer(), createdAt: 7_000 });
    expect(fold(await collect(replayAsStream(hit!.answer))).reasoningParts).toEqual(reasoningParts);

    const plain: GenerateRequest = { ...req, messages: [{ role: 'user', content: 'Weather in Lyon today?' }] };
    const { reasoningParts: _dropped, ...old } = thinkingAnswer();
    await cache.store(plain, scope, old);
    expect((await cache.lookup(plain, scope))?.answer).toEqual({ ...old, createdAt: 7_000 });
  });

  it('a SQLite store keeps them across a reopen (the answer is read back from its JSON column)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-cached-reasoning-'));
    try {
      const path = join(dir, 'semantic.db');
      const config = { enabled: true, threshold: 0.8, guardAbove: 0.8 };
      const first = new SemanticCache({ config, embedder: new BagOfWordsEmbedder(), store: await SqliteSemanticStore.open(path, { now: () => 7_000 }), now: () => 7_000 });
      expect(await first.store(req, scope, thinkingAnswer())).toBe(true);
      await first.close();
      const again = new SemanticCache({ config, embedder: new BagOfWordsEmbedder(), store: await SqliteSemanticStore.open(path, { now: () => 8_000 }), now: () => 8_000 });
      try {
        expect((await again.lookup(req, scope))?.answer).toEqual({ ...thinkingAnswer(), createdAt: 7_000 });
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

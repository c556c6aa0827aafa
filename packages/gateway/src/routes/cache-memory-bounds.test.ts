/**
 * What the semantic and predictive caches keep stays bounded in bytes, whatever clients send: the in-process semantic
 * store by `cache.semantic.maxSizeBytes` (least recently used out first; each entry's `user` kept as a fixed-size
 * hash), the predictive cache's sequence model by `cache.predictive.sequences.maxExemplarBytes` per tenant (the whole
 * requests it keeps to replay) with each `user` kept as a fixed-size hash. Before, 100 answers of 1 MB, 100 `user`s of
 * 1 MB or 256 requests of 400 kB each stayed on the heap (~100 MB each run). Served gateway, official `openai` client
 * and plain fetch, a local OpenAI-wire upstream for the answers and the embeddings. Heap figures are taken after
 * forced collections, against bounds far from both the fixed (~20 MB) and the unbounded (~100 MB) figures.
 */
import '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mockModel } from '../test-support/harness.js';
import { FIRST_QUESTION, FOLLOW_UP } from '../test-support/prefetch-conversations.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full collection (twice: weak references and finalizers let go on the first). */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const MB = 1_000_000;
const N = 100;

let upstream: OpenAIWireServer;

beforeAll(async () => {
  upstream = await startOpenAIWireServer({
    script: (req) => {
      const messages = (req.body as { messages?: Array<{ content: string }> }).messages;
      const q = messages?.at(-1)?.content ?? '';
      // A long answer (1 MB: a long-output model's, or a code dump) ending with the question.
      if (q.startsWith('Long:')) return { text: `${'lorem ipsum dolor sit amet '.repeat(Math.ceil(MB / 27)).slice(0, MB)} ${q}`, embeddingDimensions: 1024 };
      return { text: 'Fine.', embeddingDimensions: 1024 };
    },
  });
}, 60_000);
afterAll(() => upstream?.close());

function models(): Array<Record<string, unknown>> {
  return [
    { name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming'] },
    { name: 'emb', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'text-embedding-3-small', apiKey: 'k', capabilities: ['embeddings'] },
  ];
}

/** A short question of distinct random words: unrelated questions, all misses. */
function question(i: number): string {
  const words = Array.from({ length: 8 }, (_, k) => ((i * 7919 + k * 104729) ** 2 % 2 ** 40).toString(36));
  return `Please explain ${words.join(' ')} in detail`;
}

async function post(gw: SdkGateway, body: Record<string, unknown>): Promise<Response> {
  const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status).toBe(200);
  await r.arrayBuffer();
  // The test upstream records every request it receives: not the gateway's memory.
  upstream.requests.length = 0;
  return r;
}

describe('semantic cache (memory store)', () => {
  const BOUND = 16 * MB;
  let gw: SdkGateway;
  beforeAll(async () => {
    gw = await servedGateway({ models: models() as never, cache: { semantic: { enabled: true, embedder: 'emb', maxSizeBytes: BOUND } } });
  }, 60_000);
  afterAll(() => gw?.close());

  it('keeps at most cache.semantic.maxSizeBytes of answers: the least recently used go first', async () => {
    const client = gw.openai();
    const before = heapAfterGc();
    for (let i = 0; i < N; i++) {
      const { data, response } = await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: `Long: ${question(i)}` }] }).withResponse();
      expect(data.choices[0]!.message.content!.length).toBeGreaterThan(MB);
      expect(response.headers.get('x-llmrr-cache')).toBe('miss'); // stored (each answer fits the bound)
      upstream.requests.length = 0;
    }
    const retained = heapAfterGc() - before;
    // The newest answer is served from the cache, the oldest is gone (N MB of answers against a 16 MB bound).
    const newest = await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: `Long: ${question(N - 1)}` }] }).withResponse();
    expect(newest.response.headers.get('x-llmrr-cache')).toBe('hit-semantic');
    const oldest = await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: `Long: ${question(0)}` }] }).withResponse();
    expect(oldest.response.headers.get('x-llmrr-cache')).toBe('miss');
    upstream.requests.length = 0;
    expect(retained).toBeLessThan(BOUND + 32 * MB);
  }, 120_000);

  it("keeps each entry's `user` as a fixed-size hash: short entries with 1 MB users stay small", async () => {
    const before = heapAfterGc();
    for (let i = 0; i < N; i++) {
      const r = await post(gw, { model: 'gpt', user: `user-${i}-${'u'.repeat(MB)}`, messages: [{ role: 'user', content: `Short: ${question(i + 1000)}` }] });
      expect(r.headers.get('x-llmrr-cache')).toBe('miss');
    }
    const retained = heapAfterGc() - before;
    // Stored all the same: the same question is now a hit.
    const again = await post(gw, { model: 'gpt', messages: [{ role: 'user', content: `Short: ${question(1000 + N - 1)}` }] });
    expect(again.headers.get('x-llmrr-cache')).toBe('hit-semantic');
    // N MB of user ids sent; at most the bound could be kept whole, and nothing near it is.
    expect(retained).toBeLessThan(BOUND);
  }, 120_000);
});

describe('predictive cache (sequence model)', () => {
  let gw: SdkGateway;
  beforeAll(async () => {
    gw = await servedGateway({ models: models() as never, cache: { exact: { enabled: true }, predictive: { enabled: true, embedder: 'emb', budget: { maxCalls: 1 } } } as never });
  }, 60_000);
  afterAll(() => gw?.close());

  /** Waits until the prefetcher has learned from `n` more requests than it had at `from`. */
  async function learned(from: number, n: number): Promise<void> {
    const prefetch = gw.harness.router.prefetch!;
    await expect.poll(() => prefetch.stats('acme').observed, { timeout: 30_000 }).toBe(from + n);
  }

  it('keys each user by a fixed-size hash: 1 MB user ids are not kept', async () => {
    const from = gw.harness.router.prefetch!.stats('acme').observed;
    const before = heapAfterGc();
    for (let i = 0; i < N; i++) await post(gw, { model: 'gpt', user: `user-${i}-${'u'.repeat(MB)}`, messages: [{ role: 'user', content: 'What is the weather today?' }] });
    await learned(from, N);
    const retained = heapAfterGc() - before;
    // N MB of user ids sent, each now one sequence of the model: only their hashes stay.
    expect(retained).toBeLessThan(32 * MB);
  }, 120_000);

  /** A de Bruijn sequence of order 2 over k symbols: every ordered pair (a, b) appears once, cyclically. */
  function deBruijn(k: number): number[] {
    const a = new Array<number>(k * 2).fill(0);
    const out: number[] = [];
    const db = (t: number, p: number): void => {
      if (t > 2) {
        if (2 % p === 0) out.push(...a.slice(1, p + 1));
      } else {
        a[t] = a[t - p]!;
        db(t + 1, p);
        for (let j = a[t - p]! + 1; j < k; j++) {
          a[t] = j;
          db(t + 1, t);
        }
      }
    };
    db(1, 1);
    return out;
  }

  it("keeps a tenant's transition exemplars (whole requests) within sequences.maxExemplarBytes, 16 MB by default", async () => {
    const K = 16;
    const questions = Array.from({ length: K }, (_, i) => `Topic ${String.fromCharCode(97 + i)}: ${question(i + 5000)}?`);
    const order = deBruijn(K);
    expect(order).toHaveLength(K * K);
    const prefetch = gw.harness.router.prefetch!;
    const from = prefetch.stats('acme').observed;
    const before = heapAfterGc();
    let sent = 0;
    for (let i = 0; i < order.length; i++) {
      // Every ordered pair of the K questions once, each request with a 400 kB context of its own.
      const body = { model: 'gpt', user: 'u1', messages: [{ role: 'system', content: `Context ${i}: ${'z'.repeat(400_000)}` }, { role: 'user', content: questions[order[i]!]! }] };
      sent += JSON.stringify(body).length;
      await post(gw, body);
    }
    await learned(from, order.length);
    const retained = heapAfterGc() - before;
    expect(sent).toBeGreaterThan(100 * MB);
    const kept = prefetch.learned('acme');
    expect(kept.bytes).toBeLessThanOrEqual(16 * MB);
    expect(kept.bytes).toBeGreaterThan(12 * MB); // the newest transitions are kept (about 39 of 255), not dropped wholesale
    expect(kept.transitions).toBeLessThan(order.length / 4);
    expect(retained).toBeLessThan(16 * MB + 32 * MB);
  }, 120_000);
});

describe('predictive cache with users kept as hashes (served gateway, official openai client)', () => {
  let gw: SdkGateway;
  beforeAll(async () => {
    gw = await servedGateway({
      models: [mockModel('chat'), mockModel('emb', {}, { capabilities: ['embeddings'] })],
      cache: {
        exact: { enabled: true, ttlMs: 3_600_000 },
        semantic: { enabled: true, embedder: 'emb', threshold: 0.95, guardAbove: 0.95 },
        predictive: { enabled: true, budget: { maxCalls: 100 } },
      },
    });
  }, 60_000);
  afterAll(() => gw?.close());

  const userId = (s: string) => `${s}-${'x'.repeat(20_000)}`;

  /** Two turns of one session, each settled (learned and any prefetch done) before the next. */
  async function conversation(session: string): Promise<Response[]> {
    const client = gw.openai();
    const messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }> = [{ role: 'system', content: `Support session ${session}` }];
    const out: Response[] = [];
    for (const q of [FIRST_QUESTION, FOLLOW_UP]) {
      messages.push({ role: 'user', content: q });
      const { data, response } = await client.chat.completions.create({ model: 'chat', messages, user: userId(session) }).withResponse();
      out.push(response as unknown as Response);
      messages.push({ role: 'assistant', content: data.choices[0]!.message.content! });
      await gw.harness.router.prefetch!.settled();
    }
    return out;
  }

  it('learns a continuation from two long-id users, prefetches it for a third and serves it from the cache; erasing the users by their ids forgets it', async () => {
    const prefetch = gw.harness.router.prefetch!;
    await conversation('u1');
    await conversation('u2');
    expect(prefetch.stats('acme').calls).toBe(0);
    expect(prefetch.learned('acme').transitions).toBe(1);
    expect(prefetch.learned('acme').bytes).toBeGreaterThan(20_000); // the exemplar keeps the request whole, user id included
    const [, follow] = await conversation('u3');
    expect(prefetch.stats('acme').calls).toBe(1);
    expect(follow!.headers.get('x-llmrr-cache')).toMatch(/^hit/);
    // Erasure by the id the client sent: the model keys it by hash, and eraseUser hashes it the same way.
    for (const s of ['u1', 'u2', 'u3']) prefetch.eraseUser('acme', userId(s));
    expect(prefetch.learned('acme')).toEqual({ bytes: 0, transitions: 0 });
  }, 60_000);
});

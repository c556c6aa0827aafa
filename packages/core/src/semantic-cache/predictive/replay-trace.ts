import type { CacheScope } from '../../cache/cache-key.js';
import type { Embedder } from '../../embeddings/embedder.js';
import { makeUsage, type GenerateRequest } from '../../spec/index.js';
import { MemorySemanticStore } from '../memory-semantic-store.js';
import { embeddingInput, SemanticCache } from '../semantic-cache.js';
import { Prefetcher } from './prefetcher.js';
import { SequenceModel } from './sequence-model.js';

/** One request of a trace: when, who, what. */
export interface TraceEvent {
  at: number;
  tenant: string;
  user: string;
  question: string;
}

export interface ReplayOptions {
  trace: readonly TraceEvent[];
  embedder: Embedder;
  ttlMs: number;
  /** Prefetch budget per tenant; `undefined` replays without prefetching. */
  budget?: { maxCalls: number; windowMs: number };
  threshold?: number;
}

export interface ReplayResult {
  requests: number;
  hits: number;
  hitRate: number;
  /** Calls to the model: live misses plus prefetches. */
  modelCalls: number;
  prefetchCalls: number;
}

/**
 * Replays a trace against a semantic cache (memory store) on a simulated clock, with or without the
 * prefetcher; every miss calls a stand-in model (counted) and stores its answer.
 */
export async function replayTrace(options: ReplayOptions): Promise<ReplayResult> {
  let now = options.trace[0]?.at ?? 0;
  const clock = () => now;
  const threshold = options.threshold ?? 0.95;
  const cache = new SemanticCache({
    config: { enabled: true, threshold, guardAbove: threshold, ttlMs: options.ttlMs, maxEntries: 100_000 },
    embedder: options.embedder,
    store: new MemorySemanticStore({ maxEntries: 100_000, now: clock }),
    now: clock,
  });
  let modelCalls = 0;
  const answer = (request: GenerateRequest) => {
    modelCalls++;
    return { text: `answer to ${JSON.stringify(request.messages.at(-1)?.content)}`, toolCalls: [], finishReason: 'stop' as const, usage: makeUsage(1, 1), deployment: 'm', model: 'm', provider: 'sim' };
  };
  const prefetcher = options.budget
    ? new Prefetcher({
        model: new SequenceModel({ now: clock }),
        cache,
        generate: async (request) => answer(request),
        isIdle: () => true,
        budget: options.budget,
        now: clock,
      })
    : undefined;
  let hits = 0;
  for (const e of options.trace) {
    now = e.at;
    const request: GenerateRequest = { messages: [{ role: 'user', content: e.question }], user: e.user };
    const scope: CacheScope = { tenant: e.tenant, models: ['m'] };
    const [vector] = await options.embedder.embed([embeddingInput(e.question)]);
    if (await cache.lookup(request, scope, { embedding: vector! })) hits++;
    else await cache.store(request, scope, answer(request), { embedding: vector! });
    if (prefetcher) {
      await prefetcher.onRequest(request, scope, vector!, e.user);
      await prefetcher.idle();
    }
  }
  const prefetchCalls = prefetcher?.stats.ran ?? 0;
  return { requests: options.trace.length, hits, hitRate: options.trace.length ? hits / options.trace.length : 0, modelCalls, prefetchCalls };
}

/**
 * A synthetic trace (no real request-sequence trace is available here): users of one tenant walk a
 * Markov chain over `topics` questions (each topic's usual successor with probability `follow`, else a
 * random topic), asking each topic in one of `variants` wordings, one request every `gapMs` +- 50%.
 */
export function syntheticTrace(o: { users: number; requestsPerUser: number; topics: number; variants: number; follow: number; gapMs: number; seed?: number }): TraceEvent[] {
  let s = (o.seed ?? 1) >>> 0;
  const rand = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const events: TraceEvent[] = [];
  for (let u = 0; u < o.users; u++) {
    let t = Math.floor(rand() * o.gapMs * 3);
    let topic = Math.floor(rand() * o.topics);
    for (let i = 0; i < o.requestsPerUser; i++) {
      events.push({ at: t, tenant: 'tenant-a', user: `user-${u}`, question: `topic ${topic} wording ${Math.floor(rand() * o.variants)}` });
      topic = rand() < o.follow ? (topic * 7 + 3) % o.topics : Math.floor(rand() * o.topics);
      t += Math.round(o.gapMs * (0.5 + rand()));
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

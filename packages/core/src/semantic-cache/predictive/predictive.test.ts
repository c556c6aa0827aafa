import { describe, expect, it } from 'vitest';
import { normalize, type Embedder } from '../../embeddings/embedder.js';
import { makeUsage, type ChatMessage, type GenerateRequest, type ReasoningPart } from '../../spec/index.js';
import { canonicalJson } from '../../cache/canonical-json.js';
import { replayAsStream } from '../../cache/replay-stream.js';
import { StreamAccumulator } from '../../router/stream-accumulator.js';
import { BagOfWordsEmbedder } from '../__fixtures__/bag-of-words-embedder.js';
import { rng } from '../__fixtures__/lru-model.js';
import { SemanticCache } from '../semantic-cache.js';
import { Prefetcher } from './prefetcher.js';
import { replayTrace, syntheticTrace } from './replay-trace.js';
import { SequenceModel } from './sequence-model.js';

/** "topic N wording W" -> a vector near topic N's direction (wordings of one topic: cosine ~0.97). */
export class TopicEmbedder implements Embedder {
  readonly id = 'topic';
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((t) => {
      const [, topic, wording] = /topic (\d+) wording (\d+)/.exec(t) ?? ['', '0', '0'];
      let s = Number(topic) * 7919 + 1;
      let w = Number(wording) * 104729 + 7;
      const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
      const n = () => ((w = (Math.imul(w, 22695477) + 1) >>> 0) / 2 ** 32) * 2 - 1;
      return normalize(Float32Array.from({ length: 64 }, () => r() + 0.15 * n()));
    });
  }
}

const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }] });
const scope = { tenant: 'acme', models: ['m'] };

describe('SequenceModel', () => {
  it('clusters paraphrases together and predicts the usual next cluster with its probability', async () => {
    let t = 0;
    const model = new SequenceModel({ now: () => t, clusterThreshold: 0.9 });
    const e = new TopicEmbedder();
    const step = async (q: string) => {
      t += 1_000;
      return model.observe('k', 'u1', (await e.embed([q]))[0]!, ask(q));
    };
    const a = await step('topic 1 wording 0');
    const b = await step('topic 2 wording 0');
    expect(await step('topic 1 wording 1')).toBe(a); // another wording, same cluster
    expect(await step('topic 2 wording 2')).toBe(b);
    await step('topic 1 wording 0');
    await step('topic 3 wording 0');
    // From topic 1: -> 2 twice, -> 3 once.
    const [p] = model.predict('k', { cluster: a, minSupport: 2 });
    expect(p).toMatchObject({ cluster: b, support: 2, probability: 2 / 3, request: ask('topic 2 wording 2') });
    expect(model.predict('k', { cluster: a, minSupport: 1, limit: 5 })).toHaveLength(2);
    expect(model.predict('other')).toEqual([]);
  });

  it('learns transitions within each user sequence only, not across a session gap, and forgets (erasure)', async () => {
    let t = 0;
    const model = new SequenceModel({ now: () => t, sessionGapMs: 10_000 });
    const [v1, v2, v3] = (await new TopicEmbedder().embed(['topic 1 wording 0', 'topic 2 wording 0', 'topic 3 wording 0'])) as [Float32Array, Float32Array, Float32Array];
    const a = model.observe('acme', 'u1', v1, ask('x'));
    t += 60_000;
    model.observe('acme', 'u1', v2, ask('y'));
    expect(model.predict('acme', { cluster: a, minSupport: 1 })).toEqual([]); // gap: no transition
    t += 1_000;
    model.observe('acme', 'u1', v1, ask('x'));
    model.observe('acme', 'u2', v3, ask('z')); // u2's request does not follow u1's
    model.observe('acme', 'u1', v2, ask('y'));
    expect(model.predict('acme', { sequence: 'u2', minSupport: 1 })).toEqual([]);
    expect(model.predict('acme', { cluster: a, minSupport: 1 }).map((p) => p.request)).toEqual([ask('y')]);
    model.forgetSequence('acme', 'u1'); // clusters whose exemplar is u1's request go
    expect(model.predict('acme', { cluster: a, minSupport: 1 })).toEqual([]);
    expect(model.forget('acme')).toBe(true);
    expect(model.forget('acme')).toBe(false);
  });
});

describe('SequenceModel: bounded by bytes', () => {
  /** A request with a large context (a system prompt of `size` characters) and a short question. */
  const withContext = (q: string, size: number): GenerateRequest => ({ messages: [{ role: 'system', content: 'z'.repeat(size) }, { role: 'user', content: q }] });

  it("keeps a key's transition exemplars within maxExemplarBytes: the least recently seen transitions go, a request larger on its own is not learned", async () => {
    let t = 0;
    const model = new SequenceModel({ now: () => t, maxExemplarBytes: 25_000 });
    const e = new TopicEmbedder();
    const step = async (topic: number, size: number) => {
      t += 1_000;
      const q = `topic ${topic} wording 0`;
      return model.observe('acme', 'u1', (await e.embed([q]))[0]!, withContext(q, size));
    };
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push(await step(i, 10_000)); // 5 transitions of ~10 kB each
    const kept = model.exemplarBytes('acme');
    expect(kept.bytes).toBeLessThanOrEqual(25_000);
    expect(kept.bytes).toBeGreaterThan(20_000);
    expect(kept.transitions).toBe(2);
    // The newest transitions are kept, with their whole requests (what a prefetch replays); the oldest are gone.
    expect(model.predict('acme', { cluster: ids[4]!, minSupport: 1 }).map((p) => p.request)).toEqual([withContext('topic 5 wording 0', 10_000)]);
    expect(model.predict('acme', { cluster: ids[0]!, minSupport: 1 })).toEqual([]);
    // A request larger than the bound on its own: no transition learned, none evicted for it.
    await step(6, 30_000);
    expect(model.exemplarBytes('acme')).toEqual(kept);
    expect(model.predict('acme', { cluster: ids[5]!, minSupport: 1 })).toEqual([]);
    // Erasure gives the bytes back.
    model.forgetSequence('acme', 'u1');
    expect(model.exemplarBytes('acme')).toEqual({ bytes: 0, transitions: 0 });
    expect(model.exemplarBytes('other')).toEqual({ bytes: 0, transitions: 0 });
  });

  it('still tells a continuation of the same conversation from a new one, keeping a fixed-size fingerprint of the last request', async () => {
    let t = 0;
    const model = new SequenceModel({ now: () => t });
    const [v1, v2] = (await new TopicEmbedder().embed(['topic 1 wording 0', 'topic 2 wording 0'])) as [Float32Array, Float32Array];
    const first: GenerateRequest = { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'topic 1 wording 0' }] };
    const followUp: GenerateRequest = { messages: [...first.messages, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'topic 2 wording 0' }] };
    const other: GenerateRequest = { messages: [{ role: 'system', content: 'be long' }, { role: 'user', content: 'topic 1 wording 0' }, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'topic 2 wording 0' }] };
    const a = model.observe('acme', 'u1', v1, first);
    model.observe('acme', 'u1', v2, followUp);
    t += 1_000;
    model.observe('acme', 'u1', v1, first);
    model.observe('acme', 'u1', v2, followUp);
    expect(model.predict('acme', { cluster: a })[0]).toMatchObject({ continuation: true, support: 2 });
    model.observe('acme', 'u1', v1, first);
    model.observe('acme', 'u1', v2, other); // same length and roles, another conversation
    model.observe('acme', 'u1', v1, first);
    model.observe('acme', 'u1', v2, other);
    expect(model.predict('acme', { cluster: a })[0]).toMatchObject({ continuation: false, support: 4 });
  });

  /** A unit vector on axis i (of 16): one cluster per axis. */
  const axis = (i: number): Float32Array => {
    const v = new Float32Array(16);
    v[i % 16] = 1;
    return v;
  };

  it('stays within maxExemplarBytes under random observes, cluster evictions, session gaps and erasures; forgetting every user returns every byte', () => {
    for (const seed of [1, 2, 3]) {
      const r = rng(seed);
      let t = 0;
      const MAX = 30_000;
      const model = new SequenceModel({ now: () => t, maxClusters: 6, maxExemplarBytes: MAX, maxSequences: 4, sessionGapMs: 1_000 });
      const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
      let peak = 0;
      for (let step = 0; step < 2_000; step++) {
        const op = r();
        if (op < 0.85) {
          const k = Math.floor(r() * 10);
          const size = r() < 0.05 ? 35_000 : Math.floor(r() * 12_000);
          const req: GenerateRequest = { messages: [{ role: 'system', content: 'z'.repeat(size) }, { role: 'user', content: `topic ${k}` }], ...(r() < 0.3 ? { temperature: 0 } : {}) };
          model.observe('acme', users[Math.floor(r() * users.length)]!, axis(k), req);
        } else if (op < 0.93) model.forgetSequence('acme', users[Math.floor(r() * users.length)]!);
        else t += Math.floor(r() * 1_500);
        t += 10;
        const kept = model.exemplarBytes('acme');
        expect(kept.bytes).toBeLessThanOrEqual(MAX);
        expect(kept.bytes).toBeGreaterThanOrEqual(kept.transitions * 30); // every request's JSON is longer than 30 characters
        if (kept.transitions === 0) expect(kept.bytes).toBe(0);
        peak = Math.max(peak, kept.bytes);
      }
      expect(peak).toBeGreaterThan(MAX * 0.6); // the bound was reached (evictions by bytes happened)
      for (const u of users) model.forgetSequence('acme', u);
      expect(model.exemplarBytes('acme')).toEqual({ bytes: 0, transitions: 0 });
    }
  });

  /** Exact: b starts with every message of a (compared as canonical JSON), then an assistant message, then more. */
  function continuesExactly(a: GenerateRequest, b: GenerateRequest): boolean {
    if (b.messages.length < a.messages.length + 2) return false;
    for (let i = 0; i < a.messages.length; i++) if (canonicalJson(a.messages[i]) !== canonicalJson(b.messages[i])) return false;
    return b.messages[a.messages.length]!.role === 'assistant';
  }

  it('tells a continuation by fingerprint exactly as a comparison of the messages would, on random pairs (continuations, edited, reordered, truncated and key-reordered histories)', () => {
    const r = rng(42);
    const word = () => Math.floor(r() * 5).toString(36);
    const msg = (): ChatMessage => {
      const roll = r();
      if (roll < 0.15) return { role: 'user', content: [{ type: 'text', text: `w${word()}` }] } as ChatMessage;
      return { role: roll < 0.55 ? 'user' : roll < 0.85 ? 'assistant' : 'system', content: `w${word()}` } as ChatMessage;
    };
    let agree = 0;
    let continued = 0;
    for (let n = 0; n < 1_500; n++) {
      const a: GenerateRequest = { messages: [...Array.from({ length: 1 + Math.floor(r() * 4) }, msg), { role: 'user', content: 'topic 0' }] };
      const kind = r();
      let msgs: ChatMessage[];
      if (kind < 0.4) msgs = [...a.messages, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'topic 1' }];
      else if (kind < 0.55) msgs = [...a.messages.map((m) => (r() < 0.3 ? { ...m, content: `${String(m.content)}!` } : m)), { role: 'assistant', content: 'ok' }, { role: 'user', content: 'topic 1' }] as ChatMessage[];
      else if (kind < 0.65) msgs = [...[...a.messages].reverse(), { role: 'assistant', content: 'ok' }, { role: 'user', content: 'topic 1' }];
      else if (kind < 0.75) msgs = [...a.messages.slice(1), { role: 'assistant', content: 'ok' }, { role: 'user', content: 'x' }, { role: 'user', content: 'topic 1' }];
      else if (kind < 0.85) msgs = [...a.messages.map((m) => Object.fromEntries(Object.entries(m).reverse()) as ChatMessage), { role: 'assistant', content: 'ok' }, { role: 'user', content: 'topic 1' }];
      else msgs = [...a.messages, { role: 'user', content: 'more' }, { role: 'user', content: 'topic 1' }];
      const b: GenerateRequest = { messages: msgs };
      const model = new SequenceModel({ now: () => 0 });
      const from = model.observe('k', 's', axis(0), a);
      model.observe('k', 's', axis(1), b);
      const [p] = model.predict('k', { cluster: from, minSupport: 1 });
      expect(p).toBeDefined();
      const exact = continuesExactly(a, b);
      if (exact) continued++;
      expect(p!.continuation, JSON.stringify({ a: a.messages, b: b.messages })).toBe(exact);
      agree++;
    }
    expect(agree).toBe(1_500);
    expect(continued).toBeGreaterThan(500);
  });
});

describe('Prefetcher', () => {
  function setup(isIdle: () => boolean, maxCalls = 10, extra: { reasoning?: string; reasoningParts?: ReasoningPart[] } = {}) {
    let t = 1_000;
    const cache = new SemanticCache({ config: { enabled: true, threshold: 0.9, guardAbove: 0.9, ttlMs: 60_000 }, embedder: new BagOfWordsEmbedder(), now: () => t });
    const generated: string[] = [];
    const users: Array<string | undefined> = [];
    const prefetcher = new Prefetcher({
      model: new SequenceModel({ now: () => t }),
      cache,
      generate: async (request) => {
        generated.push(String(request.messages.at(-1)?.content));
        users.push(request.user);
        return { text: 'prefetched', toolCalls: [], finishReason: 'stop', usage: makeUsage(1, 1), deployment: 'm', model: 'm', provider: 'mock', ...extra };
      },
      isIdle,
      budget: { maxCalls, windowMs: 3_600_000 },
      predictions: { minSupport: 2, minProbability: 0.5 },
      now: () => t,
    });
    const live = async (q: string) => {
      t += 1_000;
      const request = { ...ask(q), user: 'u1' };
      const [v] = await cache.embedder.embed([q]);
      await prefetcher.onRequest(request, scope, v!);
      await prefetcher.idle();
    };
    return { cache, generated, users, prefetcher, live, advance: (ms: number) => (t += ms) };
  }

  it('pre-computes the predicted next question when its answer is not cached, and skips cached ones', async () => {
    const s = setup(() => true);
    for (let i = 0; i < 2; i++) {
      await s.live('open the account settings');
      await s.live('change the billing address');
    }
    await s.live('open the account settings'); // predicts "change the billing address": not cached (live answers are not stored here)
    expect(s.generated).toEqual(['change the billing address']);
    expect((await s.cache.lookup(ask('change the billing address'), scope))?.answer.text).toBe('prefetched');
    await s.live('open the account settings');
    expect(s.prefetcher.stats).toMatchObject({ ran: 1, stored: 1, alreadyCached: 1 });
  });

  it('stores a prefetched answer whole: its signed thinking blocks are served, and replayed, like a live answer\'s', async () => {
    const reasoningParts: ReasoningPart[] = [
      { type: 'reasoning', text: 'Billing lives under settings.', signature: 'sig-1' },
      { type: 'reasoning', text: '', redactedData: 'ENC' },
    ];
    const s = setup(() => true, 10, { reasoning: 'Billing lives under settings.', reasoningParts });
    for (let i = 0; i < 3; i++) {
      await s.live('open the account settings');
      if (i < 2) await s.live('change the billing address');
    }
    expect(s.generated).toEqual(['change the billing address']);
    const served = (await s.cache.lookup(ask('change the billing address'), scope))!.answer;
    expect(served.reasoningParts).toEqual(reasoningParts);
    const acc = new StreamAccumulator(() => 0);
    for await (const p of replayAsStream(served)) acc.add(p);
    expect(acc.result().reasoningParts).toEqual(reasoningParts);
  });

  it('waits for idle capacity, and keeps to the tenant budget', async () => {
    let idle = false;
    const s = setup(() => idle, 1);
    for (let i = 0; i < 3; i++) {
      await s.live('open the account settings');
      await s.live('change the billing address');
    }
    await s.live('open the account settings');
    expect(s.generated).toEqual([]); // busy: queued, not run
    idle = true;
    s.prefetcher.poke();
    await s.prefetcher.idle();
    expect(s.generated.length).toBe(1);
    await s.cache.clear();
    await s.live('change the billing address');
    await s.live('open the account settings');
    expect(s.generated.length).toBe(1); // budget of 1 per hour spent
    expect(s.prefetcher.stats.overBudget).toBeGreaterThan(0);
    expect(s.prefetcher.eraseTenant('acme')).toBe(true);
    const options = { model: new SequenceModel(), cache: s.cache, generate: () => Promise.reject(new Error('unused')), isIdle: () => true };
    expect(() => new Prefetcher({ ...options, budget: { maxCalls: -1, windowMs: 1 } })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'budget' }));
  });

  it('bounds its queue in bytes (maxQueueBytes) as well as in count: the oldest go, a prediction larger on its own is not queued', async () => {
    let t = 1_000;
    const cache = new SemanticCache({ config: { enabled: true, threshold: 0.9, guardAbove: 0.9, ttlMs: 60_000 }, embedder: new BagOfWordsEmbedder(), now: () => t });
    const maxQueueBytes = 100_000;
    const options = {
      model: new SequenceModel({ now: () => t }),
      cache,
      generate: () => Promise.reject(new Error('busy: never run')),
      isIdle: () => false, // nothing leaves the queue by running
      budget: { maxCalls: 10, windowMs: 3_600_000 },
      predictions: { minSupport: 2, minProbability: 0.5 },
      now: () => t,
    };
    expect(() => new Prefetcher({ ...options, maxQueueBytes: 0 })).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'maxQueueBytes' }));
    const prefetcher = new Prefetcher({ ...options, maxQueueBytes });
    // The follow-up carries a ~30 kB system prompt (UTF-8: 2 bytes a character): each predicted job holds it whole.
    const big = (q: string, size: number): GenerateRequest => ({ messages: [{ role: 'system', content: '\u00e9'.repeat(size) }, { role: 'user', content: q }] });
    const live = async (request: GenerateRequest, user: string) => {
      t += 1_000;
      const q = String(request.messages.at(-1)?.content);
      const [v] = await cache.embedder.embed([q]);
      await prefetcher.onRequest({ ...request, user }, scope, v!, user);
    };
    for (const user of ['u1', 'u2']) {
      await live(ask('open the account settings'), user);
      await live(big('change the billing address', 15_000), user);
    }
    expect(prefetcher.stats.queued).toBe(0);
    for (let i = 0; i < 8; i++) {
      await live(ask('open the account settings'), `v${i}`); // each predicts the big follow-up
      expect(prefetcher.queuedBytes).toBeLessThanOrEqual(maxQueueBytes);
    }
    // Three ~30 kB jobs fit in 100 kB (the count bound, 100, is far): the five oldest were dropped.
    expect(prefetcher.stats).toMatchObject({ queued: 8, dropped: 5 });
    expect(prefetcher.queuedBytes).toBeGreaterThan(90_000);
    // A follow-up larger than the bound on its own is never queued, and leaves the queue as it was.
    for (const user of ['w1', 'w2']) {
      await live(ask('close my account now'), user);
      await live(big('delete every file I have', 60_000), user);
    }
    const before = { bytes: prefetcher.queuedBytes, stats: prefetcher.stats };
    await live(ask('close my account now'), 'w3');
    expect(prefetcher.queuedBytes).toBe(before.bytes);
    expect(prefetcher.stats).toMatchObject({ queued: before.stats.queued, dropped: before.stats.dropped + 1 });
    // Erasure takes the tenant's jobs out of the byte count too.
    prefetcher.eraseTenant('acme');
    expect(prefetcher.queuedBytes).toBe(0);
  });

  it("a prediction learned from other users' requests is made for the user it is predicted for: run as theirs, erased with them", async () => {
    let idle = false;
    const s = setup(() => idle);
    const live = async (q: string, user: string) => {
      const request = { ...ask(q), user };
      const [v] = await s.cache.embedder.embed([q]);
      await s.prefetcher.onRequest(request, scope, v!);
    };
    for (const user of ['u1', 'u2']) {
      await live('open the account settings', user);
      await live('change the billing address', user);
    }
    // v1 and v2 ask the first question: the follow-up (learned from u2's request) is queued for each of them.
    await live('open the account settings', 'v1');
    await live('open the account settings', 'v2');
    expect(s.prefetcher.stats.queued).toBe(2);
    const bytes = s.prefetcher.queuedBytes;
    s.prefetcher.eraseUser('acme', 'u2'); // the user whose request was learned: asked for nothing queued
    expect(s.prefetcher.queuedBytes).toBe(bytes);
    s.prefetcher.eraseUser('acme', 'v1');
    expect(s.prefetcher.queuedBytes).toBe(bytes / 2);
    // v2's runs as v2's request, and its answer is v2's.
    idle = true;
    s.prefetcher.poke();
    await s.prefetcher.idle();
    expect({ generated: s.generated, users: s.users }).toEqual({ generated: ['change the billing address'], users: ['v2'] });
  });
});

describe('replayTrace (synthetic trace)', () => {
  it('prefetching raises the hit rate when answers expire before they are asked again, at a counted cost', async () => {
    const trace = syntheticTrace({ users: 20, requestsPerUser: 40, topics: 60, variants: 3, follow: 0.8, gapMs: 120_000, seed: 7 });
    const embedder = new TopicEmbedder();
    const base = await replayTrace({ trace, embedder, ttlMs: 300_000 });
    const pre = await replayTrace({ trace, embedder, ttlMs: 300_000, budget: { maxCalls: 1_000, windowMs: 3_600_000 } });
    expect(base.requests).toBe(800);
    expect(base.prefetchCalls).toBe(0);
    expect(base.modelCalls).toBe(base.requests - base.hits);
    expect(pre.hitRate).toBeGreaterThan(base.hitRate + 0.1);
    expect(pre.prefetchCalls).toBeGreaterThan(0);
    expect(pre.modelCalls).toBe(pre.requests - pre.hits + pre.prefetchCalls);
  });
});

/**
 * Predictive caching wired into a real LLMRouter. The model is the labelled MOCK engine (deterministic
 * "Mock answer to: ..." answers, words as tokens), wrapped so a test can hold chosen calls in flight;
 * embeddings come from a second mock deployment (trigram hashes), through the router's `embed` (USE lite where a test says so).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RouterConfigInput } from '../../config/schema.js';
import { USE_LITE_MAX_CHARS } from '../../embeddings/local-use-embedder.js';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import { abortError } from '../../errors/to-llm-error.js';
import type { PredictiveCacheConfigInput } from '../../semantic-cache/predictive/predictive-config.js';
import type { PrefetchedEntry } from '../../semantic-cache/predictive/prefetch-registry.js';
import { SEMANTIC_EMBED_METADATA_KEY, SEMANTIC_GUARD_METADATA_KEY } from '../../semantic-cache/semantic-cache-hook.js';
import { userKey } from '../../semantic-cache/user-key.js';
import type { CallOptions, ChatMessage, GenerateRequest, GenerateResult } from '../../spec/index.js';
import { messageText } from '../../spec/messages.js';
import { LLMRouter } from '../llm-router.js';
import type { GenerateOptions, RouterResult } from '../types.js';
import { withPrefetch, type PrefetchingRouter } from './prefetching-router.js';
import { RouterPrefetch } from './router-prefetch.js';

const Q1 = 'How do I reset my password?';
const FOLLOW = 'And how do I change the email address on my account?';
/** The prefetcher's key for calls without a tenant. */
const KEY = '';

/** The mock engine, except that calls whose last message contains `[hold]` wait until released (abortable). */
class HoldingMockEngine extends MockEngine {
  readonly held: Array<{ text: string; release: () => void }> = [];
  readonly seen: string[] = [];
  aborted = 0;

  override async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    const text = messageText(request.messages.at(-1)!);
    this.seen.push(text);
    if (text.includes('[hold]')) {
      await new Promise<void>((resolve, reject) => {
        const signal = options.signal;
        const entry = { text, release: () => (signal?.removeEventListener('abort', onAbort), resolve()) };
        const onAbort = () => {
          this.aborted++;
          const i = this.held.indexOf(entry);
          if (i >= 0) this.held.splice(i, 1);
          reject(abortError(signal!, { provider: 'mock' }));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.held.push(entry);
      });
    }
    return super.generate(request, options);
  }
}

/** Waits (bounded: ~10 s) until `cond` holds; throws otherwise. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition not reached');
}

const open: Array<PrefetchingRouter<LLMRouter>> = [];
afterEach(async () => {
  for (const p of open.splice(0)) {
    await p.close();
    await p.router.close();
  }
});

interface Setup {
  predictive?: PredictiveCacheConfigInput;
  limits?: { maxConcurrency?: number; rpm?: number };
  price?: { input: number; output: number };
  exactTtlMs?: number;
  /** `cache.exact.enabled` (default true). */
  exact?: boolean;
  /** `cache.semantic.embedder` (default: the `emb` deployment). */
  semanticEmbedder?: string;
  onUnused?: (e: PrefetchedEntry) => void;
}

function setup(o: Setup = {}) {
  let t = 1_000_000;
  const chat = new HoldingMockEngine();
  const emb = new MockEngine({ modelId: 'mock-embed' });
  const config: RouterConfigInput = {
    models: [
      { name: 'chat', engine: 'mock', capabilities: ['chat', 'streaming'], ...(o.limits ? { limits: o.limits } : {}), ...(o.price ? { price: o.price } : {}) },
      { name: 'emb', engine: 'mock', capabilities: ['embeddings'], enabled: true },
    ],
    routing: { strategy: 'priority', retries: { max: 0 } },
    cache: {
      exact: { enabled: o.exact ?? true, ttlMs: o.exactTtlMs ?? 3_600_000 },
      semantic: { enabled: true, embedder: o.semanticEmbedder ?? 'emb', threshold: 0.95, guardAbove: 0.95 },
      predictive: { enabled: true, ...o.predictive },
    },
  };
  const router = new LLMRouter(config, { engines: { chat, emb }, now: () => t, unknownTenant: 'shared' });
  // The router runs its own prefetcher (config alone); withPrefetch reuses it.
  const p = withPrefetch(router, { now: () => t });
  open.push(p);
  const prefetch = p.prefetch!;
  if (o.onUnused) prefetch.onUnused(o.onUnused);
  /** One user's conversation: a system line naming the session (so no two users share a context), then turns. */
  const conversation = (session: string) => {
    const messages: ChatMessage[] = [{ role: 'system', content: `Support session ${session}` }];
    return async (question: string, options: GenerateOptions = {}): Promise<RouterResult> => {
      t += 5_000;
      messages.push({ role: 'user', content: question });
      const r = await p.generate({ messages: [...messages], user: session }, options);
      messages.push({ role: 'assistant', content: r.text });
      await prefetch.settled();
      return r;
    };
  };
  /** Two users ask Q1 then FOLLOW: enough support (2) for the prediction Q1 -> FOLLOW. */
  const train = async (options: GenerateOptions = {}) => {
    for (const u of ['u1', 'u2']) {
      const c = conversation(`${u}@${options.tenant ?? '-'}`);
      await c(Q1, options);
      await c(FOLLOW, options);
    }
  };
  return { router, chat, prefetch, conversation, train, advance: (ms: number) => (t += ms), p };
}

describe('RouterPrefetch (mock engine)', () => {
  it('learns Q1 -> follow-up, prefetches the follow-up of a new conversation, and the live follow-up is then a cache hit', async () => {
    const s = setup();
    await s.train();
    expect(s.prefetch.stats()).toMatchObject({ observed: 4, calls: 0, predicted: 0 }); // u2's Q1: support 1 then, below minSupport
    const modelCalls = s.chat.calls;
    const u3 = s.conversation('u3');
    await u3(Q1);
    expect(s.chat.calls).toBe(modelCalls + 2); // u3's Q1, then the prefetch of its follow-up
    expect(s.chat.seen.at(-1)).toBe(FOLLOW);
    const follow = await u3(FOLLOW);
    expect(follow.cached).toBe('exact');
    expect(follow.text).toBe(`Mock answer to: ${FOLLOW}`);
    expect(s.chat.calls).toBe(modelCalls + 2);
    expect(s.prefetch.stats()).toMatchObject({ started: 1, calls: 1, stored: 1, hits: 1, used: 1, cancelled: 0, failed: 0 });
    expect(s.prefetch.stats().outputTokens).toBeGreaterThan(0);
    // The embedding calls the prefetcher made through the router never counted as live traffic.
    expect(s.prefetch.liveInFlight).toBe(0);
  });

  // The semantic cache skips a question longer than its embedder takes (local-use: 8 000 characters after NFKC: two
  // such questions that differ only after the cut get one vector); the prefetcher applies the same rule
  // (`embedderReading`): it neither learns from such a question nor predicts after it, so it never pays for an answer
  // learned from a vector that does not tell the question apart.
  it('a question longer than the semantic embedder takes is neither learned from nor prefetched', async () => {
    const s = setup({ exact: false, semanticEmbedder: 'local-use' });
    const LONG = `Here is the report: ${'The quarter went as planned across the regions. '.repeat(200)}`;
    expect(LONG.length).toBeGreaterThan(USE_LITE_MAX_CHARS);
    for (const u of ['u1', 'u2']) {
      const c = s.conversation(u);
      await c(Q1);
      await c(LONG);
    }
    const modelCalls = s.chat.calls;
    await s.conversation('u3')(Q1);
    expect(s.chat.calls).toBe(modelCalls + 1); // only u3's own question reached the model
    expect(s.prefetch.stats()).toMatchObject({ observed: 3, predicted: 0, started: 0, calls: 0, stored: 0 });
    expect(s.prefetch.learned(KEY).transitions).toBe(0);
  }, 60_000);

  // local-use (USE lite, an English vocabulary) gives every Chinese question one vector: learned from, they joined one
  // cluster, so after two users asked any Chinese question and a Chinese follow-up, any Chinese question of a third
  // user made the prefetcher pay for that follow-up (kept by the exact cache for that one conversation only).
  it('a question the semantic embedder does not cover (Chinese with local-use) is neither learned from nor followed by a prefetch', async () => {
    const s = setup({ semanticEmbedder: 'local-use' });
    for (const u of ['u1', 'u2']) {
      const c = s.conversation(u);
      await c('\u6211\u7684\u5bc6\u7801\u600e\u4e48\u91cd\u7f6e\uff1f');
      await c('\u6211\u600e\u4e48\u4fee\u6539\u8d26\u6237\u7684\u90ae\u7bb1\u5730\u5740\uff1f');
    }
    const modelCalls = s.chat.calls;
    await s.conversation('u3')('\u660e\u5929\u5317\u4eac\u7684\u5929\u6c14\u600e\u4e48\u6837\uff1f');
    expect(s.chat.calls).toBe(modelCalls + 1);
    expect(s.prefetch.stats()).toMatchObject({ observed: 0, predicted: 0, started: 0, calls: 0 });
    expect(s.prefetch.learned(KEY).transitions).toBe(0);
  }, 60_000);

  it('after a question it skips, the next one is not learned as following the one before', async () => {
    const s = setup({ semanticEmbedder: 'local-use' });
    // Q1, a Chinese question (skipped), then FOLLOW: FOLLOW did not follow Q1.
    for (const u of ['u1', 'u2']) {
      const c = s.conversation(u);
      await c(Q1);
      await c('\u4eca\u5929\u5929\u6c14\u600e\u4e48\u6837\uff1f');
      await c(FOLLOW);
    }
    expect(s.prefetch.learned(KEY).transitions).toBe(0);
    const modelCalls = s.chat.calls;
    await s.conversation('u3')(Q1);
    expect(s.chat.calls).toBe(modelCalls + 1);
    // Control: asked in a row, the same questions are learned and FOLLOW is prefetched.
    await s.train();
    expect(s.prefetch.learned(KEY).transitions).toBeGreaterThan(0);
    const before = s.chat.calls;
    await s.conversation('u4')(Q1);
    expect(s.chat.calls).toBe(before + 2);
    expect(s.chat.seen.at(-1)).toBe(FOLLOW);
  }, 60_000);

  it('a prediction the caches already answer costs no model call: the probe finds it (alreadyCached)', async () => {
    const s = setup();
    await s.train();
    await s.conversation('u3')(Q1); // prefetches u3's follow-up
    expect(s.prefetch.stats()).toMatchObject({ started: 1, calls: 1, stored: 1, alreadyCached: 0 });
    const modelCalls = s.chat.calls;
    // The same conversation again: its Q1 is an exact hit, and the predicted follow-up is cached already.
    const again = await s.conversation('u3')(Q1);
    expect(again.cached).toBe('exact');
    expect(s.chat.calls).toBe(modelCalls);
    expect(s.prefetch.stats()).toMatchObject({ started: 2, calls: 1, stored: 1, alreadyCached: 1 });
  });

  it('learns from streamed calls too', async () => {
    const s = setup();
    await s.train();
    const messages: ChatMessage[] = [{ role: 'system', content: 'Support session u4' }, { role: 'user', content: Q1 }];
    const stream = s.p.stream({ messages, user: 'u4' });
    for await (const _ of stream) void _;
    const r = await stream.result;
    await s.prefetch.settled();
    expect(s.prefetch.stats().stored).toBe(1);
    const follow = await s.p.generate({ messages: [...messages, { role: 'assistant', content: r.text }, { role: 'user', content: FOLLOW }], user: 'u4' });
    expect(follow.cached).toBe('exact');
  });

  it('idle gating: nothing is prefetched while a live call is in flight; the queued prefetch runs when it ends', async () => {
    const s = setup();
    await s.train();
    const busy = s.p.generate('[hold] a long live request', { requestId: 'live-1' });
    await until(() => s.chat.held.length > 0);
    expect(s.prefetch.liveInFlight).toBe(1);
    const before = s.chat.calls;
    await s.conversation('u3')(Q1);
    expect(s.chat.calls).toBe(before + 1); // u3's Q1 only
    expect(s.prefetch.queued).toBe(1);
    expect(s.prefetch.stats().started).toBe(0);
    expect(s.prefetch.busy()).toMatch(/1 live call\(s\) in flight/);
    s.chat.held[0]!.release();
    await busy;
    await s.prefetch.settled();
    expect(s.prefetch.stats()).toMatchObject({ started: 1, calls: 1, stored: 1 });
    expect(s.chat.seen.at(-1)).toBe(FOLLOW);
  });

  it('bounds the queue by maxQueueBytes (prefetchJobBytes): large conversations drop the oldest, the most recently queued run', async () => {
    const maxQueueBytes = 100_000;
    const s = setup({ predictive: { maxQueueBytes } });
    await s.train();
    const busy = s.p.generate('[hold] a long live request');
    await until(() => s.chat.held.length > 0);
    // Five users whose conversations carry a ~20 kB system prompt: each predicted follow-up is a ~40 kB job.
    const system = (u: string, size = 20_000) => `Support session ${u}: ${'context '.repeat(size / 8)}`;
    const ask = (u: string, question: string, messages: ChatMessage[]) => s.p.generate({ messages: [...messages, { role: 'user', content: question }], user: u });
    const users = ['v1', 'v2', 'v3', 'v4', 'v5'];
    const firsts = new Map<string, { messages: ChatMessage[]; text: string }>();
    for (const u of users) {
      const messages: ChatMessage[] = [{ role: 'system', content: system(u) }];
      const r = await ask(u, Q1, messages);
      await s.prefetch.settled();
      firsts.set(u, { messages: [...messages, { role: 'user', content: Q1 }], text: r.text });
      expect(s.prefetch.queuedBytes).toBeLessThanOrEqual(maxQueueBytes);
    }
    expect(s.prefetch.queued).toBe(2);
    expect(s.prefetch.queuedBytes).toBeGreaterThan(maxQueueBytes / 2);
    expect(s.prefetch.stats()).toMatchObject({ queued: 5, dropped: 3 });
    // A prefetch larger than the bound on its own is not queued, and drops nothing queued.
    await ask('big', Q1, [{ role: 'system', content: system('big', 60_000) }]);
    await s.prefetch.settled();
    expect(s.prefetch.queued).toBe(2);
    expect(s.prefetch.stats()).toMatchObject({ queued: 5, dropped: 4 });
    s.chat.held[0]!.release();
    await busy;
    await s.prefetch.settled();
    expect(s.prefetch.queuedBytes).toBe(0);
    expect(s.prefetch.stats()).toMatchObject({ started: 2, stored: 2 });
    // The two most recently queued were prefetched: their users' follow-ups are cache hits; the others' are not.
    const follow = async (u: string) => {
      const f = firsts.get(u)!;
      return (await ask(u, FOLLOW, [...f.messages, { role: 'assistant', content: f.text }])).cached;
    };
    expect(await follow('v5')).toBe('exact');
    expect(await follow('v4')).toBe('exact');
    expect(await follow('v1')).toBe(false);
  });

  it("a queued prediction is dropped when the same user's next request arrives first", async () => {
    const s = setup();
    await s.train();
    const busy = s.p.generate('[hold] a long live request');
    await until(() => s.chat.held.length > 0);
    const u3 = s.conversation('u3');
    await u3(Q1);
    expect(s.prefetch.queued).toBe(1);
    expect((await u3(FOLLOW)).cached).toBe(false); // asked before any idle moment: answered live
    expect(s.prefetch.queued).toBe(0);
    expect(s.prefetch.stats()).toMatchObject({ superseded: 1, started: 0 });
    s.chat.held[0]!.release();
    await busy;
    await s.prefetch.settled();
    expect(s.prefetch.stats().started).toBe(0);
  });

  it('idle gating by the deployment limits: concurrency and rpm stay below the configured fraction', async () => {
    // maxConcurrency 2 x fraction 0.5: a prefetch only when nothing is in flight on `chat`.
    const s = setup({ limits: { maxConcurrency: 2 }, predictive: { idle: { fraction: 0.5, maxLiveInFlight: 10 } } });
    await s.train();
    const busy = s.p.generate('[hold] long', { requestId: 'live-1' });
    await until(() => s.chat.held.length > 0);
    await s.conversation('u3')(Q1);
    expect(s.prefetch.busy()).toBe('chat: 1/2 in flight (prefetch up to 0.5 of it)');
    expect(s.prefetch.stats().started).toBe(0);
    s.chat.held[0]!.release();
    await busy;
    await s.prefetch.settled();
    expect(s.prefetch.stats().calls).toBe(1);

    // rpm 10 x 0.5: after 5 attempts within a minute no prefetch starts, so live calls keep their headroom.
    const r = setup({ limits: { rpm: 10 }, predictive: { idle: { fraction: 0.5 } } });
    await r.train(); // 4 attempts
    await r.conversation('u3')(Q1); // the 5th attempt
    expect(r.prefetch.busy()).toMatch(/chat: 5 requests in the last minute \(rpm 10\)/);
    expect(r.prefetch.stats()).toMatchObject({ started: 0, queued: 1 });
  });

  it('cancellation: a live call arriving while a prefetch runs aborts it; the live call is served and nothing is cached', async () => {
    const s = setup();
    const FOLLOW_SLOW = `${FOLLOW} [hold]`;
    for (const u of ['u1', 'u2']) {
      const c = s.conversation(u);
      await c(Q1);
      const pending = c(FOLLOW_SLOW);
      await until(() => s.chat.held.length > 0);
      s.chat.held.shift()!.release();
      await pending;
    }
    const u3 = s.conversation('u3');
    const first = u3(Q1); // its prefetch of FOLLOW_SLOW will be held
    await until(() => s.chat.held.length > 0);
    expect(s.prefetch.running).toBe(1);
    expect(s.chat.held.map((h) => h.text)).toEqual([FOLLOW_SLOW]); // the prefetch is at the model
    const live = await s.p.generate('an unrelated live question', { requestId: 'live-2' });
    expect(live.cached).toBe(false);
    await first;
    await s.prefetch.settled();
    expect(s.chat.aborted).toBe(1);
    expect(s.prefetch.stats()).toMatchObject({ started: 1, cancelled: 1, calls: 0, stored: 0 });
    // The follow-up was not cached by the aborted prefetch.
    const follow = u3(FOLLOW_SLOW);
    await until(() => s.chat.held.length > 0);
    s.chat.held.shift()!.release();
    expect((await follow).cached).toBe(false);
  });

  it("the semantic cache's embedding and guard calls are not live traffic: they never abort a running prefetch", async () => {
    const s = setup();
    const FOLLOW_SLOW = `${FOLLOW} [hold]`;
    for (const u of ['u1', 'u2']) {
      const c = s.conversation(u);
      await c(Q1);
      const pending = c(FOLLOW_SLOW);
      await until(() => s.chat.held.length > 0);
      s.chat.held.shift()!.release();
      await pending;
    }
    const first = s.conversation('u3')(Q1); // its prefetch of FOLLOW_SLOW will be held
    await until(() => s.chat.held.length > 0);
    // As the semantic cache embeds a question, and as a guard call is made, for the prefetch's own lookup.
    await s.router.embed('a question to embed', { model: 'emb', metadata: { [SEMANTIC_EMBED_METADATA_KEY]: true } });
    await s.router.generate('is this answer right?', { model: 'chat', cache: false, metadata: { [SEMANTIC_GUARD_METADATA_KEY]: 'prefetch_1', tenant: 'acme' } });
    expect({ aborted: s.chat.aborted, running: s.prefetch.running }).toEqual({ aborted: 0, running: 1 });
    s.chat.held.shift()!.release();
    await first;
    await s.prefetch.settled();
    expect(s.prefetch.stats()).toMatchObject({ started: 1, cancelled: 0, calls: 1 });
  });

  it('budget: calls per period, USD per period, and a tenant override', async () => {
    const byCalls = setup({ predictive: { budget: { maxCalls: 1, periodMs: 3_600_000 } } });
    await byCalls.train();
    await byCalls.conversation('u3')(Q1);
    await byCalls.conversation('u4')(Q1);
    expect(byCalls.prefetch.stats()).toMatchObject({ calls: 1, overBudget: 1 });
    expect(byCalls.prefetch.spent('').calls).toBe(1);
    byCalls.advance(3_600_000); // the window moves on
    await byCalls.conversation('u5')(Q1);
    expect(byCalls.prefetch.stats()).toMatchObject({ calls: 2, overBudget: 1 });

    // $1 per token: u3's follow-up prefetch costs ~40 USD; the next one would go past 60.
    const byUsd = setup({ price: { input: 1_000_000, output: 1_000_000 }, predictive: { budget: { maxUsd: 60 } } });
    await byUsd.train();
    await byUsd.conversation('u3')(Q1);
    const one = byUsd.prefetch.stats();
    expect(one.calls).toBe(1);
    expect(one.costUsd).toBeGreaterThan(20);
    expect(one.costUsd).toBeLessThanOrEqual(60);
    await byUsd.conversation('u4')(Q1);
    expect(byUsd.prefetch.stats()).toMatchObject({ calls: 1, overBudget: 1 });
    expect(byUsd.prefetch.spent('').usd).toBeCloseTo(one.costUsd, 9);

    const perTenant = setup({ predictive: { tenantBudgets: { beta: { maxCalls: 0 } } } });
    await perTenant.train({ tenant: 'beta' });
    await perTenant.conversation('u3@beta')(Q1, { tenant: 'beta' });
    expect(perTenant.prefetch.stats('beta')).toMatchObject({ calls: 0, overBudget: 1 });
  });

  it('tenant isolation: sequences are learned per tenant and prefetched answers are cached in their own tenant only', async () => {
    const s = setup();
    await s.train({ tenant: 'acme' });
    // globex has learned nothing: its Q1 predicts nothing.
    await s.conversation('u3')(Q1, { tenant: 'globex' });
    expect(s.prefetch.stats('globex')).toMatchObject({ observed: 1, predicted: 0, started: 0 });
    // acme's u3 gets its follow-up prefetched (same session name as globex's u3: the same conversation).
    const acme = s.conversation('u3');
    await acme(Q1, { tenant: 'acme' });
    expect(s.prefetch.stats('acme').stored).toBe(1);
    const globex = s.conversation('u3');
    await globex(Q1, { tenant: 'globex' });
    expect((await globex(FOLLOW, { tenant: 'globex' })).cached).toBe(false);
    expect((await acme(FOLLOW, { tenant: 'acme' })).cached).toBe('exact');
    expect(s.prefetch.stats('acme').hits).toBe(1);
    expect(s.prefetch.stats('globex').hits).toBe(0);
  });

  it('reports prefetched entries never used before their TTL ends, and erases a tenant', async () => {
    const unused: PrefetchedEntry[] = [];
    const s = setup({ exactTtlMs: 60_000, onUnused: (e) => unused.push(e) });
    await s.train({ tenant: 'acme' });
    await s.conversation('u3')(Q1, { tenant: 'acme' });
    expect(s.prefetch.stats('acme').stored).toBe(1);
    s.advance(25 * 3_600_000); // past the semantic TTL too (24 h: tracking follows the longest cache TTL)
    s.prefetch.sweep();
    expect(unused).toEqual([expect.objectContaining({ tenant: 'acme', question: FOLLOW, userKey: userKey('u3'), hits: 0 })]);
    expect(s.prefetch.stats('acme').unused).toBe(1);
    s.prefetch.eraseTenant('acme');
    await s.conversation('u9')(Q1, { tenant: 'acme' });
    expect(s.prefetch.stats('acme').started).toBe(1); // nothing learned any more: no new prefetch
  });

  it('withPrefetch reuses a prefetcher the router already runs (no second one, no double learning)', async () => {
    const router = new LLMRouter({ models: [{ name: 'chat', engine: 'mock' }], cache: { exact: { enabled: true }, predictive: { enabled: true } } });
    const own = new RouterPrefetch(router, { embedder: { id: 'none', embed: () => Promise.reject(new Error('not called')) } });
    Object.assign(router, { prefetch: own });
    const p = withPrefetch(router);
    expect(p.prefetch).toBe(own);
    await p.generate('hello');
    await own.settled();
    expect(own.stats().observed).toBe(0); // the router itself would call observe
    await p.close();
    await own.close();
    await router.close();
  });

  it('config: off unless enabled, refuses an unbounded budget and a router without a cache, names the field', () => {
    const base: RouterConfigInput = { models: [{ name: 'chat', engine: 'mock' }], cache: { exact: { enabled: true } } };
    expect(RouterPrefetch.fromRouter(new LLMRouter(base))).toBeUndefined();
    expect(RouterPrefetch.fromRouter(new LLMRouter({ ...base, cache: { exact: { enabled: true }, predictive: { enabled: false } } }))).toBeUndefined();
    expect(() => RouterPrefetch.fromRouter(new LLMRouter({ ...base, cache: { exact: { enabled: true }, predictive: { enabled: true, budget: { periodMs: 1000 } } } }))).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: 'cache.predictive.budget' }),
    );
    expect(() => RouterPrefetch.fromRouter(new LLMRouter({ ...base, cache: { exact: { enabled: true }, predictive: { enabled: true, idle: { fraction: 2 } } } }))).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: 'cache.predictive.idle.fraction' }),
    );
    expect(() => RouterPrefetch.fromRouter(new LLMRouter({ models: base.models, cache: { predictive: { enabled: true } } }))).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: 'cache.predictive' }),
    );
  });
});

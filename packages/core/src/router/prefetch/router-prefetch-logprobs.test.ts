/**
 * Predictive caching of conversations that ask for log probabilities, with a real LLMRouter over the labelled MOCK
 * engine (which gives each token logprob 0 when asked). The prefetched follow-up asks for them as the client's
 * follow-up does, so it lands in the same exact-cache key; a prefetch that no cache would keep (the semantic cache
 * never takes a logprobs request; the exact cache does not keep a text answer that came back without them) is not
 * counted as stored, nor started when no cache could keep it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import type { CallOptions, ChatMessage, GenerateRequest, GenerateResult } from '../../spec/index.js';
import { LLMRouter } from '../llm-router.js';
import type { RouterResult } from '../types.js';
import { mockChatAndEmbedConfig } from './prefetch-config.test-helpers.js';
import { withPrefetch, type PrefetchingRouter } from './prefetching-router.js';

const Q1 = 'How do I reset my password?';
const FOLLOW = 'And how do I change the email address on my account?';

/** The mock engine; `dropLogprobs`: answers without them even when asked (a deployment that cannot give them). */
class LogprobsMockEngine extends MockEngine {
  dropLogprobs = false;
  readonly seen: GenerateRequest[] = [];

  override async generate(request: GenerateRequest, options: CallOptions = {}): Promise<GenerateResult> {
    this.seen.push(request);
    const r = await super.generate(request, options);
    if (this.dropLogprobs) delete r.logprobs;
    return r;
  }
}

const open: Array<PrefetchingRouter<LLMRouter>> = [];
afterEach(async () => {
  for (const p of open.splice(0)) {
    await p.close();
    await p.router.close();
  }
});

function setup(o: { exact?: boolean } = {}) {
  let t = 1_000_000;
  const chat = new LogprobsMockEngine();
  const emb = new MockEngine({ modelId: 'mock-embed' });
  const config = mockChatAndEmbedConfig({ exact: { enabled: o.exact ?? true }, semantic: { guardAbove: 0.95 } });
  const router = new LLMRouter(config, { engines: { chat, emb }, now: () => t, unknownTenant: 'shared' });
  const p = withPrefetch(router, { now: () => t });
  open.push(p);
  const prefetch = p.prefetch!;
  /** One user's conversation asking for log probabilities (`logprobs`; null: not asked), turn by turn. */
  const conversation = (session: string, logprobs: GenerateRequest['logprobs'] | null = { topLogprobs: 1 }) => {
    const messages: ChatMessage[] = [{ role: 'system', content: `Support session ${session}` }];
    return async (question: string): Promise<RouterResult> => {
      t += 5_000;
      messages.push({ role: 'user', content: question });
      const r = await p.generate({ messages: [...messages], user: session, ...(logprobs ? { logprobs } : {}) });
      messages.push({ role: 'assistant', content: r.text });
      await prefetch.settled();
      return r;
    };
  };
  /** Two users ask Q1 then FOLLOW: enough support for the prediction Q1 -> FOLLOW. */
  const train = async () => {
    for (const u of ['u1', 'u2']) {
      const c = conversation(u);
      await c(Q1);
      await c(FOLLOW);
    }
  };
  return { chat, prefetch, conversation, train };
}

describe('RouterPrefetch and log probabilities', () => {
  it('the prefetched follow-up asks for them as the client does: the live follow-up is an exact hit with its logprobs', async () => {
    const s = setup();
    await s.train();
    const u3 = s.conversation('u3');
    await u3(Q1);
    expect(s.chat.seen.at(-1)).toMatchObject({ logprobs: { topLogprobs: 1 } });
    expect(s.prefetch.stats()).toMatchObject({ started: 1, calls: 1, stored: 1 });
    const calls = s.chat.calls;
    const follow = await u3(FOLLOW);
    expect(follow.cached).toBe('exact');
    expect(s.chat.calls).toBe(calls);
    expect(follow.logprobs?.map((t) => t.token).join('')).toBe(follow.text);
  });

  it('a prefetched answer that came back without them is not counted as stored (the exact cache does not keep it)', async () => {
    const s = setup();
    await s.train();
    s.chat.dropLogprobs = true;
    await s.conversation('u3')(Q1);
    expect(s.prefetch.stats()).toMatchObject({ started: 1, calls: 1, stored: 0 });
  });

  it('with only the semantic cache, no prefetch is paid for a conversation that asks for them (it would never be stored)', async () => {
    const s = setup({ exact: false });
    await s.train();
    await s.conversation('u3')(Q1);
    expect(s.prefetch.stats()).toMatchObject({ started: 0, calls: 0, stored: 0 });
    // The same conversation without logprobs is prefetched (and stored in the semantic cache).
    const plain = setup({ exact: false });
    for (const u of ['u1', 'u2']) {
      const c = plain.conversation(u, null);
      await c(Q1);
      await c(FOLLOW);
    }
    await plain.conversation('u3', null)(Q1);
    expect(plain.prefetch.stats()).toMatchObject({ started: 1, calls: 1, stored: 1 });
  });
});

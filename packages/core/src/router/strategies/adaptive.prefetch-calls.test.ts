/**
 * Prefetch calls (the router's own calls in a tenant's view, `cache.predictive`) are never rated: `adaptive` keeps no
 * pending decision for them (which would push real calls' decisions out before their feedback arrives) and learns
 * nothing from them, as for the semantic cache's guard calls.
 */
import { describe, expect, it } from 'vitest';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import { seededRandom } from '../../learning/predictors/adam.js';
import type { ChatMessage } from '../../spec/index.js';
import { LLMRouter } from '../llm-router.js';
import { withPrefetch } from '../prefetch/prefetching-router.js';
import { PREFETCH_METADATA_KEY } from '../prefetch/router-prefetch.js';
import { AdaptiveStrategy } from './adaptive.js';

const Q1 = 'How do I reset my password?';
const FOLLOW = 'And how do I change the email address on my account?';

describe('adaptive: prefetch calls', () => {
  it('a prefetch cannot be rated and takes no pending slot: the live calls before it keep theirs', async () => {
    let t = 1_000_000;
    const adaptive = new AdaptiveStrategy({ maxPending: 5 });
    const router = new LLMRouter(
      {
        models: [
          { name: 'chat', engine: 'mock', capabilities: ['chat', 'streaming'], options: { reply: 'Go to settings and follow the steps there.' } },
          { name: 'emb', engine: 'mock', capabilities: ['embeddings'] },
        ],
        routing: { strategy: 'adaptive', retries: { max: 0 }, circuitBreaker: { enabled: false } },
        cache: { exact: { enabled: true, ttlMs: 3_600_000 }, predictive: { enabled: true, budget: { maxCalls: 100, periodMs: 3_600_000 } } },
      },
      { engines: { emb: new MockEngine({ modelId: 'mock-embed' }) }, now: () => t, random: seededRandom(5), strategies: { adaptive } },
    );
    const p = withPrefetch(router, { now: () => t });
    const prefetch = p.prefetch!;
    const prefetchIds: string[] = [];
    router.on('request:end', (e) => {
      if (e.metadata?.[PREFETCH_METADATA_KEY] === true) prefetchIds.push(e.requestId);
    });
    try {
      const live: string[] = [];
      const conversation = (session: string) => {
        const messages: ChatMessage[] = [{ role: 'system', content: `Support session ${session}` }];
        return async (question: string) => {
          t += 5_000;
          messages.push({ role: 'user', content: question });
          const id = `live-${live.length + 1}`;
          const r = await p.generate({ messages: [...messages], user: session }, { requestId: id });
          live.push(id);
          messages.push({ role: 'assistant', content: r.text });
          await prefetch.settled();
          return r;
        };
      };
      for (const u of ['u1', 'u2']) {
        const c = conversation(u);
        await c(Q1);
        await c(FOLLOW);
      }
      await conversation('u3')(Q1);
      expect(prefetchIds.length).toBeGreaterThan(0);
      // 5 live calls fill maxPending 5 exactly: the first one's decision is still there only if no prefetch took a slot.
      expect(router.feedback(live[0]!, 1)).toBe(true);
      for (const id of prefetchIds) expect(router.feedback(id, 1)).toBe(false);
    } finally {
      await p.close();
      await router.close();
    }
  });
});

/**
 * A tenant's prefetch budget in USD (`cache.predictive.budget.maxUsd`) against a real provider (OpenAI wire
 * server) whose model has no known price: the router would price its calls at 0 (`estimated`), so the budget
 * cannot bound them and refuses them (counted in `overBudget`); a budget of calls only still lets them run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import type { ChatMessage } from '../../spec/index.js';
import { startOpenAIWireServer, type OpenAIWireServer } from '../../test/openai-wire-server.js';
import { LLMRouter } from '../llm-router.js';
import { withPrefetch } from './prefetching-router.js';

const Q1 = 'How do I reset my password?';
const FOLLOW = 'And how do I change the email address on my account?';

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer({ script: { text: 'Go to settings and follow the steps there.' } });
});
afterAll(async () => {
  await server.close();
});

type Budget = { maxUsd?: number; maxCalls?: number; periodMs: number };

/** Two conversations teach Q1 -> FOLLOW; six more start with Q1. Returns the prefetch stats and the provider's request count. */
async function run(budget: Budget) {
  let t = 1_000_000;
  const router = new LLMRouter(
    {
      models: [
        // A real provider deployment whose model the price table does not know (no `price` in config).
        { name: 'chat', engine: 'openai-compatible', baseURL: server.baseURL, model: 'acme-chat-large', apiKey: 'k', capabilities: ['chat', 'streaming'] },
        { name: 'emb', engine: 'mock', capabilities: ['embeddings'] },
      ],
      routing: { strategy: 'priority', retries: { max: 0 } },
      cache: {
        exact: { enabled: true, ttlMs: 3_600_000 },
        predictive: { enabled: true, budget },
      },
    },
    { engines: { emb: new MockEngine({ modelId: 'mock-embed' }) }, now: () => t },
  );
  const p = withPrefetch(router, { now: () => t });
  const prefetch = p.prefetch!;
  const before = server.requests.length;
  try {
    const conversation = (session: string) => {
      const messages: ChatMessage[] = [{ role: 'system', content: `Support session ${session}` }];
      return async (question: string) => {
        t += 5_000;
        messages.push({ role: 'user', content: question });
        const r = await p.generate({ messages: [...messages], user: session });
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
    const live = await conversation('u3')(Q1);
    // The provider's model has no known price: its cost is reported as 0, marked estimated.
    expect(live.cost).toMatchObject({ totalUsd: 0, estimated: true });
    for (const u of ['u4', 'u5', 'u6', 'u7', 'u8']) await conversation(u)(Q1);
    return { stats: prefetch.stats(), providerRequests: server.requests.length - before };
  } finally {
    await p.close();
    await router.close();
  }
}

describe('prefetch USD budget with an unpriced provider model', () => {
  it('maxUsd refuses prefetches to a model with no known price (the budget would count them as free)', async () => {
    const { stats, providerRequests } = await run({ maxUsd: 0.01, periodMs: 3_600_000 });
    expect(stats.overBudget, 'the follow-up was predicted and refused').toBeGreaterThan(0);
    expect({ started: stats.started, calls: stats.calls }).toEqual({ started: 0, calls: 0 });
    expect(providerRequests).toBe(10); // the live calls only
  });

  it('a budget of calls only lets them run (the model is still predicted and prefetched)', async () => {
    const { stats, providerRequests } = await run({ maxCalls: 100, periodMs: 3_600_000 });
    expect(stats.calls).toBeGreaterThan(0);
    expect(stats.overBudget).toBe(0);
    expect(providerRequests).toBe(10 + stats.calls);
  });
});

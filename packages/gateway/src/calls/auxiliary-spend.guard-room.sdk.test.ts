/**
 * The room admission holds for semantic guard calls is held only for calls that can make one, and a cascade's guard
 * calls are counted one by one: a request that reads no cache (`llmrr.cache: false`) or whose tenant the semantic
 * cache leaves out (`optOutTenants`) makes no lookup, so its tokens-per-minute estimate and its budget reservation
 * hold no guard call; the guard room counts the cached answer at the output bound (max_tokens capped at the
 * candidates' `maxOutputTokens`, tenancy/estimate.test.ts); each guard call's odd counts (negative, NaN) are 0 before
 * a cascade sums its two guard calls, so one does not cancel the other's tokens on the ledger row. Real peers: a
 * local OpenAI-wire upstream, the official `openai` client against a served gateway.
 */
import type { RateAcquireOptions, RateScope } from '@llmrr/core';
import { startOpenAIWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { estimateInputTokens, estimateMaxCostUsd } from '../tenancy/estimate.js';
import type { DeploymentInfo } from '@llmrr/core';

let up: OpenAIWireServer;
let gw: SdkGateway;
let client: OpenAI;

beforeAll(async () => {
  up = await startOpenAIWireServer({
    script: (r) => {
      if (r.url.endsWith('/embeddings')) return { embeddingDimensions: 16 };
      return { text: 'Mount Everest is 8,849 m tall.', usage: { prompt_tokens: 100, completion_tokens: 50 } };
    },
  });
  const wire = { engine: 'openai-compatible', baseURL: up.baseURL, apiKey: 'k' } as const;
  gw = await servedGateway({
    models: [
      { name: 'main', ...wire, model: 'gpt-test', capabilities: ['chat', 'streaming'], price: { input: 2, output: 8 } },
      { name: 'judge', ...wire, model: 'judge-test', capabilities: ['chat', 'streaming'], price: { input: 10, output: 40 } },
      { name: 'emb', ...wire, model: 'emb-test', capabilities: ['embeddings'] },
    ],
    cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'verify', guardModel: 'judge' } },
    upstreams: [up],
  });
  await gw.harness.stores!.tenants.updateTenant('acme', { limits: { tpm: 10_000_000 }, budget: { amountUsd: 100, period: 'month' } });
  client = gw.openai();
});
afterAll(async () => {
  await gw?.close();
});

/** The estimates the tokens-per-minute limiter is charged, and the budget reservations taken, at admission. */
async function estimatesOf(run: () => Promise<unknown>): Promise<{ tokens: number[]; usd: number[] }> {
  const limiter = gw.harness.stores!.rateLimiter;
  const budgets = gw.harness.stores!.budgets;
  const acquire = limiter.acquire.bind(limiter);
  const reserve = budgets.reserve.bind(budgets);
  const tokens: number[] = [];
  const usd: number[] = [];
  limiter.acquire = (scopes: RateScope[], options: RateAcquireOptions) => {
    tokens.push(options.estimatedTokens);
    return acquire(scopes, options);
  };
  budgets.reserve = (input) => {
    usd.push(input.estimateUsd);
    return reserve(input);
  };
  try {
    await run();
  } finally {
    limiter.acquire = acquire;
    budgets.reserve = reserve;
  }
  return { tokens, usd };
}

describe('no guard room for a request whose lookup is off', () => {
  it('llmrr.cache: false makes no semantic lookup, so no guard call: its tpm estimate and budget reservation are the model call\u2019s alone', async () => {
    const content = 'how tall is mount everest';
    const judgeBefore = up.requests.filter((r) => JSON.stringify(r.body ?? '').includes('judge-test')).length;
    const seen = await estimatesOf(() =>
      client.chat.completions.create({ model: 'main', max_tokens: 100, messages: [{ role: 'user', content }], llmrr: { cache: false } } as OpenAI.ChatCompletionCreateParamsNonStreaming),
    );
    // No guard call was made (nor could be: the router skips both caches).
    expect(up.requests.filter((r) => JSON.stringify(r.body ?? '').includes('judge-test')).length).toBe(judgeBefore);
    const request = { messages: [{ role: 'user' as const, content }], maxTokens: 100 };
    const input = estimateInputTokens(request);
    // Not a guard call's room too (256 + 2.5 * prompt + 2 * max_tokens + 3 tokens, at the judge's price), held out of
    // the tenant's and key's tpm and budget until the call ends although no guard call can run.
    const main = { name: 'main', price: { input: 2, output: 8 }, config: {} } as unknown as DeploymentInfo;
    expect(seen).toEqual({ tokens: [input + 100], usd: [estimateMaxCostUsd(request, [main], 4096, input)] });
  });
});

describe('no guard room for a tenant the semantic cache leaves out', () => {
  let gw2: SdkGateway;
  let up2: OpenAIWireServer;
  beforeAll(async () => {
    up2 = await startOpenAIWireServer({
      script: (r) => (r.url.endsWith('/embeddings') ? { embeddingDimensions: 16 } : { text: 'Mount Everest is 8,849 m tall.', usage: { prompt_tokens: 100, completion_tokens: 50 } }),
    });
    const wire = { engine: 'openai-compatible', baseURL: up2.baseURL, apiKey: 'k' } as const;
    gw2 = await servedGateway({
      models: [
        { name: 'main', ...wire, model: 'gpt-test', capabilities: ['chat', 'streaming'], price: { input: 2, output: 8 } },
        { name: 'judge', ...wire, model: 'judge-test', capabilities: ['chat', 'streaming'], price: { input: 10, output: 40 } },
        { name: 'emb', ...wire, model: 'emb-test', capabilities: ['embeddings'] },
      ],
      // The semantic cache (and so its guard) never runs for tenant `acme`.
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'verify', guardModel: 'judge', optOutTenants: ['acme'] } },
      upstreams: [up2],
    });
    await gw2.harness.stores!.tenants.updateTenant('acme', { limits: { tpm: 10_000_000 } });
  });
  afterAll(async () => {
    await gw2?.close();
  });

  it('an opted-out tenant\u2019s lookup is bypassed (no guard call can run): its tpm estimate holds no guard room', async () => {
    const content = 'how tall is mount everest';
    const limiter = gw2.harness.stores!.rateLimiter;
    const acquire = limiter.acquire.bind(limiter);
    const seen: number[] = [];
    limiter.acquire = (scopes: RateScope[], options: RateAcquireOptions) => {
      seen.push(options.estimatedTokens);
      return acquire(scopes, options);
    };
    try {
      const c = gw2.openai();
      // Twice: the second would match the first's answer if the tenant were not opted out.
      for (let i = 0; i < 2; i++) await c.chat.completions.create({ model: 'main', max_tokens: 100, messages: [{ role: 'user', content }] });
    } finally {
      limiter.acquire = acquire;
    }
    expect(up2.requests.filter((r) => (r.body as { model?: string } | undefined)?.model === 'judge-test')).toHaveLength(0);
    const input = estimateInputTokens({ messages: [{ role: 'user', content }], maxTokens: 100 });
    // Not a guard call's room too (501 tokens here), for a guard that cannot run for this tenant.
    expect(seen).toEqual([input + 100, input + 100]);
  });
});

describe('a cascade\u2019s guard calls are cleaned one by one', () => {
  let gw3: SdkGateway;
  let up3: OpenAIWireServer;
  beforeAll(async () => {
    up3 = await startOpenAIWireServer({
      script: (r) => {
        if (r.url.endsWith('/embeddings')) return { embeddingDimensions: 16 };
        const model = (r.body as { model?: string } | undefined)?.model;
        const text = JSON.stringify(r.body);
        // The guard model reports an odd (negative) prompt count when checking the weak step's cached answer, a
        // normal one when checking the strong step's: its calls are told apart by the cached answer in the prompt.
        if (model === 'judge-test') return { text: 'NO', usage: text.includes('Everest: 8,849 m.') ? { prompt_tokens: 450, completion_tokens: 1 } : { prompt_tokens: -1000, completion_tokens: 1 } };
        if (model === 'big-test') return { text: 'Everest: 8,849 m.', usage: { prompt_tokens: 100, completion_tokens: 20 } };
        return { text: 'Mount Everest is 8,849 m tall.', usage: { prompt_tokens: 100, completion_tokens: 50 } };
      },
    });
    const wire = { engine: 'openai-compatible', baseURL: up3.baseURL, apiKey: 'k' } as const;
    gw3 = await servedGateway({
      models: [
        { name: 'main', ...wire, model: 'gpt-test', capabilities: ['chat', 'streaming'], price: { input: 2, output: 8 } },
        { name: 'big', ...wire, model: 'big-test', capabilities: ['chat', 'streaming'], price: { input: 10, output: 30 } },
        { name: 'judge', ...wire, model: 'judge-test', capabilities: ['chat', 'streaming'], price: { input: 10, output: 40 } },
        { name: 'emb', ...wire, model: 'emb-test', capabilities: ['embeddings'] },
      ],
      routing: { cascades: [{ name: 'main-then-big', weak: 'main', strong: 'big', verifier: 'always', threshold: 0.5 }] },
      routerOptions: { env: {}, verifiers: { always: () => 1 } },
      cache: { semantic: { enabled: true, embedder: 'emb', threshold: 0.1, guardAbove: 0.999, guard: 'verify', guardModel: 'judge' } },
      upstreams: [up3],
    });
    const c = gw3.openai();
    await c.chat.completions.create({ model: 'main', max_tokens: 100, messages: [{ role: 'user', content: 'how tall is mount everest' }] });
    await c.chat.completions.create({ model: 'big', max_tokens: 100, messages: [{ role: 'user', content: 'how tall is mount everest' }] });
  });
  afterAll(async () => {
    await gw3?.close();
  });

  it('one guard call\u2019s negative prompt count is 0 on the row, and does not cancel the other guard call\u2019s 450', async () => {
    const judge = () => up3.requests.filter((r) => (r.body as { model?: string } | undefined)?.model === 'judge-test').length;
    const before = judge();
    const r = await gw3
      .openai()
      .chat.completions.create({ model: 'main-then-big', max_tokens: 100, messages: [{ role: 'user', content: 'how tall is mount everest please' }] })
      .withResponse();
    expect({ cascade: r.response.headers.get('x-llmrr-cascade'), judge: judge() - before }).toEqual({ cascade: 'escalated', judge: 2 });
    const row = await gw3.ledger.get(r.response.headers.get('x-request-id')!);
    // The steps' 100 + 100, the strong step's guard call's 450, the weak step's guard call's odd count taken as 0
    // (as `withGuardTokens` takes one guard call's, and `ledgerCounts` an answer's).
    // (Summed raw, -1000 + 450 = -550 would be clamped to 0 and the 450 lost.)
    expect({ inputTokens: row!.inputTokens, outputTokens: row!.outputTokens }).toEqual({ inputTokens: 100 + 100 + 450, outputTokens: 50 + 20 + 1 + 1 });
  });
});

/**
 * What `/metrics` says agrees with what the client and the ledger were told: an upstream refusal of the
 * gateway's key counts under the code the client got (`provider_error`) while the ledger keeps the provider's
 * reason, on chat as on embeddings; prefetch spend is in the cost and token counters as in the invoice; a
 * request refused before its tenant is known counts as `(unauthenticated)` on every counter, a label no tenant id
 * can take (a tenant called `anonymous` keeps its series to itself); a stream's time to first
 * token is measured from the request's arrival, in the histogram and in the ledger; the prompts of stream attempts
 * that failed over (billed on the request's row) count under their own deployments' `model` label, so each
 * deployment's cost and tokens add up to what its provider billed; a router cache hit (JSON or streamed) adds no
 * tokens (its answer called no provider; its row keeps the answer's tokens, marked as a hit); a cascade's weak step
 * counts under its own deployment (its failed attempts and hedge lanes under theirs, once), escalated or failed after it,
 * and a step of it answered from the router cache adds no tokens, whether the call succeeded, failed, was cut or left
 * midway, and a cached weak answer kept after the strong step failed billed counts that step's failed attempts under their
 * own deployment without taking them from the verifier's tokens (JSON, streamed, left by its client while the answer is
 * replayed); a throw while counting a recorded call (its cascade steps or failed attempts apart, or its own observation)
 * is logged, leaves its answer a 200 and the request counted; on every model
 * endpoint (JSON, streamed, left by its client, cut by its upstream) the counters, the row and the headers agree, and an
 * unknown model name is counted as `unknown`.
 * Real gateway and LLMRouter, in-memory stores (SQLite), a local server speaking the OpenAI wire format (the Anthropic
 * wire format and the official `openai` client for the failed attempts).
 */
import { MockEngine, startOpenAIWireServer, type AnthropicWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GatewayLogEntry } from '../types.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { createHarness, get, mockModel, post, type Harness } from '../test-support/harness.js';
import { metricSeries as series, metricSum as sum } from '../test-support/metrics-text.js';
import { BIG, BIG_USD, GUARD_EVERY_MATCH, guardedWireDeployments, JUDGE, JUDGE_USD, MAIN, modelOf } from '../test-support/guarded-wire-deployments.js';
import { ledgerRow } from '../test-support/ledger-wait.js';
import { mathCascade, QUESTION, WEAK_COST, WEAK_USAGE, WRONG } from '../test-support/math-cascade.js';
import { createPrefetchHarness, prefetchRows, promptOnePrefetch, supportConversations } from '../test-support/prefetch-conversations.js';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from '../test-support/served-over-wire-upstreams.js';

let h: Harness | undefined;
let upstream: OpenAIWireServer | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await upstream?.close();
  upstream = undefined;
});

describe('llm_requests_total status of an upstream credential failure', () => {
  it('is the code the client got (provider_error), on chat as on embeddings, not the client-auth "authentication"', async () => {
    upstream = await startOpenAIWireServer({ script: { error: { status: 401, message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } } });
    h = await createHarness({
      models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'revoked', price: { input: 1, output: 2 }, capabilities: ['chat', 'streaming', 'embeddings'] }],
      stores: 'memory',
      routerOptions: { env: {} },
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
    const auth = { authorization: `Bearer ${secret}` };

    const statuses = async () => {
      const text = await (await get(h!.gateway, '/metrics')).text();
      return series(text, 'llm_requests_total').filter(([l]) => l.includes('tenant="acme"')).map(([l, v]) => `${/status="([^"]*)"/.exec(l)![1]} ${v}`);
    };
    const emb = await post(h.gateway, '/v1/embeddings', { model: 'gpt', input: 'hi' }, auth);
    const embBody = (await emb.json()) as { error: { code: string } };
    expect([emb.status, embBody.error.code]).toEqual([502, 'provider_error']);
    expect(await statuses()).toEqual(['provider_error 1']);

    const chat = await post(h.gateway, '/v1/chat/completions', { model: 'gpt', messages: [{ role: 'user', content: 'hi' }] }, auth);
    const chatBody = (await chat.json()) as { error: { code: string } };
    // The client is told the gateway's upstream failed (502 provider_error), as on embeddings.
    expect([chat.status, chatBody.error.code]).toEqual([502, 'provider_error']);
    // The same upstream failure counts under the same status: the one the client saw. "authentication" is
    // what a client's own missing or bad key counts as, so an operator would look at the clients, not the
    // gateway's revoked provider key.
    expect(await statuses()).toEqual(['provider_error 2']);
    // The ledger (operators' eyes only) keeps the provider's reason, the same for both routes.
    const rows = await h.stores!.ledger.query({ tenantId: 'acme', limit: 10 });
    expect(rows.map((r) => [r.endpoint, r.status, r.errorCode]).sort()).toEqual([
      ['/v1/chat/completions', 'error', 'authentication'],
      ['/v1/embeddings', 'error', 'authentication'],
    ]);
  });
});

describe('llm_cost_usd_total and llm_tokens_total next to the ledger', () => {
  it("count a tenant's predictive-cache prefetches, which the ledger, budget and invoice bill to it", async () => {
    h = await createPrefetchHarness({ stores: 'memory' });
    const { gateway, router, stores } = h;
    await stores!.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const { secret } = await stores!.tenants.createKey('acme', { name: 'k' });
    await promptOnePrefetch(supportConversations(h, { authorization: `Bearer ${secret}` }));
    expect(router.prefetch!.stats('acme').calls).toBe(1);
    const [prefetch] = await prefetchRows(stores!, 1);
    expect(prefetch!.costUsd).toBeGreaterThan(0);
    const rows = await stores!.ledger.query({ tenantId: 'acme', limit: 1000 });

    const invoice = await stores!.ledger.invoice('acme', 0, Date.now() + 60_000);
    const text = await (await get(gateway, '/metrics')).text();
    // The dashboard's "Cost / hour by tenant" and "Cost (range)" read llm_cost_usd_total: what the tenant is billed.
    expect.soft(sum(text, 'llm_cost_usd_total', /tenant="acme"/)).toBeCloseTo(invoice.totalUsd, 9);
    expect.soft(sum(text, 'llm_tokens_total', /type="output",model="chat"/)).toBe(rows.reduce((s, r) => s + r.outputTokens, 0));
  });
});

describe('llm_cost_usd_total and llm_tokens_total without stores', () => {
  it('count the prefetches too: the clients\' answers plus what prefetching spent', async () => {
    h = await createPrefetchHarness();
    const { gateway, router } = h;
    let answeredUsd = 0;
    let answeredOutput = 0;
    await promptOnePrefetch(
      supportConversations(h, {}, (res, body) => {
        answeredUsd += Number(res.headers.get('x-llmrr-cost-usd'));
        answeredOutput += body.usage.completion_tokens;
      }),
    );
    // The store-less caller is no tenant of the router (`''`, calls without one); its metrics label is `anonymous`.
    const prefetched = router.prefetch!.stats('');
    expect(prefetched.calls).toBe(1);
    expect(prefetched.costUsd).toBeGreaterThan(0);
    const text = await (await get(gateway, '/metrics')).text();
    expect(sum(text, 'llm_cost_usd_total', /tenant="anonymous"/)).toBeCloseTo(answeredUsd + prefetched.costUsd, 6);
    expect(sum(text, 'llm_tokens_total', /type="output",model="chat"/)).toBe(answeredOutput + prefetched.outputTokens);
  });
});

describe('the tenant label of a request refused before its tenant is known', () => {
  it('is (unauthenticated) on llm_token_counts_total as on llm_requests_total', async () => {
    h = await createHarness({ models: [mockModel('chat')], stores: 'memory' });
    const bad = { authorization: 'Bearer llmrr_not-a-key' };
    expect((await post(h.gateway, '/v1/messages/count_tokens', { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, bad)).status).toBe(401);
    expect((await post(h.gateway, '/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, bad)).status).toBe(401);
    const text = await (await get(h.gateway, '/metrics')).text();
    const tenants = (name: string) => series(text, name).map(([l]) => /tenant="([^"]*)"/.exec(l)![1]);
    expect(tenants('llm_requests_total')).toEqual(['(unauthenticated)']);
    expect(tenants('llm_token_counts_total')).toEqual(['(unauthenticated)']);
  });

  it('is a label no tenant id can take: a tenant called "anonymous" does not count strangers\' 401s', async () => {
    h = await createHarness({ models: [mockModel('chat')], stores: 'memory' });
    await h.stores!.tenants.createTenant({ id: 'anonymous', name: 'A customer called Anonymous' });
    const { secret } = await h.stores!.tenants.createKey('anonymous', { name: 'k' });
    const ask = { model: 'chat', messages: [{ role: 'user', content: 'hi' }] };
    expect((await post(h.gateway, '/v1/chat/completions', ask, { authorization: `Bearer ${secret}` })).status).toBe(200);
    for (const path of ['/v1/chat/completions', '/v1/embeddings', '/v1/chat/completions']) {
      const body = path === '/v1/embeddings' ? { model: 'chat', input: 'hi' } : ask;
      expect((await post(h.gateway, path, body, { authorization: `Bearer llmrr_${'A'.repeat(43)}` })).status).toBe(401);
    }
    const text = await (await get(h.gateway, '/metrics')).text();
    expect(series(text, 'llm_requests_total').filter(([l]) => l.includes('tenant="anonymous"'))).toEqual([[expect.stringContaining('status="success"'), 1]]);
    expect(sum(text, 'llm_requests_total', /tenant="\(unauthenticated\)"/)).toBe(3);
  });
});

describe("a stream's time to first token", () => {
  it('runs from the request\'s arrival (admission included), in the histogram and the ledger, live or from the cache', async () => {
    h = await createHarness({
      models: [mockModel('chat', { reply: 'Hello there, how are you?' })],
      cache: { exact: { enabled: true, ttlMs: 60_000 } },
      stores: 'memory',
    });
    await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 100 } });
    const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
    // Admission (the rate limiter) takes 150 ms: time the client waits before the router is even asked.
    const limiter = h.stores!.rateLimiter;
    const acquire = limiter.acquire.bind(limiter);
    limiter.acquire = async (scopes, options) => {
      await new Promise((r) => setTimeout(r, 150));
      return acquire(scopes, options);
    };
    const body = { model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] };
    for (let i = 0; i < 2; i++) {
      const res = await post(h.gateway, '/v1/chat/completions', body, { authorization: `Bearer ${secret}` });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llmrr-cache')).toBe(i === 0 ? 'miss' : 'hit-exact');
      await res.text();
    }
    const rows = await h.stores!.ledger.query({ tenantId: 'acme', limit: 10 });
    expect(rows.map((r) => r.cacheHit).sort()).toEqual([false, true]);
    for (const r of rows) expect(r.ttftMs, `cache hit: ${r.cacheHit}`).toBeGreaterThanOrEqual(150);
    const text = await (await get(h.gateway, '/metrics')).text();
    expect(sum(text, 'llm_time_to_first_token_seconds_count', /model="chat"/)).toBe(2);
    // Both observations include the 150 ms admission: none falls in a bucket below 0.1 s.
    expect(sum(text, 'llm_time_to_first_token_seconds_bucket', /le="0.1",model="chat"/)).toBe(0);
  });
});

describe('the prompts of stream attempts that failed over count under their own deployment', () => {
  // An Anthropic upstream reports the prompt in its message_start: an attempt cut right after it was billed that prompt,
  // at its deployment's price, before the fallback answered. USD per 1M tokens.
  const PRICE_A = { input: 3, output: 15, cacheWrite: 3.75 };
  const PRICE_B = { input: 1, output: 5, cacheWrite: 1.25 };
  const USAGE = { input_tokens: 100, output_tokens: 30, cache_creation_input_tokens: 4000 };
  const promptUsd = (p: typeof PRICE_A) => (100 * p.input + 4000 * p.cacheWrite) / 1e6;
  let up: AnthropicWireServer;
  let gw: SdkGateway;

  beforeAll(async () => {
    ({ gw, upstreams: { anthropic: up } } = await servedOverWireUpstreams(
      (u) => [wireDeployment(u, 'claude', { price: PRICE_A }), wireDeployment(u, 'claude', { name: 'claude-b', price: PRICE_B })],
      { routing: { retries: { max: 0 }, fallbacks: { claude: ['claude-b'] }, circuitBreaker: { enabled: false } } },
    ));
  });
  afterAll(() => gw?.close());

  /** Per deployment: `llm_cost_usd_total` of tenant acme, `llm_tokens_total` input, output and cache_write. */
  type Spend = { cost: number; input: number; output: number; cacheWrite: number };
  async function perDeployment(...models: string[]): Promise<Record<string, Spend>> {
    const text = await (await get(gw.harness.gateway, '/metrics')).text();
    const of = (model: string): Spend => ({
      cost: sum(text, 'llm_cost_usd_total', new RegExp(`model="${model}",tenant="acme"`)),
      input: sum(text, 'llm_tokens_total', new RegExp(`type="input",model="${model}"`)),
      output: sum(text, 'llm_tokens_total', new RegExp(`type="output",model="${model}"`)),
      cacheWrite: sum(text, 'llm_tokens_total', new RegExp(`type="cache_write",model="${model}"`)),
    });
    return Object.fromEntries(models.map((m) => [m, of(m)]));
  }
  const delta = (a: Record<string, Spend>, b: Record<string, Spend>): Record<string, Spend> =>
    Object.fromEntries(Object.entries(b).map(([m, x]) => [m, { cost: x.cost - a[m]!.cost, input: x.input - a[m]!.input, output: x.output - a[m]!.output, cacheWrite: x.cacheWrite - a[m]!.cacheWrite }]));

  /** Streams a chat completion on `claude` with the official openai client; the request id, the text, or the error. */
  async function chatStream(): Promise<{ requestId: string; text: string; error?: unknown }> {
    const { data, response } = await gw.openai().chat.completions.create({ model: 'claude', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    let text = '';
    try {
      for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
    } catch (error) {
      return { requestId: response.headers.get('x-request-id')!, text, error };
    }
    return { requestId: response.headers.get('x-request-id')!, text };
  }

  it('claude cut after its message_start, claude-b answers: claude\u2019s prompt is under model="claude", the answer under "claude-b"; the row (claude-b\u2019s) has both', async () => {
    const before = await perDeployment('claude', 'claude-b');
    up.enqueue({ content: 'never arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    up.enqueue({ content: 'The answer', chunks: 2, usage: USAGE });
    const r = await chatStream();
    expect(r).toEqual({ requestId: expect.stringMatching(/^req_/), text: 'The answer' });
    const row = await gw.ledger.get(r.requestId);
    expect(row).toMatchObject({ status: 'success', deployment: 'claude-b', inputTokens: 2 * 4100, outputTokens: 30, cacheWriteInputTokens: 2 * 4000 });
    const answerUsd = promptUsd(PRICE_B) + (30 * PRICE_B.output) / 1e6;
    expect(row!.costUsd).toBeCloseTo(promptUsd(PRICE_A) + answerUsd, 12);
    const d = delta(before, await perDeployment('claude', 'claude-b'));
    expect(d.claude!.cost).toBeCloseTo(promptUsd(PRICE_A), 12);
    expect(d['claude-b']!.cost).toBeCloseTo(answerUsd, 12);
    expect({ claude: { ...d.claude, cost: 0 }, 'claude-b': { ...d['claude-b'], cost: 0 } }).toEqual({
      claude: { cost: 0, input: 4100, output: 0, cacheWrite: 4000 },
      'claude-b': { cost: 0, input: 4100, output: 30, cacheWrite: 4000 },
    });
    // The two labels add up to the row (the invoice).
    expect(d.claude!.cost + d['claude-b']!.cost).toBeCloseTo(row!.costUsd, 12);
  });

  it('both cut after their message_start (the stream fails): each prompt under its own deployment, once (the request\u2019s own label, also claude, adds nothing)', async () => {
    const before = await perDeployment('claude', 'claude-b');
    up.enqueue({ content: 'never arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    up.enqueue({ content: 'never arrives', chunks: 4, usage: USAGE, cutAfterEvents: 3 });
    const err = await (async () => {
      const stream = await gw.openai().chat.completions.create({ model: 'claude', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    // Both failed before the first content: the client gets the error before any stream, with the request's id.
    expect(err).toBeInstanceOf(APIError);
    const row = await gw.ledger.get((err as APIError).requestID!);
    expect(row).toMatchObject({ status: 'error', inputTokens: 2 * 4100, outputTokens: 0, cacheWriteInputTokens: 2 * 4000 });
    expect(row!.costUsd).toBeCloseTo(promptUsd(PRICE_A) + promptUsd(PRICE_B), 12);
    const d = delta(before, await perDeployment('claude', 'claude-b'));
    expect(d.claude!.cost).toBeCloseTo(promptUsd(PRICE_A), 12);
    expect(d['claude-b']!.cost).toBeCloseTo(promptUsd(PRICE_B), 12);
    expect([d.claude!.input, d.claude!.cacheWrite, d['claude-b']!.input, d['claude-b']!.cacheWrite]).toEqual([4100, 4000, 4100, 4000]);
  });
});

describe('llm_tokens_total and router cache hits', () => {
  it('a hit, JSON or streamed, adds no input/output tokens to the deployment that answered (its provider billed one call)', async () => {
    upstream = await startOpenAIWireServer({ script: { text: 'Paris.', usage: { prompt_tokens: 11, completion_tokens: 7 } } });
    const gw = await servedGateway({
      models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming'], price: { input: 1, output: 2 } }],
      cache: { exact: { enabled: true } },
      upstreams: [upstream],
    });
    try {
      const body = { model: 'gpt', messages: [{ role: 'user' as const, content: 'Capital of France?' }] };
      const { response: first } = await gw.openai().chat.completions.create(body).withResponse();
      expect(first.headers.get('x-llmrr-cache')).toBe('miss');
      const { response: hit } = await gw.openai().chat.completions.create(body).withResponse();
      expect(hit.headers.get('x-llmrr-cache')).toBe('hit-exact');
      const { data: stream, response: streamedHit } = await gw.openai().chat.completions.create({ ...body, stream: true }).withResponse();
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      expect([streamedHit.headers.get('x-llmrr-cache'), text]).toEqual(['hit-exact', 'Paris.']);
      expect(upstream.requests).toHaveLength(1);
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      const tokens = {
        input: sum(metrics, 'llm_tokens_total', /type="input",model="gpt"|model="gpt",type="input"/),
        output: sum(metrics, 'llm_tokens_total', /type="output",model="gpt"|model="gpt",type="output"/),
        cost: sum(metrics, 'llm_cost_usd_total', /model="gpt"/),
        hits: sum(metrics, 'llm_cache_hits_total', /model="gpt"/),
      };
      // The provider's bill, one call: 11 input, 7 output tokens, 0.000025 USD; the 2 hits counted apart.
      expect(tokens).toEqual({ input: 11, output: 7, cost: 0.000025, hits: 2 });
    } finally {
      await gw.close();
    }
  });
});

describe("an escalated cascade's steps", () => {
  // The strong model's answer and usage (USD per 1M tokens: weak 1 / 2, strong 10 / 30: `mathCascade`).
  const STRONG = { text: 'Janet sells 9 eggs for 9 * 2 = 18 dollars.\n#### 18', usage: { prompt_tokens: 41, completion_tokens: 25 }, streamUsage: 'always' as const };
  const STRONG_COST = (41 * 10 + 25 * 30) / 1e6;

  /** Per deployment: `llm_cost_usd_total` of tenant acme, `llm_tokens_total` input and output. */
  async function spend(gw: SdkGateway, ...models: string[]): Promise<Record<string, [number, number, number]>> {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const of = (m: string): [number, number, number] => [
      sum(text, 'llm_cost_usd_total', new RegExp(`model="${m}",tenant="acme"`)),
      sum(text, 'llm_tokens_total', new RegExp(`type="input",model="${m}"`)),
      sum(text, 'llm_tokens_total', new RegExp(`type="output",model="${m}"`)),
    ];
    return Object.fromEntries(models.map((m) => [m, of(m)]));
  }
  /** Over every label: `llm_cost_usd_total` of tenant acme, `llm_tokens_total` input and output. */
  async function totals(gw: SdkGateway): Promise<Record<string, [number, number, number]>> {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    return { all: [sum(text, 'llm_cost_usd_total', /tenant="acme"/), sum(text, 'llm_tokens_total', /type="input"/), sum(text, 'llm_tokens_total', /type="output"/)] };
  }
  const delta = (a: Record<string, [number, number, number]>, b: Record<string, [number, number, number]>) =>
    Object.fromEntries(Object.entries(b).map(([m, x]) => [m, x.map((v, i) => Math.round((v - a[m]![i]!) * 1e9) / 1e9)]));

  /** Asks `model` with the official openai client, streamed or not; the answer's request id. */
  async function ask(gw: SdkGateway, model: string, stream: boolean): Promise<string> {
    const messages = [{ role: 'user' as const, content: QUESTION }];
    if (!stream) return (await gw.openai().chat.completions.create({ model, messages }).withResponse()).response.headers.get('x-request-id')!;
    const { data, response } = await gw.openai().chat.completions.create({ model, messages, stream: true }).withResponse();
    for await (const _ of data);
    return response.headers.get('x-request-id')!;
  }

  it('the weak step counts under its own deployment, JSON and streamed: each deployment\u2019s counters add up to its provider\u2019s bill; the row has both', async () => {
    const weak = await startOpenAIWireServer({ script: { text: WRONG, usage: WEAK_USAGE, streamUsage: 'always' } });
    const strong = await startOpenAIWireServer({ script: STRONG });
    const gw = await servedGateway({ ...mathCascade(weak, strong), upstreams: [weak, strong] });
    try {
      for (const stream of [false, true]) {
        const before = await spend(gw, 'mixtral', 'gpt-4');
        const row = await ledgerRow(gw, await ask(gw, 'math-cascade', stream));
        expect(row).toMatchObject({ deployment: 'gpt-4', inputTokens: 81, outputTokens: 45 });
        expect(row.costUsd).toBeCloseTo(WEAK_COST + STRONG_COST, 12);
        expect(delta(before, await spend(gw, 'mixtral', 'gpt-4')), `stream ${stream}`).toEqual({ mixtral: [WEAK_COST, 40, 20], 'gpt-4': [STRONG_COST, 41, 25] });
      }
    } finally {
      await gw.close();
    }
  });

  it('a weak step answered from the router cache adds none of its answer\u2019s tokens (no provider was called for it), JSON and streamed', async () => {
    const weak = await startOpenAIWireServer({ script: { text: WRONG, usage: WEAK_USAGE, streamUsage: 'always' } });
    const strong = await startOpenAIWireServer({ script: STRONG });
    const c = mathCascade(weak, strong);
    // Three cascades over one weak model: the first call caches its weak answer, the other two read it.
    const gw = await servedGateway({
      models: [...c.models, { ...c.models[1]!, name: 'gpt-4b' }, { ...c.models[1]!, name: 'gpt-4c' }],
      routing: { cascades: [...c.routing.cascades!, { name: 'cascade-b', weak: 'mixtral', strong: 'gpt-4b', verifier: 'arithmetic' }, { name: 'cascade-c', weak: 'mixtral', strong: 'gpt-4c', verifier: 'arithmetic' }] },
      cache: { exact: { enabled: true } },
      upstreams: [weak, strong],
    });
    try {
      await ask(gw, 'math-cascade', false);
      for (const [model, strongName, stream] of [['cascade-b', 'gpt-4b', false], ['cascade-c', 'gpt-4c', true]] as const) {
        const before = await spend(gw, 'mixtral', strongName);
        const row = await ledgerRow(gw, await ask(gw, model, stream));
        // The row keeps the cached weak answer's tokens (as a hit's row does), at no cost for them.
        expect(row).toMatchObject({ deployment: strongName, inputTokens: 81, outputTokens: 45 });
        expect(row.costUsd).toBeCloseTo(STRONG_COST, 12);
        expect(delta(before, await spend(gw, 'mixtral', strongName)), `stream ${stream}`).toEqual({ mixtral: [0, 0, 0], [strongName]: [STRONG_COST, 41, 25] });
      }
      expect(weak.requests).toHaveLength(1);
      expect(strong.requests).toHaveLength(3);
    } finally {
      await gw.close();
    }
  });

  it('a weak step answered from the router cache adds none of its answer\u2019s tokens when the strong step fails (JSON), is cut by its upstream or left by its client midway (streamed)', async () => {
    const weak = await startOpenAIWireServer({ script: { text: WRONG, usage: WEAK_USAGE, streamUsage: 'always' } });
    const strong = await startOpenAIWireServer({ script: STRONG });
    const c = mathCascade(weak, strong);
    // One weak model (cached by the first call), a strong deployment per case (so no strong answer is a cache hit).
    const extra = ['b', 'c', 'd'];
    const gw = await servedGateway({
      models: [...c.models, ...extra.map((x) => ({ ...c.models[1]!, name: `gpt-4${x}` }))],
      routing: { retries: { max: 0 }, circuitBreaker: { enabled: false }, cascades: [...c.routing.cascades!, ...extra.map((x) => ({ name: `cascade-${x}`, weak: 'mixtral', strong: `gpt-4${x}`, verifier: 'arithmetic' }))] },
      cache: { exact: { enabled: true } },
      upstreams: [weak, strong],
    });
    try {
      await ask(gw, 'math-cascade', false);
      expect(weak.requests).toHaveLength(1);

      // JSON, the strong step fails: the row keeps the cached weak answer's tokens (as a hit's row does), at no cost.
      strong.setScript({ error: { status: 500, message: 'upstream broke' } });
      let before = await spend(gw, 'mixtral', 'cascade-b', 'gpt-4b');
      let totalsBefore = await totals(gw);
      const e = await gw
        .openai()
        .chat.completions.create({ model: 'cascade-b', messages: [{ role: 'user', content: QUESTION }] })
        .then(
          () => undefined,
          (x: unknown) => x,
        );
      expect(e).toBeInstanceOf(APIError);
      const failed = await ledgerRow(gw, (e as APIError).requestID!);
      expect(failed).toMatchObject({ status: 'error', inputTokens: WEAK_USAGE.prompt_tokens, outputTokens: WEAK_USAGE.completion_tokens, costUsd: 0 });
      // No provider was called for those tokens: no counter has them.
      expect(delta(before, await spend(gw, 'mixtral', 'cascade-b', 'gpt-4b'))).toEqual({ mixtral: [0, 0, 0], 'cascade-b': [0, 0, 0], 'gpt-4b': [0, 0, 0] });
      expect(delta(totalsBefore, await totals(gw))).toEqual({ all: [0, 0, 0] });

      for (const mode of ['cut', 'cancel'] as const) {
        const model = mode === 'cut' ? 'cascade-c' : 'cascade-d';
        const strongName = mode === 'cut' ? 'gpt-4c' : 'gpt-4d';
        strong.setScript({ ...STRONG, chunks: 8, ...(mode === 'cut' ? { cutAfterChunks: 3 } : { chunkDelayMs: 100 }) });
        before = await spend(gw, 'mixtral', strongName);
        totalsBefore = await totals(gw);
        const ac = new AbortController();
        const { data, response } = await gw
          .openai()
          .chat.completions.create({ model, messages: [{ role: 'user', content: QUESTION }], stream: true }, { signal: ac.signal })
          .withResponse();
        try {
          for await (const chunk of data) {
            if (mode === 'cancel' && chunk.choices[0]?.delta.content) {
              ac.abort();
              break;
            }
          }
        } catch {
          // the cut's error frame
        }
        const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
        expect(row.status, mode).toBe(mode === 'cut' ? 'error' : 'aborted');
        expect(row.inputTokens, mode).toBeGreaterThan(WEAK_USAGE.prompt_tokens);
        // The row keeps the cached weak answer's 40 / 20 tokens; the counters hold the strong step's alone, under its deployment.
        const strongPart = [row.costUsd, row.inputTokens - WEAK_USAGE.prompt_tokens, row.outputTokens - WEAK_USAGE.completion_tokens].map((v) => Math.round(v * 1e9) / 1e9);
        expect(delta(before, await spend(gw, 'mixtral', strongName)), mode).toEqual({ mixtral: [0, 0, 0], [strongName]: strongPart });
        expect(delta(totalsBefore, await totals(gw)), mode).toEqual({ all: strongPart });
      }
      expect(weak.requests).toHaveLength(1);
    } finally {
      await gw.close();
    }
  });

  it('a live weak step counts under its own deployment when the strong step then fails: JSON (the rest under the requested model) and cut midway (the rest under the strong deployment)', async () => {
    const weak = await startOpenAIWireServer({ script: { text: WRONG, usage: WEAK_USAGE, streamUsage: 'always' } });
    const strong = await startOpenAIWireServer({ script: { error: { status: 500, message: 'upstream broke' } } });
    const c = mathCascade(weak, strong);
    const gw = await servedGateway({ ...c, routing: { ...c.routing, retries: { max: 0 }, circuitBreaker: { enabled: false } }, upstreams: [weak, strong] });
    try {
      let before = await spend(gw, 'mixtral', 'math-cascade', 'gpt-4');
      const e = await gw
        .openai()
        .chat.completions.create({ model: 'math-cascade', messages: [{ role: 'user', content: QUESTION }] })
        .then(
          () => undefined,
          (x: unknown) => x,
        );
      expect(e).toBeInstanceOf(APIError);
      const failed = await ledgerRow(gw, (e as APIError).requestID!);
      expect(failed).toMatchObject({ status: 'error', inputTokens: 40, outputTokens: 20 });
      expect(failed.costUsd).toBeCloseTo(WEAK_COST, 12);
      expect(delta(before, await spend(gw, 'mixtral', 'math-cascade', 'gpt-4'))).toEqual({ mixtral: [WEAK_COST, 40, 20], 'math-cascade': [0, 0, 0], 'gpt-4': [0, 0, 0] });

      strong.setScript({ ...STRONG, chunks: 8, cutAfterChunks: 3 });
      before = await spend(gw, 'mixtral', 'gpt-4');
      const totalsBefore = await totals(gw);
      const { data, response } = await gw.openai().chat.completions.create({ model: 'math-cascade', messages: [{ role: 'user', content: QUESTION }], stream: true }).withResponse();
      await expect(
        (async () => {
          for await (const _ of data);
        })(),
      ).rejects.toThrow();
      const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
      expect(row).toMatchObject({ status: 'error', deployment: 'gpt-4' });
      const strongPart = [row.costUsd - WEAK_COST, row.inputTokens - 40, row.outputTokens - 20].map((v) => Math.round(v * 1e9) / 1e9);
      expect(strongPart[1]).toBeGreaterThan(0);
      expect(delta(before, await spend(gw, 'mixtral', 'gpt-4'))).toEqual({ mixtral: [WEAK_COST, 40, 20], 'gpt-4': strongPart });
      expect(delta(totalsBefore, await totals(gw))).toEqual({ all: [Math.round(row.costUsd * 1e9) / 1e9, row.inputTokens, row.outputTokens] });
    } finally {
      await gw.close();
    }
  });

  it('a live weak step counts under its own deployment when the client leaves the strong step\u2019s replay from the router cache midway (the hit adds nothing)', async () => {
    // A long strong answer: its replay from the cache is still going when the client leaves after its first words.
    const long = { ...STRONG, text: `${'Janet sells her eggs at the market every day. '.repeat(40)}#### 18` };
    const weak = await startOpenAIWireServer({ script: { text: WRONG, usage: WEAK_USAGE, streamUsage: 'always' } });
    const strong = await startOpenAIWireServer({ script: long });
    const c = mathCascade(weak, strong);
    // Two cascades over one strong model: the first call caches its answer, the second (its own weak model) reads it.
    const gw = await servedGateway({
      models: [...c.models, { ...c.models[0]!, name: 'mixtral-b' }],
      routing: { cascades: [...c.routing.cascades!, { name: 'cascade-b', weak: 'mixtral-b', strong: 'gpt-4', verifier: 'arithmetic' }] },
      cache: { exact: { enabled: true } },
      upstreams: [weak, strong],
    });
    try {
      await ask(gw, 'math-cascade', false);
      const before = await spend(gw, 'mixtral-b', 'gpt-4');
      const totalsBefore = await totals(gw);
      // In process (the reply's frames are pulled as the body is read): the client leaves after the first words.
      const res = await post(gw.harness.gateway, '/v1/chat/completions', { model: 'cascade-b', messages: [{ role: 'user', content: QUESTION }], stream: true }, { authorization: `Bearer ${gw.secret}` });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!/"content":"Janet /.test(text)) {
        const r = await reader.read();
        if (r.done) throw new Error(`the stream ended before its first words: ${text}`);
        text += decoder.decode(r.value, { stream: true });
      }
      await reader.cancel();
      const row = await ledgerRow(gw, res.headers.get('x-request-id')!);
      expect(row).toMatchObject({ status: 'aborted', deployment: 'gpt-4' });
      expect(row.inputTokens).toBeGreaterThan(40);
      expect(row.costUsd).toBeCloseTo(WEAK_COST, 12);
      expect(delta(before, await spend(gw, 'mixtral-b', 'gpt-4'))).toEqual({ 'mixtral-b': [WEAK_COST, 40, 20], 'gpt-4': [0, 0, 0] });
      expect(delta(totalsBefore, await totals(gw))).toEqual({ all: [WEAK_COST, 40, 20] });
      expect(strong.requests).toHaveLength(1);
      expect(weak.requests).toHaveLength(2);
    } finally {
      await gw.close();
    }
  });

  it('a weak step whose attempt failed billed (a Gemini failed tool call) before its fallback answered: the attempt under its deployment once, not in the strong step\u2019s (JSON and streamed)', async () => {
    // Gemini bills the prompt of a MALFORMED_FUNCTION_CALL answer: 1000 tokens at $1 per 1M.
    const ATTEMPT_USD = 1000 / 1e6;
    const WEAK_ANSWER_USD = (10 + 10) / 1e6;
    // The strong step: 1000 / 500 tokens at 10 / 30 per 1M.
    const STRONG_USD = (1000 * 10 + 500 * 30) / 1e6;
    const { upstreams: up, gw } = await servedOverWireUpstreams(
      (u) => [
        wireDeployment(u, 'gem', { price: { input: 1, output: 1 } }),
        wireDeployment(u, 'gem', { name: 'gem-b', price: { input: 1, output: 1 } }),
        wireDeployment(u, 'gpt', { price: { input: 10, output: 30 } }),
      ],
      {
        routing: { strategy: 'priority', retries: { max: 0 }, fallbacks: { gem: ['gem-b'] }, cascades: [{ name: 'gem-first', weak: 'gem', strong: 'gpt', verifier: 'escalate', threshold: 0.5 }] },
        routerOptions: { env: {}, verifiers: { escalate: () => 1 } },
      },
    );
    try {
      for (const stream of [false, true]) {
        up.gemini.enqueue({ parts: [], finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: 'Malformed function call', usage: { promptTokenCount: 1000, candidatesTokenCount: 0 } });
        up.gemini.enqueue({ parts: '2 + 2 = 5', usage: { promptTokenCount: 10, candidatesTokenCount: 10 } });
        up.openai.setScript({ text: '2 + 2 = 4', usage: { prompt_tokens: 1000, completion_tokens: 500 }, streamUsage: 'always' });
        const before = await spend(gw, 'gem', 'gem-b', 'gpt');
        const totalsBefore = await totals(gw);
        const { data, response } = await gw.openai().chat.completions.create({ model: 'gem-first', messages: [{ role: 'user', content: `2 + 2? ${stream}` }], stream }).withResponse();
        if (Symbol.asyncIterator in data) for await (const _ of data);
        const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
        expect(row).toMatchObject({ status: 'success', deployment: 'gpt', inputTokens: 2010, outputTokens: 510 });
        expect(row.costUsd).toBeCloseTo(ATTEMPT_USD + WEAK_ANSWER_USD + STRONG_USD, 12);
        expect(delta(before, await spend(gw, 'gem', 'gem-b', 'gpt')), `stream ${stream}`).toEqual({ gem: [ATTEMPT_USD, 1000, 0], 'gem-b': [WEAK_ANSWER_USD, 10, 10], gpt: [STRONG_USD, 1000, 500] });
        expect(delta(totalsBefore, await totals(gw))).toEqual({ all: [Math.round(row.costUsd * 1e9) / 1e9, 2010, 510] });
      }
    } finally {
      await gw.close();
    }
  });

  describe('a cached weak answer kept after the strong step failed billed', () => {
    // The strong step: Gemini bills the prompt of a MALFORMED_FUNCTION_CALL answer, 1000 tokens at $10 per 1M.
    const ATTEMPT_USD = (1000 * 10) / 1e6;
    // The verifier's judgement: 7 / 3 tokens it reports, at 0.0001 USD (counted under the deployment that answered, gpt).
    const VERIFIER = { usage: { inputTokens: 7, outputTokens: 3, totalTokens: 10 }, cost: { inputUsd: 0.00007, outputUsd: 0.00003, totalUsd: 0.0001, estimated: false } };
    const messages = [{ role: 'user' as const, content: '2 + 2?' }];

    /**
     * A cascade `keep-weak` (weak gpt, strong gem) whose verifier escalates, its weak answer (`text`, 10 / 10 tokens) in
     * the router cache, and gem's next answer a billed failure (1000 / 0).
     */
    async function keptWeak(onStrongFailure: 'weak' | 'error', text: string) {
      const served = await servedOverWireUpstreams(
        (u) => [wireDeployment(u, 'gpt', { price: { input: 1, output: 2 } }), wireDeployment(u, 'gem', { price: { input: 10, output: 30 } })],
        {
          routing: { strategy: 'priority', retries: { max: 0 }, circuitBreaker: { enabled: false }, cascades: [{ name: 'keep-weak', weak: 'gpt', strong: 'gem', verifier: 'escalate', threshold: 0.5, onStrongFailure }] },
          routerOptions: { env: {}, verifiers: { escalate: () => ({ score: 1, ...VERIFIER }) } },
          cache: { exact: { enabled: true } },
        },
      );
      const { upstreams: up, gw } = served;
      try {
        up.openai.setScript({ text, usage: { prompt_tokens: 10, completion_tokens: 10 } });
        // The weak model's answer, cached: the cascade's weak step reads it.
        await gw.openai().chat.completions.create({ model: 'gpt', messages });
        up.gemini.enqueue({ parts: [], finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: 'Malformed function call', usage: { promptTokenCount: 1000, candidatesTokenCount: 0 } });
      } catch (e) {
        await gw.close();
        throw e;
      }
      return served;
    }

    it('onStrongFailure: weak, JSON: the failed attempt under its own deployment, the verifier\u2019s tokens kept', async () => {
      const { gw } = await keptWeak('weak', '2 + 2 = 5');
      try {
        const before = await spend(gw, 'gpt', 'gem');
        const totalsBefore = await totals(gw);
        const { data, response } = await gw.openai().chat.completions.create({ model: 'keep-weak', messages }).withResponse();
        expect([data.choices[0]?.message.content, response.headers.get('x-llmrr-cache')]).toEqual(['2 + 2 = 5', 'hit-exact']);
        const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
        // The row: the cached answer's 10 / 10 (as a hit's row keeps them), the verifier's 7 / 3, the failed attempt's 1000 / 0.
        expect(row).toMatchObject({ status: 'success', deployment: 'gpt', inputTokens: 1017, outputTokens: 13 });
        expect(row.costUsd).toBeCloseTo(ATTEMPT_USD + VERIFIER.cost.totalUsd, 12);
        // Each deployment's counters: gem its billed attempt, gpt the verifier's judgement (no provider was called for the cached answer).
        expect(delta(before, await spend(gw, 'gpt', 'gem'))).toEqual({ gpt: [VERIFIER.cost.totalUsd, 7, 3], gem: [ATTEMPT_USD, 1000, 0] });
        expect(delta(totalsBefore, await totals(gw))).toEqual({ all: [Math.round(row.costUsd * 1e9) / 1e9, 1007, 3] });
      } finally {
        await gw.close();
      }
    });

    it('onStrongFailure: weak, streamed to its end: the failed attempt under its own deployment, the verifier under the one that answered', async () => {
      const { gw } = await keptWeak('weak', '2 + 2 = 5');
      try {
        const before = await spend(gw, 'gpt', 'gem');
        const { data, response } = await gw.openai().chat.completions.create({ model: 'keep-weak', messages, stream: true }).withResponse();
        let text = '';
        for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? '';
        expect(text).toBe('2 + 2 = 5');
        const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
        expect(row).toMatchObject({ status: 'success', inputTokens: 1017, outputTokens: 13 });
        expect(delta(before, await spend(gw, 'gpt', 'gem'))).toEqual({ gpt: [VERIFIER.cost.totalUsd, 7, 3], gem: [ATTEMPT_USD, 1000, 0] });
      } finally {
        await gw.close();
      }
    });

    it('onStrongFailure: weak, streamed and left by its client while the kept answer is replayed: the failed attempt under its own deployment, the verifier under the one that answered, as the row bills them', async () => {
      // A long weak answer: its replay is still going when the client leaves after its first words.
      const { gw } = await keptWeak('weak', `${'Two and two make five, said the weak model. '.repeat(40)}#### 5`);
      try {
        const before = await spend(gw, 'gpt', 'gem');
        // In process (the reply's frames are pulled as the body is read): the client leaves after the first words.
        const res = await post(gw.harness.gateway, '/v1/chat/completions', { model: 'keep-weak', messages, stream: true }, { authorization: `Bearer ${gw.secret}` });
        const reader = res.body!.getReader();
        const decoder = new TextDecoder();
        let text = '';
        while (!/"content":"Two /.test(text)) {
          const r = await reader.read();
          if (r.done) throw new Error(`the stream ended before its first words: ${text}`);
          text += decoder.decode(r.value, { stream: true });
        }
        await reader.cancel();
        const row = await ledgerRow(gw, res.headers.get('x-request-id')!);
        // The row: the cached answer's 10 / 10, the verifier's 7 / 3, the failed attempt's 1000 / 0.
        expect(row).toMatchObject({ status: 'aborted', inputTokens: 1017, outputTokens: 13 });
        expect(row.costUsd).toBeCloseTo(ATTEMPT_USD + VERIFIER.cost.totalUsd, 12);
        expect(delta(before, await spend(gw, 'gpt', 'gem'))).toEqual({ gpt: [VERIFIER.cost.totalUsd, 7, 3], gem: [ATTEMPT_USD, 1000, 0] });
      } finally {
        await gw.close();
      }
    });

    it.each([false, true])('onStrongFailure: error (stream %s): the failed attempt under its own deployment, the verifier\u2019s tokens counted once, as the row bills them', async (stream) => {
      const { gw } = await keptWeak('error', '2 + 2 = 5');
      try {
        const before = await spend(gw, 'gpt', 'gem', 'keep-weak');
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'keep-weak', messages, stream }),
        });
        await res.text();
        const row = await ledgerRow(gw, res.headers.get('x-request-id')!);
        expect(row).toMatchObject({ status: 'error', inputTokens: 1017, outputTokens: 13 });
        expect(row.costUsd).toBeCloseTo(ATTEMPT_USD + VERIFIER.cost.totalUsd, 12);
        const d = delta(before, await spend(gw, 'gpt', 'gem', 'keep-weak'));
        // A failed call: the verifier's judgement under the requested model (no answer to put it under; a kept weak answer
        // puts it under the deployment that answered, above), none under gpt, and gem's attempt in full under gem.
        const round = (v: number[] | undefined) => v?.map((x) => Math.round(x * 1e9) / 1e9);
        expect([round(d.gem), round(d.gpt), round(d['keep-weak'])]).toEqual([
          [ATTEMPT_USD, 1000, 0],
          [0, 0, 0],
          [VERIFIER.cost.totalUsd, 7, 3],
        ]);
      } finally {
        await gw.close();
      }
    });
  });

  it('a hedged weak step whose other lane answered with the winner (billed): each lane under its own deployment, the strong step keeps its own', async () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    let bStarted = 0;
    /** A mock engine answering `usage` once the shared gate opens (both lanes in the same turn). */
    const gated = (inputTokens: number, outputTokens: number, onStart = () => {}) => {
      const e = new MockEngine();
      e.generate = (async (_r, options) => {
        onStart();
        await new Promise<void>((resolve, reject) => {
          options?.signal?.addEventListener('abort', () => reject(options.signal!.reason as Error), { once: true });
          void opened.then(resolve);
        });
        return { text: '2+2=5', toolCalls: [], finishReason: 'stop', usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens } };
      }) as MockEngine['generate'];
      return e;
    };
    const strongEngine = new MockEngine();
    strongEngine.generate = (async () => ({ text: '4', toolCalls: [], finishReason: 'stop', usage: { inputTokens: 100, outputTokens: 100, totalTokens: 200 } })) as MockEngine['generate'];
    const gw = await servedGateway({
      models: [
        { name: 'wa', alias: 'weak', engine: 'mock', priority: 1, price: { input: 1, output: 1 }, capabilities: ['chat'] },
        { name: 'wb', alias: 'weak', engine: 'mock', priority: 2, price: { input: 2, output: 2 }, capabilities: ['chat'] },
        { name: 'strong', engine: 'mock', priority: 3, price: { input: 10, output: 10 }, capabilities: ['chat'] },
      ],
      routing: { strategy: 'priority', retries: { max: 0 }, hedging: { enabled: true, delayMs: 10, maxHedges: 1 }, cascades: [{ name: 'duo', weak: 'weak', strong: 'strong', verifier: 'always', threshold: 0.5 }] },
      routerOptions: { env: {}, engines: { wa: gated(10, 5), wb: gated(10, 7, () => bStarted++), strong: strongEngine }, verifiers: { always: () => ({ score: 1 }) } },
    });
    try {
      const pending = gw.openai().chat.completions.create({ model: 'duo', messages: [{ role: 'user', content: '2+2?' }] }).withResponse();
      await vi.waitFor(() => expect(bStarted).toBe(1), { timeout: 10_000 });
      open();
      const { response } = await pending;
      const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
      // wa 15 tokens at $1/M, wb's answer 17 at $2/M (in the same turn as the winner's: billed), strong 200 at $10/M.
      expect(row).toMatchObject({ status: 'success', deployment: 'strong', inputTokens: 120, outputTokens: 112 });
      expect(row.costUsd).toBeCloseTo((15 + 34 + 2000) / 1e6, 12);
      expect(delta({ wa: [0, 0, 0], wb: [0, 0, 0], strong: [0, 0, 0] }, await spend(gw, 'wa', 'wb', 'strong'))).toEqual({ wa: [15 / 1e6, 10, 5], wb: [34 / 1e6, 10, 7], strong: [2000 / 1e6, 100, 100] });
    } finally {
      await gw.close();
    }
  });

  it('a weak step that was a semantic hit its guard call paid for: the guard under the weak deployment, nothing of the cached answer (strong live JSON and streamed, strong a hit too)', async () => {
    const YES = 'how tall is mount everest exactly';
    const up = await startOpenAIWireServer({
      script: (r) => {
        if (r.url.endsWith('/embeddings')) return { embeddingDimensions: 16 };
        const model = modelOf(r);
        if (model === 'judge-test') return { text: JSON.stringify(r.body).includes(`New question: ${YES}\\n`) ? 'YES' : 'NO', usage: JUDGE.usage };
        if (model === 'big-test') return { text: 'Everest: 8,849 m.', usage: BIG.usage, streamUsage: 'always' };
        return { text: 'Mount Everest is 8,849 m tall.', usage: MAIN.usage, streamUsage: 'always' };
      },
    });
    const models = guardedWireDeployments(up);
    const gw = await servedGateway({
      models: [...models, { ...models[1]!, name: 'big2' }],
      routing: {
        cascades: [
          { name: 'c1', weak: 'main', strong: 'big', verifier: 'always', threshold: 0.5 },
          { name: 'c2', weak: 'main', strong: 'big2', verifier: 'always', threshold: 0.5 },
        ],
      },
      routerOptions: { env: {}, verifiers: { always: () => 1 } },
      cache: GUARD_EVERY_MATCH,
      upstreams: [up],
    });
    try {
      await gw.openai().chat.completions.create({ model: 'main', max_tokens: 100, messages: [{ role: 'user', content: 'how tall is mount everest' }] });
      for (const [model, strongName, stream, strongCached] of [['c1', 'big', false, false], ['c2', 'big2', true, false], ['c1', 'big', false, true]] as const) {
        const before = await spend(gw, 'main', strongName, 'judge');
        const totalsBefore = await totals(gw);
        const { data, response } = await gw.openai().chat.completions.create({ model, max_tokens: 100, messages: [{ role: 'user', content: YES }], stream }).withResponse();
        if (Symbol.asyncIterator in data) for await (const _ of data);
        const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
        expect(row).toMatchObject({ status: 'success', deployment: strongName, inputTokens: MAIN.usage.prompt_tokens + BIG.usage.prompt_tokens + JUDGE.usage.prompt_tokens });
        expect(row.costUsd).toBeCloseTo(JUDGE_USD + (strongCached ? 0 : BIG_USD), 12);
        const strongPart = strongCached ? [0, 0, 0] : [BIG_USD, BIG.usage.prompt_tokens, BIG.usage.completion_tokens];
        expect(delta(before, await spend(gw, 'main', strongName, 'judge')), `${model} ${stream}`).toEqual({ main: [JUDGE_USD, JUDGE.usage.prompt_tokens, JUDGE.usage.completion_tokens], [strongName]: strongPart, judge: [0, 0, 0] });
        expect(delta(totalsBefore, await totals(gw))).toEqual({ all: [Math.round(row.costUsd * 1e9) / 1e9, JUDGE.usage.prompt_tokens + strongPart[1]!, JUDGE.usage.completion_tokens + strongPart[2]!] });
      }
    } finally {
      await gw.close();
    }
  });
});

describe('a throw while counting a recorded call (fault injection: prom-client throws on a negative inc)', () => {
  it('is logged: the recorded, paid answer stays a 200 (no retry asked), is still in llm_requests_total, and llm_requests_in_flight returns to 0', async () => {
    const weak = await startOpenAIWireServer({ script: { text: WRONG, usage: WEAK_USAGE } });
    const strong = await startOpenAIWireServer({ script: { text: 'Janet sells 9 eggs for 9 * 2 = 18 dollars.\n#### 18', usage: { prompt_tokens: 41, completion_tokens: 25 } } });
    const logged: GatewayLogEntry[] = [];
    const gw = await servedGateway({ ...mathCascade(weak, strong), upstreams: [weak, strong], gateway: { log: (entry) => void logged.push(entry) } });
    // The weak step's spend, counted apart under its own deployment, throws.
    const real = GatewayMetrics.prototype.observeSpend;
    const observeSpend = vi.spyOn(GatewayMetrics.prototype, 'observeSpend').mockImplementation(function (this: GatewayMetrics, o) {
      if (o.model === 'mixtral') throw new Error('Counter: It is not possible to decrease a counter');
      real.call(this, o);
    });
    try {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'math-cascade', messages: [{ role: 'user', content: QUESTION }] }),
      });
      const body = await res.text();
      const row = await ledgerRow(gw, res.headers.get('x-request-id')!);
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      const inFlight = Number(/^llm_requests_in_flight (\S+)$/m.exec(text)?.[1]);
      expect({ row: row.status, paid: row.costUsd > WEAK_COST, client: res.status, shouldRetry: res.headers.get('x-should-retry'), inFlight }, body).toEqual({ row: 'success', paid: true, client: 200, shouldRetry: null, inFlight: 0 });
      // The weak step's part threw: the request itself is still counted (under the strong step's deployment), with its duration.
      expect([sum(text, 'llm_requests_total', /model="gpt-4",status="success"/), sum(text, 'llm_request_duration_seconds_count', /model="gpt-4",status="success"/)]).toEqual([1, 1]);
      expect(logged.filter((l) => l.requestId === row.requestId).map((l) => [l.level, l.message, (l.error as Error).message])).toEqual([['error', 'counting the metrics of a call failed', 'Counter: It is not possible to decrease a counter']]);
    } finally {
      observeSpend.mockRestore();
      await gw.close();
    }
  });

  it('inside the request\u2019s own observation (its spend): the answer stays a 200 (JSON and streamed), counted, and llm_requests_in_flight returns to 0', async () => {
    const logged: GatewayLogEntry[] = [];
    const { upstreams: up, gw } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'gpt', { price: { input: 1, output: 2 } })], {
      routing: { strategy: 'priority', retries: { max: 0 } },
      gateway: { log: (entry) => void logged.push(entry) },
    });
    const observeSpend = vi.spyOn(GatewayMetrics.prototype, 'observeSpend').mockImplementation(() => {
      throw new Error('Counter: It is not possible to decrease a counter');
    });
    try {
      up.openai.setScript({ text: 'hi', usage: { prompt_tokens: 3, completion_tokens: 1 } });
      const ids: string[] = [];
      for (const stream of [false, true]) {
        const { data, response } = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: `hi ${stream}` }], stream }).withResponse();
        if (Symbol.asyncIterator in data) for await (const _ of data);
        expect(response.status).toBe(200);
        ids.push((await ledgerRow(gw, response.headers.get('x-request-id')!)).requestId);
      }
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      expect([Number(/^llm_requests_in_flight (\S+)$/m.exec(text)?.[1]), sum(text, 'llm_requests_total', /model="gpt",status="success"/)]).toEqual([0, 2]);
      expect(logged.filter((l) => ids.includes(l.requestId!)).map((l) => l.message)).toEqual(['counting the metrics of a call failed', 'counting the metrics of a call failed']);
    } finally {
      observeSpend.mockRestore();
      await gw.close();
    }
  });
});

describe('a throw while counting the failed attempts of a recorded call apart (fault injection)', () => {
  it('is logged: the request is still in llm_requests_total (under the deployment that answered) and llm_requests_in_flight returns to 0', async () => {
    const logged: GatewayLogEntry[] = [];
    const { upstreams: up, gw } = await servedOverWireUpstreams(
      (u) => [wireDeployment(u, 'gem', { price: { input: 1, output: 1 } }), wireDeployment(u, 'gem', { name: 'gem-b', price: { input: 1, output: 1 } })],
      { routing: { strategy: 'priority', retries: { max: 0 }, fallbacks: { gem: ['gem-b'] } }, gateway: { log: (entry) => void logged.push(entry) } },
    );
    // The billed failed attempt (a Gemini failed tool call on gem), counted apart under its own deployment, throws.
    const real = GatewayMetrics.prototype.observeSpend;
    const observeSpend = vi.spyOn(GatewayMetrics.prototype, 'observeSpend').mockImplementation(function (this: GatewayMetrics, o) {
      if (o.model === 'gem') throw new Error('Counter: It is not possible to decrease a counter');
      real.call(this, o);
    });
    try {
      up.gemini.enqueue({ parts: [], finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: 'Malformed function call', usage: { promptTokenCount: 1000, candidatesTokenCount: 0 } });
      up.gemini.enqueue({ parts: '2 + 2 = 4', usage: { promptTokenCount: 10, candidatesTokenCount: 10 } });
      const { response } = await gw.openai().chat.completions.create({ model: 'gem', messages: [{ role: 'user', content: '2 + 2?' }] }).withResponse();
      const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
      expect(row).toMatchObject({ status: 'success', deployment: 'gem-b', inputTokens: 1010 });
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      expect([sum(text, 'llm_requests_total', /model="gem-b",status="success"/), Number(/^llm_requests_in_flight (\S+)$/m.exec(text)?.[1])]).toEqual([1, 0]);
      expect(logged.filter((l) => l.requestId === row.requestId).map((l) => [l.message, (l.error as Error).message])).toEqual([['counting the metrics of a call failed', 'Counter: It is not possible to decrease a counter']]);
    } finally {
      observeSpend.mockRestore();
      await gw.close();
    }
  });
});

describe('every model endpoint: /metrics, the ledger row and the headers of one call agree', () => {
  const TEXT = 'one two three four five six seven eight';
  const USAGE = { prompt_tokens: 11, completion_tokens: 8 };
  let up: OpenAIWireServer;
  let gw: SdkGateway;
  beforeAll(async () => {
    up = await startOpenAIWireServer();
    gw = await servedGateway({
      models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: up.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming', 'embeddings', 'completion'], price: { input: 1, output: 2 } }],
      upstreams: [up],
    });
  });
  afterAll(() => gw?.close());

  const bodies: Record<string, (content: string) => Record<string, unknown>> = {
    '/v1/chat/completions': (content) => ({ model: 'gpt', messages: [{ role: 'user', content }] }),
    '/v1/completions': (prompt) => ({ model: 'gpt', prompt }),
    '/v1/responses': (input) => ({ model: 'gpt', input }),
    '/v1/messages': (content) => ({ model: 'gpt', max_tokens: 50, messages: [{ role: 'user', content }] }),
  };

  async function scrape() {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    return {
      requests: (status: string) => sum(text, 'llm_requests_total', new RegExp(`model="gpt",status="${status}",tenant="acme"`)),
      cost: sum(text, 'llm_cost_usd_total', /model="gpt",tenant="acme"/),
      input: sum(text, 'llm_tokens_total', /type="input",model="gpt"/),
      output: sum(text, 'llm_tokens_total', /type="output",model="gpt"/),
      ttft: sum(text, 'llm_time_to_first_token_seconds_count', /model="gpt"/),
      text,
    };
  }

  /** POSTs `body` to `path`; for `cancel`, reads until the answer's first words came and leaves. The response and what was read. */
  async function call(path: string, body: Record<string, unknown>, cancel = false): Promise<{ res: Response; text: string }> {
    const ac = new AbortController();
    const res = await fetch(`${gw.url}${path}`, { method: 'POST', signal: ac.signal, headers: { authorization: `Bearer ${gw.secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let text = '';
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      text += decoder.decode(r.value, { stream: true });
      // The first word's delta as each wire carries it (chat `content`, completions and messages `text`, responses `delta`).
      if (cancel && /"(?:content|text|delta)":"one /.test(text)) {
        ac.abort();
        break;
      }
    }
    return { res, text };
  }

  for (const [path, body] of Object.entries(bodies)) {
    for (const mode of ['json', 'stream', 'cancel', 'cut'] as const) {
      it(`${path} ${mode}`, async () => {
        up.setScript({ text: TEXT, chunks: 8, usage: USAGE, ...(mode === 'cancel' ? { chunkDelayMs: 50 } : {}), ...(mode === 'cut' ? { cutAfterChunks: 3 } : {}) });
        const before = await scrape();
        const { res, text } = await call(path, { ...body(`${path} ${mode}`), ...(mode === 'json' ? {} : { stream: true }), ...(path === '/v1/chat/completions' && mode !== 'json' ? { stream_options: { include_usage: true } } : {}) }, mode === 'cancel');
        expect(res.status, text).toBe(200);
        const row = await ledgerRow(gw, res.headers.get('x-request-id')!);
        const after = await scrape();
        const status = { json: 'success', stream: 'success', cancel: 'aborted', cut: 'stream_interrupted' }[mode];
        expect(row).toMatchObject({ endpoint: path, deployment: 'gpt', stream: mode !== 'json', status: mode === 'cut' ? 'error' : status === 'success' ? 'success' : 'aborted' });
        expect(res.headers.get('x-llmrr-model')).toBe('gpt');
        if (mode === 'json') expect(Number(res.headers.get('x-llmrr-cost-usd'))).toBeCloseTo(row.costUsd, 12);
        if (mode === 'json' || mode === 'stream') expect([row.inputTokens, row.outputTokens]).toEqual([11, 8]);
        expect(row.costUsd).toBeGreaterThan(0);
        expect(after.requests(status) - before.requests(status)).toBe(1);
        expect(after.cost - before.cost).toBeCloseTo(row.costUsd, 12);
        expect([after.input - before.input, after.output - before.output]).toEqual([row.inputTokens, row.outputTokens]);
        // A stream's time to first token, in the histogram and the row (before its end); a JSON answer's only in the row.
        expect(after.ttft - before.ttft).toBe(mode === 'json' ? 0 : 1);
        expect(row.ttftMs).toBeGreaterThanOrEqual(0);
        expect(row.ttftMs!).toBeLessThanOrEqual(row.latencyMs);
      });
    }
  }

  it('/v1/embeddings', async () => {
    up.setScript({});
    const before = await scrape();
    const { data, response } = await gw.openai().embeddings.create({ model: 'gpt', input: 'embed this' }).withResponse();
    const row = await ledgerRow(gw, response.headers.get('x-request-id')!);
    const after = await scrape();
    expect(row).toMatchObject({ endpoint: '/v1/embeddings', deployment: 'gpt', status: 'success', inputTokens: data.usage.prompt_tokens, outputTokens: 0 });
    expect([response.headers.get('x-llmrr-model'), Number(response.headers.get('x-llmrr-cost-usd'))]).toEqual(['gpt', row.costUsd]);
    expect(after.requests('success') - before.requests('success')).toBe(1);
    expect(after.cost - before.cost).toBeCloseTo(row.costUsd, 12);
    expect([after.input - before.input, after.ttft - before.ttft]).toEqual([row.inputTokens, 0]);
  });

  it('a model name no deployment has is counted as model="unknown" on every endpoint, never as itself', async () => {
    up.setScript({});
    const before = sum((await scrape()).text, 'llm_requests_total', /model="unknown",status="model_not_found",tenant="acme"/);
    for (let i = 0; i < 3; i++) {
      const model = `no-such-model-${i}`;
      for (const [path, body] of Object.entries(bodies)) for (const stream of [false, true]) expect((await call(path, { ...body('hi'), model, stream })).res.status).toBe(404);
      expect((await call('/v1/embeddings', { model, input: 'hi' })).res.status).toBe(404);
      expect((await call('/v1/messages/count_tokens', { model, messages: [{ role: 'user', content: 'hi' }] })).res.status).toBe(404);
    }
    const text = (await scrape()).text;
    expect(text).not.toContain('no-such-model');
    expect(sum(text, 'llm_requests_total', /model="unknown",status="model_not_found",tenant="acme"/) - before).toBe(3 * 9);
  });
});

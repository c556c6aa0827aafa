/**
 * What `/metrics` says agrees with what the client and the ledger were told: an upstream refusal of the
 * gateway's key counts under the code the client got (`provider_error`) while the ledger keeps the provider's
 * reason, on chat as on embeddings; prefetch spend is in the cost and token counters as in the invoice; a
 * request refused before its tenant is known counts as `(unauthenticated)` on every counter, a label no tenant id
 * can take (a tenant called `anonymous` keeps its series to itself); a stream's time to first
 * token is measured from the request's arrival, in the histogram and in the ledger; the prompts of stream attempts
 * that failed over (billed on the request's row) count under their own deployments' `model` label, so each
 * deployment's cost and tokens add up to what its provider billed; a router cache hit (JSON or streamed) adds no
 * tokens (its answer called no provider; its row keeps the answer's tokens, marked as a hit); an escalated cascade's weak
 * step counts under its own deployment, and a step of it answered from the router cache adds no tokens; on every model
 * endpoint (JSON, streamed, left by its client, cut by its upstream) the counters, the row and the headers agree, and an
 * unknown model name is counted as `unknown`.
 * Real gateway and LLMRouter, in-memory stores (SQLite), a local server speaking the OpenAI wire format (the Anthropic
 * wire format and the official `openai` client for the failed attempts).
 */
import { startOpenAIWireServer, type AnthropicWireServer, type OpenAIWireServer } from '@llmrr/core/test';
import { APIError } from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, get, mockModel, post, type Harness } from '../test-support/harness.js';
import { metricSeries as series, metricSum as sum } from '../test-support/metrics-text.js';
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

/**
 * Limits and budgets held by a call that is still running. The stores' concurrency leases and budget reservations
 * expire after a fixed TTL (10 minutes, crash safety); the gateway renews those of calls in flight (one sweeper per
 * gateway), so a call that runs longer than that (a slow local model, a long reasoning answer) keeps its place.
 * Real gateway, real LLMRouter, the mock engine (priced), in-memory stores (SQLite in memory, the memory rate
 * limiter) on an injected clock that the test moves forward while the first call runs and the sweeper runs.
 * Also: an odd upstream usage frees the slot; a 402 carries the rate-limit headers.
 */
import { LLMRouter, createStateStores, type StateStores, type Usage } from '@llmrr/core';
import { startOpenAIWireServer } from '@llmrr/core/test';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway } from '../gateway.js';
import type { CallOptions, GenerateRequest, GenerateResult, StreamPart } from '@llmrr/core';
import { FixedUsageEngine } from '../test-support/fixed-usage-engine.js';
import { MockEngineWrapper } from '../test-support/mock-engine-wrapper.js';
import { createHarness, mockModel, post } from '../test-support/harness.js';
import type { Gateway } from '../types.js';

const MINUTE = 60_000;
/** The gateway's renewal interval in these tests (real ms). */
const RENEW_MS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The mock engine, counting the calls that reached it. */
class CountingEngine extends MockEngineWrapper {
  started = 0;
  generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResult> {
    this.started++;
    return this.inner.generate(request, options);
  }
  stream(request: GenerateRequest, options?: CallOptions): AsyncIterable<StreamPart> {
    this.started++;
    return this.inner.stream(request, options);
  }
}

interface Setup {
  gateway: Gateway;
  router: LLMRouter;
  stores: StateStores;
  clock: { now: number };
}

let open: Setup | undefined;
afterEach(async () => {
  if (!open) return;
  await open.gateway.close();
  await open.router.close();
  await open.stores.close();
  open = undefined;
});

/** A gateway whose stores run on a clock the test moves; the model answers after `delayMs` real ms. */
async function setup(delayMs: number, usage?: Usage, engine?: CountingEngine): Promise<Setup> {
  const clock = { now: Date.UTC(2026, 10, 10, 12, 0, 0) };
  const stores = await createStateStores({ mode: 'memory', clock: () => clock.now });
  const router = new LLMRouter(
    { models: [mockModel('mock', { delayMs }, { price: { input: 1_000_000, output: 1_000_000 } })], routing: { strategy: 'priority', retries: { max: 0 } } },
    usage ? { engines: { mock: new FixedUsageEngine(usage, { delayMs }) } } : engine ? { engines: { mock: engine } } : {},
  );
  // The gateway renews the holdings of calls in flight every `leaseRenewIntervalMs` (real time); the test moves
  // the stores' clock a minute at a time with a few sweeps in between (`passWhileRunning`).
  const gateway = createGateway({ router, stores, log: () => {}, limits: { leaseRenewIntervalMs: RENEW_MS } });
  open = { gateway, router, stores, clock };
  return open;
}

/** Moves the stores' clock forward by `ms`, a minute at a time, letting a few renewal sweeps run at each step. */
async function passWhileRunning(s: Setup, ms: number): Promise<void> {
  for (let passed = 0; passed < ms; passed += MINUTE) {
    s.clock.now += Math.min(MINUTE, ms - passed);
    await sleep(4 * RENEW_MS);
  }
}

/** Waits (real time, bounded) until `check` holds. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const body = { model: 'mock', max_tokens: 6, messages: [{ role: 'user', content: 'hello there' }] };

describe('a call running longer than the lease / reservation TTL (10 minutes)', () => {
  it('keeps its concurrency slot: a second call of a maxConcurrency 1 tenant is refused while the first runs', async () => {
    const engine = new CountingEngine({ delayMs: 3_000 });
    const s = await setup(3_000, undefined, engine);
    await s.stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { maxConcurrency: 1 } });
    const { secret } = await s.stores.tenants.createKey('acme', { name: 'k' });
    const auth = { authorization: `Bearer ${secret}` };
    const scope = [{ kind: 'tenant' as const, id: 'acme', limits: { maxConcurrency: 1 } }];

    const first = post(s.gateway, '/v1/chat/completions', body, auth);
    let firstDone = false;
    void first.then(() => (firstDone = true));
    await until(async () => (await s.stores.rateLimiter.peek(scope)).remainingConcurrency === 0, 'the first call to take its slot');
    // The first call is still running (its answer comes after 3 s of real time) when 11 minutes have passed.
    await passWhileRunning(s, 11 * MINUTE);
    const secondP = post(s.gateway, '/v1/chat/completions', body, auth);
    let secondDone = false;
    void secondP.then(() => (secondDone = true));
    // Either the second call is refused at once (429), or it reaches the model: then it runs beside the first.
    await until(async () => secondDone || engine.started === 2, 'the second call to be answered or to reach the model');
    const admittedWhileFirstRuns = engine.started === 2 && !firstDone;
    const second = await secondP;
    expect((await first).status).toBe(200);
    expect({ admittedWhileFirstRuns, second: second.status }).toEqual({ admittedWhileFirstRuns: false, second: 429 });
  });

  it('keeps its budget reservation: a second call that does not fit beside the first is refused, and the budget is not overspent', async () => {
    // The upstream reports the usage the reservation assumed (prompt bound 19 tokens, "hello there" at one token a
    // byte and 8 of framing, + max_tokens 6, at $1 a token): each call costs exactly its reserved worst case, $25.
    // The budget fits one call, not two.
    const s = await setup(3_000, { inputTokens: 19, outputTokens: 6, totalTokens: 25 });
    await s.stores.tenants.createTenant({ id: 'acme', name: 'Acme', budget: { amountUsd: 30, period: 'month' } });
    const { secret } = await s.stores.tenants.createKey('acme', { name: 'k' });
    const auth = { authorization: `Bearer ${secret}` };

    const first = post(s.gateway, '/v1/chat/completions', body, auth);
    await until(async () => (await s.stores.budgets.spent('acme', 'month')).reservedUsd > 0, 'the first call to reserve');
    expect((await s.stores.budgets.spent('acme', 'month')).reservedUsd).toBe(25);
    await passWhileRunning(s, 11 * MINUTE); // same month
    const second = await post(s.gateway, '/v1/chat/completions', body, auth);
    expect((await first).status).toBe(200);
    const spent = (await s.stores.budgets.spent('acme', 'month')).spentUsd;
    const ledger = await s.stores.ledger.summary({ tenantId: 'acme' });
    expect({ second: second.status, spentUsd: spent, ledgerUsd: ledger.costUsd }).toEqual({ second: 402, spentUsd: 25, ledgerUsd: 25 });
  });
});

describe('a call whose upstream reports an odd usage', () => {
  it('still frees its concurrency slot (the ledger and the price already take the odd count as 0)', async () => {
    // An OpenAI-compatible server that reports a negative prompt count (a provider bug the ledger and
    // computeCost tolerate: they record and price it as 0).
    const upstream = await startOpenAIWireServer({ script: { text: 'Hi.', usage: { prompt_tokens: -1, completion_tokens: 0 } } });
    const h = await createHarness({
      stores: 'memory',
      models: [{ name: 'remote', engine: 'openai-compatible', baseURL: upstream.baseURL, apiKey: 'sk-test', model: 'gpt-test', price: { input: 1, output: 2 } }],
    });
    try {
      await h.stores!.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { maxConcurrency: 1 } });
      const { secret } = await h.stores!.tenants.createKey('acme', { name: 'k' });
      const auth = { authorization: `Bearer ${secret}` };
      const chat = { model: 'remote', messages: [{ role: 'user', content: 'hello' }] };
      const first = await post(h.gateway, '/v1/chat/completions', chat, auth);
      expect(first.status).toBe(200);
      await first.text();
      // The first call is over: its slot must be free for the next one (not held for the lease TTL, 10 minutes).
      const second = await post(h.gateway, '/v1/chat/completions', chat, auth);
      expect(second.status).toBe(200);
    } finally {
      await h.close();
      await upstream.close();
    }
  });
});

describe('rate-limit headers on a budget refusal', () => {
  it('a 402 of a tenant with limits carries the X-RateLimit-* headers (the request counted against rpm)', async () => {
    const h = await createHarness({ stores: 'memory', models: [mockModel('mock')] });
    try {
      await h.stores!.tenants.createTenant({ id: 'broke', name: 'Broke', limits: { rpm: 10 }, budget: { amountUsd: 0, period: 'day' } });
      const { secret } = await h.stores!.tenants.createKey('broke', { name: 'k' });
      const auth = { authorization: `Bearer ${secret}` };
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'mock', messages: [{ role: 'user', content: 'hello there' }] }, auth);
      expect(res.status).toBe(402);
      // The refusal took one of the 10 requests (README: the headers come "when the tenant or key has limits").
      const peek = await h.stores!.rateLimiter.peek([{ kind: 'tenant', id: 'broke', limits: { rpm: 10 } }]);
      expect(peek.remainingRequests).toBe(9);
      expect({ limit: res.headers.get('x-ratelimit-limit'), remaining: res.headers.get('x-ratelimit-remaining') }).toEqual({ limit: '10', remaining: '9' });
    } finally {
      await h.close();
    }
  });
});

describe('a client that goes away while admission waits for the stores', () => {
  it('gets its answer (499) without waiting for the limiter, and the slot granted late is given back', async () => {
    const clock = { now: Date.UTC(2026, 10, 10, 12, 0, 0) };
    const stores = await createStateStores({ mode: 'memory', clock: () => clock.now });
    const router = new LLMRouter({ models: [mockModel('mock')], routing: { strategy: 'priority', retries: { max: 0 } } });
    // A limiter that answers only when the test lets it (as a stalled Redis would, then recovers).
    let letThrough: () => void = () => {};
    const gate = new Promise<void>((r) => (letThrough = r));
    let asked = 0;
    let answered = 0;
    const inner = stores.rateLimiter;
    const stalled: typeof inner = {
      acquire: async (scopes, options) => {
        asked++;
        await gate;
        const decision = await inner.acquire(scopes, options);
        answered++;
        return decision;
      },
      peek: (scopes) => inner.peek(scopes),
      close: () => inner.close(),
    };
    // Marked shared: admission waits with the client's abort in view only for stores on the network.
    const gateway = createGateway({ router, stores: { ...stores, mode: 'shared', rateLimiter: stalled }, log: () => {} });
    open = { gateway, router, stores, clock };
    await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { maxConcurrency: 1 } });
    const { secret } = await stores.tenants.createKey('acme', { name: 'k' });
    const scope = [{ kind: 'tenant' as const, id: 'acme', limits: { maxConcurrency: 1 } }];

    const client = new AbortController();
    const reply = gateway.fetch(
      new Request('http://gateway.test/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
        body: JSON.stringify(body),
        signal: client.signal,
      }),
    );
    await until(async () => asked === 1, 'the request to ask the limiter');
    client.abort();
    const outcome = await Promise.race([reply.then((r) => r.status), sleep(2_000).then(() => 'still waiting')]);
    expect(outcome).toBe(499);

    // The limiter answers after all: the slot it grants nobody waits for is freed.
    letThrough();
    await until(async () => answered === 1, 'the limiter to answer');
    await sleep(20);
    expect((await inner.peek(scope)).remainingConcurrency).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../spec/index.js';
import { freePort } from '../stores/__fixtures__/free-port.js';
import { testServiceUrls } from '../stores/__fixtures__/store-fixtures.js';
import { connectRedis } from '../stores/redis/redis-connection.js';
import { rejection } from '../test/async.test-helpers.js';
import { hello, startImageServer, useCountTokensCircuitFixture } from '../test/count-tokens-circuit.test-helpers.js';
import { LLMRouter } from './llm-router.js';

// LLMRouter.countTokens and the counting deployment's circuit breaker: an open circuit (within its cooldown)
// answers the local estimate with no network I/O; closed or half-open, the count goes out without a permit or
// probe slot; a remote count failing because the provider is down or failing counts against the circuit (and
// re-opens a half-open one); other count failures and successful counts leave it be.

const { upstream, routers, claude, setup, watchCircuit, useRedisRouters } = useCountTokensCircuitFixture();

describe('countTokens and the circuit breaker', () => {
  it('an open circuit answers the local estimate: no request to the provider, no admission asked', async () => {
    const { r, circuit } = setup({ failureThreshold: 2, cooldownMs: 60_000 });
    const local = await r.countTokens(hello, { model: 'claude', local: true });
    upstream.calls.push({ status: 529 }, { status: 529 });
    expect((await rejection(r.generate(hello, { model: 'claude' }))).code).toBe('overloaded');
    expect((await rejection(r.generate(hello, { model: 'claude' }))).code).toBe('overloaded');
    expect(circuit).toEqual(['closed->open']);
    let asked = 0;
    const count = await r.countTokens(hello, { model: 'claude', admitRemote: async () => (asked++, { release: () => {} }) });
    expect(count).toEqual(local);
    expect(count.exact).toBe(false);
    expect(upstream.countRequests).toBe(0);
    // The rate-limit place (the gateway's countAdmission) is not taken for a count that stays local.
    expect(asked).toBe(0);
  });

  it('half-open: a count goes out without taking the probe slot or moving the circuit; a call is still the probe and its success closes it', async () => {
    const { r, clock, circuit } = setup({ failureThreshold: 1, cooldownMs: 1_000, halfOpenMaxProbes: 1, successThreshold: 1 });
    upstream.calls.push({ status: 500 });
    expect((await rejection(r.generate(hello, { model: 'claude' }))).code).toBe('provider_error');
    clock.now += 1_001;
    // Counts read the circuit (peek): past the cooldown they go out, and their successes record nothing.
    for (let i = 0; i < 3; i++) expect(await r.countTokens(hello, { model: 'claude' })).toMatchObject({ tokens: 4242, exact: true });
    expect(upstream.countRequests).toBe(3);
    expect(circuit).toEqual(['closed->open']);
    // The one probe slot is still free: the call goes out as the probe and closes the circuit.
    expect((await r.generate(hello, { model: 'claude' })).text).toBe('ok');
    expect(circuit).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
    expect(await r.countTokens(hello, { model: 'claude' })).toMatchObject({ tokens: 4242, exact: true });
    expect(upstream.countRequests).toBe(4);
  });

  it('half-open: a count failing because the provider still fails re-opens the circuit with a fresh cooldown; counts then answer the estimate', async () => {
    const { r, clock, circuit } = setup({ failureThreshold: 1, cooldownMs: 1_000, halfOpenMaxProbes: 1 });
    upstream.calls.push({ status: 500 });
    await rejection(r.generate(hello, { model: 'claude' }));
    clock.now += 1_001;
    expect(r.stats()['claude']!.circuit).toBe('half-open');
    upstream.counts.push({ status: 529 });
    expect((await rejection(r.countTokens(hello, { model: 'claude' }))).code).toBe('overloaded');
    expect(circuit).toEqual(['closed->open', 'open->half-open', 'half-open->open']);
    expect(r.stats()['claude']!.circuit).toBe('open');
    clock.now += 999;
    expect(await r.countTokens(hello, { model: 'claude' })).toMatchObject({ exact: false });
    expect(upstream.countRequests).toBe(1);
    expect(r.stats()['claude']!.circuit).toBe('open');
    clock.now += 1;
    // The fresh cooldown is over: counts go out again.
    expect(await r.countTokens(hello, { model: 'claude' })).toMatchObject({ tokens: 4242, exact: true });
    expect(upstream.countRequests).toBe(2);
  });

  it('remote counts failing because the provider fails (5xx, 529 overloaded, 503, a dropped connection) open the circuit; each is still its error', async () => {
    const { r, circuit } = setup({ failureThreshold: 4, cooldownMs: 60_000 });
    upstream.counts.push({ status: 500 }, { status: 529 }, { status: 503 }, { drop: true });
    const codes: string[] = [];
    for (let i = 0; i < 4; i++) codes.push((await rejection(r.countTokens(hello, { model: 'claude' }))).code);
    // Anthropic's error type decides the code: a 503 with `api_error` is a provider_error.
    expect(codes).toEqual(['provider_error', 'overloaded', 'provider_error', 'network_error']);
    expect(circuit).toEqual(['closed->open']);
    expect(upstream.countRequests).toBe(4);
    // Now open: the next count answers at once, with no request.
    expect(await r.countTokens(hello, { model: 'claude' })).toMatchObject({ exact: false, deployment: 'claude' });
    expect(upstream.countRequests).toBe(4);
    expect(r.stats()['claude']!.circuit).toBe('open');
  });

  it("a count that times out counts against the circuit; the caller's own abort does not", async () => {
    const { r, circuit } = setup({ failureThreshold: 1, cooldownMs: 60_000 });
    const aborted = new AbortController();
    upstream.counts.push({ hang: true });
    const counting = rejection(r.countTokens(hello, { model: 'claude', signal: aborted.signal }));
    for (let i = 0; i < 400 && upstream.countRequests === 0; i++) await new Promise((res) => setTimeout(res, 10));
    aborted.abort();
    expect((await counting).code).toBe('aborted');
    expect(circuit).toEqual([]);
    // The count's time limit starts once it is admitted: a rate-limit place (admitRemote) slower than the
    // limit does not use it up, and the count that follows answers in time.
    const slowAdmission = () => new Promise<{ release(): void }>((res) => setTimeout(() => res({ release: () => {} }), 300));
    expect(await r.countTokens(hello, { model: 'claude', timeouts: { totalMs: 150 }, admitRemote: slowAdmission })).toMatchObject({ tokens: 4242, exact: true });
    expect(circuit).toEqual([]);
    expect(upstream.countRequests).toBe(2);
    upstream.counts.push({ hang: true });
    expect((await rejection(r.countTokens(hello, { model: 'claude', timeouts: { totalMs: 150 } }))).code).toBe('timeout');
    expect(circuit).toEqual(['closed->open']);
  }, 20_000);

  it('count failures that say nothing about the provider being down leave the circuit closed: request faults, 429 (count limits are separate), 401, 403', async () => {
    const { r, circuit } = setup({ failureThreshold: 1, cooldownMs: 60_000 });
    const statuses = [400, 413, 429, 401, 403];
    upstream.counts.push(...statuses.map((status) => ({ status })));
    const codes: string[] = [];
    for (const _ of statuses) codes.push((await rejection(r.countTokens(hello, { model: 'claude' }))).code);
    expect(codes).toEqual(['invalid_request', 'payload_too_large', 'rate_limited', 'authentication', 'permission_denied']);
    expect(circuit).toEqual([]);
    // Still closed: the next count asks the provider.
    expect(await r.countTokens(hello, { model: 'claude' })).toMatchObject({ tokens: 4242, exact: true });
    expect(upstream.countRequests).toBe(statuses.length + 1);
  });

  // A base URL whose proxy serves the calls but has no count endpoint: its 404 is no count the caller can use and
  // no failure of the deployment.
  it('a count answered 404 (the count endpoint is not there) answers the local estimate and leaves the circuit closed', async () => {
    const { r, circuit } = setup({ failureThreshold: 1, cooldownMs: 60_000 });
    const local = await r.countTokens(hello, { model: 'claude', local: true });
    upstream.counts.push({ status: 404 }, { status: 404 });
    expect(await r.countTokens(hello, { model: 'claude' })).toEqual({ ...local, exact: false });
    expect(await r.countTokens(hello, { model: 'claude' })).toEqual(local);
    expect(upstream.countRequests).toBe(2);
    expect(circuit).toEqual([]);
    expect(await r.countTokens(hello, { model: 'claude' })).toMatchObject({ tokens: 4242, exact: true });
    expect(upstream.countRequests).toBe(3);
  });

  it("a successful count does not reset the failures calls have counted (the count endpoint is not the messages endpoint)", async () => {
    const { r, circuit } = setup({ failureThreshold: 2, cooldownMs: 60_000 });
    upstream.calls.push({ status: 529 }, { status: 529 });
    await rejection(r.generate(hello, { model: 'claude' }));
    expect(await r.countTokens(hello, { model: 'claude' })).toMatchObject({ tokens: 4242, exact: true });
    await rejection(r.generate(hello, { model: 'claude' }));
    expect(circuit).toEqual(['closed->open']);
  });

  it('counts and calls share one failure count', async () => {
    const { r, circuit } = setup({ failureThreshold: 2, cooldownMs: 60_000 });
    upstream.counts.push({ status: 500 });
    upstream.calls.push({ status: 500 });
    await rejection(r.countTokens(hello, { model: 'claude' }));
    await rejection(r.generate(hello, { model: 'claude' }));
    expect(circuit).toEqual(['closed->open']);
  });

  it('with the circuit breaker disabled, failing counts never stop remote counts', async () => {
    const { r, circuit } = setup({ enabled: false, failureThreshold: 1 });
    upstream.counts.push({ status: 500 }, { status: 500 });
    await rejection(r.countTokens(hello, { model: 'claude' }));
    await rejection(r.countTokens(hello, { model: 'claude' }));
    expect(await r.countTokens(hello, { model: 'claude' })).toMatchObject({ exact: true });
    expect(upstream.countRequests).toBe(3);
    expect(circuit).toEqual([]);
  });

  it('a local count (no exactTokenCount) is not touched by an open circuit and does not move it', async () => {
    const clock = { now: 1_000_000 };
    const r = new LLMRouter({ models: [claude({ options: {} })], routing: { retries: { max: 0 }, circuitBreaker: { failureThreshold: 1 } } }, { now: () => clock.now });
    routers.push(r);
    upstream.calls.push({ status: 500 });
    await rejection(r.generate(hello, { model: 'claude' }));
    expect(r.stats()['claude']!.circuit).toBe('open');
    const count = await r.countTokens(hello, { model: 'claude' });
    expect(count).toEqual(await r.countTokens(hello, { model: 'claude', local: true }));
    expect(upstream.countRequests).toBe(0);
  });
});

describe("countTokens and Gemini's circuit: the prompt's image downloads are not Gemini's", () => {
  it("a count timing out while it downloads the caller's image URL records nothing; one failing once Gemini is asked (unreachable) does", async () => {
    let slow = true;
    const images = await startImageServer(() => slow);
    // A port nothing listens on: Gemini is down (connection refused).
    const downUrl = `http://127.0.0.1:${await freePort()}`;
    try {
      const r = new LLMRouter({
        models: [{ name: 'gem', engine: 'gemini', model: 'gemini-2.5-flash', baseURL: downUrl, apiKey: 'g-key', options: { exactTokenCount: true, allowPrivateImageUrls: true } }],
        routing: { retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } },
      });
      routers.push(r);
      const circuit = watchCircuit(r);
      const withImage: GenerateRequest = { messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image', url: images.url }] }] };
      expect((await rejection(r.countTokens(withImage, { model: 'gem', timeouts: { totalMs: 300 } }))).code).toBe('timeout');
      expect(circuit).toEqual([]);
      slow = false;
      expect((await rejection(r.countTokens(withImage, { model: 'gem', timeouts: { totalMs: 5_000 } }))).code).toBe('network_error');
      expect(circuit).toEqual(['closed->open']);
      expect(await r.countTokens(withImage, { model: 'gem' })).toMatchObject({ exact: false, deployment: 'gem' });
    } finally {
      await images.close();
    }
  }, 20_000);
});

const { redisUrl } = testServiceUrls();
const skip = redisUrl ? undefined : 'shared-circuit count tests skipped: Redis (LLMRR_TEST_REDIS_URL) not available';

describe.skipIf(skip !== undefined)(skip ?? 'countTokens with circuits shared through Redis (two routers, like two gateway processes)', () => {
  const twoRouters = useRedisRouters(redisUrl!);

  it("counts failing in router A open the circuit for router B, whose count (its own view still closed) reads Redis and answers the estimate with no request", async () => {
    const { a, b } = await twoRouters();
    upstream.counts.push({ status: 500 }, { status: 529 });
    await rejection(a.r.countTokens(hello, { model: 'claude' }));
    await rejection(a.r.countTokens(hello, { model: 'claude' }));
    await a.store.flush();
    expect(a.circuit).toEqual(['closed->open']);
    expect(b.r.stats()['claude']!.circuit).toBe('closed');
    const before = upstream.countRequests;
    expect(await b.r.countTokens(hello, { model: 'claude' })).toMatchObject({ exact: false, deployment: 'claude' });
    expect(upstream.countRequests).toBe(before);
    // The count only read Redis (peek): B's own view, and its events, are left to its calls' admissions.
    expect(b.circuit).toEqual([]);
    expect(b.r.stats()['claude']!.circuit).toBe('closed');
    expect((await rejection(b.r.generate(hello, { model: 'claude' }))).code).toBe('circuit_open');
    expect(b.circuit).toEqual(['closed->open']);
  });

  it("past the cooldown a count goes out without taking Redis's probe slot or writing half-open: the other router's call is the probe and closes the circuit", async () => {
    const { a, b, keyPrefix } = await twoRouters(300);
    upstream.calls.push({ status: 500 }, { status: 500 });
    await rejection(a.r.generate(hello, { model: 'claude' }));
    await rejection(a.r.generate(hello, { model: 'claude' }));
    await a.store.flush();
    expect(a.circuit).toEqual(['closed->open']);
    await new Promise((res) => setTimeout(res, 450));
    // B never saw the circuit: its view is closed, so it reads Redis, open past its cooldown: the count goes out.
    expect(await b.r.countTokens(hello, { model: 'claude' })).toMatchObject({ tokens: 4242, exact: true });
    await b.store.flush();
    expect(upstream.countRequests).toBe(1);
    expect(b.circuit).toEqual([]);
    const raw = await connectRedis(redisUrl!, '');
    try {
      expect(await raw.command(['HGET', `${keyPrefix}{claude}`, 's'])).toBe('o');
      expect(await raw.command(['EXISTS', `${keyPrefix}{claude}:probes`])).toBe(0);
    } finally {
      await raw.retain().release();
    }
    // The slot is free: A's call is the probe, and its success closes the circuit.
    expect((await a.r.generate(hello, { model: 'claude' })).text).toBe('ok');
    await a.store.flush();
    expect(a.circuit).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it("past the cooldown a count failing because the provider still fails re-opens the shared circuit with a fresh cooldown in Redis time", async () => {
    const { a, b, keyPrefix } = await twoRouters(300);
    upstream.calls.push({ status: 500 }, { status: 500 });
    await rejection(a.r.generate(hello, { model: 'claude' }));
    await rejection(a.r.generate(hello, { model: 'claude' }));
    await a.store.flush();
    const raw = await connectRedis(redisUrl!, '');
    try {
      const firstOpened = Number(await raw.command(['HGET', `${keyPrefix}{claude}`, 'o']));
      await new Promise((res) => setTimeout(res, 450));
      upstream.counts.push({ status: 503 });
      expect((await rejection(b.r.countTokens(hello, { model: 'claude' }))).code).toBe('provider_error');
      await b.store.flush();
      expect(await raw.command(['HGET', `${keyPrefix}{claude}`, 's'])).toBe('o');
      expect(Number(await raw.command(['HGET', `${keyPrefix}{claude}`, 'o']))).toBeGreaterThanOrEqual(firstOpened + 300);
      // B learnt the opening from the outcome script's answer; A's call, past A's own view of the first
      // cooldown, is refused by Redis without a request.
      expect(b.circuit).toEqual(['closed->open']);
      expect((await rejection(a.r.generate(hello, { model: 'claude' }))).code).toBe('circuit_open');
      expect(upstream.callRequests).toBe(2);
      expect(await b.r.countTokens(hello, { model: 'claude' })).toMatchObject({ exact: false });
      expect(upstream.countRequests).toBe(1);
    } finally {
      await raw.retain().release();
    }
  });

  it("a count's success is not reported (it would reset the failures calls counted in Redis)", async () => {
    const { a, b } = await twoRouters();
    upstream.calls.push({ status: 500 }, { status: 500 });
    await rejection(a.r.generate(hello, { model: 'claude' }));
    await a.store.flush();
    expect(await b.r.countTokens(hello, { model: 'claude' })).toMatchObject({ exact: true });
    await b.store.flush();
    await rejection(b.r.generate(hello, { model: 'claude' }));
    await b.store.flush();
    expect(b.circuit).toEqual(['closed->open']);
  });
});

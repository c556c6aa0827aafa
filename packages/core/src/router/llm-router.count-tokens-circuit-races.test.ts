import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../spec/index.js';
import { testServiceUrls } from '../stores/__fixtures__/store-fixtures.js';
import { rejection } from '../test/async.test-helpers.js';
import { hello, startImageServer, useCountTokensCircuitFixture } from '../test/count-tokens-circuit.test-helpers.js';
import { startGeminiWireServer } from '../test/gemini-wire-server.js';
import { LLMRouter } from './llm-router.js';

// countTokens and the circuit breaker where a count races something else: a slow admission (admitRemote)
// eating the count's time limit, calls opening the circuit while a count waits for admission, counts and
// calls under one name reaching different deployments, a slow image download, and a count holding Redis's
// probe slot while a call goes out. Written as the review of b3876b9 (each showed a bug, since fixed); the
// comments say what the bug was.

const { upstream, routers, claude, setup, watchCircuit, useRedisRouters } = useCountTokensCircuitFixture();

/** `setup` on the wall clock: these tests wait for real time limits. */
const onWallClock = { now: () => Date.now() };

const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

describe('countTokens and the circuit breaker: races (in memory)', () => {
  it("a healthy provider is not blamed for the count's time limit that the admission (admitRemote) mostly used up", async () => {
    // The count's limit is 4 000 ms; admitRemote (the gateway's rate-limit place: a Redis round trip, or a
    // slow one) takes 3 600 ms of it; the provider answers its count in 700 ms, well inside the limit (3.3 s to
    // spare on a loaded machine: with 1 500 / 1 100 the 800 ms left were not always enough). The count timed
    // out 400 ms after it was sent, and that timeout was recorded as the provider failing: with
    // failureThreshold 1 the circuit opens and every count and call after it is refused for the cooldown.
    // A call's attempt timer starts after its admission (AttemptScope is made after acquire), so a call
    // with the same timing would not time out at all.
    const { r, circuit } = setup({ failureThreshold: 1, cooldownMs: 60_000 }, onWallClock);
    upstream.counts.push({ ok: true, delayMs: 700 });
    const slowAdmission = async () => {
      await sleep(3_600);
      return { release: () => {} };
    };
    await r.countTokens(hello, { model: 'claude', timeouts: { totalMs: 4_000 }, admitRemote: slowAdmission }).catch(() => undefined);
    expect(upstream.countRequests).toBe(1);
    expect(circuit).toEqual([]);
    expect(r.stats()['claude']!.circuit).toBe('closed');
  }, 20_000);

  it('a remote count does not go out once the circuit opened while it waited for admitRemote', async () => {
    // Docs: "A remote count goes out only while the deployment's circuit is closed". The circuit is asked
    // before admitRemote and not again after it, so a count admitted while closed goes to the provider even
    // though calls opened the circuit during its (possibly slow, Redis-backed) rate-limit admission.
    const { r, circuit } = setup({ failureThreshold: 1, cooldownMs: 60_000 }, onWallClock);
    upstream.calls.push({ status: 500 });
    const admitAfterCallsFail = async () => {
      await rejection(r.generate(hello, { model: 'claude' }));
      return { release: () => {} };
    };
    const count = await r.countTokens(hello, { model: 'claude', admitRemote: admitAfterCallsFail });
    expect(circuit).toEqual(['closed->open']);
    expect(r.stats()['claude']!.circuit).toBe('open');
    expect(upstream.countRequests).toBe(0);
    expect(count).toMatchObject({ exact: false });
  });

  it('a circuit opened by failing counts stays half-open for good when calls under the name never pick the counting deployment: counts stay estimates after the count endpoint recovered', async () => {
    // Two deployments under the alias 'claude': counts always use the lowest priority one ('claude-a');
    // calls under 'cost-optimized' always use the cheaper 'claude-b'. Two failing counts open claude-a's
    // circuit; after the cooldown it is half-open, and "only a real call can close the circuit" (docs) -
    // but no call ever goes to claude-a while claude-b answers, so every count answers the estimate from
    // then on, long after the count endpoint is back. Before b3876b9 the next count would have been exact.
    const clock = { now: 1_000_000 };
    const r = new LLMRouter(
      {
        models: [
          claude({ name: 'claude-a', alias: 'claude', priority: 0, price: { input: 10, output: 10 } }),
          claude({ name: 'claude-b', alias: 'claude', priority: 1, price: { input: 1, output: 1 } }),
        ],
        routing: { strategy: 'cost-optimized', retries: { max: 0 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 1_000 } },
      },
      { now: () => clock.now },
    );
    routers.push(r);
    upstream.counts.push({ status: 503 }, { status: 503 });
    await rejection(r.countTokens(hello, { model: 'claude' }));
    await rejection(r.countTokens(hello, { model: 'claude' }));
    expect(r.stats()['claude-a']!.circuit).toBe('open');
    clock.now += 1_001;
    for (let i = 0; i < 10; i++) expect((await r.generate(hello, { model: 'claude' })).text).toBe('ok');
    clock.now += 60 * 60 * 1_000;
    for (let i = 0; i < 10; i++) expect((await r.generate(hello, { model: 'claude' })).text).toBe('ok');
    // An hour later, the count endpoint long healthy: still the estimate, no count request.
    expect(r.stats()['claude-a']!.circuit).toBe('half-open');
    const count = await r.countTokens(hello, { model: 'claude' });
    expect(upstream.countRequests).toBe(3);
    expect(count).toMatchObject({ deployment: 'claude-a', exact: true, tokens: 4242 });
  });
});

describe('countTokens and Gemini\'s circuit: a count timing out on the prompt\'s image download', () => {
  it("a count whose time limit runs out while downloading the caller's image URL (Gemini never asked) does not count against Gemini's circuit", async () => {
    // Gemini's remote count first downloads the prompt's http(s) image URLs. A download that fails is the
    // request's fault (invalid_request, not counted), but one that is merely slow runs into the count's own
    // time limit: a 'timeout' with sent = true, recorded as Gemini failing. Any key holder can so open the
    // shared Gemini deployment's circuit for every tenant with failureThreshold counts naming a slow URL,
    // and counts cost nothing (no tpm, no ledger).
    const gemini = await startGeminiWireServer({ apiKey: 'g-key' });
    const images = await startImageServer();
    try {
      const r = new LLMRouter({
        models: [{ name: 'gem', engine: 'gemini', model: 'gemini-2.5-flash', baseURL: gemini.url, apiKey: 'g-key', options: { exactTokenCount: true, allowPrivateImageUrls: true } }],
        routing: { retries: { max: 0 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 } },
      });
      routers.push(r);
      const circuit = watchCircuit(r);
      const withImage: GenerateRequest = { messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image', url: images.url }] }] };
      expect((await rejection(r.countTokens(withImage, { model: 'gem', timeouts: { totalMs: 300 } }))).code).toBe('timeout');
      expect(gemini.requests.filter((q) => q.path.endsWith(':countTokens'))).toHaveLength(0);
      expect(circuit).toEqual([]);
    } finally {
      await images.close();
      await gemini.close();
    }
  }, 20_000);
});

const { redisUrl } = testServiceUrls();
const skip = redisUrl ? undefined : 'shared-circuit count race tests skipped: Redis (LLMRR_TEST_REDIS_URL) not available';

describe.skipIf(skip !== undefined)(skip ?? 'countTokens and a circuit shared through Redis: races', () => {
  const twoRouters = useRedisRouters(redisUrl!);

  it("a count (stale closed view) holding Redis's only probe slot for a round trip makes a concurrent call fail with circuit_open", async () => {
    // Docs and changeset: a count "never takes a half-open probe slot" / "without taking a half-open probe
    // slot". With Redis, a router whose view is still closed asks the store, which turns the circuit
    // half-open and hands the count the probe slot; the count gives it back with a fire-and-forget report.
    // A call sent meanwhile (Claude Code counts and sends its turn together) is refused: circuit_open,
    // although the provider is back and the call should have been the probe that closes the circuit.
    const { a, b } = await twoRouters(300);
    upstream.calls.push({ status: 500 }, { status: 500 });
    await rejection(a.r.generate(hello, { model: 'claude' }));
    await rejection(a.r.generate(hello, { model: 'claude' }));
    await a.store.flush();
    expect(a.circuit).toEqual(['closed->open']);
    await sleep(450);
    expect(b.r.stats()['claude']!.circuit).toBe('closed');
    const counting = b.r.countTokens(hello, { model: 'claude' });
    const calling = b.r.generate(hello, { model: 'claude' }).then(
      (res) => res.text,
      (e: unknown) => (e as { code?: string }).code,
    );
    // Adjusted after the fix: past the cooldown a count goes out (only an open circuit within its cooldown
    // keeps counts local), reading Redis without taking the probe slot; it was `exact: false`, no request.
    expect(await counting).toMatchObject({ exact: true, tokens: 4242 });
    expect(upstream.countRequests).toBe(1);
    // Expected: the call is the probe ('ok'); observed: 'circuit_open'.
    const outcome = await calling;
    await b.store.flush();
    // Control: once the count's release has landed, the same call is admitted as the probe and answers.
    expect((await b.r.generate(hello, { model: 'claude' })).text).toBe('ok');
    expect(outcome).toBe('ok');
  });
});

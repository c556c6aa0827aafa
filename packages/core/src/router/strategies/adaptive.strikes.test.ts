/**
 * `adaptive` learns a failed attempt only when the router counted it against the deployment (the attempt's
 * `strike`, set by the same rule as the circuit's strike): a stream the router abandons because its consumer
 * stopped reading (at `totalMs` or after `consumerIdleMs`), the caller's own deadline (`AbortSignal.timeout`)
 * and a fault of the request teach it nothing, while a deployment that fails or is too slow for a reading
 * consumer is learned as reward 0, on a failed call as on one that fell over.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../learning/predictors/adam.js';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import { LLMRouter } from '../llm-router.js';
import { createAdaptiveStrategy } from './adaptive.js';

async function abandonedStream(timeouts: { totalMs?: number; consumerIdleMs?: number }) {
  const adaptive = createAdaptiveStrategy();
  const engines = { a: new MockEngine({ modelId: 'a-model', reply: 'one two three four five six seven eight', chunkDelayMs: 5 }) };
  const router = new LLMRouter(
    { models: [{ name: 'a', engine: 'mock' }], routing: { strategy: 'adaptive', retries: { max: 0 }, timeouts } },
    { random: seededRandom(1), strategies: { adaptive }, engines },
  );
  const stream = router.stream('count', { requestId: 'r1' });
  stream.result.catch(() => {});
  const iter = stream[Symbol.asyncIterator]();
  let texts = 0;
  for (let i = 0; i < 20 && texts < 2; i++) if ((await iter.next()).value?.type === 'text-delta') texts++;
  // The consumer stops pulling.
  const error = await stream.result.then(() => undefined, (e: { code: string }) => e.code);
  const observations = adaptive.snapshot()['a']?.observations ?? 0;
  await router.close();
  return { error, observations };
}

/**
 * `adaptive` (implicitWeight 0.25) routing one mock deployment `only` (its `options` as given), no retries, the
 * router's `timeouts` when given, and a circuit that opens on one strike; `circuit` records its transitions.
 */
function adaptiveOnOnly(options: Record<string, unknown>, timeouts?: { totalMs: number }) {
  const adaptive = createAdaptiveStrategy({ implicitWeight: 0.25 });
  const router = new LLMRouter(
    {
      models: [{ name: 'only', engine: 'mock', options }],
      routing: { strategy: 'adaptive', retries: { max: 0 }, ...(timeouts ? { timeouts } : {}), circuitBreaker: { failureThreshold: 1, cooldownMs: 30_000 } },
    },
    { random: seededRandom(1), strategies: { adaptive } },
  );
  const circuit: string[] = [];
  router.on('circuit', (e) => circuit.push(`${e.deployment}:${e.from}->${e.to}`));
  return { adaptive, router, circuit };
}

/** What a call failed with (undefined when it succeeded). */
const failureOf = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (e: unknown) => e as { code?: string; deployment?: string },
  );

/** Ten words streamed `chunkDelayMs` apart, under a 300 ms totalMs. */
const tenWordStream = (chunkDelayMs: number) => adaptiveOnOnly({ reply: 'one two three four five six seven eight nine ten', chunkDelayMs }, { totalMs: 300 });

describe('adaptive and streams the router abandons', () => {
  it('consumerIdleMs abandonment: not learned', async () => {
    expect(await abandonedStream({ consumerIdleMs: 40 })).toEqual({ error: 'timeout', observations: 0 });
  });

  it('totalMs abandonment (consumer not reading, no strike): not learned as a failure of the deployment either', async () => {
    expect(await abandonedStream({ totalMs: 150 })).toEqual({ error: 'timeout', observations: 0 });
  });

  it('a stream abandoned at totalMs while its consumer was not reading teaches adaptive nothing, as the circuit takes no strike', async () => {
    const { adaptive, router, circuit } = tenWordStream(2);
    const stream = router.stream('q', { cache: false });
    stream.result.catch(() => {});
    const it = stream[Symbol.asyncIterator]();
    let texts = 0;
    for (let i = 0; i < 10 && texts < 2; i++) if ((await it.next()).value?.type === 'text-delta') texts++;
    expect(texts).toBe(2);
    // The consumer stops reading; the router abandons the stream when totalMs fires.
    const err = await failureOf(stream.result);
    expect(err).toMatchObject({ code: 'timeout', deployment: 'only' });
    expect(circuit).toEqual([]);
    expect(adaptive.snapshot()['only']?.observations ?? 0).toBe(0);
    await router.close();
  }, 10_000);

  it('a deployment too slow for a consumer that keeps reading (totalMs while the upstream is awaited) is learned as a failure', async () => {
    const { adaptive, router, circuit } = tenWordStream(80);
    const stream = router.stream('q', { cache: false });
    stream.result.catch(() => {});
    const parts: string[] = [];
    for await (const p of stream) parts.push(p.type === 'error' ? `error:${p.error.code}` : p.type);
    expect(parts).toContain('text-delta');
    expect(parts.at(-1)).toBe('error:timeout');
    expect(circuit).toEqual(['only:closed->open']);
    expect(adaptive.snapshot()['only']?.observations).toBe(1);
    await router.close();
  }, 10_000);
});

describe('adaptive and failed calls', () => {
  it("a caller's own deadline (AbortSignal.timeout) teaches adaptive nothing, as the circuit takes no strike from it", async () => {
    const { adaptive, router, circuit } = adaptiveOnOnly({ delayMs: 2_000 });
    const err = await failureOf(router.generate('q', { cache: false, signal: AbortSignal.timeout(100) }));
    expect(err).toMatchObject({ code: 'timeout', deployment: 'only' });
    expect(circuit).toEqual([]);
    expect(adaptive.snapshot()['only']?.observations ?? 0).toBe(0);
    await router.close();
  }, 10_000);

  it('a fault of the request (invalid_request) teaches nothing; a failing deployment is learned on a failed call, each attempt once', async () => {
    const adaptive = createAdaptiveStrategy({ implicitWeight: 0.25 });
    const router = new LLMRouter(
      {
        models: [
          { name: 'picky', engine: 'mock', options: { failures: [{ code: 'invalid_request', times: 1 }] } },
          { name: 'down', engine: 'mock', options: { failures: [{ code: 'provider_unavailable', times: 2 }] } },
        ],
        routing: { strategy: 'adaptive', retries: { max: 1, initialDelayMs: 1, maxDelayMs: 1 }, circuitBreaker: { enabled: false } },
      },
      { random: seededRandom(1), strategies: { adaptive } },
    );
    await expect(router.generate('q', { cache: false, model: 'picky' })).rejects.toMatchObject({ code: 'invalid_request', deployment: 'picky' });
    expect(adaptive.snapshot()['picky']?.observations ?? 0).toBe(0);
    // Two attempts (one retry), both failing: two reward-0 observations.
    await expect(router.generate('q', { cache: false, model: 'down' })).rejects.toMatchObject({ code: 'provider_unavailable', deployment: 'down' });
    expect(adaptive.snapshot()['down']?.observations).toBe(2);
    await router.close();
  });
});

/**
 * Router overhead benchmark: what the router itself costs per decision and per call, with the mock
 * engine (no network, no model) and 10 deployments.
 *
 *   pnpm bench:router                       (from the repository root)
 *   pnpm --filter @llmrr/tools-bench bench:router
 *   ... -- --iterations 50000 --json        (more iterations; machine-readable output)
 *   ... -- --circuit-redis redis://127.0.0.1:6379   (also: generate() with circuits shared through Redis)
 *
 * For each non-learned strategy it measures, with process.hrtime.bigint() around every call after a
 * warm-up:
 *   - route():    the decision alone (candidates, ranking, fallbacks, the full explanation);
 *   - generate(): a whole routed call, minus the same mock engine called directly, i.e. the router's
 *                 overhead per call (request normalization, decision, attempt bookkeeping, stats,
 *                 cost, result).
 */
import { BUILTIN_STRATEGIES, LLMRouter, RedisCircuitStateStore, type CircuitStateStore, type GenerateRequest } from '@llmrr/core';
import { MockEngine } from '@llmrr/core/test';
import { flag, option, timeCalls, type Summary } from './bench-args.js';

const ITERATIONS = option('iterations', 20_000);
const WARMUP = option('warmup', 3_000);
const DEPLOYMENTS = 10;
const TARGET_P99_US = 100;

const measure = (fn: () => unknown): Promise<Summary> => timeCalls(fn, WARMUP, ITERATIONS);

const circuitRedisAt = process.argv.indexOf('--circuit-redis');
const CIRCUIT_REDIS_URL = circuitRedisAt >= 0 ? process.argv[circuitRedisAt + 1] : undefined;

function buildRouter(circuitStore?: CircuitStateStore): { router: LLMRouter; engine: MockEngine } {
  // One shared mock engine instance: the direct baseline calls exactly the same object.
  const engine = new MockEngine({ reply: 'The quick brown fox jumps over the lazy dog.' });
  const engines: Record<string, MockEngine> = {};
  const models = Array.from({ length: DEPLOYMENTS }, (_, i) => {
    const name = `deployment-${i}`;
    engines[name] = engine;
    return {
      name,
      engine: 'mock',
      priority: (i * 7) % DEPLOYMENTS,
      weight: 1 + (i % 3),
      quality: 0.5 + (i % 5) / 10,
      price: { input: 0.1 * (i + 1), output: 0.3 * (i + 1) },
      contextWindow: 8_000 * (1 + (i % 4)),
      limits: { maxConcurrency: 4 + i },
      ...(i % 2 === 0 ? { capabilities: ['chat', 'streaming', 'tools', 'json'] as ('chat' | 'streaming' | 'tools' | 'json')[] } : {}),
    };
  });
  let seed = 7;
  const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const router = new LLMRouter({ models, routing: { strategy: 'balanced', retries: { max: 0 } } }, { engines, random, ...(circuitStore ? { circuitStore } : {}) });
  return { router, engine };
}

async function main(): Promise<void> {
  const { router, engine } = buildRouter();
  const prompt = 'Summarize the plot of a short story about a lighthouse keeper in two sentences.';
  const request: GenerateRequest = { messages: [{ role: 'user', content: prompt }] };
  // Give every deployment some live stats (latency EWMA), as a running router would have.
  for (let i = 0; i < DEPLOYMENTS; i++) await router.generate(prompt, { model: `deployment-${i}` });

  const direct = await measure(() => engine.generate(request));
  const rows: Array<{ strategy: string; route: Summary; generate: Summary; overhead: Summary }> = [];
  // The learned strategies (intelligent, adaptive) have their own benchmark: tools/bench/routing-bench.ts.
  const LEARNED = new Set<string>(['intelligent', 'adaptive']);
  for (const strategy of BUILTIN_STRATEGIES.filter((s) => !LEARNED.has(s))) {
    const route = await measure(() => router.route(prompt, { strategy }));
    const generate = await measure(() => router.generate(prompt, { strategy }));
    const overhead = { p50: generate.p50 - direct.p50, p99: generate.p99 - direct.p99, mean: generate.mean - direct.mean };
    rows.push({ strategy, route, generate, overhead });
  }

  // Optional: the same calls with circuit state in Redis (one admission round trip per attempt).
  let shared: { generate: Summary; overhead: Summary } | undefined;
  if (CIRCUIT_REDIS_URL) {
    const store = await RedisCircuitStateStore.connect(CIRCUIT_REDIS_URL, { keyPrefix: `bench:${process.pid}:` });
    const { router: viaRedis } = buildRouter(store);
    const generate = await measure(() => viaRedis.generate(prompt, { strategy: 'priority' }));
    shared = { generate, overhead: { p50: generate.p50 - direct.p50, p99: generate.p99 - direct.p99, mean: generate.mean - direct.mean } };
    await viaRedis.close();
    await store.close();
  }

  if (flag('json')) {
    console.log(JSON.stringify({ node: process.version, iterations: ITERATIONS, warmup: WARMUP, deployments: DEPLOYMENTS, direct, rows, ...(shared ? { circuitRedis: shared } : {}) }, null, 2));
    return;
  }
  const f = (n: number) => n.toFixed(1).padStart(7);
  console.log(`Router overhead: ${DEPLOYMENTS} mock deployments, ${ITERATIONS} iterations after ${WARMUP} warm-up, Node ${process.version}`);
  console.log(`Direct mock engine generate(): p50 ${f(direct.p50)} µs  p99 ${f(direct.p99)} µs  mean ${f(direct.mean)} µs\n`);
  console.log('strategy          |   route() decision µs     |   generate() overhead µs  |  generate() total µs');
  console.log('                  |   p50     p99    mean     |   p50     p99    mean     |   p50     p99');
  console.log('------------------+---------------------------+---------------------------+-------------------');
  let worst = 0;
  for (const r of rows) {
    worst = Math.max(worst, r.route.p99);
    console.log(
      `${r.strategy.padEnd(17)} | ${f(r.route.p50)} ${f(r.route.p99)} ${f(r.route.mean)} | ${f(r.overhead.p50)} ${f(r.overhead.p99)} ${f(r.overhead.mean)} | ${f(r.generate.p50)} ${f(r.generate.p99)}`,
    );
  }
  console.log(`\nWorst route() p99: ${worst.toFixed(1)} µs (target < ${TARGET_P99_US} µs): ${worst < TARGET_P99_US ? 'met' : 'NOT met'}`);
  if (shared) {
    console.log(
      `priority, circuits in Redis (RedisCircuitStateStore): generate() overhead p50 ${f(shared.overhead.p50)} µs  p99 ${f(shared.overhead.p99)} µs  mean ${f(shared.overhead.mean)} µs`,
    );
  }
  await router.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});

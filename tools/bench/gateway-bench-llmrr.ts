/**
 * Our gateway as the benchmark runs it: one `openai-compatible` deployment pointing at the mock upstream,
 * with auth (an API key), limits (rpm, tpm, concurrency; set high so they never refuse), budget reservation
 * and settlement, the usage ledger (SQLite in a temporary data dir, the embedded default) and Prometheus
 * metrics all on, and V8's heap tuned as the gateway server tunes it (`tuneHeapForGateway`;
 * `LLMRR_HEAP_GROWING_PERCENT=0` leaves V8's default). Prints `PORT <n> KEY <secret>` when ready.
 *
 * The router calls the upstream through `createUpstreamFetch()` (undici `dispatch` on a keep-alive pool),
 * as the gateway server does; `BENCH_FETCH=global` uses the global `fetch` instead, for comparison.
 * `BENCH_STATE=off` runs without stores (no key, limits, budget or ledger): a diagnostic that leaves only
 * the HTTP path, the router and the metrics, to measure them apart from the state stores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { LLMRouter, createStateStores } from '@llmrr/core';
import { createGateway } from '@llmrr/gateway';
import * as gatewayNode from '@llmrr/gateway/node';

const { createUpstreamFetch, serveGateway } = gatewayNode;
// As the gateway server does (LLMRR_HEAP_GROWING_PERCENT, default 25; 0 = V8's default). Older sources
// measured with --compare-packages have no tuneHeapForGateway: they get the same setting, so a comparison
// shows what the code changed.
const heapPercent = process.env.LLMRR_HEAP_GROWING_PERCENT ? Number(process.env.LLMRR_HEAP_GROWING_PERCENT) : undefined;
const tune = (gatewayNode as { tuneHeapForGateway?: (percent?: number) => number }).tuneHeapForGateway;
if (tune) tune(heapPercent);
else if ((heapPercent ?? 25) > 0) setFlagsFromString(`--heap-growing-percent=${heapPercent ?? 25}`);
const upstream = process.env.UPSTREAM_URL;
if (!upstream) throw new Error('UPSTREAM_URL is required');
const dataDir = mkdtempSync(join(tmpdir(), 'llmrr-bench-'));
const upstreamFetch = process.env.BENCH_FETCH === 'global' ? undefined : createUpstreamFetch();
const router = new LLMRouter(
  {
    models: [{ name: 'bench', engine: 'openai-compatible', baseURL: `${upstream}/v1`, apiKey: 'sk-bench', model: 'bench-model', price: { input: 0.15, output: 0.6 } }],
    routing: { strategy: 'priority' },
  },
  upstreamFetch ? { fetch: upstreamFetch } : {},
);
const stateOff = process.env.BENCH_STATE === 'off';
const stores = await createStateStores({ mode: 'embedded', dataDir });
await stores.tenants.createTenant({
  id: 'bench',
  name: 'Benchmark tenant',
  limits: { rpm: 100_000_000, tpm: 2_000_000_000, maxConcurrency: 100_000 },
  budget: { amountUsd: 1_000_000_000, period: 'total' },
});
const { secret } = await stores.tenants.createKey('bench', { name: 'bench' });
const gateway = createGateway({ router, ...(stateOff ? {} : { stores }), log: (e) => e.level === 'error' && console.error(e.message, e.error) });
const served = await serveGateway(gateway, { port: Number(process.env.PORT ?? 0) });
console.log(`PORT ${served.port} KEY ${secret}`);
if (process.env.BENCH_MEMORY_LOG) {
  // Heap vs the rest, to see what grows (stderr, so the PORT line stays the only stdout line).
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  setInterval(() => {
    // With --expose-gc, collect first: the heap then shows what is live, not what is waiting for a GC.
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const spaces = getHeapSpaceStatistics()
      .filter((s) => s.space_size > 0)
      .map((s) => `${s.space_name.replace('_space', '')} ${mb(s.space_size)}/${mb(s.space_used_size)}`)
      .join(', ');
    console.error(`memory MB: rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} (spaces size/used: ${spaces})`);
  }, Number(process.env.BENCH_MEMORY_LOG) || 5000).unref();
}
// Time spent in garbage collection (main thread pauses), printed to stderr on exit (gateway-bench-rss.ts reads it).
let gcMs = 0;
let gcCount = 0;
if (process.env.BENCH_GC_LOG) {
  const { PerformanceObserver } = await import('node:perf_hooks');
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcCount++;
    }
  }).observe({ entryTypes: ['gc'] });
}
process.on('SIGTERM', async () => {
  if (process.env.BENCH_GC_LOG) console.error(`GC ${gcMs.toFixed(1)} ms in ${gcCount} pauses`);
  await served.close(2000);
  await router.close();
  await upstreamFetch?.close();
  await stores.close();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
});

/**
 * Semantic cache benchmark: lookup latency at 100,000 entries (excluding the embedding), recall of the ANN
 * index against exact search, insert latency, memory per entry, and the exact-scan cost by size (which
 * sets `annAbove`). Vectors are synthetic: 512-d unit vectors in 2,000 clusters (USE-lite's size;
 * embedding 100,000 real texts on this machine would take ~40 minutes). Say so when quoting the numbers.
 *
 * Then predictive caching on a synthetic replayed trace (no real request-sequence trace is available):
 * hit rate with and without prefetching, and the prefetch calls it cost.
 *
 *   pnpm --filter @llmrr/tools-bench bench:cache [-- --entries 100000 --json --only index|predictive]
 */
import { parseArgs } from 'node:util';
import {
  annReady,
  FlatIndex,
  makeUsage,
  MemorySemanticStore,
  replayTrace,
  SemanticCache,
  semanticNamespace,
  syntheticTrace,
  type Embedder,
  type ReplayResult,
  type SemanticEntry,
} from '@llmrr/core';

// `pnpm --filter @llmrr/tools-bench bench:cache -- --json` passes the `--` through: skip it.
const argv = process.argv.slice(2);
const { values } = parseArgs({ args: argv[0] === '--' ? argv.slice(1) : argv, options: { entries: { type: 'string' }, queries: { type: 'string' }, json: { type: 'boolean' }, only: { type: 'string' } } });
if (values.only !== undefined && values.only !== 'index' && values.only !== 'predictive') throw new Error('--only expects index or predictive');
const N = Number(values.entries ?? 100_000);
const Q = Number(values.queries ?? 1_000);
const D = 512;

let seed = 42;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}
const centres = Array.from({ length: 2_000 }, () => unit(Float32Array.from({ length: D }, rand)));
/** A point near a centre (cosine to it ~0.7), like paraphrases and related questions around a topic. */
function near(base: Float32Array, noise: number, r: () => number = rand): Float32Array {
  return unit(Float32Array.from(base, (x) => x + noise * r()));
}
/** Entry i's vector, regenerated on demand (so the benchmark itself holds no copy while memory is measured). */
function entryVector(i: number): Float32Array {
  let s = (Math.imul(i + 1, 2654435761) ^ 0x9e3779b9) >>> 0;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return near(centres[i % centres.length]!, 0.05, r);
}
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const ms = (x: number) => x.toFixed(3);
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  const m = process.memoryUsage();
  return m.rss;
};

/** The bench never embeds: every lookup passes its vector. */
const noEmbedder: Embedder = { id: 'synthetic-512', embed: () => Promise.reject(new Error('the benchmark passes vectors')) };

const log = (s: string) => {
  if (!values.json) console.log(s);
};

async function indexBench(): Promise<Record<string, unknown>> {
  // 1. Exact scan cost by size (one core).
  const scan: Array<{ entries: number; p50_ms: number; p99_ms: number }> = [];
  for (const size of [256, 1_024, 4_096, 16_384]) {
    const idx = new FlatIndex(D, size);
    for (let i = 0; i < size; i++) idx.add(i, near(centres[i % centres.length]!, 0.05));
    const t: number[] = [];
    for (let q = 0; q < 200; q++) {
      const v = near(centres[q]!, 0.05);
      const t0 = performance.now();
      idx.search(v, 1);
      t.push(performance.now() - t0);
    }
    t.sort((a, b) => a - b);
    scan.push({ entries: size, p50_ms: percentile(t, 50), p99_ms: percentile(t, 99) });
  }
  log('exact scan (FlatIndex) by size:');
  for (const s of scan) log(`  ${String(s.entries).padStart(6)} entries: p50 ${ms(s.p50_ms)} ms, p99 ${ms(s.p99_ms)} ms`);
  
  // 2. Fill a cache with N entries in one namespace (the worst case: one tenant, one model set).
  const usearch = await annReady();
  if (!usearch) log('usearch is not installed: the index stays exact (expect slow lookups at this size)');
  const rssBefore = heap();
  const store = new MemorySemanticStore({ maxEntries: N + 1_000 });
  // The default selection (hybrid re-ranking of the 8 nearest + ambiguity margin) and plain cosine (1 nearest), same store.
  const cache = new SemanticCache({ config: { enabled: true, maxEntries: N + 1_000 }, embedder: noEmbedder, store });
  const plain = new SemanticCache({ config: { enabled: true, scoring: 'cosine', minMargin: 0, maxEntries: N + 1_000 }, embedder: noEmbedder, store });
  const scope = { tenant: 'bench', models: ['m'] };
  /** Questions of ~130 characters (the paraphrase data's origins average ~125), so the lexical re-ranking costs what it would. */
  const prompt = (i: number) => `Question ${i}: how do I configure the ${['cache', 'router', 'gateway', 'tenant'][i % 4]} so that repeated requests from user ${i % 97} are answered quickly?`;
  const request = (i: number) => ({ messages: [{ role: 'user' as const, content: prompt(i) }], temperature: 0 });
  const namespace = await semanticNamespace(request(0), scope, noEmbedder.id);
  const answer = (i: number) => ({
    text: `A typical cached answer of about one hundred characters, number ${i}, as a short reply would be.`,
    toolCalls: [],
    finishReason: 'stop' as const,
    usage: makeUsage(20, 25),
    deployment: 'm',
    model: 'model-id',
    provider: 'mock',
    createdAt: 0,
  });
  const t0 = performance.now();
  for (let start = 0; start < N; start += 10_000) {
    const batch: SemanticEntry[] = [];
    for (let i = start; i < Math.min(N, start + 10_000); i++) {
      const v = entryVector(i);
      batch.push({ namespace, tenant: 'bench', prompt: prompt(i), vector: v, answer: answer(i), expiresAt: Date.now() + 3_600_000 });
    }
    await store.addMany(batch);
  }
  const buildMs = performance.now() - t0;
  const rssAfter = heap();
  const bytesPerEntry = (rssAfter - rssBefore) / N;
  log(`\n${N} entries (${store.indexKind(namespace)} index) built in ${(buildMs / 1000).toFixed(1)} s (bulk load); memory ~${(bytesPerEntry / 1024).toFixed(2)} KiB per entry (RSS delta${gc ? ', after GC' : ''})`);
  
  // 3. Lookups through SemanticCache (scope hash + search + answer copy), vector given.
  const exact = new FlatIndex(D, N);
  for (let i = 0; i < N; i++) exact.add(i, entryVector(i));
  let agree = 0;
  let checked = 0;
  for (let q = 0; q < 200; q++) {
    const v = near(entryVector((q * 7919) % N), 0.02);
    const hit = await plain.lookup(request(q), scope, { embedding: v, threshold: 0 });
    checked++;
    const best = exact.search(v, 1)[0]!;
    if (hit && Math.abs(hit.score - best.score) < 1e-5) agree++;
  }
  const queries = Array.from({ length: Q }, (_, q) => near(entryVector((q * 104729) % N), 0.02));
  gc?.();
  /** Wall time, CPU time of the process (what the lookup costs without waiting for a core on a shared machine), search share. */
  const measure = async (c: SemanticCache) => {
    const lat: number[] = [];
    const searchLat: number[] = [];
    const cpu: number[] = [];
    for (let q = 0; q < Q; q++) {
      const timings: { searchMs?: number } = {};
      const c1 = process.cpuUsage();
      const t1 = performance.now();
      await c.lookup(request(q + 1), scope, { embedding: queries[q]!, threshold: 0, timings });
      lat.push(performance.now() - t1);
      const u = process.cpuUsage(c1);
      cpu.push((u.user + u.system) / 1000);
      searchLat.push(timings.searchMs ?? 0);
    }
    for (const a of [lat, searchLat, cpu]) a.sort((x, y) => x - y);
    return { lat, searchLat, cpu };
  };
  // Alternate the two rules in rounds, so load from other work falls on both alike.
  const runs = { hybrid: [] as Awaited<ReturnType<typeof measure>>[], plain: [] as Awaited<ReturnType<typeof measure>>[] };
  for (let round = 0; round < 2; round++) {
    runs.plain.push(await measure(plain));
    runs.hybrid.push(await measure(cache));
  }
  const merged = (list: Awaited<ReturnType<typeof measure>>[]) => {
    const m = { lat: list.flatMap((r) => r.lat), searchLat: list.flatMap((r) => r.searchLat), cpu: list.flatMap((r) => r.cpu) };
    for (const a of [m.lat, m.searchLat, m.cpu]) a.sort((x, y) => x - y);
    return m;
  };
  const { lat, searchLat, cpu } = merged(runs.hybrid);
  const base = merged(runs.plain);
  log(`lookup (without embedding), default selection (hybrid over 8 nearest + margin), ${2 * Q} queries: p50 ${ms(percentile(lat, 50))} ms, p99 ${ms(percentile(lat, 99))} ms, max ${ms(lat.at(-1)!)} ms`);
  log(`  CPU time per lookup: p50 ${ms(percentile(cpu, 50))} ms, p99 ${ms(percentile(cpu, 99))} ms (wall time above includes waiting for a core)`);
  log(`  of which the store search + re-ranking: p50 ${ms(percentile(searchLat, 50))} ms, p99 ${ms(percentile(searchLat, 99))} ms`);
  log(`plain cosine (1 nearest), same store and queries: p50 ${ms(percentile(base.lat, 50))} ms, p99 ${ms(percentile(base.lat, 99))} ms; CPU p50 ${ms(percentile(base.cpu, 50))} ms, p99 ${ms(percentile(base.cpu, 99))} ms`);
  log(`recall@1 against exact search: ${agree}/${checked}`);
  
  // 4. Single inserts into the full index (what each stored answer costs).
  const ins: number[] = [];
  for (let i = 0; i < 100; i++) {
    const v = near(centres[i]!, 0.05);
    const t1 = performance.now();
    await store.add({ namespace, tenant: 'bench', prompt: `extra ${i}`, vector: v, answer: answer(i), expiresAt: Date.now() + 3_600_000 });
    ins.push(performance.now() - t1);
  }
  ins.sort((a, b) => a - b);
  log(`single insert at ${N}: p50 ${ms(percentile(ins, 50))} ms, p99 ${ms(percentile(ins, 99))} ms`);
  return {
    entries: N,
    dimensions: D,
    index: store.indexKind(namespace),
    build_ms: buildMs,
    bytes_per_entry: bytesPerEntry,
    lookup_p50_ms: percentile(lat, 50),
    lookup_p99_ms: percentile(lat, 99),
    lookup_cpu_p50_ms: percentile(cpu, 50),
    lookup_cpu_p99_ms: percentile(cpu, 99),
    search_p50_ms: percentile(searchLat, 50),
    search_p99_ms: percentile(searchLat, 99),
    plain_cosine_lookup_p50_ms: percentile(base.lat, 50),
    plain_cosine_lookup_p99_ms: percentile(base.lat, 99),
    plain_cosine_lookup_cpu_p50_ms: percentile(base.cpu, 50),
    plain_cosine_lookup_cpu_p99_ms: percentile(base.cpu, 99),
    recall_at_1: agree / checked,
    insert_p50_ms: percentile(ins, 50),
    insert_p99_ms: percentile(ins, 99),
    exact_scan: scan,
  };
}

/** "topic N wording W" -> near topic N's direction (wordings of one topic: cosine ~0.97). */
const topicEmbedder: Embedder = {
  id: 'topic',
  embed: async (texts) =>
    texts.map((t) => {
      const [, topic, wording] = /topic (\d+) wording (\d+)/.exec(t) ?? ['', '0', '0'];
      let a = Number(topic) * 7919 + 1;
      let b = Number(wording) * 104729 + 7;
      const r = () => ((a = (Math.imul(a, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
      const n = () => ((b = (Math.imul(b, 22695477) + 1) >>> 0) / 2 ** 32) * 2 - 1;
      return unit(Float32Array.from({ length: 64 }, () => r() + 0.15 * n()));
    }),
};

async function predictiveBench(): Promise<Record<string, unknown>> {
  const rows: Array<{ ttl_min: number; budget: string; result: ReplayResult }> = [];
  const trace = syntheticTrace({ users: 20, requestsPerUser: 40, topics: 60, variants: 3, follow: 0.8, gapMs: 120_000, seed: 7 });
  for (const ttlMs of [300_000, 1_800_000]) {
    rows.push({ ttl_min: ttlMs / 60_000, budget: 'none (no prefetch)', result: await replayTrace({ trace, embedder: topicEmbedder, ttlMs }) });
    for (const maxCalls of [30, 1_000]) {
      rows.push({ ttl_min: ttlMs / 60_000, budget: `${maxCalls}/h`, result: await replayTrace({ trace, embedder: topicEmbedder, ttlMs, budget: { maxCalls, windowMs: 3_600_000 } }) });
    }
  }
  log(`\npredictive caching, synthetic trace (${trace.length} requests: 20 users x 40, 60 topics x 3 wordings, usual successor 80%, one request per 1-3 min):`);
  log('  ttl    prefetch budget       hit rate   model calls (live + prefetch)');
  for (const r of rows) {
    log(`  ${String(r.ttl_min).padStart(2)} min ${r.budget.padEnd(20)} ${(r.result.hitRate * 100).toFixed(1).padStart(6)}%   ${r.result.modelCalls} (${r.result.modelCalls - r.result.prefetchCalls} + ${r.result.prefetchCalls})`);
  }
  return { predictive: rows };
}

const out: Record<string, unknown> = {};
if (values.only !== 'predictive') Object.assign(out, await indexBench());
if (values.only !== 'index') Object.assign(out, await predictiveBench());
if (values.json) console.log(JSON.stringify(out, null, 2));

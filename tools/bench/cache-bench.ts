/**
 * Semantic cache benchmark: lookup latency at 100,000 entries (excluding the embedding), recall of the ANN
 * index against exact search, insert latency, memory per entry, and the exact-scan cost by size (which
 * sets `annAbove`). Vectors are synthetic: 512-d unit vectors in 2,000 clusters (USE-lite's size;
 * embedding 100,000 real texts on this machine would take ~40 minutes). Say so when quoting the numbers.
 *
 *   pnpm --filter @llmrr/tools-bench bench:cache [-- --entries 100000 --json]
 */
import { parseArgs } from 'node:util';
import { annReady, FlatIndex, makeUsage, MemorySemanticStore, SemanticCache, semanticNamespace, type Embedder, type SemanticEntry } from '@llmrr/core';

const { values } = parseArgs({ options: { entries: { type: 'string' }, queries: { type: 'string' }, json: { type: 'boolean' } } });
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
function near(base: Float32Array, noise: number): Float32Array {
  return unit(Float32Array.from(base, (x) => x + noise * rand()));
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
const cache = new SemanticCache({ config: { enabled: true, threshold: 0.85, guardAbove: 0.85, maxEntries: N + 1_000 }, embedder: noEmbedder, store });
const scope = { tenant: 'bench', models: ['m'] };
const request = (i: number) => ({ messages: [{ role: 'user' as const, content: `question ${i}` }], temperature: 0 });
const namespace = await semanticNamespace(request(0), scope, noEmbedder.id);
const vectors: Float32Array[] = [];
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
    const v = near(centres[i % centres.length]!, 0.05);
    vectors.push(v);
    batch.push({ namespace, tenant: 'bench', prompt: `question ${i}`, vector: v, answer: answer(i), expiresAt: Date.now() + 3_600_000 });
  }
  await store.addMany(batch);
}
const buildMs = performance.now() - t0;
const rssAfter = heap();
const bytesPerEntry = (rssAfter - rssBefore) / N;
log(`\n${N} entries (${store.indexKind(namespace)} index) built in ${(buildMs / 1000).toFixed(1)} s (bulk load); memory ~${(bytesPerEntry / 1024).toFixed(2)} KiB per entry (RSS delta${gc ? ', after GC' : ''})`);

// 3. Lookups through SemanticCache (scope hash + search + answer copy), vector given.
const exact = new FlatIndex(D, N);
vectors.forEach((v, i) => exact.add(i, v));
const lat: number[] = [];
let agree = 0;
let checked = 0;
for (let q = 0; q < Q; q++) {
  const target = (q * 7919) % N;
  const v = near(vectors[target]!, 0.02);
  const t1 = performance.now();
  const hit = await cache.lookup(request(target), scope, { embedding: v, threshold: 0 });
  lat.push(performance.now() - t1);
  if (q < 200) {
    checked++;
    const best = exact.search(v, 1)[0]!;
    if (hit && Math.abs(hit.score - best.score) < 1e-5) agree++;
  }
}
lat.sort((a, b) => a - b);
log(`lookup (without embedding), ${Q} queries: p50 ${ms(percentile(lat, 50))} ms, p99 ${ms(percentile(lat, 99))} ms, max ${ms(lat.at(-1)!)} ms`);
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

if (values.json) {
  console.log(
    JSON.stringify(
      {
        entries: N,
        dimensions: D,
        index: store.indexKind(namespace),
        build_ms: buildMs,
        bytes_per_entry: bytesPerEntry,
        lookup_p50_ms: percentile(lat, 50),
        lookup_p99_ms: percentile(lat, 99),
        recall_at_1: agree / checked,
        insert_p50_ms: percentile(ins, 50),
        insert_p99_ms: percentile(ins, 99),
        exact_scan: scan,
      },
      null,
      2,
    ),
  );
}

import type { Embedder } from '../embeddings/embedder.js';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { MemorySemanticStore } from './memory-semantic-store.js';
import { SemanticCache } from './semantic-cache.js';

export interface ParaphrasePair {
  origin: string;
  similar: string;
}

export interface ThresholdCounts {
  threshold: number;
  /** Paraphrase queries: hit on their own origin / hit on another origin / miss. */
  correct: number;
  wrong: number;
  misses: number;
  /** Unrelated queries that hit anything (each is a wrong hit) and that missed. */
  unrelatedWrong: number;
  unrelatedMisses: number;
  /** correct / paraphrase queries. */
  correctRate: number;
  /** (wrong + unrelatedWrong) / all queries. */
  wrongRate: number;
}

export interface ParaphraseEvalReport {
  embedder: string;
  pairs: number;
  /** Distinct origins stored (duplicated origins are one entry; a hit on it is correct for each of its pairs). */
  stored: number;
  unrelated: number;
  thresholds: ThresholdCounts[];
  /** Lookup latency excluding the embedding (scope hash + vector search + answer read), over all queries. */
  p50_ms: number;
  p99_ms: number;
  /** Embedding time: total and per text, batched as the cache batches it. */
  embed_ms_total: number;
  embed_ms_per_text: number;
  texts_embedded: number;
  /** The highest-scoring wrong hits (paraphrase matched another origin, or an unrelated prompt matched), when asked for. */
  wrong_examples?: Array<{ query: string; expected?: string; matched: string; score: number }>;
}

export interface ParaphraseEvalOptions {
  pairs: readonly ParaphrasePair[];
  /** Prompts that are about something else: any hit on them is wrong. */
  unrelated: readonly string[];
  embedder: Embedder;
  thresholds?: readonly number[];
  /** Texts per embedder call. Default 64. */
  batchSize?: number;
  /** How many of the best-scoring wrong hits to list in the report. Default 0. */
  examples?: number;
  /** Progress lines (embedding is the slow part). */
  onProgress?: (message: string) => void;
}

export const DEFAULT_EVAL_THRESHOLDS = [0.7, 0.75, 0.8, 0.85, 0.9, 0.95] as const;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * The GPTCache paraphrase benchmark through the real `SemanticCache` (memory store): store every
 * distinct `origin` with a distinct answer, query every `similar` and every unrelated prompt, and count
 * per threshold. One lookup per query at threshold 0 gives the best match and its score; each threshold
 * then classifies the same matches (identical to separate runs, since the best match does not depend on it).
 */
export async function evaluateParaphrases(options: ParaphraseEvalOptions): Promise<ParaphraseEvalReport> {
  const thresholds = options.thresholds ?? DEFAULT_EVAL_THRESHOLDS;
  const batch = options.batchSize ?? 64;
  const originIndex = new Map<string, number>();
  for (const p of options.pairs) if (!originIndex.has(p.origin)) originIndex.set(p.origin, originIndex.size);
  const origins = [...originIndex.keys()];

  let embedMs = 0;
  let texts = 0;
  const embedAll = async (list: readonly string[], label: string): Promise<Float32Array[]> => {
    const out: Float32Array[] = [];
    for (let i = 0; i < list.length; i += batch) {
      const chunk = list.slice(i, i + batch);
      const t0 = performance.now();
      out.push(...(await options.embedder.embed(chunk)));
      embedMs += performance.now() - t0;
      texts += chunk.length;
      options.onProgress?.(`embedding ${label}: ${Math.min(i + batch, list.length)}/${list.length}`);
    }
    return out;
  };

  const cache = new SemanticCache({
    config: { enabled: true, threshold: 0, guardAbove: 0, maxEntries: Math.max(1, origins.length) },
    embedder: options.embedder,
    store: new MemorySemanticStore({ maxEntries: Math.max(1, origins.length) }),
  });
  const scope = { tenant: 'eval', models: ['eval'] };
  const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature: 0 });

  const originVectors = await embedAll(origins, 'origins');
  for (let i = 0; i < origins.length; i++) {
    await cache.store(
      ask(origins[i]!),
      scope,
      { text: `answer#${i}`, toolCalls: [], finishReason: 'stop', usage: makeUsage(0, 0), deployment: 'eval', model: 'eval', provider: 'eval' },
      { embedding: originVectors[i]! },
    );
  }

  const latencies: number[] = [];
  const lookup = async (text: string, vector: Float32Array): Promise<{ score: number; answer: number; matched: string } | undefined> => {
    const t0 = performance.now();
    const hit = await cache.lookup(ask(text), scope, { embedding: vector, threshold: 0 });
    latencies.push(performance.now() - t0);
    return hit ? { score: hit.score, answer: Number(hit.answer.text.slice('answer#'.length)), matched: hit.cachedQuestion } : undefined;
  };

  const similarVectors = await embedAll(options.pairs.map((p) => p.similar), 'paraphrases');
  const similarHits: Array<{ hit: { score: number; answer: number; matched: string } | undefined; expected: number }> = [];
  for (let i = 0; i < options.pairs.length; i++) {
    const hit = await lookup(options.pairs[i]!.similar, similarVectors[i]!);
    similarHits.push({ hit, expected: originIndex.get(options.pairs[i]!.origin)! });
  }
  const unrelatedVectors = await embedAll(options.unrelated, 'unrelated prompts');
  const unrelatedScores: number[] = [];
  const wrongExamples: NonNullable<ParaphraseEvalReport['wrong_examples']> = [];
  for (let i = 0; i < options.unrelated.length; i++) {
    const hit = await lookup(options.unrelated[i]!, unrelatedVectors[i]!);
    unrelatedScores.push(hit?.score ?? -Infinity);
    if (hit) wrongExamples.push({ query: options.unrelated[i]!, matched: hit.matched, score: hit.score });
  }
  similarHits.forEach(({ hit, expected }, i) => {
    if (hit && hit.answer !== expected) wrongExamples.push({ query: options.pairs[i]!.similar, expected: origins[expected]!, matched: hit.matched, score: hit.score });
  });
  wrongExamples.sort((a, b) => b.score - a.score);

  const total = options.pairs.length + options.unrelated.length;
  const rows: ThresholdCounts[] = thresholds.map((threshold) => {
    let correct = 0;
    let wrong = 0;
    for (const { hit, expected } of similarHits) {
      if (!hit || hit.score < threshold) continue;
      if (hit.answer === expected) correct++;
      else wrong++;
    }
    const unrelatedWrong = unrelatedScores.filter((s) => s >= threshold).length;
    return {
      threshold,
      correct,
      wrong,
      misses: options.pairs.length - correct - wrong,
      unrelatedWrong,
      unrelatedMisses: options.unrelated.length - unrelatedWrong,
      correctRate: options.pairs.length ? correct / options.pairs.length : 0,
      wrongRate: total ? (wrong + unrelatedWrong) / total : 0,
    };
  });
  latencies.sort((a, b) => a - b);
  await cache.backend.close(); // not cache.close(): the embedder is the caller's
  return {
    embedder: options.embedder.id,
    pairs: options.pairs.length,
    stored: origins.length,
    unrelated: options.unrelated.length,
    thresholds: rows,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    embed_ms_total: embedMs,
    embed_ms_per_text: texts ? embedMs / texts : 0,
    texts_embedded: texts,
    ...(options.examples ? { wrong_examples: wrongExamples.slice(0, options.examples) } : {}),
  };
}

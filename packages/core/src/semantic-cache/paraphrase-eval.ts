import type { SemanticCacheConfigInput } from '../config/schema.js';
import type { Embedder } from '../embeddings/embedder.js';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { diceOf, sameText, trigramDice, trigrams } from './lexical-similarity.js';
import { MemorySemanticStore } from './memory-semantic-store.js';
import { proseAgreement } from './prose-agreement.js';
import { countAt, crossValidate, decideAll, foldsOf, type CrossValidationRow, type EvalQuery, type QueryDecision } from './paraphrase-cv.js';
import { embedderReading, embeddingInput, type EvalLookupOptions, parseSemanticCacheConfig, SemanticCache, sameUnknownText, type SemanticLookupDetails, unknownText } from './semantic-cache.js';

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
  /** wrong / paraphrase queries (the target's measure: at most 2%). */
  wrongPairRate: number;
  /** (wrong + unrelatedWrong) / all queries. */
  wrongRate: number;
}

/** The selection rule measured: what `SemanticCache.lookup` does with these settings. */
export interface EvalSelection {
  scoring: 'hybrid' | 'cosine';
  lexicalWeight: number;
  minMargin: number;
  candidates: number;
}

export interface WrongHitAnalysis {
  rule: 'cosine' | 'configured';
  threshold: number;
  wrong: number;
  /** Wrong hits whose matched origin has the same text as the expected one after lower-casing and whitespace. */
  exactDuplicateOrigin: number;
  /** Wrong hits whose matched origin is a near-duplicate of the expected one (character-trigram Dice >= 0.8). */
  nearDuplicateOrigin: number;
}

export interface ParaphraseEvalReport {
  embedder: string;
  pairs: number;
  /** Distinct origins stored (duplicated origins are one entry; a hit on it is correct for each of its pairs). */
  stored: number;
  unrelated: number;
  /** Distinct origins that have another origin with character-trigram Dice >= 0.8 (near-duplicates in the data). */
  origins_with_near_duplicate: number;
  /** Plain cosine: the nearest stored question, no ambiguity rule (the baseline). */
  baseline: ThresholdCounts[];
  /** The configured selection (`selection`), through `SemanticCache.lookup`: what the cache serves. */
  thresholds: ThresholdCounts[];
  selection: EvalSelection;
  /** Held-out counts of choosing lexicalWeight and minMargin by k-fold cross-validation (folds by origin). */
  cross_validation?: {
    folds: number;
    wrong_budget: number;
    lexical_weights: number[];
    min_margins: number[];
    rows: CrossValidationRow[];
  };
  wrong_hit_analysis: WrongHitAnalysis[];
  /** Queries where re-deciding from the lookup's candidates with `selectMatch` disagreed with the lookup (expect 0). */
  consistency_mismatches: number;
  /** Lookup latency excluding the embedding (scope hash + vector search + re-ranking + answer read), over all queries. */
  p50_ms: number;
  p99_ms: number;
  /** Embedding time: total and per text, batched as the cache batches it. */
  embed_ms_total: number;
  embed_ms_per_text: number;
  texts_embedded: number;
  /** The highest-scoring wrong hits of the configured rule, when asked for. */
  wrong_examples?: Array<{ query: string; expected?: string; matched: string; score: number; origins_dice?: number }>;
}

export interface ParaphraseEvalOptions {
  pairs: readonly ParaphrasePair[];
  /** Prompts that are about something else: any hit on them is wrong. */
  unrelated: readonly string[];
  embedder: Embedder;
  thresholds?: readonly number[];
  /** The selection settings to measure (`cache.semantic` fields; defaults as in the config). */
  selection?: Pick<SemanticCacheConfigInput, 'scoring' | 'lexicalWeight' | 'minMargin' | 'candidates'>;
  /** Folds for the cross-validation (0: none). Default 10. */
  folds?: number;
  /** Most (wrong + unrelated hits) per training paraphrase a cross-validated choice may make. Default 0.015. */
  wrongBudget?: number;
  /** Threshold of the wrong-hit analysis. Default: the config's default threshold. */
  analysisThreshold?: number;
  /** Texts per embedder call. Default 64. */
  batchSize?: number;
  /** How many of the best-scoring wrong hits to list in the report. Default 0. */
  examples?: number;
  /** Progress lines (embedding is the slow part). */
  onProgress?: (message: string) => void;
}

export const DEFAULT_EVAL_THRESHOLDS = [0.7, 0.75, 0.8, 0.85, 0.9, 0.95] as const;
export const CV_LEXICAL_WEIGHTS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6] as const;
export const CV_MIN_MARGINS = [0, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03] as const;
/** Two origins at least this similar in character trigrams count as near-duplicates. */
export const NEAR_DUPLICATE_DICE = 0.8;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function rows(queries: readonly EvalQuery[], decisions: ReadonlyArray<QueryDecision | undefined>, thresholds: readonly number[]): ThresholdCounts[] {
  const pairs = queries.filter((q) => q.expected !== undefined).length;
  const unrelated = queries.length - pairs;
  return thresholds.map((threshold) => {
    const c = countAt(queries, decisions, threshold);
    return {
      threshold,
      correct: c.correct,
      wrong: c.wrong,
      misses: pairs - c.correct - c.wrong,
      unrelatedWrong: c.unrelatedWrong,
      unrelatedMisses: unrelated - c.unrelatedWrong,
      correctRate: pairs ? c.correct / pairs : 0,
      wrongPairRate: pairs ? c.wrong / pairs : 0,
      wrongRate: queries.length ? (c.wrong + c.unrelatedWrong) / queries.length : 0,
    };
  });
}

/**
 * The GPTCache paraphrase benchmark through the real `SemanticCache` (memory store): store every
 * distinct `origin` with a distinct answer, query every `similar` and every unrelated prompt, and count
 * per threshold, for plain cosine (baseline) and for the configured selection (what `lookup` serves).
 * One lookup per query at threshold 0 records the candidates and the decision; each threshold then
 * classifies the same decisions (the choice and the ambiguity rule do not depend on the threshold).
 * The cross-validation re-decides from the same candidates with the same `selectMatch` for other
 * settings, choosing them on k-1 folds (grouped by origin) and counting on the held-out fold.
 */
export async function evaluateParaphrases(options: ParaphraseEvalOptions): Promise<ParaphraseEvalReport> {
  const thresholds = options.thresholds ?? DEFAULT_EVAL_THRESHOLDS;
  const batch = options.batchSize ?? 64;
  const defaults = parseSemanticCacheConfig({});
  const config = parseSemanticCacheConfig({ enabled: true, threshold: 0, ...options.selection });
  const selection: EvalSelection = { scoring: config.scoring, lexicalWeight: config.lexicalWeight, minMargin: config.minMargin, candidates: config.candidates };
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
      out.push(...(await options.embedder.embed(chunk.map(embeddingInput))));
      embedMs += performance.now() - t0;
      texts += chunk.length;
      options.onProgress?.(`embedding ${label}: ${Math.min(i + batch, list.length)}/${list.length}`);
    }
    return out;
  };

  const cache = new SemanticCache({
    config: { ...config, maxEntries: Math.max(1, origins.length) },
    embedder: options.embedder,
    store: new MemorySemanticStore({ maxEntries: Math.max(1, origins.length) }),
  });
  const scope = { tenant: 'eval', models: ['eval'] };
  const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature: 0 });
  const entryOf = (text: string) => Number(text.slice('answer#'.length));

  const originVectors = await embedAll(origins, 'origins');
  for (let i = 0; i < origins.length; i++) {
    await cache.store(
      ask(origins[i]!),
      scope,
      { text: `answer#${i}`, toolCalls: [], finishReason: 'stop', usage: makeUsage(0, 0), deployment: 'eval', model: 'eval', provider: 'eval' },
      { embedding: originVectors[i]! },
    );
  }

  const folds = options.folds ?? 10;
  const originFold = foldsOf(origins.length, Math.max(1, folds));
  const latencies: number[] = [];
  const queries: EvalQuery[] = [];
  const served: Array<QueryDecision | undefined> = [];
  const lookup = async (text: string, vector: Float32Array, expected: number | undefined, fold: number): Promise<void> => {
    const details: SemanticLookupDetails = {};
    const t0 = performance.now();
    // The prose rule (`proseAgreement`) at the default threshold in every row: exact for that row.
    const evalOptions: EvalLookupOptions = { embedding: vector, threshold: 0, proseThreshold: defaults.threshold, details };
    const hit = await cache.lookup(ask(text), scope, evalOptions);
    latencies.push(performance.now() - t0);
    const q = trigrams(text);
    // The unknown-text rule as the lookup applied it (`sameUnknownText`), kept for the re-decisions.
    const unknown = embedderReading(options.embedder, text) ?? { runs: [] };
    const prose = await proseAgreement(options.embedder, text, (details.candidates ?? []).filter((r) => r.cosine >= defaults.threshold).map((r) => r.candidate.prompt), defaults.threshold);
    const candidates = (details.candidates ?? []).map((r) => ({
      score: r.cosine,
      prompt: r.candidate.prompt,
      entry: entryOf(r.candidate.answer.text),
      lexical: r.lexical ?? diceOf(q, trigrams(r.candidate.prompt)),
      // With the prose rule, as the lookup applied it.
      sameUnknown: (prose?.(r.candidate.prompt) ?? true) && sameUnknownText(unknown, unknownText(options.embedder, r.candidate.prompt), { asked: text, stored: r.candidate.prompt }),
    }));
    queries.push({ question: text, candidates, expected, fold });
    served.push(hit ? { entry: entryOf(hit.answer.text), cosine: hit.score } : undefined);
  };

  const similarVectors = await embedAll(options.pairs.map((p) => p.similar), 'paraphrases');
  for (let i = 0; i < options.pairs.length; i++) {
    const expected = originIndex.get(options.pairs[i]!.origin)!;
    await lookup(options.pairs[i]!.similar, similarVectors[i]!, expected, originFold[expected]!);
  }
  const unrelatedVectors = await embedAll(options.unrelated, 'unrelated prompts');
  for (let i = 0; i < options.unrelated.length; i++) await lookup(options.unrelated[i]!, unrelatedVectors[i]!, undefined, i % Math.max(1, folds));
  await cache.backend.close(); // not cache.close(): the embedder is the caller's

  // The baseline: the nearest by cosine, no ambiguity rule, no number rule, no negation rule, no unknown-text rule.
  const baseline = decideAll(queries, { lexicalWeight: 0, minMargin: 0, numbers: false, negation: false, unknown: false });
  // Consistency: the lookup's decisions equal selectMatch's on the recorded candidates.
  const w = selection.scoring === 'hybrid' ? selection.lexicalWeight : 0;
  const redecided = decideAll(queries, { lexicalWeight: w, minMargin: selection.minMargin });
  const consistency = redecided.filter((d, i) => (d && d.cosine >= 0 ? d.entry : undefined) !== served[i]?.entry).length;

  const originTrigrams = origins.map((o) => trigrams(o));
  const originsDice = (a: number, b: number) => diceOf(originTrigrams[a]!, originTrigrams[b]!);
  let withNear = 0;
  for (let a = 0; a < origins.length; a++) {
    for (let b = 0; b < origins.length; b++) {
      if (a !== b && originsDice(a, b) >= NEAR_DUPLICATE_DICE) {
        withNear++;
        break;
      }
    }
  }
  const analysisThreshold = options.analysisThreshold ?? defaults.threshold;
  const analyse = (rule: WrongHitAnalysis['rule'], decisions: ReadonlyArray<QueryDecision | undefined>): WrongHitAnalysis => {
    const out: WrongHitAnalysis = { rule, threshold: analysisThreshold, wrong: 0, exactDuplicateOrigin: 0, nearDuplicateOrigin: 0 };
    queries.forEach((q, i) => {
      const d = decisions[i];
      if (q.expected === undefined || !d || d.cosine < analysisThreshold || d.entry === q.expected) return;
      out.wrong++;
      if (sameText(origins[d.entry]!, origins[q.expected]!)) out.exactDuplicateOrigin++;
      if (originsDice(d.entry, q.expected) >= NEAR_DUPLICATE_DICE) out.nearDuplicateOrigin++;
    });
    return out;
  };

  const wrongExamples: NonNullable<ParaphraseEvalReport['wrong_examples']> = [];
  if (options.examples) {
    queries.forEach((q, i) => {
      const d = served[i];
      if (!d || d.entry === q.expected) return;
      wrongExamples.push({
        query: q.question,
        ...(q.expected !== undefined ? { expected: origins[q.expected]!, origins_dice: trigramDice(origins[q.expected]!, origins[d.entry]!) } : {}),
        matched: origins[d.entry]!,
        score: d.cosine,
      });
    });
    wrongExamples.sort((a, b) => b.score - a.score);
  }

  latencies.sort((a, b) => a - b);
  return {
    embedder: options.embedder.id,
    pairs: options.pairs.length,
    stored: origins.length,
    unrelated: options.unrelated.length,
    origins_with_near_duplicate: withNear,
    baseline: rows(queries, baseline, thresholds),
    thresholds: rows(queries, served, thresholds),
    selection,
    ...(folds > 1
      ? {
          cross_validation: {
            folds,
            wrong_budget: options.wrongBudget ?? 0.015,
            lexical_weights: [...CV_LEXICAL_WEIGHTS],
            min_margins: [...CV_MIN_MARGINS],
            rows: crossValidate(queries, {
              folds,
              wrongBudget: options.wrongBudget ?? 0.015,
              lexicalWeights: CV_LEXICAL_WEIGHTS,
              minMargins: CV_MIN_MARGINS,
              thresholds,
            }),
          },
        }
      : {}),
    wrong_hit_analysis: [analyse('cosine', baseline), analyse('configured', served)],
    consistency_mismatches: consistency,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    embed_ms_total: embedMs,
    embed_ms_per_text: texts ? embedMs / texts : 0,
    texts_embedded: texts,
    ...(options.examples ? { wrong_examples: wrongExamples.slice(0, options.examples) } : {}),
  };
}

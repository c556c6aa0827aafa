export { annReady } from './ann-loader.js';
export { createSemanticCache } from './create-semantic-cache.js';
export type { CreateSemanticCacheOptions } from './create-semantic-cache.js';
export { FlatIndex } from './flat-index.js';
export { HybridIndex } from './hybrid-index.js';
export type { HybridIndexOptions } from './hybrid-index.js';
export { MemorySemanticStore } from './memory-semantic-store.js';
export type { MemorySemanticStoreOptions } from './memory-semantic-store.js';
export { guardCostOf, guardSpend, guardUsageOf, withGuardCost } from './guard-spend.js';
export { CACHED_QUESTION_FACTOR, createModelGuard, shownCachedQuestion } from './model-guard.js';
export type { GuardCallOptions, GuardGenerate, ModelGuard } from './model-guard.js';
export { RedisSemanticStore } from './redis-semantic-store.js';
export type { RedisSemanticStoreOptions } from './redis-semantic-store.js';
export { defaultLocalEmbedder, embeddingInput, lowCoverage, MIN_SEMANTIC_COVERAGE, parseSemanticCacheConfig, sameUnknownText, SemanticCache, semanticLookupAsks, semanticLookupEligible, unknownText } from './semantic-cache.js';
export type {
  SemanticCacheOptions,
  SemanticCacheStats,
  SemanticGuard,
  SemanticGuardInput,
  SemanticGuardAdaptation,
  SemanticGuardVerdict,
  SemanticHit,
  SemanticLookupDetails,
  SemanticLookupOptions,
  SemanticLookupOutcome,
  SemanticLookupSpend,
  SemanticStoreCallOptions,
  UnknownText,
} from './semantic-cache.js';
export { selectMatch } from './select-match.js';
export type { MatchCandidate, MatchSelection, MatchSelectionOptions, RankedMatch, SemanticScoring } from './select-match.js';
export { trigramDice } from './lexical-similarity.js';
export { namespaceMaterial, questionOf, semanticNamespace, SEMANTIC_NAMESPACE_VERSION } from './semantic-namespace.js';
export type { SemanticEntry, SemanticMatch, SemanticStore, SemanticStoreLimits } from './semantic-store.js';
export { SqliteSemanticStore } from './sqlite-semantic-store.js';
export { userKey } from './user-key.js';
export type { SqliteSemanticStoreOptions } from './sqlite-semantic-store.js';
export { USearchIndex, loadUSearch } from './usearch-index.js';
export type { USearchIndexOptions, USearchModule } from './usearch-index.js';
export type { VectorIndex, VectorMatch } from './vector-index.js';
export { SEMANTIC_EMBED_METADATA_KEY, SEMANTIC_GUARD_METADATA_KEY, SemanticCacheHook } from './semantic-cache-hook.js';
export { RouterEmbedder } from './router-embedder.js';
export type { RouterEmbed, RouterEmbedderOptions } from './router-embedder.js';
export type { SemanticCacheHookDeps } from './semantic-cache-hook.js';
export { evaluateParaphrases, DEFAULT_EVAL_THRESHOLDS } from './paraphrase-eval.js';
export type { EvalSelection, ParaphraseEvalOptions, ParaphraseEvalReport, ParaphrasePair, ThresholdCounts, WrongHitAnalysis } from './paraphrase-eval.js';
export type { CrossValidationRow } from './paraphrase-cv.js';
export * from './predictive/index.js';

// Cascade (a different product from the prompt-only router): call the weak model, read its answer,
// escalate to the strong model when it looks wrong. Evaluated on RouteLLM GSM8K with both models' answers.
export { checkArithmetic, valuesAgree } from './arithmetic-check.js';
export type { ArithmeticCheck, ArithmeticStatement } from './arithmetic-check.js';
export { WEAK_ANSWER_FEATURES, finalAnswer, ruleEscalationScore, weakAnswerFeatures } from './weak-answer-features.js';
export type { WeakAnswerFeature, WeakAnswerFeatures } from './weak-answer-features.js';
export { loadGsm8kResponses } from './load-gsm8k-responses.js';
export type { CascadeExample } from './load-gsm8k-responses.js';
export { CASCADE_COST_FRACTIONS, evaluateCascade } from './evaluate-cascade.js';
export type { CascadeReport, CascadeScorerResult, EvaluateCascadeOptions } from './evaluate-cascade.js';
// Cascade routing (the hybrid): the router's surest strong-model prompts skip the weak call.
export { CASCADE_DIRECT_SHARES, HYBRID_TARGETS, hybridCostCurve, pickDirectShare, summarizeHybrid, topShare } from './hybrid-cascade.js';
export type { HybridPool, HybridSummary } from './hybrid-cascade.js';
export type { CascadeHybridPolicy, CascadeHybridReport, HybridScorer } from './evaluate-hybrid.js';
export { callCosts, pairPrices } from './price-pair.js';
export type { PairPrices } from './price-pair.js';
export { costCurve, firstReaching, qualityAtBudget } from './cost-curve.js';
export type { CostCurve } from './cost-curve.js';
export { formatCascadeReport } from './format-cascade-report.js';
export { cascadeCostSvg, cascadePgrSvg } from './cascade-plot.js';
export { CASCADE_SCORER_TRAINING, standardizeRows, trainCascadeScorer } from './train-cascade-scorer.js';
export type { CascadeScorerModel, CascadeTrainingRow } from './train-cascade-scorer.js';
export { CASCADE_SCORER_FORMAT, CASCADE_SCORER_TARGET, CASCADE_SCORER_VERSION, CascadeScorer, parseCascadeScorer, trainCascadeScorerArtifact } from './cascade-scorer-artifact.js';
export type { CascadeScorerArtifact, CascadeScorerExample } from './cascade-scorer-artifact.js';
export { CASCADE_LOG_COLUMNS, loadCascadeLog } from './load-cascade-log.js';

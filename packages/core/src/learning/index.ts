// Learned routing: data loaders, features, quality predictors, evaluation metrics, training.
export type { DatasetFormat, RoutingDataset, RoutingExample, Split } from './datasets/types.js';
export { loadDataset } from './datasets/load-dataset.js';
export { LONG_FORMAT_COLUMNS, loadLongFormat, longFormatDataset } from './datasets/load-long-format.js';
export type { LongFormatOptions, LongFormatRow } from './datasets/load-long-format.js';
export { ROUTELLM_STRONG, ROUTELLM_WEAK, loadRouteLlm } from './datasets/load-routellm.js';
export { loadRouterBench } from './datasets/load-routerbench.js';
export { loadOpen7b } from './datasets/load-open7b.js';
export { heldOutFolds, unseenTaskFold } from './datasets/split-examples.js';
export type { Fold } from './datasets/split-examples.js';
export { resolveDataPath, sharedRoutingDir } from './datasets/shared-data-dir.js';

export { DOMAINS, INTENTS, analyzePrompt } from './features/analyze-prompt.js';
export type { Domain, Intent, PromptAnalysis } from './features/analyze-prompt.js';
export { featurize, fitFeatures } from './features/feature-pipeline.js';
export type { FeatureSpec } from './features/feature-pipeline.js';
export type { SparseVector } from './features/sparse-vector.js';
export { STRUCTURE_DIM, STRUCTURE_FEATURES, splitQuestion, structureFeatures } from './features/structure-features.js';
export type { SplitQuestion } from './features/structure-features.js';
export { EMBEDDING_CACHE_DIR, EmbeddingCache } from './features/embedding-cache.js';
export { USE_LITE, loadUseLiteEmbedder } from './features/use-lite-embedder.js';

export type { PredictorKind, PredictorState, QualityPredictor } from './predictors/types.js';
export { loadPredictor } from './predictors/load-predictor.js';
export { BaggedPredictor, bagMemberSeed } from './predictors/bagged-predictor.js';
export { GuardedPredictor } from './predictors/guarded-predictor.js';
export { StackPredictor } from './predictors/stack-predictor.js';
export { TaskPriorPredictor } from './predictors/task-prior-predictor.js';

export { twoModelMetrics } from './evaluation/two-model-metrics.js';
export type { PgrPoint, TwoModelMetrics } from './evaluation/two-model-metrics.js';
export { aiq, compareWithHull, costToReach, hullQualityAt, nonDecreasingHull } from './evaluation/many-model-metrics.js';
export type { CostQualityPoint } from './evaluation/many-model-metrics.js';
export { evaluateDataset, evaluateModel } from './evaluation/evaluate-dataset.js';
export type { EvaluateOptions, FoldOptions } from './evaluation/evaluate-dataset.js';
export type { EvaluationReport, ManyModelResult, PredictorResult, TwoModelResult } from './evaluation/evaluation-report.js';
export { formatReport, reportJson } from './evaluation/format-report.js';
export { reportSvg } from './evaluation/report-plot.js';

export { ROUTER_MODEL_FORMAT, RouterModel, loadRouterModel, parseRouterModel } from './training/router-model.js';
export type { RouterModelArtifact } from './training/router-model.js';
export { trainRouterModel } from './training/train-router-model.js';
export type { TrainRouterModelOptions } from './training/train-router-model.js';
export { PREDICTOR_KINDS, trainPredictors } from './training/train-predictors.js';
export type { EmbeddingLookup, TrainPredictorsOptions } from './training/train-predictors.js';
export { calibrateLambda } from './training/calibrate-lambda.js';
export { promptText } from './prompt-text.js';

export { excludeOverlap, normalizePromptText, questionKeys } from './augment/prompt-overlap.js';
export type { OverlapResult } from './augment/prompt-overlap.js';
export { trainDifficultyModel } from './augment/difficulty-model.js';
export type { AugmentReport, AuxiliaryData, TrainDifficultyOptions } from './augment/difficulty-model.js';
export type { AugmentSpec, DifficultySpec } from './augment/augment-spec.js';
export type { AugmentOptions } from './augment/fit-augment.js';
export { infoldAugment } from './augment/infold-augment.js';
export type { InfoldFoldReport, InfoldSource } from './augment/infold-augment.js';
export type { MultitaskOptions } from './augment/multitask.js';
export { QUANTITY_FEATURES, quantityFeatures } from './augment/quantity-features.js';

// A cascade (a separate experiment, not a router): reads the weak model's answer before escalating.
export { CascadeScorer, checkArithmetic, evaluateCascade, loadCascadeLog, loadGsm8kResponses, parseCascadeScorer, ruleEscalationScore, trainCascadeScorerArtifact, weakAnswerFeatures } from './cascade/index.js';
export type { ArithmeticCheck, ArithmeticStatement, CascadeExample, CascadeReport, CascadeScorerArtifact, CascadeScorerExample, EvaluateCascadeOptions, WeakAnswerFeatures } from './cascade/index.js';

export { LLMRouter } from './llm-router.js';
export { DeploymentStats } from './stats.js';
export type { CountTokensOptions, RemoteCountPermit, TokenCount } from './count-tokens.js';
export type { DeploymentStatsOptions } from './stats.js';
export { CircuitBreaker } from './resilience/circuit-breaker.js';
export type { CircuitBreakerOptions, CircuitState } from './resilience/circuit-breaker.js';
export { MemoryCircuitStateStore, circuitFingerprint, circuitKey } from './resilience/circuit-state-store.js';
export type { CircuitOptions, CircuitPermit, CircuitStateStore, DeploymentCircuit } from './resilience/circuit-state-store.js';
export { RedisCircuitStateStore } from './resilience/redis-circuit-state-store.js';
export type { RedisCircuitStateStoreOptions } from './resilience/redis-circuit-state-store.js';
export { backoffDelay, retryPlan } from './resilience/backoff.js';
export type { RetryPlan } from './resilience/backoff.js';
export { countsAgainstDeployment, failureAction } from './resilience/classify.js';
export type { FailureAction } from './resilience/classify.js';
export { isUnservableOwnModel } from './unservable-own-model.js';
export { TENANT_SCOPED_ID_PREFIX, tenantScopedId } from './tenant-scoped-id.js';
export type { UnservableOwnModelDetails } from './unservable-own-model.js';
export {
  AdaptiveStrategy,
  BUILTIN_STRATEGIES,
  createAdaptiveStrategy,
  createIntelligentStrategy,
  intelligentStrategy,
  balancedStrategy,
  builtinStrategies,
  capabilityMatchStrategy,
  costOptimizedStrategy,
  createRoundRobinStrategy,
  fallbackStrategy,
  leastLoadedStrategy,
  priorityStrategy,
  qualityFirstStrategy,
  randomStrategy,
  speedPriorityStrategy,
  weightedStrategy,
} from './strategies/index.js';
export type { BuiltinStrategyName } from './strategies/index.js';
export type { IntelligentOptions, IntelligentPrediction } from './strategies/intelligent.js';
export type { AdaptiveOptions, AdaptiveOutcome } from './strategies/adaptive.js';
export { expectedCostUsd } from './strategies/util.js';
export * from './types.js';
export * from './cascade/index.js';
export { MemoryAffinityStore } from './prompt-cache-affinity/affinity-store.js';
export type { AffinityHit, MemoryAffinityStoreOptions, PromptCacheAffinityStore } from './prompt-cache-affinity/affinity-store.js';
export type { AffinityKey } from './prompt-cache-affinity/affinity-keys.js';
export { RedisAffinityStore } from '../stores/redis/redis-affinity-store.js';
export type { RedisAffinityStoreOptions } from '../stores/redis/redis-affinity-store.js';
export { REFUSED_ANSWER, refusedAnswerDetails, refusedAnswerOf } from './refused-answer.js';
export type { RefusedAnswer } from './refused-answer.js';

export { ARITHMETIC_DEFAULT_THRESHOLD, arithmeticScore, questionText } from './arithmetic-verifier.js';
export { BUILTIN_VERIFIER_NAMES } from './cascade-set.js';
export { learnedVerifier } from './learned-verifier.js';
export { providerCacheUsage, sumCost, sumUsage } from './sum-usage.js';
export type { CascadeInfo, CascadeRecord, CascadeStep, CascadeVerdict, CascadeVerifier, CascadeVerifierBound, CascadeVerifierContext } from './types.js';

export { ERROR_CODES, codeForHttpStatus, statusForCode } from './codes.js';
export type { LLMErrorCode } from './codes.js';
export { LLMError } from './llm-error.js';
export type { LLMErrorOptions } from './llm-error.js';
export { abortError, toLLMError } from './to-llm-error.js';
export { REPORTED_USAGE, reportedUsageOf, withReportedUsage } from './reported-usage.js';

export type {
  CallOptions,
  CountTokensCallOptions,
  EmbedCallOptions,
  EmbedResult,
  EngineCapabilities,
  EngineRefusal,
  GenerateResult,
  LanguageEngine,
  LanguageEngineV1,
  LongContextPrice,
  ModelPrice,
} from './engine-v1.js';
export type {
  CacheControl,
  ChatMessage,
  ContentPart,
  GenerateRequest,
  ImagePart,
  JSONSchema,
  ReasoningPart,
  ResponseFormat,
  TextPart,
  ToolCall,
  ToolChoice,
  ToolDefinition,
  Verbosity,
} from './messages.js';
export { messageText, prefillIndex, VERBOSITIES } from './messages.js';
export type { LogprobsOptions, TokenLogprob, TopLogprob } from './logprobs.js';
export { MAX_TOP_LOGPROBS } from './logprobs.js';
export type { ReasoningEffort, ReasoningOptions } from './reasoning.js';
export { REASONING_EFFORTS } from './reasoning.js';
export type { StreamPart, StreamPartType } from './stream-parts.js';
export { isContentPart } from './stream-parts.js';
export type { FinishReason, Usage } from './usage.js';
export { emptyUsage, makeUsage } from './usage.js';
export type { CallWarning } from './warnings.js';

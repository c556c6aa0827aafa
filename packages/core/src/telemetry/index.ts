export { instrumentRouter, instrumentRouterWith, TRACER_NAME } from './otel.js';
export type { InstrumentRouterOptions, LoadInstrumentRouterOptions, OtelApi, RequestStartDetails, RouterEventSource } from './otel.js';
export {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_TYPE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_STOP_SEQUENCES,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  GEN_AI_SEMCONV_VERSION,
  genAiFinishReason,
  genAiProviderName,
} from './gen-ai-semconv.js';
export type { GenAiOperationName } from './gen-ai-semconv.js';
export { toGenAiInputMessages, toGenAiOutputMessages } from './gen-ai-content.js';
export type { GenAiInputMessage, GenAiMessagePart, GenAiOutputMessage } from './gen-ai-content.js';

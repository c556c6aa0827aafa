import type { FinishReason } from '../spec/index.js';

/**
 * The OpenTelemetry GenAI semantic conventions this package emits: semantic-conventions v1.41.0 (status
 * Development; `gen_ai.provider.name` replaced `gen_ai.system` in v1.37.0). Copied here rather than imported
 * from `@opentelemetry/semantic-conventions/incubating`, as that package recommends for unstable conventions.
 */
export const GEN_AI_SEMCONV_VERSION = '1.41.0';

export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
export const ATTR_GEN_AI_REQUEST_TOP_P = 'gen_ai.request.top_p';
export const ATTR_GEN_AI_REQUEST_SEED = 'gen_ai.request.seed';
export const ATTR_GEN_AI_REQUEST_STOP_SEQUENCES = 'gen_ai.request.stop_sequences';
export const ATTR_GEN_AI_OUTPUT_TYPE = 'gen_ai.output.type';
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
/** Input tokens written to a provider-managed cache; the conventions say it SHOULD be part of `gen_ai.usage.input_tokens` (ours is). */
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens';
/** Opt-in (`captureContent`): JSON text following the conventions' input/output messages schemas. */
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
export const ATTR_ERROR_TYPE = 'error.type';

/** Well-known `gen_ai.operation.name` values the router produces. */
export type GenAiOperationName = 'chat' | 'text_completion' | 'embeddings';

/**
 * Our engine kinds (and openai-compatible preset names) as well-known `gen_ai.provider.name` values.
 * Anything else (`mock`, `gguf`, `onnx`, `ollama`, a custom engine) is passed through as a custom value,
 * which the conventions allow.
 */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  openai: 'openai',
  'openai-compatible': 'openai',
  'azure-openai': 'azure.ai.openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  bedrock: 'aws.bedrock',
  groq: 'groq',
  mistral: 'mistral_ai',
  deepseek: 'deepseek',
};

export function genAiProviderName(provider: string): string {
  return Object.hasOwn(PROVIDER_NAMES, provider) ? PROVIDER_NAMES[provider]! : provider;
}

/** Our finish reasons as the conventions' `FinishReason` values (`other` has none and stays as it is). */
export function genAiFinishReason(reason: FinishReason): string {
  switch (reason) {
    case 'tool-calls':
      return 'tool_call';
    case 'content-filter':
      return 'content_filter';
    default:
      return reason;
  }
}

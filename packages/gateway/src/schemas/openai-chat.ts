import { MAX_TOP_LOGPROBS, REASONING_EFFORTS, VERBOSITIES } from '@llmrr/core';
import { z } from 'zod';
import { ModelNameSchema } from './model-name.js';
import { LlmrrExtensionSchema } from './llmrr-extension.js';
import { boundedJson } from './bounded-json.js';
import { CacheControlSchema } from './cache-control.js';
import { isWellFormedChatRequest, OPENAI_NAME_PATTERN } from './check-openai-chat.js';
import { addFastCheck } from './fast-check.js';
import { ignoredFieldRules } from './ignored-fields.js';
import { OpenAIChatLogprobsSchema } from './openai-logprobs.js';

// `cache_control` (a prompt-cache breakpoint, LiteLLM's convention for Anthropic caching over this API) on
// content parts, on messages (for string content; a breakpoint at the message's end) and on tools.
const TextContentPart = z.looseObject({ type: z.literal('text'), text: z.string(), cache_control: CacheControlSchema });
const ImageContentPart = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
  cache_control: CacheControlSchema,
});
/**
 * OpenAI's file (a PDF: `file_data` or a Files API `file_id`, as the AI SDK's `openai.chat()` sends a file part) and
 * audio input parts: valid OpenAI requests the gateway does not serve. Taken here so the conversion refuses them as
 * 400 `unsupported` naming `messages.N.content.K.type` (as `/v1/responses` its `input_file` and `input_audio`), not as
 * malformed.
 */
const FileContentPart = z.looseObject({
  type: z.literal('file'),
  file: z.looseObject({ file_data: z.string().optional(), file_id: z.string().optional(), filename: z.string().optional() }),
  cache_control: CacheControlSchema,
});
const AudioContentPart = z.looseObject({
  type: z.literal('input_audio'),
  input_audio: z.looseObject({ data: z.string(), format: z.string() }),
  cache_control: CacheControlSchema,
});
export const OpenAIContentPartSchema = z.discriminatedUnion('type', [TextContentPart, ImageContentPart, FileContentPart, AudioContentPart]);
/**
 * A refusal part of an assistant message given back (openai 6.x ChatCompletionContentPartRefusal): the model's earlier
 * refusal, which becomes the turn's text, as on `/v1/responses`.
 */
const RefusalContentPart = z.looseObject({ type: z.literal('refusal'), refusal: z.string(), cache_control: CacheControlSchema });
const AssistantContentPart = z.discriminatedUnion('type', [TextContentPart, RefusalContentPart]);

export const OpenAIToolCallSchema = z.looseObject({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
});

/**
 * A system, developer, user or assistant message's author name ("An optional name for the participant"): any string
 * here, sent as it is (vLLM and others take any; Anthropic and Gemini have none: not sent, warned). Core refuses one
 * outside OpenAI's characters where it would reach OpenAI or Azure OpenAI, which refuse it: a 400 naming
 * `messages.N.name` before the call (`ResolvedEndpoint.checkMessageNames`).
 */
const MessageName = z.string().optional();

const SystemMessage = z.looseObject({
  role: z.enum(['system', 'developer']),
  content: z.union([z.string(), z.array(TextContentPart)]),
  name: MessageName,
  cache_control: CacheControlSchema,
});
const UserMessage = z.looseObject({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(OpenAIContentPartSchema)]),
  name: MessageName,
  cache_control: CacheControlSchema,
});
/** A legacy function call (openai 6.x `ChatCompletionAssistantMessageParam.FunctionCall`, deprecated): `name` and `arguments`. */
const LegacyFunctionCall = z.looseObject({ name: z.string().min(1), arguments: z.string() });
const AssistantMessage = z.looseObject({
  role: z.literal('assistant'),
  content: z.union([z.string(), z.array(AssistantContentPart), z.null()]).optional(),
  tool_calls: z.array(OpenAIToolCallSchema).optional(),
  /** Legacy function calling given back: the turn's one tool call (see `LegacyFunctionCall`). */
  function_call: LegacyFunctionCall.nullable().optional(),
  name: MessageName,
  refusal: z.string().nullable().optional(),
  cache_control: CacheControlSchema,
});
const ToolMessage = z.looseObject({
  role: z.literal('tool'),
  tool_call_id: z.string().min(1),
  content: z.union([z.string(), z.array(TextContentPart)]),
  cache_control: CacheControlSchema,
});

/**
 * A legacy function message (openai 6.x `ChatCompletionFunctionMessageParam`, deprecated): the result of the function
 * `name` that the assistant turn before it called (`function_call`); a tool message in core.
 */
const FunctionMessage = z.looseObject({
  role: z.literal('function'),
  name: z.string().min(1),
  content: z.string().nullable(),
  cache_control: CacheControlSchema,
});

export const OpenAIChatMessageSchema = z.discriminatedUnion('role', [SystemMessage, UserMessage, AssistantMessage, ToolMessage, FunctionMessage]);

export const OpenAIToolSchema = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().regex(OPENAI_NAME_PATTERN, 'must be 1-64 letters, digits, _ or -'),
    description: z.string().optional(),
    parameters: boundedJson(z.record(z.string(), z.unknown())).optional(),
    strict: z.boolean().nullable().optional(),
  }),
  cache_control: CacheControlSchema,
});

/**
 * Legacy function calling (openai 6.x `ChatCompletionCreateParams.functions` / `function_call`, deprecated but still
 * served by OpenAI and sent by older LangChain and openai-python code): `functions` are the request's tools, and
 * `function_call` (`none`, `auto` or `{ name }`) its tool choice.
 */
export const LegacyFunctionSchema = z.looseObject({
  name: z.string().regex(OPENAI_NAME_PATTERN, 'must be 1-64 letters, digits, _ or -'),
  description: z.string().optional(),
  parameters: boundedJson(z.record(z.string(), z.unknown())).optional(),
});
export const LegacyFunctionCallChoiceSchema = z.union([z.enum(['none', 'auto']), z.looseObject({ name: z.string().min(1) })]);

/**
 * `logit_bias` (chat completions and completions): token id -> a bias from -100 (ban) to 100, or null; the core
 * request's `logitBias`. A key that is not a token id or a bias out of range is a 400 naming it (`logit_bias.50256`).
 */
export const LogitBiasSchema = z.record(z.string().regex(/^\d+$/, 'must be a token id'), z.number().min(-100).max(100)).nullable().optional();

export const OpenAIToolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().min(1) }) }),
]);

export const OpenAIResponseFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string().min(1),
      description: z.string().optional(),
      schema: boundedJson(z.record(z.string(), z.unknown())).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

/**
 * OpenAI's `prompt_cache_key` (chat completions and Responses): any string, or null. A hint, never a 400 for its
 * length: agents send longer keys than OpenAI's 64 characters (`<uuid>:sub:<uuid>`, 77), and most deployments
 * never receive it; core sends a longer key to OpenAI shortened to 64 (`openAIPromptCacheKey`). Becomes the core
 * request's `promptCacheKey`: sent to OpenAI deployments, a key of the router's prompt-cache affinity.
 */
export const PromptCacheKeySchema = z.string().nullable().optional();

const Stop = z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional();

/** OpenAI's `frequency_penalty` / `presence_penalty` (chat and legacy completions): -2 to 2, or null. */
export const PenaltySchema = z.number().min(-2).max(2).nullable().optional();

/**
 * `top_k` (chat and legacy completions): not OpenAI's, but vLLM, OpenRouter and LiteLLM take it in the same body.
 * An integer >= -1, or null. 1 and above become the core request's `topK`; 0 (OpenRouter's "off", its default) and
 * -1 (vLLM's "off") ask for nothing, as null does (`topKOf`).
 */
export const TopKSchema = z.number().int().min(-1).nullable().optional();

/** The core request's `topK` for a validated `top_k`: undefined for null and the "off" values 0 and -1. */
export function topKOf(topK: number | null | undefined): number | undefined {
  return topK != null && topK > 0 ? topK : undefined;
}

/** `verbosity` (openai 6.49 chat `verbosity`, Responses `text.verbosity`): low, medium or high, or null. */
export const VerbositySchema = z.enum(VERBOSITIES).nullable().optional();

/**
 * `POST /v1/chat/completions` request body (OpenAI wire format). Unknown top-level fields are accepted and not acted
 * on; each that asks for something is said in `x-llmrr-warnings` (see `ignoredFieldWarnings`).
 */
export const OpenAIChatRequestSchema = z.looseObject({
  model: ModelNameSchema,
  messages: z.array(OpenAIChatMessageSchema).min(1, 'at least one message is required'),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(1, 'only n=1 is supported').nullable().optional(),
  stop: Stop,
  seed: z.number().int().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().nullable().optional() }).nullable().optional(),
  tools: z.array(OpenAIToolSchema).optional(),
  tool_choice: OpenAIToolChoiceSchema.optional(),
  /** Applied: `false` becomes the core request's `parallelToolCalls: false` (at most one tool call); null is none. */
  parallel_tool_calls: z.boolean().nullable().optional(),
  /** Applied: the core request's `frequencyPenalty` / `presencePenalty`. */
  frequency_penalty: PenaltySchema,
  presence_penalty: PenaltySchema,
  response_format: OpenAIResponseFormatSchema.optional(),
  user: z.string().optional(),
  /** Applied: becomes the core request's `promptCacheKey` (an empty key is no key). */
  prompt_cache_key: PromptCacheKeySchema,
  /** Applied: becomes the core request's `reasoning.effort` (openai 6.49 ReasoningEffort values). */
  reasoning_effort: z.enum(REASONING_EFFORTS).nullable().optional(),
  /**
   * Applied: `logprobs: true` becomes the core request's `logprobs`, with `top_logprobs` (0-20) as its
   * `topLogprobs`; `top_logprobs` above 0 without `logprobs: true` is refused, as OpenAI does.
   */
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(MAX_TOP_LOGPROBS).nullable().optional(),
  /** Applied: the core request's `verbosity`. */
  verbosity: VerbositySchema,
  /** Applied: the core request's `topK` (an extension, see `TopKSchema`). */
  top_k: TopKSchema,
  /** Applied: the request's tools and tool choice (legacy function calling; the answer is in its form, see `LegacyFunctionSchema`). */
  functions: z.array(LegacyFunctionSchema).optional(),
  function_call: LegacyFunctionCallChoiceSchema.optional(),
  /** Applied: the core request's `logitBias` (token id -> -100 to 100), sent to OpenAI-compatible deployments. */
  logit_bias: LogitBiasSchema,
  /**
   * Applied: `true` asks for the final assistant message to be continued (a prefill, as `/v1/messages` continues one):
   * core's `continueFinalMessage`. vLLM's (and SGLang's, TGI's) chat-completions extra parameter, not OpenAI's. The
   * last message must then be the assistant's text to continue, core's prefill (`prefillIndex`: no tool calls nor
   * legacy `function_call`, text that is not blank), else a 400 naming it.
   */
  continue_final_message: z.boolean().nullable().optional(),
  /**
   * Checked: vLLM's companion of `continue_final_message` (which it requires `false`): `true` with
   * `continue_final_message: true` is a 400, as vLLM refuses it; `false` without it is a `setting_not_sent` warning
   * (not sent: the answer is a new turn, unless the last message is the assistant's and the deployment continues it by
   * itself); `true` and null ask for nothing.
   */
  add_generation_prompt: z.boolean().nullable().optional(),
  /** Checked: an answer in audio (`"audio"`, and `audio`, its voice and format) is refused as `unsupported`; text is what is served. */
  modalities: z.array(z.enum(['text', 'audio'])).nullable().optional(),
  audio: z.looseObject({}).nullable().optional(),
  llmrr: LlmrrExtensionSchema.optional(),
});

addFastCheck(OpenAIChatRequestSchema, isWellFormedChatRequest);

/**
 * `prompt_cache_options` at its documented defaults (openai 6.49: `mode` `implicit`, `ttl` `30m`), each key
 * optional: an object whose own keys are only those, at those values, asks for nothing.
 */
export function isDefaultPromptCacheOptions(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const [key, value] of Object.entries(v)) {
    if (!(key === 'mode' ? value === 'implicit' : key === 'ttl' ? value === '30m' : false)) return false;
  }
  return true;
}

/**
 * Every field of the schema is acted on (`functions` and `function_call` converted, `logit_bias` sent where it can be,
 * an audio `modalities` or `audio` refused); other fields (`store`, `metadata`, `prediction`, `web_search_options`,
 * `service_tier`...) are warned about unless they ask for nothing.
 */
export const CHAT_FIELD_RULES = ignoredFieldRules(OpenAIChatRequestSchema.shape, [], {
  service_tier: (v) => v === 'auto',
  prompt_cache_options: isDefaultPromptCacheOptions,
});

export type OpenAIChatRequest = z.infer<typeof OpenAIChatRequestSchema>;
export type OpenAIChatMessage = z.infer<typeof OpenAIChatMessageSchema>;

export const OpenAIUsageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
  // `cache_write_tokens`: prompt tokens written to the provider's cache (OpenRouter's field), part of prompt_tokens.
  prompt_tokens_details: z.object({ cached_tokens: z.number().int(), cache_write_tokens: z.number().int().optional() }).optional(),
  completion_tokens_details: z.object({ reasoning_tokens: z.number().int() }).optional(),
});
export type OpenAIUsage = z.infer<typeof OpenAIUsageSchema>;

/** What the gateway adds to responses (`llmrr` field): which deployment answered, cost, cache, decision. */
export const LlmrrResponseInfoSchema = z.object({
  request_id: z.string(),
  deployment: z.string(),
  provider: z.string(),
  cost_usd: z.number(),
  cost_estimated: z.boolean(),
  cached: z.union([z.literal(false), z.enum(['exact', 'semantic'])]),
  latency_ms: z.number(),
  decision: z.unknown().optional(),
  /** Set when the model asked for was a cascade (`routing.cascades`): what it did. */
  cascade: z
    .object({
      name: z.string(),
      verifier: z.string(),
      threshold: z.number(),
      score: z.number(),
      escalated: z.boolean(),
      weak_deployment: z.string(),
      weak_cost_usd: z.number(),
      strong_deployment: z.string().optional(),
      /** Escalated, but the strong call failed and the cascade's `onStrongFailure: weak` served the weak answer. */
      strong_error: z.string().optional(),
    })
    .optional(),
});
export type LlmrrResponseInfo = z.infer<typeof LlmrrResponseInfoSchema>;

/** `function_call`: a tool call answered to a legacy `functions` request (`message.function_call`). */
export const OpenAIFinishReasonSchema = z.enum(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']);

/** `chat.completion` response. */
export const OpenAIChatResponseSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string().nullable(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({
        role: z.literal('assistant'),
        content: z.string().nullable(),
        /** The model's refusal (`RouterResult.refusal`), with `content: null`; else null. */
        refusal: z.string().nullable(),
        tool_calls: z.array(OpenAIToolCallSchema).optional(),
        /** The call answered to a legacy `functions` request (its first; any others are `tool_calls`). */
        function_call: LegacyFunctionCall.optional(),
        reasoning_content: z.string().optional(),
      }),
      logprobs: OpenAIChatLogprobsSchema.nullable(),
      finish_reason: OpenAIFinishReasonSchema,
    }),
  ),
  usage: OpenAIUsageSchema,
  llmrr: LlmrrResponseInfoSchema.optional(),
});
export type OpenAIChatResponse = z.infer<typeof OpenAIChatResponseSchema>;

const ChunkToolCallDelta = z.object({
  index: z.number().int(),
  id: z.string().optional(),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string().optional(), arguments: z.string().optional() }),
});

/** One `chat.completion.chunk` SSE frame. */
export const OpenAIChatChunkSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string().nullable(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({
        role: z.literal('assistant').optional(),
        content: z.string().nullable().optional(),
        refusal: z.string().nullable().optional(),
        reasoning_content: z.string().optional(),
        tool_calls: z.array(ChunkToolCallDelta).optional(),
        function_call: z.object({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
      }),
      logprobs: OpenAIChatLogprobsSchema.nullable(),
      finish_reason: OpenAIFinishReasonSchema.nullable(),
    }),
  ),
  usage: OpenAIUsageSchema.nullable().optional(),
  llmrr: LlmrrResponseInfoSchema.optional(),
});
export type OpenAIChatChunk = z.infer<typeof OpenAIChatChunkSchema>;

/** The frame that ends a stream that broke after its first byte: `data: {"error": {...}}`. */
export const StreamErrorFrameSchema = z.object({
  error: z.object({ type: z.string(), code: z.string(), message: z.string(), param: z.string().nullable(), request_id: z.string().nullable() }),
});

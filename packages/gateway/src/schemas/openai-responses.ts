import { REASONING_EFFORTS } from '@llmrr/core';
import { z } from 'zod';
import { boundedJson } from './bounded-json.js';
import {
  isWellFormedFunctionCall,
  isWellFormedFunctionCallOutput,
  isWellFormedInputMessage,
  isWellFormedReasoningItem,
  isWellFormedResponsesRequest,
  isWellFormedTextPart,
} from './check-openai-responses.js';
import { addFastCheck } from './fast-check.js';
import { ignoredFieldRules } from './ignored-fields.js';
import { LlmrrExtensionSchema } from './llmrr-extension.js';
import { ModelNameSchema } from './model-name.js';
import { RESPONSES_INCLUDE_VALUES } from './responses-include-values.js';
import { isDefaultPromptCacheOptions, LlmrrResponseInfoSchema, PromptCacheKeySchema } from './openai-chat.js';

/*
 * The OpenAI Responses API (`POST /v1/responses`) as the gateway serves it: the request body, the
 * `response` object and the streaming events. Input items are checked item by item (by kind) in
 * `responses/to-generate-request.ts`, so an error names the exact field (`input.2.content.0.type`).
 */

// ---- request -------------------------------------------------------------------------------------

const TextPart = z.looseObject({ type: z.enum(['input_text', 'output_text']), text: z.string() });
const RefusalPart = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });
const ImagePart = z.looseObject({
  type: z.literal('input_image'),
  image_url: z.string().min(1).nullable().optional(),
  file_id: z.string().min(1).nullable().optional(),
  detail: z.enum(['auto', 'low', 'high', 'original']).nullable().optional(),
});
/** Content parts of an input message the gateway understands (`input_file`, `input_audio` are refused by name). */
export const ResponsesContentPartSchema = z.discriminatedUnion('type', [TextPart, RefusalPart, ImagePart]);
export type ResponsesContentPart = z.infer<typeof ResponsesContentPartSchema>;

/** An input message, with or without `type: "message"`. */
export const ResponsesInputMessageSchema = z.looseObject({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
  id: z.string().optional(),
  status: z.string().optional(),
});
export type ResponsesInputMessage = z.infer<typeof ResponsesInputMessageSchema>;

/** A function call the model made earlier, sent back as input. */
export const ResponsesFunctionCallItemSchema = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  id: z.string().optional(),
  status: z.string().optional(),
});
export type ResponsesFunctionCallItem = z.infer<typeof ResponsesFunctionCallItemSchema>;

/** The result of a function call, as input. */
export const ResponsesFunctionCallOutputItemSchema = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
  id: z.string().nullable().optional(),
  status: z.string().nullable().optional(),
});
export type ResponsesFunctionCallOutputItem = z.infer<typeof ResponsesFunctionCallOutputItemSchema>;

/**
 * The model's reasoning from an earlier turn, given back (the gateway's own `reasoning` output item, or OpenAI's):
 * its text (`content`, else `summary`) and the gateway's `encrypted_content` become the next assistant turn's
 * reasoning (see responses/to-generate-request.ts).
 */
export const ResponsesReasoningItemSchema = z.looseObject({
  type: z.literal('reasoning'),
  id: z.string().nullable().optional(),
  summary: z.array(z.looseObject({ type: z.string(), text: z.string() })).nullable().optional(),
  content: z.array(z.looseObject({ type: z.string(), text: z.string() })).nullable().optional(),
  encrypted_content: z.string().nullable().optional(),
  status: z.string().nullable().optional(),
});
export type ResponsesReasoningItem = z.infer<typeof ResponsesReasoningItemSchema>;

/** A tool: only `function` tools are served; built-in tools are refused by `tools.N.type`. */
export const ResponsesToolSchema = z.looseObject({
  type: z.string().min(1),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -').optional(),
  description: z.string().nullable().optional(),
  parameters: boundedJson(z.record(z.string(), z.unknown())).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

export const ResponsesToolChoiceSchema = z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string().min(1), name: z.string().min(1).optional() })]);

export const ResponsesTextFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
    schema: boundedJson(z.record(z.string(), z.unknown())),
    description: z.string().nullable().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

export { RESPONSES_INCLUDE_VALUES };

/** At most this many `metadata` keys, as OpenAI's API says ("Set of 16 key-value pairs"). */
export const MAX_METADATA_KEYS = 16;

/**
 * OpenAI's `metadata`: at most 16 keys, each of at most 64 characters, with string values of at most 512
 * (openai 6.49 `Shared.Metadata`); past a limit, a 400 naming the field (`metadata`, or `metadata.<key>`).
 * Echoed in the response object.
 */
export const MetadataSchema = z
  .record(z.string().max(64), z.string().max(512, 'a value may have at most 512 characters'), {
    error: (issue) => (issue.code === 'invalid_key' ? 'a key may have at most 64 characters' : undefined),
  })
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, `at most ${MAX_METADATA_KEYS} keys`)
  // The exported JSON Schema says the limit too (a refine is opaque to it).
  .meta({ maxProperties: MAX_METADATA_KEYS });

/**
 * `POST /v1/responses` request body. Unknown top-level fields are accepted and not acted on; each that asks for
 * something is said in `x-llmrr-warnings` (see `RESPONSES_FIELD_RULES`), as on chat completions.
 */
export const OpenAIResponsesRequestSchema = z.looseObject({
  model: ModelNameSchema,
  // Items are checked one by one in to-generate-request.ts, so an error names `input.N` (a union here would
  // report a bad item as "input: Invalid input").
  input: z.union([z.string(), z.array(z.unknown()).min(1, 'at least one input item is required')]),
  instructions: z.string().nullable().optional(),
  tools: z.array(ResponsesToolSchema).nullable().optional(),
  tool_choice: ResponsesToolChoiceSchema.nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  max_tool_calls: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  text: z
    .looseObject({ format: ResponsesTextFormatSchema.nullable().optional(), verbosity: z.enum(['low', 'medium', 'high']).nullable().optional() })
    .nullable()
    .optional(),
  reasoning: z
    .looseObject({
      // Applied: becomes the core request's `reasoning.effort` (openai 6.49 ReasoningEffort values).
      effort: z.enum(REASONING_EFFORTS).nullable().optional(),
      summary: z.enum(['auto', 'concise', 'detailed']).nullable().optional(),
      generate_summary: z.enum(['auto', 'concise', 'detailed']).nullable().optional(),
    })
    .nullable()
    .optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_obfuscation: z.boolean().optional() }).nullable().optional(),
  store: z.boolean().nullable().optional(),
  background: z.boolean().nullable().optional(),
  previous_response_id: z.string().nullable().optional(),
  conversation: z.union([z.string(), z.looseObject({ id: z.string() })]).nullable().optional(),
  prompt: z.looseObject({ id: z.string() }).nullable().optional(),
  truncation: z.enum(['auto', 'disabled']).nullable().optional(),
  include: z.array(z.enum(RESPONSES_INCLUDE_VALUES)).nullable().optional(),
  metadata: MetadataSchema.nullable().optional(),
  user: z.string().nullable().optional(),
  safety_identifier: z.string().nullable().optional(),
  prompt_cache_key: PromptCacheKeySchema,
  service_tier: z.enum(['auto', 'default', 'flex', 'scale', 'priority']).nullable().optional(),
  llmrr: LlmrrExtensionSchema.optional(),
});
export type OpenAIResponsesRequest = z.infer<typeof OpenAIResponsesRequestSchema>;

/**
 * The schema's fields are acted on (mapped, refused, or echoed back: `metadata`) except `store` (nothing is stored),
 * `truncation: "auto"`, `service_tier` other than `auto` and `max_tool_calls` (not enforced), which are warned about,
 * as are unknown fields, unless they ask for nothing. `include`, `text` and `reasoning` are acted on in part: what
 * is not done in them is warned about by its path (`responsesNestedWarnings`: `include.N`, `reasoning.summary`...).
 */
export const RESPONSES_FIELD_RULES = ignoredFieldRules(OpenAIResponsesRequestSchema.shape, ['store', 'truncation', 'service_tier', 'max_tool_calls'], {
  truncation: (v) => v === 'disabled',
  service_tier: (v) => v === 'auto',
  prompt_cache_options: isDefaultPromptCacheOptions,
});

// Hand-written checks of the common shapes, tried first (see check-openai-responses.ts); zod decides the rest.
addFastCheck(OpenAIResponsesRequestSchema, isWellFormedResponsesRequest);
addFastCheck(ResponsesInputMessageSchema, isWellFormedInputMessage);
addFastCheck(ResponsesFunctionCallItemSchema, isWellFormedFunctionCall);
addFastCheck(ResponsesFunctionCallOutputItemSchema, isWellFormedFunctionCallOutput);
addFastCheck(ResponsesReasoningItemSchema, isWellFormedReasoningItem);
addFastCheck(ResponsesContentPartSchema, isWellFormedTextPart);

// ---- response ------------------------------------------------------------------------------------

export const ResponsesOutputTextSchema = z.object({ type: z.literal('output_text'), text: z.string(), annotations: z.array(z.unknown()), logprobs: z.array(z.unknown()) });
/** The model's refusal in place of the text (`RouterResult.refusal`), as OpenAI's Responses API sends it. */
export const ResponsesRefusalSchema = z.object({ type: z.literal('refusal'), refusal: z.string() });
export const ResponsesReasoningTextSchema = z.object({ type: z.literal('reasoning_text'), text: z.string() });
/** The reasoning again, as a summary part: what the Vercel AI SDK reads (`@ai-sdk/openai` ignores `content`). */
export const ResponsesSummaryTextSchema = z.object({ type: z.literal('summary_text'), text: z.string() });

const ItemStatus = z.enum(['in_progress', 'completed', 'incomplete']);

export const ResponsesOutputMessageSchema = z.object({
  type: z.literal('message'),
  id: z.string(),
  status: ItemStatus,
  role: z.literal('assistant'),
  content: z.array(z.union([ResponsesOutputTextSchema, ResponsesRefusalSchema])),
});
export const ResponsesOutputFunctionCallSchema = z.object({
  type: z.literal('function_call'),
  id: z.string(),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  status: ItemStatus,
});
export const ResponsesOutputReasoningSchema = z.object({
  type: z.literal('reasoning'),
  id: z.string(),
  summary: z.array(ResponsesSummaryTextSchema),
  content: z.array(ResponsesReasoningTextSchema),
  /** With `include: ["reasoning.encrypted_content"]`, when the provider signed its reasoning (responses/reasoning-encrypted-content.ts). */
  encrypted_content: z.string().optional(),
  status: ItemStatus,
});
export const ResponsesOutputItemSchema = z.discriminatedUnion('type', [ResponsesOutputMessageSchema, ResponsesOutputFunctionCallSchema, ResponsesOutputReasoningSchema]);
export type ResponsesOutputItem = z.infer<typeof ResponsesOutputItemSchema>;

export const ResponsesUsageSchema = z.object({
  input_tokens: z.number().int(),
  input_tokens_details: z.object({ cached_tokens: z.number().int() }),
  output_tokens: z.number().int(),
  output_tokens_details: z.object({ reasoning_tokens: z.number().int() }),
  total_tokens: z.number().int(),
});
export type ResponsesUsage = z.infer<typeof ResponsesUsageSchema>;

/** The `response` object (non-streamed answer; also inside the lifecycle events of a stream). */
export const OpenAIResponseSchema = z.object({
  id: z.string(),
  object: z.literal('response'),
  created_at: z.number().int(),
  status: z.enum(['in_progress', 'completed', 'incomplete', 'failed']),
  background: z.boolean(),
  error: z.null(),
  incomplete_details: z.object({ reason: z.enum(['max_output_tokens', 'content_filter']) }).nullable(),
  instructions: z.string().nullable(),
  max_output_tokens: z.number().int().nullable(),
  max_tool_calls: z.number().int().nullable(),
  model: z.string(),
  output: z.array(ResponsesOutputItemSchema),
  parallel_tool_calls: z.boolean(),
  previous_response_id: z.null(),
  /** The request's `prompt_cache_key` as sent (a string or null); absent when the request had none. */
  prompt_cache_key: z.string().nullable().optional(),
  reasoning: z.object({ effort: z.string().nullable(), summary: z.string().nullable() }),
  /** The request's `safety_identifier` as sent (a string or null); absent when the request had none. */
  safety_identifier: z.string().nullable().optional(),
  store: z.literal(false),
  temperature: z.number(),
  text: z.object({ format: z.looseObject({ type: z.string() }), verbosity: z.string() }),
  tool_choice: z.union([z.string(), z.object({ type: z.literal('function'), name: z.string() })]),
  tools: z.array(
    z.object({ type: z.literal('function'), name: z.string(), description: z.string().nullable(), parameters: z.record(z.string(), z.unknown()).nullable(), strict: z.boolean().nullable() }),
  ),
  /** The request's `top_logprobs` as sent (0-20 or null); absent when the request had none. */
  top_logprobs: z.number().int().nullable().optional(),
  top_p: z.number(),
  truncation: z.literal('disabled'),
  usage: ResponsesUsageSchema.nullable(),
  user: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  llmrr: LlmrrResponseInfoSchema.optional(),
});
export type OpenAIResponse = z.infer<typeof OpenAIResponseSchema>;

// ---- streaming events ----------------------------------------------------------------------------

const Seq = { sequence_number: z.number().int() };
const At = { ...Seq, item_id: z.string(), output_index: z.number().int() };

/** The streaming events the gateway sends, each as `event: <type>` + `data: {...}`, numbered by `sequence_number`. */
export const OpenAIResponseStreamEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('response.created'), response: OpenAIResponseSchema, ...Seq }),
  z.object({ type: z.literal('response.in_progress'), response: OpenAIResponseSchema, ...Seq }),
  z.object({ type: z.literal('response.output_item.added'), output_index: z.number().int(), item: ResponsesOutputItemSchema, ...Seq }),
  z.object({ type: z.literal('response.content_part.added'), ...At, content_index: z.number().int(), part: z.union([ResponsesOutputTextSchema, ResponsesRefusalSchema, ResponsesReasoningTextSchema]) }),
  z.object({ type: z.literal('response.output_text.delta'), ...At, content_index: z.number().int(), delta: z.string(), logprobs: z.array(z.unknown()) }),
  z.object({ type: z.literal('response.output_text.done'), ...At, content_index: z.number().int(), text: z.string(), logprobs: z.array(z.unknown()) }),
  z.object({ type: z.literal('response.reasoning_summary_part.added'), ...At, summary_index: z.number().int(), part: ResponsesSummaryTextSchema }),
  z.object({ type: z.literal('response.reasoning_summary_text.delta'), ...At, summary_index: z.number().int(), delta: z.string() }),
  z.object({ type: z.literal('response.reasoning_summary_text.done'), ...At, summary_index: z.number().int(), text: z.string() }),
  z.object({ type: z.literal('response.reasoning_summary_part.done'), ...At, summary_index: z.number().int(), part: ResponsesSummaryTextSchema }),
  z.object({ type: z.literal('response.reasoning_text.delta'), ...At, content_index: z.number().int(), delta: z.string() }),
  z.object({ type: z.literal('response.reasoning_text.done'), ...At, content_index: z.number().int(), text: z.string() }),
  z.object({ type: z.literal('response.refusal.delta'), ...At, content_index: z.number().int(), delta: z.string() }),
  z.object({ type: z.literal('response.refusal.done'), ...At, content_index: z.number().int(), refusal: z.string() }),
  z.object({ type: z.literal('response.content_part.done'), ...At, content_index: z.number().int(), part: z.union([ResponsesOutputTextSchema, ResponsesRefusalSchema, ResponsesReasoningTextSchema]) }),
  z.object({ type: z.literal('response.function_call_arguments.delta'), ...At, delta: z.string() }),
  z.object({ type: z.literal('response.function_call_arguments.done'), ...At, name: z.string(), arguments: z.string() }),
  z.object({ type: z.literal('response.output_item.done'), output_index: z.number().int(), item: ResponsesOutputItemSchema, ...Seq }),
  z.object({ type: z.literal('response.completed'), response: OpenAIResponseSchema, ...Seq }),
  z.object({ type: z.literal('response.incomplete'), response: OpenAIResponseSchema, ...Seq }),
  /** A stream that broke after its first byte: OpenAI's flat fields plus the gateway's `error` body. */
  z.object({
    type: z.literal('error'),
    code: z.string().nullable(),
    message: z.string(),
    param: z.string().nullable(),
    error: z.object({ type: z.string(), code: z.string(), message: z.string(), param: z.string().nullable(), request_id: z.string().nullable() }),
    ...Seq,
  }),
]);
export type OpenAIResponseStreamEvent = z.infer<typeof OpenAIResponseStreamEventSchema>;

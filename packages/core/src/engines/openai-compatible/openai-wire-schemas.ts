import { z } from 'zod';

/**
 * The parts of the OpenAI chat-completions wire format we read. Lenient on purpose: OpenAI-compatible
 * servers omit fields, send `null` for absent ones, or add their own; unknown fields are dropped.
 */

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

export const OpenAIUsageSchema = z.object({
  prompt_tokens: nullish(z.number()),
  completion_tokens: nullish(z.number()),
  total_tokens: nullish(z.number()),
  /** `cache_write_tokens`: prompt-cache writes, part of `prompt_tokens` (OpenRouter's field, and the llmrr gateway's). */
  prompt_tokens_details: nullish(z.object({ cached_tokens: nullish(z.number()), cache_write_tokens: nullish(z.number()) })),
  completion_tokens_details: nullish(z.object({ reasoning_tokens: nullish(z.number()) })),
  /** DeepSeek reports prompt-cache hits here. */
  prompt_cache_hit_tokens: nullish(z.number()),
});
export type OpenAIUsage = z.output<typeof OpenAIUsageSchema>;

/** One candidate token (`top_logprobs[]` entries). `bytes`: the token's UTF-8 bytes, or null. */
const OpenAITopLogprobSchema = z.object({
  token: z.string(),
  logprob: z.number(),
  bytes: nullish(z.array(z.number())),
});

/** One answer token of `logprobs.content[]`. */
const OpenAITokenLogprobSchema = OpenAITopLogprobSchema.extend({
  top_logprobs: nullish(z.array(OpenAITopLogprobSchema)),
});
export type OpenAITokenLogprob = z.output<typeof OpenAITokenLogprobSchema>;

/**
 * `choices[].logprobs` (chat completions, JSON and stream chunks): `content` holds the answer tokens. Its
 * `refusal` tokens are not the answer's text and are not read (unknown fields are dropped). Not part of the
 * response and chunk schemas (there `logprobs` is `unknown`): a malformed `logprobs` never fails an answer; it is
 * read on its own, only when the request asked for logprobs (`isOpenAIChoiceLogprobs`, which agrees with this).
 */
export const OpenAIChoiceLogprobsSchema = z.object({
  content: nullish(z.array(OpenAITokenLogprobSchema)),
});
export type OpenAIChoiceLogprobs = z.output<typeof OpenAIChoiceLogprobsSchema>;

/**
 * One item of a `content` sent as a list (Mistral's reasoning models: magistral-*, and mistral-small / mistral-medium
 * with `reasoning_effort`): `{type:"text", text}` is the answer's text, `{type:"thinking", thinking:[{type:"text",
 * text}, ...]}` its reasoning (`openAIContentText`). Other items (`{type:"reference", reference_ids}` inside
 * `thinking`, or any other type) carry no text and are not read.
 */
const OpenAIContentPartSchema = z.object({
  type: nullish(z.string()),
  text: nullish(z.string()),
  thinking: nullish(z.array(z.object({ type: nullish(z.string()), text: nullish(z.string()) }))),
});
export type OpenAIContentPart = z.output<typeof OpenAIContentPartSchema>;

/** `content`: a string, or (Mistral's reasoning models) a list of text and thinking items. */
const OpenAIContentSchema = nullish(z.union([z.string(), z.array(OpenAIContentPartSchema)], { error: 'content: expected a string or a list of text and thinking items' }));

const ToolCallSchema = z.object({
  id: nullish(z.string()),
  type: nullish(z.string()),
  function: z.object({ name: z.string(), arguments: nullish(z.string()) }),
});

export const OpenAIChatResponseSchema = z.object({
  id: nullish(z.string()),
  model: nullish(z.string()),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: OpenAIContentSchema,
          /** DeepSeek, vLLM (older) */
          reasoning_content: nullish(z.string()),
          /** OpenRouter, vLLM (newer) */
          reasoning: nullish(z.string()),
          refusal: nullish(z.string()),
          tool_calls: nullish(z.array(ToolCallSchema)),
        }),
        finish_reason: nullish(z.string()),
        /** Read on its own, only when asked for (see `OpenAIChoiceLogprobsSchema`): any value passes here. */
        logprobs: z.unknown().optional(),
      }),
    )
    .min(1),
  usage: nullish(OpenAIUsageSchema),
});
export type OpenAIChatResponse = z.output<typeof OpenAIChatResponseSchema>;

const ToolCallDeltaSchema = z.object({
  index: nullish(z.number()),
  id: nullish(z.string()),
  type: nullish(z.string()),
  function: nullish(z.object({ name: nullish(z.string()), arguments: nullish(z.string()) })),
});
export type OpenAIToolCallDelta = z.output<typeof ToolCallDeltaSchema>;

/** An error object some providers (OpenRouter, vLLM) send inside a stream instead of a chunk. */
export const OpenAIErrorObjectSchema = z.object({
  message: nullish(z.string()),
  type: nullish(z.string()),
  code: nullish(z.union([z.string(), z.number()])),
  param: nullish(z.string()),
});

export const OpenAIChatChunkSchema = z.object({
  id: nullish(z.string()),
  model: nullish(z.string()),
  choices: nullish(
    z.array(
      z.object({
        index: nullish(z.number()),
        delta: nullish(
          z.object({
            content: OpenAIContentSchema,
            reasoning_content: nullish(z.string()),
            reasoning: nullish(z.string()),
            refusal: nullish(z.string()),
            tool_calls: nullish(z.array(ToolCallDeltaSchema)),
          }),
        ),
        finish_reason: nullish(z.string()),
        /** Read on its own, only when asked for (see `OpenAIChoiceLogprobsSchema`): any value passes here. */
        logprobs: z.unknown().optional(),
      }),
    ),
  ),
  usage: nullish(OpenAIUsageSchema),
  error: nullish(OpenAIErrorObjectSchema),
});
export type OpenAIChatChunk = z.output<typeof OpenAIChatChunkSchema>;

export const OpenAIEmbeddingResponseSchema = z.object({
  data: z.array(z.object({ embedding: z.array(z.number()), index: nullish(z.number()) })),
  model: nullish(z.string()),
  usage: nullish(OpenAIUsageSchema),
});

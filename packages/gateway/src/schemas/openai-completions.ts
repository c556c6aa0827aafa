import { z } from 'zod';
import { ModelNameSchema } from './model-name.js';
import { ignoredFieldRules } from './ignored-fields.js';
import { LlmrrExtensionSchema } from './llmrr-extension.js';
import { OpenAICompletionLogprobsSchema } from './openai-logprobs.js';
import { LlmrrResponseInfoSchema, LogitBiasSchema, OpenAIUsageSchema, PenaltySchema, TopKSchema } from './openai-chat.js';

/** `POST /v1/completions` (legacy text completion). One prompt per request. */
export const OpenAICompletionRequestSchema = z.looseObject({
  model: ModelNameSchema,
  /**
   * One prompt: a string or an array of one string. A prompt of token ids (`[1, 2, 3]`, the openai SDK's
   * `Array<number>`) is refused as such: the elements are checked before the count (a `.length` check would run
   * first and tell such a client it sent several prompts); `meta` keeps the count in the JSON schema.
   */
  prompt: z.union([
    z.string(),
    z
      .array(z.string({ error: (i) => (typeof i.input === 'number' || Array.isArray(i.input) ? 'a prompt of token ids is not supported: send the prompt as text' : undefined) }))
      .refine((prompts) => prompts.length === 1, 'exactly one prompt per request is supported')
      .meta({ minItems: 1, maxItems: 1 }),
  ]),
  max_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(1, 'only n=1 is supported').nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  frequency_penalty: PenaltySchema,
  presence_penalty: PenaltySchema,
  echo: z.boolean().nullable().optional(),
  suffix: z.string().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().nullable().optional() }).nullable().optional(),
  user: z.string().optional(),
  /** Applied: OpenAI's legacy `logprobs`, how many alternatives per token (0-5), as the core request's `logprobs`. */
  logprobs: z.number().int().min(0).max(5).nullable().optional(),
  /** Applied: the core request's `topK` (an extension, see `TopKSchema`). */
  top_k: TopKSchema,
  /** Applied: the core request's `logitBias`, as on chat completions (`LogitBiasSchema`). */
  logit_bias: LogitBiasSchema,
  llmrr: LlmrrExtensionSchema.optional(),
});
export type OpenAICompletionRequest = z.infer<typeof OpenAICompletionRequestSchema>;

/** Every field of the schema is acted on; other fields (`best_of`...) are warned about unless they ask for nothing. */
export const COMPLETION_FIELD_RULES = ignoredFieldRules(OpenAICompletionRequestSchema.shape, [], { best_of: (v) => v === 1 });

export const OpenAICompletionResponseSchema = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.string().nullable(),
  choices: z.array(
    z.object({
      text: z.string(),
      index: z.number().int(),
      logprobs: OpenAICompletionLogprobsSchema.nullable(),
      finish_reason: z.enum(['stop', 'length', 'content_filter']).nullable(),
    }),
  ),
  usage: OpenAIUsageSchema.nullable().optional(),
  llmrr: LlmrrResponseInfoSchema.optional(),
});
export type OpenAICompletionResponse = z.infer<typeof OpenAICompletionResponseSchema>;

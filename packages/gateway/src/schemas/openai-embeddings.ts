import { z } from 'zod';
import { isWellFormedEmbeddingRequest } from './check-openai-embeddings.js';
import { addFastCheck } from './fast-check.js';
import { ModelNameSchema } from './model-name.js';

/** Inputs in one request, as OpenAI allows. */
export const MAX_EMBEDDING_INPUTS = 2048;
/** Token ids in one input (OpenAI's embedding models take 8192 tokens an input). */
export const MAX_EMBEDDING_INPUT_TOKENS = 8192;
/** The largest `dimensions` taken (OpenAI's largest model has 3072; a bound, not a promise). */
export const MAX_EMBEDDING_DIMENSIONS = 65_536;

/** OpenAI refuses an empty string (alone or in a list) with a 400; so does Gemini (a text part without data). */
const EMPTY_INPUT = 'an input must not be an empty string';

/** A token id: an integer >= 0 (int32, as servers read them). */
const TokenIdSchema = z.number().int().min(0).max(2_147_483_647);

/**
 * `input` as a list: up to `MAX_EMBEDDING_INPUTS` strings, token ids (one input), or arrays of token ids (one per
 * input), not mixed; each input of token ids non-empty and at most `MAX_EMBEDDING_INPUT_TOKENS` ids. One array schema (not a union of four) so that a
 * refusal names the element at fault (`input.1`, `input.0.3`).
 */
const EmbeddingInputListSchema = z
  .array(z.union([z.string(), TokenIdSchema, z.array(TokenIdSchema)]))
  .min(1, 'at least one input is required')
  .superRefine((list, ctx) => {
    const kind = (v: unknown) => (typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a token id' : 'an array of token ids');
    const first = kind(list[0]);
    // One array of token ids is one input; otherwise each element is one.
    const max = typeof list[0] === 'number' ? MAX_EMBEDDING_INPUT_TOKENS : MAX_EMBEDDING_INPUTS;
    if (list.length > max) {
      ctx.addIssue({ code: 'custom', message: typeof list[0] === 'number' ? `an input of token ids has at most ${max}` : `at most ${max} inputs`, path: [] });
      return;
    }
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      if (kind(v) !== first) {
        ctx.addIssue({ code: 'custom', message: `every input must be of one kind: input.0 is ${first}, this one ${kind(v)}`, path: [i] });
        return;
      }
      if (v === '') {
        ctx.addIssue({ code: 'custom', message: EMPTY_INPUT, path: [i] });
        return;
      }
      if (Array.isArray(v) && (v.length === 0 || v.length > MAX_EMBEDDING_INPUT_TOKENS)) {
        ctx.addIssue({ code: 'custom', message: v.length === 0 ? 'an input of token ids must not be empty' : `an input of token ids has at most ${MAX_EMBEDDING_INPUT_TOKENS}`, path: [i] });
        return;
      }
    }
  });

/**
 * `POST /v1/embeddings`. `input` as OpenAI takes it: a string, strings, one array of token ids, or arrays of them
 * (what LangChain's `OpenAIEmbeddings` sends by default), no empty string; token ids go only to deployments that take them.
 */
export const OpenAIEmbeddingRequestSchema = z.looseObject({
  model: ModelNameSchema,
  input: z.union([z.string().min(1, EMPTY_INPUT), EmbeddingInputListSchema]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().max(MAX_EMBEDDING_DIMENSIONS).optional(),
  user: z.string().optional(),
});
export type OpenAIEmbeddingRequest = z.infer<typeof OpenAIEmbeddingRequestSchema>;
addFastCheck(OpenAIEmbeddingRequestSchema, isWellFormedEmbeddingRequest);

export const OpenAIEmbeddingResponseSchema = z.object({
  object: z.literal('list'),
  data: z.array(z.object({ object: z.literal('embedding'), index: z.number().int(), embedding: z.union([z.array(z.number()), z.string()]) })),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});
export type OpenAIEmbeddingResponse = z.infer<typeof OpenAIEmbeddingResponseSchema>;

/** `GET /v1/models`. */
export const OpenAIModelListSchema = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      id: z.string(),
      object: z.literal('model'),
      created: z.number().int(),
      owned_by: z.string(),
      llmrr: z.object({ engine: z.string(), alias: z.string().optional(), alias_of: z.array(z.string()).optional(), capabilities: z.array(z.string()) }).optional(),
    }),
  ),
});
export type OpenAIModelList = z.infer<typeof OpenAIModelListSchema>;

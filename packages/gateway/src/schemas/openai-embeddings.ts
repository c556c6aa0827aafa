import { z } from 'zod';
import { ModelNameSchema } from './model-name.js';

/** `POST /v1/embeddings`. Token-array inputs are not supported (text only). */
export const OpenAIEmbeddingRequestSchema = z.looseObject({
  model: ModelNameSchema,
  input: z.union([z.string(), z.array(z.string()).min(1, 'at least one input is required').max(2048)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});
export type OpenAIEmbeddingRequest = z.infer<typeof OpenAIEmbeddingRequestSchema>;

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
      llmrr: z.object({ engine: z.string(), alias: z.string().optional(), capabilities: z.array(z.string()) }).optional(),
    }),
  ),
});
export type OpenAIModelList = z.infer<typeof OpenAIModelListSchema>;

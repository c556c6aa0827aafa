import { z } from 'zod';
import { AdminBudgetSchema, AdminKeyCreateSchema, AdminKeyPatchSchema, AdminLimitsSchema, AdminTenantCreateSchema, AdminTenantPatchSchema } from './admin.js';
import { AnthropicMessageSchema, AnthropicMessagesRequestSchema, AnthropicStreamEventSchema } from './anthropic-messages.js';
import { LegacyAnswerSchema, LegacyChatRequestSchema, QuickRequestSchema, RouteRequestSchema } from './legacy-api.js';
import { LlmrrExtensionSchema } from './llmrr-extension.js';
import { OpenAIChatChunkSchema, OpenAIChatRequestSchema, OpenAIChatResponseSchema, StreamErrorFrameSchema } from './openai-chat.js';
import { OpenAICompletionRequestSchema, OpenAICompletionResponseSchema } from './openai-completions.js';
import { OpenAIResponseSchema, OpenAIResponseStreamEventSchema, OpenAIResponsesRequestSchema } from './openai-responses.js';
import { OpenAIEmbeddingRequestSchema, OpenAIEmbeddingResponseSchema, OpenAIModelListSchema } from './openai-embeddings.js';

/** Every wire schema of the gateway by name: requests, responses and streaming frames. */
export const wireSchemas = {
  LlmrrExtension: LlmrrExtensionSchema,
  OpenAIChatRequest: OpenAIChatRequestSchema,
  OpenAIChatResponse: OpenAIChatResponseSchema,
  OpenAIChatChunk: OpenAIChatChunkSchema,
  StreamErrorFrame: StreamErrorFrameSchema,
  OpenAIResponsesRequest: OpenAIResponsesRequestSchema,
  OpenAIResponse: OpenAIResponseSchema,
  OpenAIResponseStreamEvent: OpenAIResponseStreamEventSchema,
  OpenAICompletionRequest: OpenAICompletionRequestSchema,
  OpenAICompletionResponse: OpenAICompletionResponseSchema,
  OpenAIEmbeddingRequest: OpenAIEmbeddingRequestSchema,
  OpenAIEmbeddingResponse: OpenAIEmbeddingResponseSchema,
  OpenAIModelList: OpenAIModelListSchema,
  AnthropicMessagesRequest: AnthropicMessagesRequestSchema,
  AnthropicMessage: AnthropicMessageSchema,
  AnthropicStreamEvent: AnthropicStreamEventSchema,
  QuickRequest: QuickRequestSchema,
  LegacyChatRequest: LegacyChatRequestSchema,
  RouteRequest: RouteRequestSchema,
  LegacyAnswer: LegacyAnswerSchema,
  AdminTenantCreate: AdminTenantCreateSchema,
  AdminTenantPatch: AdminTenantPatchSchema,
  AdminKeyCreate: AdminKeyCreateSchema,
  AdminKeyPatch: AdminKeyPatchSchema,
  AdminLimits: AdminLimitsSchema,
  AdminBudget: AdminBudgetSchema,
} as const;

export type WireSchemaName = keyof typeof wireSchemas;

/**
 * JSON Schema (draft 2020-12) of one wire schema, for other languages' clients and contract tests.
 * Requests are described as input (defaults optional), responses as output.
 */
export function wireJsonSchema(name: WireSchemaName): Record<string, unknown> {
  const io = /Request|Create|Patch|Extension|Limits|Budget/.test(name) ? 'input' : 'output';
  return z.toJSONSchema(wireSchemas[name], { io, unrepresentable: 'any' }) as Record<string, unknown>;
}

/** All wire schemas as one JSON Schema document with `$defs`. */
export function wireJsonSchemas(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (const name of Object.keys(wireSchemas) as WireSchemaName[]) {
    const { $schema: _s, ...rest } = wireJsonSchema(name);
    defs[name] = rest;
  }
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'https://llmrr.dev/schemas/gateway-wire.json', $defs: defs };
}

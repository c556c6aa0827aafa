import { z } from 'zod';
import { AnthropicMessagesRequestSchema } from '../schemas/anthropic-messages.js';

/** A field count_tokens accepts whatever its value and drops: it never reaches the converted request. */
const Dropped = z.unknown().transform(() => undefined).optional();

/**
 * `POST /v1/messages/count_tokens` request body: the Messages request without what does not change the
 * prompt (`max_tokens`, `stream`, sampling fields, `metadata`, `llmrr`); those, like any unknown field,
 * are ignored rather than refused, and dropped from the parsed body (so `top_k`, the core `topK` on
 * `/v1/messages`, never reaches the count unchecked). `model`, `messages`, `system`, `tools` and `tool_choice`
 * are checked exactly as on `/v1/messages`.
 */
export const AnthropicCountTokensRequestSchema = AnthropicMessagesRequestSchema.omit({
  max_tokens: true,
  stream: true,
  stop_sequences: true,
  temperature: true,
  top_p: true,
  top_k: true,
  metadata: true,
  llmrr: true,
}).extend({
  stop_sequences: Dropped,
  temperature: Dropped,
  top_p: Dropped,
  top_k: Dropped,
  metadata: Dropped,
});
export type AnthropicCountTokensRequest = z.infer<typeof AnthropicCountTokensRequestSchema>;

/** `POST /v1/messages/count_tokens` answer. */
export interface AnthropicTokensCount {
  input_tokens: number;
}

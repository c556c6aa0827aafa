import type { z } from 'zod';
import { AnthropicMessagesRequestSchema } from '../schemas/anthropic-messages.js';

/**
 * `POST /v1/messages/count_tokens` request body: the Messages request without what does not change the
 * prompt (`max_tokens`, `stream`, sampling fields, `metadata`, `llmrr`); those, like any unknown field,
 * are ignored rather than refused. `model`, `messages`, `system`, `tools` and `tool_choice` are checked
 * exactly as on `/v1/messages`.
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
});
export type AnthropicCountTokensRequest = z.infer<typeof AnthropicCountTokensRequestSchema>;

/** `POST /v1/messages/count_tokens` answer. */
export interface AnthropicTokensCount {
  input_tokens: number;
}

import { z } from 'zod';
import { OpenAIResponsesRequestSchema } from '../schemas/openai-responses.js';

/** A field the count accepts whatever its value and drops: it never reaches the converted request. */
const Dropped = z.unknown().transform(() => undefined).optional();

/**
 * `POST /v1/responses/input_tokens` request body (openai 6.49 `InputTokenCountParams`): the Responses request
 * without what does not change the prompt (`max_output_tokens`, `stream`, sampling and logprob fields, `store`,
 * `metadata`, `include`, the end-user ids, `llmrr`...); those, like any unknown field, are ignored rather than
 * refused, and dropped from the parsed body. `model` (the gateway needs it to pick the deployment that counts),
 * `input` (optional here, as on OpenAI's count: absent, null or system and developer messages alone, the count is of
 * what there is), `instructions`, `tools`, `tool_choice`, `parallel_tool_calls`, `text` and `reasoning` are checked exactly
 * as on `/v1/responses`, and `previous_response_id`, `conversation` and `prompt` refused as there (the gateway keeps
 * no state to count them from).
 */
export const ResponsesInputTokensRequestSchema = OpenAIResponsesRequestSchema.omit({
  max_output_tokens: true,
  max_tool_calls: true,
  temperature: true,
  top_p: true,
  top_logprobs: true,
  stream: true,
  stream_options: true,
  store: true,
  background: true,
  truncation: true,
  include: true,
  metadata: true,
  user: true,
  safety_identifier: true,
  prompt_cache_key: true,
  service_tier: true,
  llmrr: true,
}).extend({
  max_output_tokens: Dropped,
  max_tool_calls: Dropped,
  temperature: Dropped,
  top_p: Dropped,
  top_logprobs: Dropped,
  stream: Dropped,
  stream_options: Dropped,
  store: Dropped,
  background: Dropped,
  truncation: Dropped,
  include: Dropped,
  metadata: Dropped,
  user: Dropped,
  safety_identifier: Dropped,
  prompt_cache_key: Dropped,
  service_tier: Dropped,
  llmrr: Dropped,
  // Optional, as on OpenAI's count (openai 6.49 `input?: string | Array<ResponseInputItem> | null`): instructions and
  // tools alone are a count of a prompt's fixed part. An empty list is refused as on /v1/responses.
  input: OpenAIResponsesRequestSchema.shape.input.nullish(),
});
export type ResponsesInputTokensRequest = z.infer<typeof ResponsesInputTokensRequestSchema>;

/** `POST /v1/responses/input_tokens` answer (openai 6.49 `InputTokenCountResponse`). */
export interface ResponsesInputTokens {
  object: 'response.input_tokens';
  input_tokens: number;
}

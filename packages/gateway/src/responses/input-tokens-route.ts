import { LLMError } from '@llmrr/core';
import type { GatewayDeps } from '../calls/context.js';
import type { ModelRoute } from '../calls/model-route.js';
import { tokenCountRoute } from '../calls/token-count-route.js';
import type { OpenAIResponsesRequest } from '../schemas/openai-responses.js';
import { ResponsesInputTokensRequestSchema, type ResponsesInputTokens } from './input-tokens-request.js';
import { convertResponsesRequest } from './to-generate-request.js';

/**
 * `POST /v1/responses/input_tokens` (OpenAI; the SDK's `responses.inputTokens.count`): the prompt tokens of a
 * Responses request, as `{ object: "response.input_tokens", input_tokens }`, counted as `tokenCountRoute` says
 * (authenticated, the model one the caller may use, the router's count, exact or estimated, bounded by
 * `countAdmission`; no model called). The body is checked as on `POST /v1/responses` (`convertResponsesRequest`),
 * errors in OpenAI's shape naming the client's field.
 */
export function inputTokensRoute(deps: GatewayDeps): ModelRoute {
  return tokenCountRoute(deps, {
    endpoint: '/v1/responses/input_tokens',
    schema: ResponsesInputTokensRequestSchema,
    style: 'openai',
    check(body) {
      const count = body.input == null ? 0 : typeof body.input === 'string' ? 1 : body.input.length;
      if (count > deps.maxMessages) {
        throw new LLMError({ code: 'invalid_request', message: `Too many input items: ${count} (the limit is ${deps.maxMessages})`, param: 'input' });
      }
    },
    // With the output fields dropped, the converted request has no maxTokens.
    // No turn to answer is needed: no input, or system and developer messages alone, are counted (`count`).
    convert: (body) => convertResponsesRequest(body as OpenAIResponsesRequest, true),
    answer: (tokens): ResponsesInputTokens => ({ object: 'response.input_tokens', input_tokens: tokens }),
  });
}

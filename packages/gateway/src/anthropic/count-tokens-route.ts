import { LLMError } from '@llmrr/core';
import type { GatewayDeps } from '../calls/context.js';
import type { ModelRoute } from '../calls/model-route.js';
import { tokenCountRoute } from '../calls/token-count-route.js';
import { AnthropicCountTokensRequestSchema, type AnthropicTokensCount } from './count-tokens-request.js';
import { convertMessagesRequest } from './to-generate-request.js';

export { TOKEN_COUNT_HEADER } from '../calls/token-count-route.js';

/**
 * `POST /v1/messages/count_tokens` (Anthropic; the SDK's `messages.countTokens`, Claude Code): the prompt
 * tokens of a Messages request, as `{ input_tokens }`, counted as `tokenCountRoute` says (authenticated, the model
 * one the caller may use, the router's count, exact or estimated, bounded by `countAdmission`; no model called).
 */
export function countTokensRoute(deps: GatewayDeps): ModelRoute {
  return tokenCountRoute(deps, {
    endpoint: '/v1/messages/count_tokens',
    schema: AnthropicCountTokensRequestSchema,
    style: 'anthropic',
    check(body) {
      if (body.messages.length > deps.maxMessages) {
        throw new LLMError({ code: 'invalid_request', message: `Too many messages: ${body.messages.length} (the limit is ${deps.maxMessages})`, param: 'messages' });
      }
    },
    convert(body) {
      // The conversion checks what /v1/messages checks (a tool_choice naming a tool that is not there). Its max_tokens
      // is a stand-in, left out of the request counted: the body has none, and an engine builds its count from the
      // messages body of the same request, so a max_tokens of 1 would fit a thinking budget under it to nothing and
      // leave thinking out of an exact count (Anthropic's count_tokens takes `thinking`).
      const converted = convertMessagesRequest({ ...body, max_tokens: 1 });
      const { maxTokens: _standIn, ...request } = converted.request;
      return { ...converted, request };
    },
    answer: (tokens): AnthropicTokensCount => ({ input_tokens: tokens }),
  });
}

import { LLMError, toLLMError } from '@llmrr/core';
import { authenticate } from '../auth/authenticate.js';
import type { GatewayDeps } from '../calls/context.js';
import type { ModelRoute } from '../calls/model-route.js';
import { resolveModel } from '../calls/resolve-model.js';
import { errorReply, toPublicError } from '../http/error-body.js';
import { readJsonBody } from '../http/read-json-body.js';
import { jsonReply, type Reply } from '../http/reply.js';
import { validateBody } from '../http/validate.js';
import { estimateInputTokens } from '../tenancy/estimate.js';
import { AnthropicCountTokensRequestSchema, type AnthropicTokensCount } from './count-tokens-request.js';
import { messagesToGenerateRequest } from './to-generate-request.js';

/** Response header saying how `input_tokens` was counted: `estimate` (the gateway's own estimate). */
export const TOKEN_COUNT_HEADER = 'x-llmrr-token-count';

/**
 * `POST /v1/messages/count_tokens` (Anthropic; the SDK's `messages.countTokens`, Claude Code): the prompt
 * tokens of a Messages request, as `{ input_tokens }`. Authenticated like the model endpoints, and the
 * model must be one the caller may use (the same 404 `model_not_found` naming `model`), but nothing is
 * called: no ledger record, no budget reservation, and it does not count against the rate limits.
 *
 * The count is the gateway's own estimate, the one the `tpm` limits charge before a call
 * (`estimateInputTokens`: half the UTF-8 bytes of the messages' text plus the tool schemas, an upper
 * bound for English text; images and tool-call arguments count nothing), never a provider's tokenizer;
 * the answer says so in `x-llmrr-token-count: estimate`. The router gives the gateway no way to reach an
 * engine's own `countTokens` (core's Anthropic engine can ask Anthropic's count_tokens), so a model on
 * the `anthropic` engine is estimated the same way.
 */
export function countTokensRoute(deps: GatewayDeps): ModelRoute {
  return async (incoming, requestId): Promise<Reply> => {
    try {
      const principal = await authenticate(incoming.headers, {
        stores: deps.stores,
        auth: deps.auth,
        requestId,
        clientIp: incoming.clientIp,
        log: (m, e) => deps.log(m, requestId, e),
      });
      const body = validateBody(AnthropicCountTokensRequestSchema, await readJsonBody(incoming, { maxBytes: deps.maxBodyBytes }));
      if (body.messages.length > deps.maxMessages) {
        throw new LLMError({ code: 'invalid_request', message: `Too many messages: ${body.messages.length} (the limit is ${deps.maxMessages})`, param: 'messages' });
      }
      resolveModel(body.model, deps.router.models(principal.tenantId), principal);
      // The conversion checks what /v1/messages checks (a tool_choice naming a tool that is not there).
      const request = messagesToGenerateRequest({ ...body, max_tokens: 1 });
      const answer: AnthropicTokensCount = { input_tokens: estimateInputTokens(request) };
      const headers: Record<string, string> = { [TOKEN_COUNT_HEADER]: 'estimate' };
      if (principal.demo) {
        headers['x-llmrr-demo'] = 'true';
        headers['x-llmrr-tenant'] = principal.tenantId;
      }
      return jsonReply(answer, requestId, headers);
    } catch (e) {
      const error = toPublicError(toLLMError(e));
      if (error.statusCode >= 500) deps.log(`request failed: ${error.code}`, requestId, e);
      return errorReply(error, requestId, 'anthropic');
    }
  };
}

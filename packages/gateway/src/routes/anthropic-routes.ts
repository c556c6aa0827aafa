import type { Hono } from 'hono';
import { toAnthropicMessage } from '../anthropic/message-response.js';
import { countTokensRoute } from '../anthropic/count-tokens-route.js';
import { AnthropicStreamEncoder } from '../anthropic/stream-encoder.js';
import { checkThinkingBudget, convertMessagesRequest } from '../anthropic/to-generate-request.js';
import type { AppEnv, GatewayDeps } from '../calls/context.js';
import { postModelEndpoint } from '../calls/model-endpoint.js';
import { inCallerTrace, postRoute } from '../calls/model-route.js';
import { routerExtension } from '../calls/router-extension.js';
import { AnthropicMessagesRequestSchema } from '../schemas/anthropic-messages.js';

/**
 * Anthropic-compatible `POST /v1/messages` (JSON and the Messages streaming event sequence) and
 * `POST /v1/messages/count_tokens` (the routed deployment's count, exact or estimated; see `countTokensRoute`). The Anthropic shape of the model
 * list is served by `GET /v1/models` itself (see `registerModelsRoutes`).
 */
export function registerAnthropicRoutes(app: Hono<AppEnv>, deps: GatewayDeps): void {
  postModelEndpoint(app, deps, {
    endpoint: '/v1/messages',
    schema: AnthropicMessagesRequestSchema,
    style: 'anthropic',
    messageCount: (b) => b.messages.length,
    build(body, { headers }) {
      const ext = routerExtension(headers, body.llmrr);
      checkThinkingBudget(body);
      const { request, messagePaths, fieldNames } = convertMessagesRequest(body, headers.get('anthropic-beta'));
      return {
        model: body.model,
        request,
        messagePaths,
        fieldNames,
        stream: body.stream === true,
        ext,
        render: (result) => toAnthropicMessage(result, { explain: ext.explain === true }),
        encoder: () => new AnthropicStreamEncoder({ explain: ext.explain === true }),
      };
    },
  });

  // In the caller's trace context too: the router's count span (`instrumentRouter`) is a child of the caller's span.
  postRoute(app, deps.routes, '/v1/messages/count_tokens', inCallerTrace(deps.callerTraceContext, countTokensRoute(deps)));
}

import type { Hono } from 'hono';
import { LLMError, toLLMError } from '@llmrr/core';
import { authenticate } from '../auth/authenticate.js';
import { clientIp, type AppEnv, type GatewayDeps } from '../calls/context.js';
import { postModelEndpoint } from '../calls/model-endpoint.js';
import { postRoute } from '../calls/model-route.js';
import { jsonResponse } from '../calls/model-call.js';
import { visibleDeployments } from '../calls/resolve-model.js';
import { routerExtension } from '../calls/router-extension.js';
import { errorResponse } from '../http/error-body.js';
import { toChatCompletion } from '../openai/chat-response.js';
import { ChatStreamEncoder } from '../openai/chat-stream-encoder.js';
import { CompletionStreamEncoder, toTextCompletion } from '../openai/completion-stream-encoder.js';
import { chatToGenerateRequest, completionToGenerateRequest } from '../openai/to-generate-request.js';
import { responsesEndpoint } from '../responses/responses-endpoint.js';
import { OpenAIChatRequestSchema } from '../schemas/openai-chat.js';
import { OpenAICompletionRequestSchema } from '../schemas/openai-completions.js';
import type { OpenAIModelList } from '../schemas/openai-embeddings.js';
import { embeddingsRoute } from './embeddings.js';

/** OpenAI-compatible routes: chat completions, responses, completions, embeddings, models. */
export function registerOpenAIRoutes(app: Hono<AppEnv>, deps: GatewayDeps): void {
  postModelEndpoint(app, deps, {
    endpoint: '/v1/chat/completions',
    schema: OpenAIChatRequestSchema,
    style: 'openai',
    messageCount: (b) => b.messages.length,
    build(body, { headers }) {
      const ext = routerExtension(headers, body.llmrr);
      const created = Math.floor(deps.now() / 1000);
      const includeUsage = body.stream_options?.include_usage === true;
      if (body.stream_options && !body.stream) {
        throw new LLMError({ code: 'invalid_request', message: 'stream_options is only allowed when stream is true', param: 'stream_options' });
      }
      return {
        model: body.model,
        request: chatToGenerateRequest(body),
        stream: body.stream === true,
        ext,
        render: (result) => toChatCompletion(result, { created, explain: ext.explain === true }),
        encoder: () => new ChatStreamEncoder({ created, includeUsage, explain: ext.explain === true }),
      };
    },
  });

  postModelEndpoint(app, deps, responsesEndpoint(deps));

  postModelEndpoint(app, deps, {
    endpoint: '/v1/completions',
    schema: OpenAICompletionRequestSchema,
    style: 'openai',
    build(body, { headers }) {
      const ext = routerExtension(headers, body.llmrr);
      const created = Math.floor(deps.now() / 1000);
      if (body.echo) throw new LLMError({ code: 'unsupported', message: 'echo is not supported', param: 'echo' });
      if (body.stream_options && !body.stream) {
        throw new LLMError({ code: 'invalid_request', message: 'stream_options is only allowed when stream is true', param: 'stream_options' });
      }
      return {
        model: body.model,
        request: completionToGenerateRequest(body),
        stream: body.stream === true,
        ext,
        render: (result) => toTextCompletion(result, { created, explain: ext.explain === true }),
        encoder: () => new CompletionStreamEncoder({ created, includeUsage: body.stream_options?.include_usage === true, explain: ext.explain === true }),
      };
    },
  });

  postRoute(app, deps.routes, '/v1/embeddings', embeddingsRoute(deps));

  app.get('/v1/models', async (c) => {
    const requestId = c.get('requestId');
    try {
      const principal = await authenticate(c.req.raw.headers, { stores: deps.stores, auth: deps.auth, requestId, clientIp: clientIp(c), log: (m, e) => deps.log(m, requestId, e) });
      const created = Math.floor(deps.startedAt / 1000);
      const list: OpenAIModelList = {
        object: 'list',
        data: visibleDeployments(deps.router.models(principal.tenantId), principal).map((d) => ({
          id: d.name,
          object: 'model',
          created,
          owned_by: d.engine === 'mock' ? 'llmrr-mock' : d.engine,
          llmrr: { engine: d.engine, capabilities: d.capabilities, ...(d.alias !== undefined ? { alias: d.alias } : {}) },
        })),
      };
      return jsonResponse(list, requestId);
    } catch (e) {
      return errorResponse(toLLMError(e), requestId);
    }
  });
}

import type { Hono } from 'hono';
import { LLMError } from '@llmrr/core';
import type { AppEnv, GatewayDeps } from '../calls/context.js';
import { postModelEndpoint } from '../calls/model-endpoint.js';
import { inCallerTrace, postRoute } from '../calls/model-route.js';
import { routerExtension } from '../calls/router-extension.js';
import { toChatCompletion } from '../openai/chat-response.js';
import { ChatStreamEncoder } from '../openai/chat-stream-encoder.js';
import { CompletionStreamEncoder, toTextCompletion } from '../openai/completion-stream-encoder.js';
import { legacyCallsWarning } from '../openai/legacy-functions.js';
import { codePoints } from '../openai/openai-logprobs.js';
import { completionToGenerateRequest, convertChatRequest } from '../openai/to-generate-request.js';
import { inputTokensRoute } from '../responses/input-tokens-route.js';
import { responsesEndpoint } from '../responses/responses-endpoint.js';
import { registerStoredResponseRoutes } from '../responses/stored-response-routes.js';
import { OpenAIChatRequestSchema } from '../schemas/openai-chat.js';
import { OpenAICompletionRequestSchema } from '../schemas/openai-completions.js';
import { COMPLETION_FIELD_NAMES } from '../schemas/route-field-names.js';
import { embeddingsRoute } from './embeddings.js';
import { registerModelsRoutes } from './models-route.js';

/** OpenAI-compatible routes: chat completions, responses (and their input token count), completions, embeddings, models. */
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
      const { request, messagePaths, fieldNames } = convertChatRequest(body);
      const logprobs = request.logprobs !== undefined;
      // Legacy `functions`: the answer's call goes back as `function_call`, as OpenAI answers them.
      const legacyFunctions = body.functions !== undefined && body.functions.length > 0;
      return {
        model: body.model,
        request,
        messagePaths,
        fieldNames,
        stream: body.stream === true,
        ext,
        render: (result) => toChatCompletion(result, { created, explain: ext.explain === true, logprobs, legacyFunctions }),
        answerWarnings: legacyFunctions ? legacyCallsWarning : undefined,
        encoder: () => new ChatStreamEncoder({ created, includeUsage, explain: ext.explain === true, logprobs, legacyFunctions }),
      };
    },
  });

  postModelEndpoint(app, deps, responsesEndpoint(deps));
  // (Before the stored-response routes: `input_tokens` is no response id.)
  postRoute(app, deps.routes, '/v1/responses/input_tokens', inCallerTrace(deps.callerTraceContext, inputTokensRoute(deps)));
  registerStoredResponseRoutes(app);

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
      const request = completionToGenerateRequest(body);
      // With log probabilities: `text_offset` counts from the prompt's start (OpenAI's, echoed or not).
      const lp = request.logprobs === undefined ? {} : { logprobs: true, promptChars: codePoints(typeof body.prompt === 'string' ? body.prompt : body.prompt[0]!) };
      return {
        model: body.model,
        request,
        // Core's one user message is the prompt (`prompt.0` when it came as a one-element array), a string that is
        // the message's text itself: core's `messages.0.content` is `prompt` (the body has no `prompt.content`).
        messagePaths: [{ path: typeof body.prompt === 'string' ? 'prompt' : 'prompt.0', text: true }],
        fieldNames: COMPLETION_FIELD_NAMES,
        stream: body.stream === true,
        ext,
        render: (result) => toTextCompletion(result, { created, explain: ext.explain === true, ...lp }),
        encoder: () => new CompletionStreamEncoder({ created, includeUsage: body.stream_options?.include_usage === true, explain: ext.explain === true, ...lp }),
      };
    },
  });

  postRoute(app, deps.routes, '/v1/embeddings', inCallerTrace(deps.callerTraceContext, embeddingsRoute(deps)));

  registerModelsRoutes(app, deps);
}

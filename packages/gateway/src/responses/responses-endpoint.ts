import { LLMError } from '@llmrr/core';
import type { GatewayDeps } from '../calls/context.js';
import type { ModelEndpoint } from '../calls/model-endpoint.js';
import { routerExtension } from '../calls/router-extension.js';
import { OpenAIResponsesRequestSchema } from '../schemas/openai-responses.js';
import { ENCRYPTED_REASONING_INCLUDE } from '../schemas/responses-include-values.js';
import { responseEcho, toResponseObject } from './response-object.js';
import { ResponsesStreamEncoder } from './responses-stream-encoder.js';
import { convertResponsesRequest } from './to-generate-request.js';

/**
 * `POST /v1/responses`: the OpenAI Responses API over the router, as a model endpoint (admission, limits,
 * budgets, ledger, metrics, headers and errors as on chat completions). Stateless: nothing is stored.
 */
export function responsesEndpoint(deps: GatewayDeps): ModelEndpoint<typeof OpenAIResponsesRequestSchema> {
  return {
    endpoint: '/v1/responses',
    schema: OpenAIResponsesRequestSchema,
    style: 'openai',
    // No `messageCount`: the shared check would name `messages`; the limit is checked here, naming `input`.
    build(body, { headers }) {
      const count = typeof body.input === 'string' ? 1 : body.input.length;
      if (count > deps.maxMessages) {
        throw new LLMError({ code: 'invalid_request', message: `Too many input items: ${count} (the limit is ${deps.maxMessages})`, param: 'input' });
      }
      const ext = routerExtension(headers, body.llmrr);
      const createdAt = Math.floor(deps.now() / 1000);
      if (body.stream_options && !body.stream) {
        throw new LLMError({ code: 'invalid_request', message: 'stream_options is only allowed when stream is true', param: 'stream_options' });
      }
      const { request, messagePaths, fieldNames } = convertResponsesRequest(body);
      const echo = responseEcho(body);
      const explain = ext.explain === true;
      const logprobs = request.logprobs !== undefined;
      // Reasoning items carry the provider's signed blocks, to be given back (`store: false` clients ask for them).
      const encryptedReasoning = body.include?.includes(ENCRYPTED_REASONING_INCLUDE) === true;
      return {
        model: body.model,
        request,
        messagePaths,
        fieldNames,
        stream: body.stream === true,
        ext,
        render: (result) => toResponseObject(result, { createdAt, echo, explain, logprobs, encryptedReasoning }),
        encoder: () => new ResponsesStreamEncoder({ createdAt, echo, explain, logprobs, encryptedReasoning }),
      };
    },
  };
}

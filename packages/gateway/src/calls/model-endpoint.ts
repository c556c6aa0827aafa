import { LLMError, toLLMError } from '@llmrr/core';
import type { Hono } from 'hono';
import type { z } from 'zod';
import { authenticate } from '../auth/authenticate.js';
import { demoHeaders } from '../auth/demo-headers.js';
import { UNAUTHENTICATED, type Principal } from '../auth/principal.js';
import { errorReply, toPublicError, type ErrorStyle } from '../http/error-body.js';
import type { HeaderSource } from '../http/incoming.js';
import { readJsonBody } from '../http/read-json-body.js';
import type { Reply } from '../http/reply.js';
import { validateBody } from '../http/validate.js';
import { keepOwnProtoField } from '../schemas/ignored-fields.js';
import type { LlmrrExtension } from '../schemas/llmrr-extension.js';
import type { AppEnv, GatewayDeps } from './context.js';
import { runModelCall, type ModelCall } from './model-call.js';
import { inCallerTrace, postRoute, type ModelRoute } from './model-route.js';
import { checkStrategy } from './router-extension.js';

export interface ModelEndpoint<S extends z.ZodType> {
  endpoint: string;
  schema: S;
  style: ErrorStyle;
  /** Messages count of the body, checked against `limits.maxMessages`. */
  messageCount?: (body: z.output<S>) => number;
  /** The body field that holds the call's strategy, for an endpoint with one of its own (default: the `llmrr` extension). */
  strategyField?: string;
  /** Builds the call from the validated body (throw LLMError for semantic errors). */
  build(body: z.output<S>, ctx: { headers: HeaderSource; principal: Principal; requestId: string }): Omit<ModelCall, 'principal' | 'requestId' | 'startedAt' | 'startedMono' | 'signal' | 'style' | 'endpoint' | 'headers'>;
}

/**
 * The shared front of every model endpoint: authenticate, read and validate the body and the router
 * extension's strategy (4xx naming the field), then run the call. Failures before the call still count in
 * metrics, and carry the demo headers once the request is known to be a demo one.
 */
export function modelEndpointRoute<S extends z.ZodType>(deps: GatewayDeps, ep: ModelEndpoint<S>): ModelRoute {
  return async (incoming, requestId, startedAt): Promise<Reply> => {
    // Durations run on the monotonic clock from here (microseconds after `startedAt` was taken).
    const startedMono = performance.now();
    let principal: Principal = UNAUTHENTICATED;
    try {
      principal = await authenticate(incoming.headers, {
        stores: deps.stores,
        auth: deps.auth,
        requestId,
        clientIp: incoming.clientIp,
        log: (m, e) => deps.log(m, requestId, e),
      });
      const raw = await readJsonBody(incoming, deps.bodyRead);
      const body = validateBody(ep.schema, raw);
      // A top-level "__proto__" field the schema's copy dropped is said like any other ignored field.
      keepOwnProtoField(raw, body);
      const count = ep.messageCount?.(body);
      if (count !== undefined && count > deps.maxMessages) {
        throw new LLMError({ code: 'invalid_request', message: `Too many messages: ${count} (the limit is ${deps.maxMessages})`, param: 'messages' });
      }
      const built = ep.build(body, { headers: incoming.headers, principal, requestId });
      checkStrategy(built.ext, (body as { llmrr?: LlmrrExtension }).llmrr, deps.router, principal, ep.strategyField);
      const headers = demoHeaders(principal);
      // Field by field: spreading `built` (an object holding closures) costs V8 several microseconds.
      return await runModelCall(deps, {
        model: built.model,
        request: built.request,
        messagePaths: built.messagePaths,
        fieldNames: built.fieldNames,
        stream: built.stream,
        ext: built.ext,
        render: built.render,
        answerWarnings: built.answerWarnings,
        encoder: built.encoder,
        endpoint: ep.endpoint,
        style: ep.style,
        principal,
        requestId,
        startedAt,
        startedMono,
        signal: incoming.signal,
        served: incoming.served,
        headers,
      });
    } catch (e) {
      const error = toPublicError(toLLMError(e));
      deps.metrics?.observe({ model: 'unknown', tenant: principal.tenantId, status: error.code, durationMs: performance.now() - startedMono }, false);
      if (error.statusCode >= 500) deps.log(`request failed: ${error.code}`, requestId, e);
      return errorReply(error, requestId, ep.style, demoHeaders(principal));
    }
  };
}

/** `POST ep.endpoint` in the Hono app and in the Node fast path. */
export function postModelEndpoint<S extends z.ZodType>(app: Hono<AppEnv>, deps: GatewayDeps, ep: ModelEndpoint<S>): void {
  postRoute(app, deps.routes, ep.endpoint, inCallerTrace(deps.callerTraceContext, modelEndpointRoute(deps, ep)));
}

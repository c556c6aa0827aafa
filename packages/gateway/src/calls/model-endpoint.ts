import { LLMError, toLLMError } from '@llmrr/core';
import type { z } from 'zod';
import { authenticate } from '../auth/authenticate.js';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import { errorResponse, toPublicError, type ErrorStyle } from '../http/error-body.js';
import { readJsonBody } from '../http/read-json-body.js';
import { validateBody } from '../http/validate.js';
import { clientIp, type AppContext, type GatewayDeps } from './context.js';
import { runModelCall, type ModelCall } from './model-call.js';

export interface ModelEndpoint<S extends z.ZodType> {
  endpoint: string;
  schema: S;
  style: ErrorStyle;
  /** Messages count of the body, checked against `limits.maxMessages`. */
  messageCount?: (body: z.output<S>) => number;
  /** Builds the call from the validated body (throw LLMError for semantic errors). */
  build(body: z.output<S>, ctx: { c: AppContext; principal: Principal; requestId: string }): Omit<ModelCall, 'principal' | 'requestId' | 'startedAt' | 'signal' | 'style' | 'endpoint' | 'headers'>;
}

/**
 * The shared front of every model endpoint: authenticate, read and validate the body (4xx naming the
 * field), then run the call. Failures before the call still count in metrics.
 */
export async function handleModelEndpoint<S extends z.ZodType>(c: AppContext, deps: GatewayDeps, ep: ModelEndpoint<S>): Promise<Response> {
  const requestId = c.get('requestId');
  const startedAt = c.get('startedAt');
  let principal: Principal = ANONYMOUS;
  try {
    principal = await authenticate(c.req.raw.headers, {
      stores: deps.stores,
      auth: deps.auth,
      requestId,
      clientIp: clientIp(c),
      log: (m, e) => deps.log(m, requestId, e),
    });
    const raw = await readJsonBody(c.req.raw, { maxBytes: deps.maxBodyBytes });
    const body = validateBody(ep.schema, raw);
    const count = ep.messageCount?.(body);
    if (count !== undefined && count > deps.maxMessages) {
      throw new LLMError({ code: 'invalid_request', message: `Too many messages: ${count} (the limit is ${deps.maxMessages})`, param: 'messages' });
    }
    const built = ep.build(body, { c, principal, requestId });
    const headers: Record<string, string> = principal.demo ? { 'x-llmrr-demo': 'true', 'x-llmrr-tenant': principal.tenantId } : {};
    return await runModelCall(deps, {
      ...built,
      endpoint: ep.endpoint,
      style: ep.style,
      principal,
      requestId,
      startedAt,
      signal: c.req.raw.signal,
      headers,
    });
  } catch (e) {
    const error = toPublicError(toLLMError(e));
    deps.metrics?.observe({ model: 'unknown', tenant: principal.tenantId, status: error.code, durationMs: deps.now() - startedAt }, false);
    if (error.statusCode >= 500) deps.log(`request failed: ${error.code}`, requestId, e);
    return errorResponse(error, requestId, ep.style);
  }
}

import { estimateRequestTokens, toLLMError, type CountTokensOptions, type GenerateRequest, type TokenCount } from '@llmrr/core';
import type { z } from 'zod';
import { authenticate } from '../auth/authenticate.js';
import { demoHeaders } from '../auth/demo-headers.js';
import { routerTenant, UNAUTHENTICATED } from '../auth/principal.js';
import { countAdmission } from '../anthropic/count-tokens-admission.js';
import { errorReply, toPublicError, type ErrorStyle } from '../http/error-body.js';
import { readJsonBody } from '../http/read-json-body.js';
import { jsonReply, type Reply } from '../http/reply.js';
import { validateBody } from '../http/validate.js';
import type { ClientFieldNames } from '../schemas/client-field-names.js';
import { withClientMessagePath, type ClientMessagePaths, type ConvertedRequest } from '../schemas/client-message-paths.js';
import type { GatewayDeps } from './context.js';
import type { ModelRoute } from './model-route.js';
import { resolveModel } from './resolve-model.js';

/**
 * Response header saying how `input_tokens` was counted: `exact` (the model's own count: its tokenizer, or
 * its provider's count endpoint, which the provider itself documents as an estimate that may differ slightly
 * from what a call is billed) or `estimate` (an engine's local estimate, or the gateway's own).
 */
export const TOKEN_COUNT_HEADER = 'x-llmrr-token-count';

/** A router that can count tokens with a deployment's engine (core's `LLMRouter`; optional for a custom `GatewayRouter`). */
interface TokenCountingRouter {
  countTokens(request: GenerateRequest, options?: CountTokensOptions): Promise<TokenCount>;
}

function tokenCounter(router: object): TokenCountingRouter | undefined {
  return typeof (router as Partial<TokenCountingRouter>).countTokens === 'function' ? (router as TokenCountingRouter) : undefined;
}

/** One wire format's token count endpoint: its body, how it becomes a core request, and its answer. */
export interface TokenCountSpec<S extends z.ZodType<{ model: string }>> {
  /** The route's path (the count's `metadata.endpoint`). */
  endpoint: string;
  schema: S;
  style: ErrorStyle;
  /** Checks of the validated body made before its model is resolved (the call endpoint's conversation length limit). */
  check?(body: z.output<S>): void;
  /**
   * The body (validated, the model resolved) as the core request counted, without a `maxTokens` (a count has none);
   * throws the 400 of a bad body as the route's call endpoint does.
   */
  convert(body: z.output<S>): ConvertedRequest;
  /** The answer's JSON body. */
  answer(inputTokens: number): unknown;
}

/**
 * A token count endpoint (`POST /v1/messages/count_tokens`, `POST /v1/responses/input_tokens`): the prompt tokens
 * of a call's body. Authenticated like the model endpoints (a demo gateway needs no key), and the model must be one
 * the caller may use (the same 404 `model_not_found` naming `model`), but no model is called: no ledger record, no
 * budget reservation, no `tpm` charge.
 *
 * The count is the router's (`LLMRouter.countTokens`): the deployment a call to that model would use
 * counts with its engine, the model's own count where the engine has one (GGUF and ONNX tokenizers;
 * Anthropic's and Gemini's count endpoints with the model's `options.exactTokenCount`), else the engine's
 * local estimate; `x-llmrr-token-count` says `exact` or `estimate`. A count that would do network I/O is
 * bounded by `countAdmission`: it takes a place under the key's and tenant's `rpm` and concurrency limits,
 * and when refused (or for a demo principal) the local estimate answers, marked `estimate`, never a 429.
 * A prompt of system messages alone (no turn: a Responses count of instructions and tools) is always the local
 * estimate, as providers' count endpoints need a turn. The client's disconnect cancels the count's upstream request. A provider count that fails is that error
 * (an upstream refusal of the gateway's key is a 502, as on the call endpoints). A `GatewayRouter` without
 * `countTokens` gets core's estimate (`estimateRequestTokens`, what `LLMRouter.countTokens` answers for an engine
 * without a count): a count shown to the client, who sizes its context by it (Claude Code compacts on it), so a
 * typical count, not the gateway's admission bound (`estimateInputTokens`, one token a byte: about 4 times the
 * real count of English, what the budget reserves and the `tpm` limits hold while a call runs).
 */
export function tokenCountRoute<S extends z.ZodType<{ model: string }>>(deps: GatewayDeps, spec: TokenCountSpec<S>): ModelRoute {
  return async (incoming, requestId): Promise<Reply> => {
    // For the metric: who asked and for what, as far as it got (before authentication, `(unauthenticated)`, as the
    // model routes count it).
    let tenant = UNAUTHENTICATED.tenantId;
    let model = 'unknown';
    // The demo headers, once the caller is known to be the demo tenant (errors after authentication carry them too).
    const shown: Record<string, string> = {};
    // Where the converted request's messages came from: an engine's error names the client's message.
    let messagePaths: ClientMessagePaths | undefined;
    let fieldNames: ClientFieldNames | undefined;
    try {
      const principal = await authenticate(incoming.headers, {
        stores: deps.stores,
        auth: deps.auth,
        requestId,
        clientIp: incoming.clientIp,
        log: (m, e) => deps.log(m, requestId, e),
      });
      tenant = principal.tenantId;
      demoHeaders(principal, shown);
      const body = validateBody(spec.schema, await readJsonBody(incoming, deps.bodyRead));
      spec.check?.(body);
      const resolved = resolveModel(body.model, deps.router.models(routerTenant(principal)), principal);
      model = body.model;
      const converted = spec.convert(body);
      const request = converted.request;
      messagePaths = converted.messagePaths;
      fieldNames = converted.fieldNames;
      const counter = tokenCounter(deps.router);
      let count: Pick<TokenCount, 'tokens' | 'exact'> & { deployment?: string };
      if (counter) {
        // Counted in flight like a call: a remote count holds a place under the tenant's limits until it ends, and
        // the gateway's close() waits for that place to be given back before the owner closes the stores.
        deps.calls?.started();
        try {
          count = await counter.countTokens(request, {
            ...countAdmission(deps.stores, principal, (m, e) => deps.log(m, requestId, e), deps.renewals),
            // A prompt of system messages alone (`/v1/responses/input_tokens` instructions and tools, no input) is the
            // local estimate: providers' count endpoints, and core's Anthropic and Gemini engines, need a turn.
            ...(request.messages.every((m) => m.role === 'system') ? { local: true } : {}),
            tenant: routerTenant(principal),
            // For the router's `count:start` / `count:end` (`instrumentRouter`'s span), as a call's request:start has them.
            requestId,
            metadata: principal.key ? { tenant: principal.tenantId, endpoint: spec.endpoint, keyId: principal.key.id } : { tenant: principal.tenantId, endpoint: spec.endpoint },
            ...(resolved.model !== undefined ? { model: resolved.model } : {}),
            ...(resolved.allowedModels ? { allowedModels: resolved.allowedModels } : {}),
            ...(incoming.signal ? { signal: incoming.signal } : {}),
          });
        } finally {
          deps.calls?.ended();
        }
      } else {
        count = { tokens: estimateRequestTokens(request), exact: false };
      }
      deps.metrics?.observeTokenCount({ model: count.deployment ?? model, tenant, status: 'success', kind: count.exact ? 'exact' : 'estimate', endpoint: spec.endpoint });
      return jsonReply(spec.answer(count.tokens), requestId, { ...shown, [TOKEN_COUNT_HEADER]: count.exact ? 'exact' : 'estimate' });
    } catch (e) {
      const error = toPublicError(withClientMessagePath(toLLMError(e), messagePaths, fieldNames));
      deps.metrics?.observeTokenCount({ model: error.deployment ?? model, tenant, status: error.code, kind: 'none', endpoint: spec.endpoint });
      if (error.statusCode >= 500) deps.log(`request failed: ${error.code}`, requestId, e);
      return errorReply(error, requestId, spec.style, shown);
    }
  };
}

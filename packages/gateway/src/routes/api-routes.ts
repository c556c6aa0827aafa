import { LLMError, toLLMError, type DeploymentInfo, type RateLimitInfo, type RouteDecision, type RouterResult } from '@llmrr/core';
import type { Hono } from 'hono';
import { authenticate } from '../auth/authenticate.js';
import { demoHeaders } from '../auth/demo-headers.js';
import { routerTenant, type Principal } from '../auth/principal.js';
import { clientIp, type AppContext, type AppEnv, type GatewayDeps } from '../calls/context.js';
import { SERVED_ANSWERED, SERVED_SIGNAL } from '../calls/served-streams.js';
import { jsonResponse } from '../calls/model-call.js';
import { postModelEndpoint } from '../calls/model-endpoint.js';
import { resolveModel, visibleDeployments } from '../calls/resolve-model.js';
import { checkStrategy, tenantStrategy } from '../calls/router-extension.js';
import { takePlace } from '../tenancy/admission.js';
import { rateLimitHeaders } from '../tenancy/rate-limit-headers.js';
import { errorResponse, needsServerLog, toPublicError } from '../http/error-body.js';
import { incomingFromRequest } from '../http/incoming.js';
import { readJsonBody } from '../http/read-json-body.js';
import { seesTraffic, visibleDecision, visibleError } from '../http/traffic-visibility.js';
import { validateBody } from '../http/validate.js';
import { LegacyChatRequestSchema, QuickRequestSchema, RouteRequestSchema, type LegacyAnswer } from '../schemas/legacy-api.js';
import { withClientMessagePath, type ClientMessagePaths } from '../schemas/client-message-paths.js';
import { QUICK_FIELD_NAMES } from '../schemas/route-field-names.js';

function answer(result: RouterResult, prompt?: string): LegacyAnswer {
  return {
    ...(prompt !== undefined ? { prompt } : {}),
    response: result.text + (result.refusal ?? ''),
    model: result.deployment,
    usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens, totalTokens: result.usage.totalTokens },
    costUsd: result.cost.totalUsd,
    requestId: result.requestId,
  };
}

/**
 * Core's one user message of `/api/quick` and `/api/route` is the body's `prompt`, a string that is the message's
 * text itself (as on /v1/completions): refusals and warnings about it name `prompt`.
 */
const PROMPT_PATHS: ClientMessagePaths = [{ path: 'prompt', text: true }];

/** The caller's principal; `headers` gets the demo headers (`demoHeaders`) once it is known. */
async function principalOf(c: AppContext, deps: GatewayDeps, headers: Record<string, string>): Promise<Principal> {
  const requestId = c.get('requestId');
  const principal = await authenticate(c.req.raw.headers, { stores: deps.stores, auth: deps.auth, requestId, clientIp: clientIp(c), log: (m, e) => deps.log(m, requestId, e) });
  demoHeaders(principal, headers);
  return principal;
}

/**
 * One deployment's line of `/api/status`. Its traffic (requests, failures, error rate, latency, in flight) counts
 * every tenant's calls in this process, so a tenant sees it only for its own models; a shared deployment shows its
 * circuit alone, except to a caller without a tenant of its own (the demo tenant, a gateway without stores): `seesTraffic`,
 * by the router's owner of the deployment (`DeploymentInfo.tenant`).
 */
function deploymentStatus(d: DeploymentInfo, principal: Principal): Record<string, unknown> {
  const line = { name: d.name, engine: d.engine, model: d.model, circuit: d.stats.circuit };
  if (!seesTraffic(principal, d.tenant)) return line;
  return { ...line, requests: d.stats.requests, failures: d.stats.failures, errorRate: d.stats.errorRate, latencyMs: d.stats.latencyMs ?? null, inFlight: d.stats.inFlight };
}

/**
 * The original LLM-Runner-Router routes under `/api`, on the same router, limits and ledger. In demo mode
 * every authenticated one answers with `x-llmrr-demo` and `x-llmrr-tenant`.
 */
export function registerApiRoutes(app: Hono<AppEnv>, deps: GatewayDeps): void {
  /**
   * The error answer; a server-side failure (5xx, an upstream credential error) is logged under the request id, in
   * full. With `principal`, the exclusions a routing error lists are as its explain would show them (`visibleError`).
   */
  const failed = (e: unknown, requestId: string, headers: Record<string, string>, principal?: Principal): Response => {
    const err = toLLMError(e);
    if (needsServerLog(err)) deps.log(`request failed: ${err.code}`, requestId, e);
    return errorResponse(principal ? visibleError(toPublicError(err), principal) : err, requestId, 'openai', headers);
  };
  app.get('/api/health', (c) =>
    c.json({ status: 'healthy', uptimeSeconds: Math.round((deps.now() - deps.startedAt) / 1000), models: deps.router.models().filter((d) => d.enabled).length }),
  );

  app.get('/api/status', async (c) => {
    const headers: Record<string, string> = {};
    try {
      const principal = await principalOf(c, deps, headers);
      const deployments = visibleDeployments(deps.router.models(routerTenant(principal)), principal);
      return jsonResponse(
        {
          status: 'ok',
          name: deps.info.name,
          version: deps.info.version,
          uptimeSeconds: Math.round((deps.now() - deps.startedAt) / 1000),
          stateMode: deps.stores?.mode ?? 'none',
          tenant: principal.tenantId,
          demo: principal.demo,
          models: deployments.length,
          deployments: deployments.map((d) => deploymentStatus(d, principal)),
        },
        c.get('requestId'),
        headers,
      );
    } catch (e) {
      return failed(e, c.get('requestId'), headers);
    }
  });

  app.get('/api/models', async (c) => {
    const headers: Record<string, string> = {};
    try {
      const principal = await principalOf(c, deps, headers);
      const models = visibleDeployments(deps.router.models(routerTenant(principal)), principal).map((d) => ({
        id: d.name,
        name: d.name,
        engine: d.engine,
        model: d.model,
        ...(d.alias !== undefined ? { alias: d.alias } : {}),
        enabled: d.enabled,
        capabilities: d.capabilities,
        ...(d.price ? { price: d.price } : {}),
      }));
      return jsonResponse({ count: models.length, models }, c.get('requestId'), headers);
    } catch (e) {
      return failed(e, c.get('requestId'), headers);
    }
  });

  postModelEndpoint(app, deps, {
    endpoint: '/api/quick',
    schema: QuickRequestSchema,
    style: 'openai',
    strategyField: 'strategy',
    build: (body) => ({
      model: body.model,
      request: {
        messages: [{ role: 'user', content: body.prompt }],
        ...(body.maxTokens !== undefined ? { maxTokens: body.maxTokens } : {}),
        ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
      },
      messagePaths: PROMPT_PATHS,
      fieldNames: QUICK_FIELD_NAMES,
      stream: false,
      ext: body.strategy !== undefined ? { strategy: body.strategy } : {},
      render: (result) => answer(result, body.prompt),
      encoder: () => {
        throw new LLMError({ code: 'unsupported', message: '/api/quick does not stream' });
      },
    }),
  });

  postModelEndpoint(app, deps, {
    endpoint: '/api/chat',
    schema: LegacyChatRequestSchema,
    style: 'openai',
    strategyField: 'strategy',
    messageCount: (b) => b.messages.length,
    build: (body) => ({
      model: body.model,
      request: {
        messages: body.messages.map((m) => ({ role: m.role, content: m.content })),
        ...(body.maxTokens !== undefined ? { maxTokens: body.maxTokens } : {}),
        ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
      },
      stream: false,
      ext: body.strategy !== undefined ? { strategy: body.strategy } : {},
      render: (result) => answer(result),
      encoder: () => {
        throw new LLMError({ code: 'unsupported', message: '/api/chat does not stream' });
      },
    }),
  });

  app.post('/api/route', async (c) => {
    const requestId = c.get('requestId');
    const headers: Record<string, string> = {};
    let principal: Principal | undefined;
    try {
      principal = await principalOf(c, deps, headers);
      // Over `serveGateway`, the connection's signal (aborts when the client goes away), as the model routes take it.
      const env = c.env;
      const incoming = incomingFromRequest(c.req.raw, clientIp(c), undefined, env?.[SERVED_SIGNAL], env?.[SERVED_ANSWERED]);
      const body = validateBody(RouteRequestSchema, await readJsonBody(incoming, deps.bodyRead));
      if (body.strategy !== undefined) checkStrategy({ strategy: body.strategy }, undefined, deps.router, principal, 'strategy');
      // A preview calls no model, but its plan may cost (the `intelligent` strategy embeds the prompt, maybe remotely):
      // it takes a place under the tenant's and key's limits as a request with no tokens (429 past them), held until
      // the plan really ends, so `maxConcurrency` bounds the plans running at once, as `countAdmission` does remote
      // token counts.
      const place = await takePlace(deps.stores, principal, (m, e) => deps.log(m, requestId, e), deps.renewals);
      // Counted in flight while it holds its place (an abandoned plan too): the gateway's close() waits for the place
      // to be given back before the owner closes the stores, as for a remote token count.
      if (place) deps.calls?.started();
      let routed: RouteDecision;
      // Settles when the plan ends, whether or not its client waited for it.
      let planned: Promise<unknown> | undefined;
      try {
        // A client gone while its place was taken: no plan to run.
        if (incoming.signal?.aborted) throw clientLeft();
        const resolved = resolveModel(body.model, deps.router.models(routerTenant(principal)), principal);
        const strategy = body.strategy ?? tenantStrategy(principal, deps.router);
        // Not given the client's signal: core's `route()` would stop waiting on it, not stop the plan (a strategy is
        // given no signal), and the place would be given back while the plan still runs.
        const routing = deps.router
          .route(
            { messages: [{ role: 'user', content: body.prompt }] },
            {
              requestId,
              tenant: routerTenant(principal),
              explain: body.explain,
              ...(resolved.model !== undefined ? { model: resolved.model } : {}),
              ...(resolved.allowedModels ? { allowedModels: resolved.allowedModels } : {}),
              ...(strategy !== undefined ? { strategy } : {}),
              ...(body.requirements.capabilities ? { requiredCapabilities: body.requirements.capabilities } : {}),
            },
          )
          // A refusal of the prompt names the body's field (`prompt`), as /api/quick's does.
          .catch((e: unknown) => Promise.reject(withClientMessagePath(toLLMError(e), PROMPT_PATHS, QUICK_FIELD_NAMES)));
        planned = routing.then(noop, noop);
        // A client that leaves is answered at once (`aborted`; its connection is gone anyway).
        routed = await untilLeft(routing, incoming.signal);
      } finally {
        if (place) {
          if (planned && incoming.signal?.aborted) {
            // Its place is held until the plan ends (then given back, no headers to send): repeated connect-and-leave
            // never runs more plans at once than the limit.
            void planned.then(() => place.release()).finally(() => deps.calls?.ended());
          } else {
            // Given back once the plan is done or failed, before the answer: its headers say what is left then (the
            // places other requests took while it planned counted). A client gone before its plan started gets no
            // headers (its 499 is not sent): no peek of the limiter for it.
            try {
              // (Read as it is given back only for a reply that will carry the headers.)
              await place.release(!incoming.signal?.aborted);
            } finally {
              deps.calls?.ended();
            }
            if (!incoming.signal?.aborted) rateLimitHeaders(await place.left(), headers);
          }
        }
      }
      // Another tenant's traffic on shared deployments (stats, traffic factors) hidden as in /api/status.
      const decision = visibleDecision(routed, principal);
      return jsonResponse(
        {
          selectedModel: decision.selected,
          strategy: decision.strategy,
          order: decision.order,
          reason: decision.reason,
          requirements: body.requirements,
          decisionUs: decision.decisionUs,
          ...(body.explain ? { candidates: decision.candidates, excluded: decision.excluded } : {}),
        },
        requestId,
        headers,
      );
    } catch (e) {
      // Past the limits: the 429 says where they stand, as on the model routes.
      const info = LLMError.isInstance(e) && e.code === 'rate_limited' ? (e.details as { rateInfo?: RateLimitInfo } | undefined)?.rateInfo : undefined;
      if (info) rateLimitHeaders(info, headers);
      return failed(e, requestId, headers, principal);
    }
  });
}

function noop(): void {}

/**
 * `routing`'s decision, or `aborted` as soon as `signal` aborts (the client left); `routing` runs on and is handled
 * (its failure too).
 */
function untilLeft<T>(routing: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return routing;
  return new Promise<T>((resolve, reject) => {
    const left = () => reject(clientLeft());
    if (signal.aborted) return left();
    signal.addEventListener('abort', left, { once: true });
    void routing.then(resolve, reject).finally(() => signal.removeEventListener('abort', left));
  });
}

function clientLeft(): LLMError {
  return new LLMError({ code: 'aborted', message: 'The client closed the request before its plan was answered' });
}

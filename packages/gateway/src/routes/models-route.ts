import { LLMError, toLLMError, type DeploymentInfo } from '@llmrr/core';
import type { Hono } from 'hono';
import { anthropicModelPage, toAnthropicModelInfo } from '../anthropic/model-info.js';
import { authenticate } from '../auth/authenticate.js';
import { demoHeaders } from '../auth/demo-headers.js';
import { routerTenant, type Principal } from '../auth/principal.js';
import { clientIp, type AppContext, type AppEnv, type GatewayDeps } from '../calls/context.js';
import { jsonResponse } from '../calls/model-call.js';
import { modelRefused, visibleDeployments } from '../calls/resolve-model.js';
import { errorResponse, needsServerLog, type ErrorStyle } from '../http/error-body.js';
import { modelNameProblem } from '../schemas/model-name.js';
import type { OpenAIModelList } from '../schemas/openai-embeddings.js';

export type OpenAIModelObject = OpenAIModelList['data'][number];

/** The header every Anthropic client sends; with it the model endpoints answer in the Anthropic shape. */
export const ANTHROPIC_VERSION_HEADER = 'anthropic-version';

export function toOpenAIModel(d: DeploymentInfo, created: number): OpenAIModelObject {
  return {
    id: d.name,
    object: 'model',
    created,
    owned_by: d.engine === 'mock' ? 'llmrr-mock' : d.engine,
    llmrr: { engine: d.engine, capabilities: d.capabilities, ...(d.alias !== undefined ? { alias: d.alias } : {}) },
  };
}

/**
 * The aliases of `models` (visible deployments) as model objects of their own, each once, in order of first
 * appearance, after the deployments: OpenAI clients pick a model id from the list, and an alias is one they may
 * call (`llmrr.alias_of` names the deployments it stands for; `capabilities` is what some of them can do). An alias
 * that is also a listed name is not repeated.
 */
export function openAIAliasModels(models: readonly DeploymentInfo[], created: number): OpenAIModelObject[] {
  const byAlias = new Map<string, DeploymentInfo[]>();
  for (const d of models) {
    if (d.alias === undefined) continue;
    const group = byAlias.get(d.alias);
    if (group) group.push(d);
    else byAlias.set(d.alias, [d]);
  }
  const out: OpenAIModelObject[] = [];
  for (const [alias, group] of byAlias) {
    if (models.some((d) => d.name === alias)) continue;
    const capabilities = [...new Set(group.flatMap((d) => d.capabilities))];
    out.push({ id: alias, object: 'model', created, owned_by: 'llmrr', llmrr: { engine: 'alias', capabilities, alias_of: group.map((d) => d.name) } });
  }
  return out;
}

/**
 * `GET /v1/models` and `GET /v1/models/{model}`: the deployments the caller's tenant may use (enabled, in
 * its allow-list), in OpenAI's shape followed by their aliases as model objects of their own (`openAIAliasModels`),
 * or in Anthropic's (deployments only, paged with `limit`, `after_id`, `before_id`, filtered by `lifecycle`) when
 * the request carries `anthropic-version`. `{model}` is a deployment name or an alias: in OpenAI's shape the alias's
 * own object (`llmrr.alias_of`), in Anthropic's the first visible deployment with that alias, under its own id. The
 * model id may contain `/`, raw or as `%2F` (the openai SDK
 * encodes it, curl and older clients do not). A model the caller may not see is the same 404
 * `model_not_found` naming `model` as on the model endpoints, whether it exists or not. Neither route
 * calls a model: no ledger record, no limit or budget is touched. In demo mode the answers carry
 * `x-llmrr-demo` and `x-llmrr-tenant`, as the model endpoints' do.
 */
export function registerModelsRoutes(app: Hono<AppEnv>, deps: GatewayDeps): void {
  /** The caller's principal and visible deployments; `headers` gets the demo headers once it is known. */
  const visible = async (c: AppContext, requestId: string, headers: Record<string, string>): Promise<{ models: DeploymentInfo[]; principal: Principal }> => {
    const principal = await authenticate(c.req.raw.headers, { stores: deps.stores, auth: deps.auth, requestId, clientIp: clientIp(c), log: (m, e) => deps.log(m, requestId, e) });
    demoHeaders(principal, headers);
    return { models: visibleDeployments(deps.router.models(routerTenant(principal)), principal), principal };
  };
  const styleOf = (c: AppContext): ErrorStyle => (c.req.header(ANTHROPIC_VERSION_HEADER) !== undefined ? 'anthropic' : 'openai');
  const created = () => Math.floor(deps.startedAt / 1000);

  app.get('/v1/models', async (c) => {
    const requestId = c.get('requestId');
    const style = styleOf(c);
    const headers: Record<string, string> = {};
    try {
      const { models } = await visible(c, requestId, headers);
      if (style === 'anthropic') {
        return jsonResponse(anthropicModelPage(models, { limit: c.req.query('limit'), after_id: c.req.query('after_id'), before_id: c.req.query('before_id'), lifecycle: c.req.queries('lifecycle') }), requestId, headers);
      }
      const list: OpenAIModelList = { object: 'list', data: [...models.map((d) => toOpenAIModel(d, created())), ...openAIAliasModels(models, created())] };
      return jsonResponse(list, requestId, headers);
    } catch (e) {
      const err = toLLMError(e);
      if (needsServerLog(err)) deps.log(`request failed: ${err.code}`, requestId, e);
      return errorResponse(err, requestId, style, headers);
    }
  });

  // The gateway's generic 405 and 404 answer in the OpenAI envelope; these two, in the caller's style
  // (Anthropic's with anthropic-version), so an Anthropic client can read them.
  app.on(['POST', 'PUT', 'PATCH', 'DELETE'], '/v1/models/:model{.+}', (c) =>
    errorResponse(
      new LLMError({ code: 'method_not_allowed', message: `${c.req.method} is not allowed on ${c.req.path}; use GET or HEAD`, param: 'method' }),
      c.get('requestId'),
      styleOf(c),
      // (HEAD is served as a GET without a body.)
      { allow: 'GET, HEAD' },
    ),
  );
  app.all('/v1/models/', (c) => errorResponse(new LLMError({ code: 'not_found', message: `No route for ${c.req.method} ${c.req.path}`, param: 'path' }), c.get('requestId'), styleOf(c)));

  app.get('/v1/models/:model{.+}', async (c) => {
    const requestId = c.get('requestId');
    const style = styleOf(c);
    const headers: Record<string, string> = {};
    try {
      const id = c.req.param('model');
      const { models, principal } = await visible(c, requestId, headers);
      const problem = modelNameProblem(id);
      if (problem !== undefined) throw new LLMError({ code: 'invalid_request', message: `Invalid request: model: ${problem}`, param: 'model' });
      // An alias: in OpenAI's shape, its own object of the list (`openAIAliasModels`); in Anthropic's, as its Models
      // API documents ("Model identifier or alias"), the first visible deployment carrying it, under its own id.
      // Only visible deployments are searched.
      const d = models.find((m) => m.name === id) ?? models.find((m) => m.alias === id);
      if (!d) {
        // The reason (unknown or outside the allow-list) is not the caller's to learn; one answer for both.
        throw modelRefused(id, 'unknown', principal.tenantId);
      }
      if (style === 'anthropic') return jsonResponse(toAnthropicModelInfo(d), requestId, headers);
      const model = d.name === id ? toOpenAIModel(d, created()) : openAIAliasModels(models, created()).find((m) => m.id === id)!;
      return jsonResponse(model, requestId, headers);
    } catch (e) {
      const err = toLLMError(e);
      if (needsServerLog(err)) deps.log(`request failed: ${err.code}`, requestId, e);
      return errorResponse(err, requestId, style, headers);
    }
  });
}

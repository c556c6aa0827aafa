import { LLMError, ROUTING_MODEL_NAMES, type DeploymentInfo, type LLMErrorCode } from '@llmrr/core';
import type { Principal } from '../auth/principal.js';
import type { GatewayRoutingConfig } from '../types.js';

/**
 * Model names that mean "let the router choose among everything this tenant may use" (core's `ROUTING_MODEL_NAMES`:
 * the config refuses a model, alias or cascade so named; the admin API a tenant's own model).
 */
export const AUTO_MODELS: ReadonlySet<string> = new Set(ROUTING_MODEL_NAMES);

export interface ResolvedModel {
  /** What to pass as the router's `model` option (undefined for `auto`). */
  model: string | undefined;
  /** Deployments the request may be served by (for the budget's cost bound). */
  candidates: DeploymentInfo[];
  /**
   * How many of `candidates`, from the start, are the requested model's own deployments (the rest are its
   * fallbacks, tried only after one of these was planned): the room for a filled `max_tokens` is theirs.
   */
  primary: number;
  /** The tenant's allow-list, passed on to the router. */
  allowedModels: readonly string[] | undefined;
  /**
   * For a requested cascade: what the router may call for each of its steps, by step name (`cascadeSteps`).
   * They are among `candidates` too. Absent for a model that is not a cascade.
   */
  steps?: ReadonlyMap<string, readonly DeploymentInfo[]>;
}

/**
 * Whether an allow-list lets a caller use `d` (no list: everything). A cascade (`d.cascade`) needs its own
 * name and both of its models in the list (`all` is searched for them by name or alias), since its steps are
 * ordinary calls under the same list: otherwise it would be listed and then refused naming a hidden model.
 */
export function isAllowed(d: DeploymentInfo, allowed: readonly string[] | undefined, all?: readonly DeploymentInfo[]): boolean {
  if (!allowed) return true;
  if (!allowed.includes(d.name) && (d.alias === undefined || !allowed.includes(d.alias))) return false;
  if (d.cascade === undefined) return true;
  const step = (name: string) => (all ?? []).some((m) => m.cascade === undefined && (m.name === name || m.alias === name) && isAllowed(m, allowed));
  return step(d.cascade.weak) && step(d.cascade.strong);
}

/** The deployments a tenant sees: enabled, and in its allow-list when it has one. */
export function visibleDeployments(all: readonly DeploymentInfo[], principal: Principal): DeploymentInfo[] {
  const allowed = principal.tenant?.allowedModels;
  return all.filter((d) => d.enabled && isAllowed(d, allowed, all));
}

/** Why a requested model was refused. Only the ledger and logs learn it; the caller never does. */
export type ModelRefusal = 'unknown' | 'not_allowed' | 'none_allowed';

/**
 * The one error for a model the caller may not use, whether it does not exist or is outside the tenant's
 * allow-list: 404 `model_not_found`, the same message and `param`, so a tenant cannot probe which models
 * exist (OpenAI answers models you have no access to the same way). The real reason travels in `cause`
 * (an LLMError: `model_not_found` or `permission_denied`, with a message naming the tenant) for the
 * ledger and the server log; `recordedErrorCode` reads it.
 */
export function modelRefused(requested: string, refusal: ModelRefusal, tenantId: string): LLMError {
  const cause =
    refusal === 'not_allowed'
      ? new LLMError({ code: 'permission_denied', message: `The model "${requested}" exists but is not in the allow-list of tenant "${tenantId}"`, param: 'model' })
      : refusal === 'none_allowed'
        ? new LLMError({ code: 'permission_denied', message: `The allow-list of tenant "${tenantId}" leaves no model for "${requested}"`, param: 'model' })
        : new LLMError({ code: 'model_not_found', message: `The model "${requested}" does not exist (tenant "${tenantId}")`, param: 'model' });
  return new LLMError({
    code: 'model_not_found',
    message: `The model "${requested}" does not exist or you do not have access to it; GET /v1/models lists the models available to you`,
    param: 'model',
    cause,
  });
}

/**
 * The code to record for `error` in the ledger, audit or server log: the real reason behind a refused
 * model (`permission_denied` for one outside the allow-list), else the error's own code. Never for the
 * caller's eyes, nor for metrics anyone can scrape.
 */
export function recordedErrorCode(error: LLMError): LLMErrorCode {
  const cause: unknown = error.cause;
  return error.code === 'model_not_found' && LLMError.isInstance(cause) ? cause.code : error.code;
}

/**
 * Checks the requested model before anything is reserved: unknown, disabled or not in the tenant's
 * allow-list -> the same 404 `model_not_found` naming the `model` field (`modelRefused`).
 * `candidates` are every deployment the router may call for the request, so the budget reservation's
 * worst-case price covers them: the requested model's deployments, then the fallbacks the router would
 * use (the per-call list, else `routing.fallbacks`, as the router picks them); for a cascade, also what each
 * of its steps may call (`steps`); `auto` is every visible deployment.
 */
export function resolveModel(
  requested: string,
  all: readonly DeploymentInfo[],
  principal: Principal,
  fallbacks?: readonly string[],
  routing?: GatewayRoutingConfig,
): ResolvedModel {
  const allowedModels = principal.tenant?.allowedModels;
  const visible = visibleDeployments(all, principal);
  if (AUTO_MODELS.has(requested)) {
    // The router's own choice ranks deployments, never cascades: they are not candidates (nor priced in).
    const models = visible.filter((d) => d.cascade === undefined);
    if (models.length === 0) {
      // An allow-list that leaves no model is permanent: the 404 of a model the caller may not use (a 503 would be
      // retried by SDKs). Models it may use that are all disabled now (an operator may enable them again): 503.
      if (!all.some((d) => d.cascade === undefined && isAllowed(d, allowedModels, all))) throw modelRefused(requested, 'none_allowed', principal.tenantId);
      throw new LLMError({ code: 'no_deployment', message: 'No model is available to this tenant', param: 'model' });
    }
    return { model: undefined, candidates: models, primary: models.length, allowedModels };
  }
  const matches = all.filter((d) => d.enabled && (d.name === requested || d.alias === requested));
  if (matches.length === 0) throw modelRefused(requested, 'unknown', principal.tenantId);
  const allowed = matches.filter((d) => isAllowed(d, allowedModels, all));
  if (allowed.length === 0) throw modelRefused(requested, 'not_allowed', principal.tenantId);
  const names = fallbackNames(requested, allowed, fallbacks, routing);
  const candidates = [...allowed, ...(names.size > 0 ? visible.filter((d) => !allowed.includes(d) && named(d, names)) : [])];
  const steps = cascadeSteps(allowed, visible, fallbacks, routing);
  if (steps) for (const list of steps.values()) for (const d of list) if (!candidates.includes(d)) candidates.push(d);
  return { model: requested, candidates, primary: allowed.length, allowedModels, ...(steps ? { steps } : {}) };
}

function named(d: DeploymentInfo, names: ReadonlySet<string>): boolean {
  return names.has(d.name) || (d.alias !== undefined && names.has(d.alias));
}

/**
 * What the router may call for each step of the cascades among `models`, by step name: a step is an ordinary
 * call of that model, so its deployments (by name or alias) and then its fallbacks, chosen as for a call that
 * names the step (`fallbackNames`: the per-call list, else `routing.fallbacks` by the step's name, its
 * deployments' names and aliases, and `*`). Only what the caller may use (`visible`). Undefined without a cascade.
 */
function cascadeSteps(
  models: readonly DeploymentInfo[],
  visible: readonly DeploymentInfo[],
  perCall: readonly string[] | undefined,
  routing: GatewayRoutingConfig | undefined,
): Map<string, DeploymentInfo[]> | undefined {
  let steps: Map<string, DeploymentInfo[]> | undefined;
  for (const c of models) {
    if (c.cascade === undefined) continue;
    steps ??= new Map();
    for (const step of [c.cascade.weak, c.cascade.strong]) {
      if (steps.has(step)) continue;
      const own = visible.filter((d) => d.cascade === undefined && (d.name === step || d.alias === step));
      const names = fallbackNames(step, own, perCall, routing);
      const more = names.size > 0 ? visible.filter((d) => d.cascade === undefined && !own.includes(d) && named(d, names)) : [];
      steps.set(step, [...own, ...more]);
    }
  }
  return steps;
}

/**
 * A per-call fallback (`llmrr.fallbacks`) must name a model this caller may use, by name or alias: 400 naming
 * `llmrr.fallbacks.N` otherwise, with one message for a model that does not exist and one the tenant may not
 * use. A disabled model is accepted (the router skips it while it is disabled: a client's fixed list does not
 * break when an operator disables one). A cascade cannot be a fallback (fallbacks are single models).
 * Checked before the call is admitted, so a bad list leaves no ledger record and counts against no limit.
 */
export function checkFallbacks(fallbacks: readonly string[], all: readonly DeploymentInfo[], principal: Principal): void {
  const allowed = principal.tenant?.allowedModels;
  for (let i = 0; i < fallbacks.length; i++) {
    const name = fallbacks[i]!;
    const named = all.filter((d) => (d.name === name || d.alias === name) && isAllowed(d, allowed, all));
    const param = `llmrr.fallbacks.${i}`;
    const shown = name.length > 100 ? `${JSON.stringify(name.slice(0, 100))}...` : JSON.stringify(name);
    if (named.length === 0) throw new LLMError({ code: 'invalid_request', message: `${param}: unknown model ${shown}`, param });
    if (named.every((d) => d.cascade !== undefined)) {
      throw new LLMError({ code: 'invalid_request', message: `${param}: ${shown} is a cascade; fallbacks must name models`, param });
    }
  }
}

/**
 * The fallback names the router may use: the per-call list when there is one (it replaces the config's),
 * else `routing.fallbacks`; a map by model counts the lists of the requested name, of every deployment that
 * may be the first choice (name or alias), and `*`.
 */
function fallbackNames(requested: string, firstChoices: readonly DeploymentInfo[], perCall: readonly string[] | undefined, routing: GatewayRoutingConfig | undefined): Set<string> {
  const fb = perCall ?? routing?.fallbacks;
  if (!fb) return new Set();
  if (isList(fb)) return new Set(fb);
  const keys = new Set<string>([requested, '*']);
  for (const d of firstChoices) {
    keys.add(d.name);
    if (d.alias !== undefined) keys.add(d.alias);
  }
  const out = new Set<string>();
  for (const k of keys) if (Object.hasOwn(fb, k)) for (const name of fb[k] ?? []) out.add(name);
  return out;
}

function isList(fb: readonly string[] | Readonly<Record<string, readonly string[]>>): fb is readonly string[] {
  return Array.isArray(fb);
}

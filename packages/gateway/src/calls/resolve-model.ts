import { LLMError, type DeploymentInfo } from '@llmrr/core';
import type { Principal } from '../auth/principal.js';
import type { GatewayRoutingConfig } from '../types.js';

/** Model names that mean "let the router choose among everything this tenant may use". */
export const AUTO_MODELS: ReadonlySet<string> = new Set(['auto', 'llmrr/auto']);

export interface ResolvedModel {
  /** What to pass as the router's `model` option (undefined for `auto`). */
  model: string | undefined;
  /** Deployments the request may be served by (for the budget's cost bound). */
  candidates: DeploymentInfo[];
  /** The tenant's allow-list, passed on to the router. */
  allowedModels: readonly string[] | undefined;
}

export function isAllowed(d: DeploymentInfo, allowed: readonly string[] | undefined): boolean {
  return !allowed || allowed.includes(d.name) || (d.alias !== undefined && allowed.includes(d.alias));
}

/** The deployments a tenant sees: enabled, and in its allow-list when it has one. */
export function visibleDeployments(all: readonly DeploymentInfo[], principal: Principal): DeploymentInfo[] {
  const allowed = principal.tenant?.allowedModels;
  return all.filter((d) => d.enabled && isAllowed(d, allowed));
}

/**
 * Checks the requested model before anything is reserved: unknown -> 404 `model_not_found`,
 * not in the tenant's allow-list -> 403 `permission_denied`, both naming the `model` field.
 * `candidates` are every deployment the router may call for the request, so the budget reservation's
 * worst-case price covers them: the requested model's deployments, then the fallbacks the router would
 * use (the per-call list, else `routing.fallbacks`, as the router picks them); `auto` is every visible deployment.
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
    if (visible.length === 0) throw new LLMError({ code: 'no_deployment', message: 'No model is available to this tenant', param: 'model' });
    return { model: undefined, candidates: visible, allowedModels };
  }
  const matches = all.filter((d) => d.enabled && (d.name === requested || d.alias === requested));
  if (matches.length === 0) {
    throw new LLMError({ code: 'model_not_found', message: `The model "${requested}" does not exist; GET /v1/models lists the available models`, param: 'model' });
  }
  const allowed = matches.filter((d) => isAllowed(d, allowedModels));
  if (allowed.length === 0) {
    throw new LLMError({ code: 'permission_denied', message: `The model "${requested}" is not allowed for this API key's tenant`, param: 'model' });
  }
  const names = fallbackNames(requested, allowed, fallbacks, routing);
  const extra = names.size > 0 ? visible.filter((d) => !allowed.includes(d) && (names.has(d.name) || (d.alias !== undefined && names.has(d.alias)))) : [];
  return { model: requested, candidates: [...allowed, ...extra], allowedModels };
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

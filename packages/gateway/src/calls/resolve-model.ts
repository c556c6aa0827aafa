import { LLMError, type DeploymentInfo } from '@llmrr/core';
import type { Principal } from '../auth/principal.js';

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
 */
export function resolveModel(requested: string, all: readonly DeploymentInfo[], principal: Principal, fallbacks: readonly string[] = []): ResolvedModel {
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
  const extra = fallbacks.length > 0 ? visible.filter((d) => fallbacks.includes(d.name) || (d.alias !== undefined && fallbacks.includes(d.alias))) : [];
  return { model: requested, candidates: [...allowed, ...extra], allowedModels };
}

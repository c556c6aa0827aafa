import { reservedMessage, reservedNameFields } from '../config/routing-names.js';
import { TenantConfigSchema, type TenantConfig } from '../config/schema.js';
import { formatPath } from '../config/validate.js';
import { LLMError } from '../errors/llm-error.js';
import { matchesName } from './candidates.js';
import type { RouterDeployment } from './deployment.js';

/** What one tenant sees: the shared deployments it is allowed (minus those its own models shadow), plus its own. */
export interface TenantView {
  config: TenantConfig;
  own: RouterDeployment[];
  deployments: RouterDeployment[];
}

/**
 * Validates a tenant config with `TenantConfigSchema` (defaults filled in) and checks that its own
 * model names are unique and that no model is named or aliased like a routing name (`ROUTING_MODEL_NAMES`).
 * Throws `config_invalid` naming the field, under `path` (e.g. `tenants.0`).
 */
export function parseTenantConfig(input: unknown, path = ''): TenantConfig {
  const at = (p: ReadonlyArray<PropertyKey>) => formatPath(path === '' ? p : [path, ...p]);
  const parsed = TenantConfigSchema.safeParse(input);
  if (!parsed.success) {
    // An unknown key is named in the path too (`surprise`, not the object holding it).
    const issues = parsed.error.issues.map((i) => ({ path: at(i.code === 'unrecognized_keys' ? [...i.path, ...i.keys.slice(0, 1)] : i.path), message: i.message }));
    throw new LLMError({
      code: 'config_invalid',
      message: `Invalid tenant config:\n${issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`,
      param: issues[0]?.path,
      details: issues,
    });
  }
  // A tenant handed to `setTenant` in code: a v3 config's tenants are checked so by the config schema already.
  checkModelNames(parsed.data.models, (i, field) => at(['models', i, field]), 'tenant config', `tenant "${parsed.data.id}"`);
  return parsed.data;
}

/**
 * Refuses models given in code (`setTenant`'s, `LLMRouter.load()`'s) as the config schema refuses them: a name used
 * twice, a model named or aliased like a routing name (`ROUTING_MODEL_NAMES`). Throws `config_invalid` naming the
 * field (`at`); `what` (`tenant config`) and `where` (`tenant "acme"`) word the message.
 */
export function checkModelNames(
  models: ReadonlyArray<{ readonly name: string; readonly alias?: string | undefined }>,
  at: (index: number, field: 'name' | 'alias') => string,
  what: string,
  where: string,
): void {
  const seen = new Set<string>();
  models.forEach((m, i) => {
    if (seen.has(m.name)) {
      const param = at(i, 'name');
      throw new LLMError({
        code: 'config_invalid',
        message: `Invalid ${what}:\n  ${param}: duplicate model name "${m.name}" in ${where}`,
        param,
        details: [{ path: param, message: `duplicate model name "${m.name}"` }],
      });
    }
    seen.add(m.name);
    const field = reservedNameFields(m)[0];
    if (field === undefined) return;
    const param = at(i, field);
    const message = reservedMessage(m[field]!);
    throw new LLMError({ code: 'config_invalid', message: `Invalid ${what}:\n  ${param}: ${message}`, param, details: [{ path: param, message }] });
  });
}

/**
 * The tenants a router knows (from a v3 config, or `setTenant`), each with its view over the shared
 * deployments. Views are recomputed whenever the shared deployments or the tenant change.
 */
export class TenantViews {
  private readonly views = new Map<string, TenantView>();

  get(id: string): TenantView | undefined {
    return this.views.get(id);
  }

  /** Every tenant's own deployments. */
  ownDeployments(): RouterDeployment[] {
    const all: RouterDeployment[] = [];
    for (const v of this.views.values()) all.push(...v.own);
    return all;
  }

  /**
   * Adds or replaces a tenant with its own deployments (built by the caller, who may reuse unchanged
   * ones of the tenant it replaces). Returns the replaced tenant's own deployments that are no longer used.
   */
  set(config: TenantConfig, own: RouterDeployment[], shared: readonly RouterDeployment[]): RouterDeployment[] {
    const old = this.views.get(config.id);
    const view: TenantView = { config, own, deployments: [] };
    this.views.set(config.id, view);
    this.rebuild(view, shared);
    return old ? old.own.filter((d) => !own.includes(d)) : [];
  }

  /** Removes a tenant; returns its own deployments (undefined when it was not there). */
  remove(id: string): RouterDeployment[] | undefined {
    const view = this.views.get(id);
    if (!view) return undefined;
    this.views.delete(id);
    return view.own;
  }

  /** Recomputes every view after the shared deployments changed. */
  rebuildAll(shared: readonly RouterDeployment[]): void {
    for (const view of this.views.values()) this.rebuild(view, shared);
  }

  private rebuild(view: TenantView, shared: readonly RouterDeployment[]): void {
    const allowed = view.config.allowedModels;
    const ownNames = new Set(view.own.map((d) => d.name));
    const visible = shared.filter((d) => !ownNames.has(d.name) && (!allowed || allowed.some((n) => matchesName(d, n))));
    view.deployments = [...visible, ...view.own];
  }
}

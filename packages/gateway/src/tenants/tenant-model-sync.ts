import { canonicalJson } from '@llmrr/core';
import type { SetTenantOptions, Tenant, TenantConfigInput } from '@llmrr/core';
import type { GatewayRouter } from '../types.js';

/** A router that takes tenants at runtime: core's `LLMRouter` (`setTenant` / `removeTenant`). */
export interface TenantRouter extends GatewayRouter {
  setTenant(tenant: TenantConfigInput, options?: SetTenantOptions): unknown;
  removeTenant(id: string): boolean;
}

export function isTenantRouter(router: GatewayRouter): router is TenantRouter {
  const r = router as Partial<TenantRouter>;
  return typeof r.setTenant === 'function' && typeof r.removeTenant === 'function';
}

/** Ids of the tenants a v3 config defines (the router's own; the admin API does not override them). */
function configTenantIds(router: GatewayRouter): ReadonlySet<string> {
  const config = (router as { routerConfig?: { version?: unknown; tenants?: ReadonlyArray<{ id: string }> } }).routerConfig;
  return new Set(config?.version === 3 && Array.isArray(config.tenants) ? config.tenants.map((t) => t.id) : []);
}

/** How the router builds a tenant's models (see `SetTenantOptions.useEnv`). */
const TENANT_MODELS: SetTenantOptions = { useEnv: false };

interface TenantEntry {
  /** What the entry was built from (the tenant's models and allow-list): a change is synced again. */
  fingerprint: string;
  /** Names of the tenant's own models the router serves (empty when they could not be set). */
  own: string[];
  /**
   * The tenant's allow-list plus its own models' names (only when it has an allow-list). Safe to match by name or
   * alias: it is only applied to the tenant's view, which already holds no shared deployment outside the list.
   */
  allowList: string[] | undefined;
}

/**
 * Keeps the router's tenants in line with the custom models stored with them (`tenant.models`, set through
 * the admin API): `sync(tenant)` hands a tenant's models to `router.setTenant` when they changed, so the
 * router serves them to that tenant only, by their own names (one shadows a shared deployment of the same
 * name), never to others, not even through `auto` or fallbacks; `forget(id)` removes them. The tenant's
 * allow-list goes with them: the router's view of the tenant holds its own models (by ownership, whatever they
 * are called) and the shared deployments the list names, so an own model named like a shared deployment's
 * alias does not open that deployment. The router scopes exact-cache answers of a tenant's model by its
 * config, so a changed model never serves an old answer, in any process.
 *
 * `sync` runs whenever the gateway reads a tenant for a request (authentication), so a model added by an
 * admin through one gateway process is served by every process on that tenant's next request. Tenants a
 * v3 config defines keep the config's models and views: the admin API's models for them are not served.
 */
export class TenantModelSync {
  readonly #router: TenantRouter;
  readonly #log: (message: string, error?: unknown) => void;
  readonly #entries = new Map<string, TenantEntry>();
  /**
   * Each tenant's incarnation this process last saw (its `createdAt`): a tenant created again under a deleted one's
   * id (a row restored, or written while the deletion's notice did not reach this process) is another customer, who
   * must not inherit what the router keeps of the old one. Kept after a deletion (a number per id).
   */
  readonly #incarnations = new Map<string, number>();
  readonly #configTenants: ReadonlySet<string>;

  constructor(router: TenantRouter, log: (message: string, error?: unknown) => void = () => {}) {
    this.#router = router;
    this.#log = log;
    this.#configTenants = configTenantIds(router);
  }

  /**
   * Brings the router in line with the tenant's stored models (when they changed) and returns the tenant
   * as requests should see it: with its own models added to its allow-list, if it has one.
   */
  sync(tenant: Tenant): Tenant {
    const seen = this.#incarnations.get(tenant.id);
    if (seen !== tenant.createdAt) {
      // Another incarnation than the one this process served: what the router keeps of the old one goes first.
      if (seen !== undefined) this.deleted(tenant.id);
      this.#incarnations.set(tenant.id, tenant.createdAt);
    }
    let entry = this.#entries.get(tenant.id);
    if (entry === undefined && !tenant.models?.length) return tenant;
    const fingerprint = canonicalJson([tenant.models ?? null, tenant.allowedModels ?? null]);
    if (entry === undefined || entry.fingerprint !== fingerprint) entry = this.#apply(tenant, fingerprint);
    return entry?.allowList ? { ...tenant, allowedModels: entry.allowList } : tenant;
  }

  /**
   * Removes a tenant's own models from the router (a deleted tenant, or one left without models). What the router's
   * strategies learned about the tenant stays: forgetting a deleted tenant is `router.forgetTenant`'s.
   */
  forget(tenantId: string): void {
    if (!this.#entries.delete(tenantId)) return;
    this.#router.removeTenant(tenantId);
  }

  /**
   * A deleted tenant (through this process's admin API, another process's notice, or a new incarnation seen by
   * `sync`): its own models leave the router, and the router forgets what its strategies learned of it.
   */
  deleted(tenantId: string): void {
    this.forget(tenantId);
    this.#router.forgetTenant?.(tenantId);
  }

  #apply(tenant: Tenant, fingerprint: string): TenantEntry | undefined {
    const models = tenant.models ?? [];
    if (this.#configTenants.has(tenant.id)) {
      // Remembered, so this is said once per change, not on every request.
      this.#entries.set(tenant.id, { fingerprint, own: [], allowList: undefined });
      if (models.length > 0) this.#log(`tenant "${tenant.id}" is defined by the router's v3 config: its models set through the admin API are not served`);
      return undefined;
    }
    if (models.length === 0) {
      this.forget(tenant.id);
      return undefined;
    }
    let own: string[] = [];
    try {
      // The tenant's models bring their own keys and addresses: never the server's environment.
      this.#router.setTenant({ id: tenant.id, name: tenant.name, models, ...(tenant.allowedModels ? { allowedModels: tenant.allowedModels } : {}) }, TENANT_MODELS);
      own = models.map((m) => m.name);
    } catch (e) {
      // Remembered with no models, so they are not retried on every request; the tenant gets the shared ones.
      this.#log(`tenant "${tenant.id}": its models could not be set`, e);
      this.#router.removeTenant(tenant.id);
    }
    const allowList = own.length > 0 && tenant.allowedModels ? [...new Set([...tenant.allowedModels, ...own])] : undefined;
    const entry: TenantEntry = { fingerprint, own, allowList };
    this.#entries.set(tenant.id, entry);
    return entry;
  }
}

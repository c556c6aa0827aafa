import { canonicalJson } from '@llmrr/core';
import type { ModelConfig, SetTenantOptions, Tenant, TenantConfigInput } from '@llmrr/core';
import { isRedacted, REDACTED_SECRET, redactedFields, routerFactories, type EngineFactoryLookup } from '../routes/admin-secrets.js';
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
export function configTenantIds(router: GatewayRouter): ReadonlySet<string> {
  const config = (router as { routerConfig?: { version?: unknown; tenants?: ReadonlyArray<{ id: string }> } }).routerConfig;
  return new Set(config?.version === 3 && Array.isArray(config.tenants) ? config.tenants.map((t) => t.id) : []);
}

/**
 * How many tenants `sync` remembers the incarnation of (the adaptive strategy's `maxTenantLayers` default): the one
 * least recently read goes beyond it, forgotten as a deleted tenant is (its models are set again on its next request).
 */
const MAX_INCARNATIONS = 10_000;

/** How many recent deletions are remembered for the tenant reads in flight during them (see `begin`). */
const MAX_DELETIONS = 1_000;

/**
 * A tenant's models as the router serves them when the store holds secrets as `REDACTED_SECRET` (`redactedFields`): a
 * tenant a v3 config defined is stored so (`redactModelSecrets`), and once the config no longer lists it, it is served
 * from the store. The placeholder never goes upstream, and the model is never called without what it stands for: a
 * `[redacted]` `apiKey` is dropped where the model names `apiKeyEnv` (that variable applies); any other placeholder
 * (an `apiKey` without `apiKeyEnv`, a header value, `baseURL`, a credential option) makes the model one whose secrets
 * are not set (`unsetSecrets`, core's `SetTenantOptions`): each call of it fails at once with a 503 `no_deployment`
 * naming the model and the fields to set, with no request sent. Said once per change of the models (`#apply`).
 */
function withoutRedacted(tenantId: string, models: ModelConfig[], log: (message: string) => void, factories: EngineFactoryLookup): { served: ModelConfig[]; unsetSecrets?: Record<string, string[]> } {
  let logged: string[] | undefined;
  let unsetSecrets: Record<string, string[]> | undefined;
  const served = models.map((m, i) => {
    const redacted = redactedFields(m, i, factories);
    if (redacted.length === 0) return m;
    (logged ??= []).push(...redacted);
    const own = `models.${i}.`;
    const unset = redacted.filter((f) => !(f === `${own}apiKey` && m.apiKeyEnv !== undefined)).map((f) => (f === `${own}apiKey` ? 'apiKey (or apiKeyEnv)' : f.slice(own.length)));
    if (unset.length > 0) (unsetSecrets ??= Object.create(null) as Record<string, string[]>)[m.name] = unset;
    const { apiKey, headers, ...rest } = m;
    const kept = headers ? Object.entries(headers).filter(([, v]) => !isRedacted(v)) : [];
    return { ...rest, ...(apiKey !== undefined && !isRedacted(apiKey) ? { apiKey } : {}), ...(kept.length > 0 ? { headers: Object.fromEntries(kept) } : {}) } as ModelConfig;
  });
  if (!logged) return { served: models };
  log(
    `tenant "${tenantId}": ${logged.join(', ')} ${logged.length === 1 ? 'is' : 'are'} "${REDACTED_SECRET}" in the tenant store (as a v3 config's tenant is stored; the config no longer lists it): never sent upstream; ${unsetSecrets ? `calls of ${Object.keys(unsetSecrets).map((n) => `"${n}"`).join(', ')} fail naming what to set until it is set` : 'its apiKeyEnv applies'}; set them through the admin API (PATCH /admin/tenants/${tenantId} with its models)`,
  );
  return { served, ...(unsetSecrets ? { unsetSecrets } : {}) };
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
   * must not inherit what the router keeps of the old one. Least recently read first; at most MAX_INCARNATIONS; a
   * deleted tenant's goes with it.
   */
  readonly #incarnations = new Map<string, number>();
  /** Deletions heard so far (`deleted`): what `begin` answers. */
  #deletions = 0;
  /** Each recently deleted tenant's `#deletions` after its latest deletion, oldest first; at most MAX_DELETIONS. */
  readonly #deleted = new Map<string, number>();
  /** The latest `#deletions` value dropped from `#deleted`: a read begun before it may have missed any deletion. */
  #deletedFloor = 0;
  readonly #configTenants: ReadonlySet<string>;

  constructor(router: TenantRouter, log: (message: string, error?: unknown) => void = () => {}) {
    this.#router = router;
    this.#log = log;
    this.#configTenants = configTenantIds(router);
  }

  /**
   * Call before reading a tenant from the store, and pass the value to `sync`: a deletion heard while the read was
   * on its way (another process's notice) then keeps that read's tenant out of the router.
   */
  begin(): number {
    return this.#deletions;
  }

  /**
   * Brings the router in line with the tenant's stored models (when they changed) and returns the tenant
   * as requests should see it: with its own models added to its allow-list, if it has one. `since` is `begin()`'s
   * value from before the read: a tenant deleted after it is answered as read, but nothing of it is set again
   * (nothing would remove it: the deletion was heard already).
   */
  sync(tenant: Tenant, since?: number): Tenant {
    if (since !== undefined && since < this.#deletions && this.#deletedAfter(tenant.id, since)) return tenant;
    const seen = this.#incarnations.get(tenant.id);
    if (seen !== undefined) this.#incarnations.delete(tenant.id);
    // Another incarnation than the one this process served: what the router keeps of the old one goes first.
    if (seen !== undefined && seen !== tenant.createdAt) this.#dropLogged(tenant.id);
    this.#incarnations.set(tenant.id, tenant.createdAt);
    if (seen === undefined && this.#incarnations.size > MAX_INCARNATIONS) {
      const oldest = this.#incarnations.keys().next().value as string;
      this.#incarnations.delete(oldest);
      this.#dropLogged(oldest);
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
    // A v3 config's tenant: its entry set nothing in the router, whose own models for it stay.
    if (!this.#entries.delete(tenantId) || this.#configTenants.has(tenantId)) return;
    this.#router.removeTenant(tenantId);
  }

  /**
   * A deleted tenant (through this process's admin API or another process's notice): its own models leave the
   * router, the router forgets what its strategies learned of it, and a read of it begun before (`begin`) sets
   * nothing again. Returns what the router's forgetTenant returns (a custom router's may be a promise, and may throw or
   * reject: the caller handles it, `settled`).
   */
  deleted(tenantId: string): unknown {
    this.#deletions += 1;
    this.#deleted.delete(tenantId);
    this.#deleted.set(tenantId, this.#deletions);
    if (this.#deleted.size > MAX_DELETIONS) {
      const [id, at] = this.#deleted.entries().next().value as [string, number];
      this.#deleted.delete(id);
      this.#deletedFloor = at;
    }
    this.#incarnations.delete(tenantId);
    return this.#drop(tenantId);
  }

  /** The tenants whose own models the router serves (for a check against the store: `onMissed`). */
  tenantsWithModels(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Whether `tenantId` was deleted after `since` (`begin`). A read older than the deletions remembered may have
   * missed any: answered yes (that read's tenant is not set up; its next read is).
   */
  #deletedAfter(tenantId: string, since: number): boolean {
    const at = this.#deleted.get(tenantId);
    return at !== undefined ? at > since : since < this.#deletedFloor;
  }

  /**
   * Drops what the router keeps of a tenant: its own models and what its strategies learned of it. Returns what the
   * router's forgetTenant returns (it may throw, or be a rejecting promise: a custom router's).
   */
  #drop(tenantId: string): unknown {
    this.forget(tenantId);
    return this.#router.forgetTenant?.(tenantId);
  }

  /**
   * `#drop` where no caller waits: a custom router's forgetTenant that throws or rejects is logged (never an unhandled
   * rejection); core's, synchronous, makes no promise (this runs for every tenant past the ones remembered).
   */
  #dropLogged(tenantId: string): void {
    const failed = (e: unknown) => this.#log(`tenant "${tenantId}": the router could not forget what it learned of it`, e);
    this.forget(tenantId);
    try {
      const done = this.#router.forgetTenant?.(tenantId) as unknown;
      if (typeof (done as PromiseLike<unknown> | undefined)?.then === 'function') (done as PromiseLike<unknown>).then(undefined, failed);
    } catch (e) {
      failed(e);
    }
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
    const { served, unsetSecrets } = withoutRedacted(tenant.id, models, this.#log, routerFactories(this.#router));
    let own: string[] = [];
    try {
      // The tenant's models bring their own keys and addresses: never the server's environment.
      // Its circuits are keyed by its incarnation: a tenant created again under the id starts with closed ones (shared
      // mode keeps circuits in Redis, where the old incarnation's stay a day).
      this.#router.setTenant({ id: tenant.id, name: tenant.name, models: served, ...(tenant.allowedModels ? { allowedModels: tenant.allowedModels } : {}) }, { ...TENANT_MODELS, incarnation: tenant.createdAt, ...(unsetSecrets ? { unsetSecrets } : {}) });
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

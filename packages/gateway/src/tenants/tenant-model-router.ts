import { canonicalJson } from '@llmrr/core';
import type {
  DeploymentInfo,
  GenerateOptions,
  GenerateRequest,
  ModelConfigInput,
  RouteDecision,
  RouteOptions,
  RouterCallOptions,
  RouterResult,
  RouterStream,
  RouterStreamPart,
  Tenant,
} from '@llmrr/core';
import type { GatewayRouter, RouterEmbedResult } from '../types.js';

/** A router that adds and removes deployments at runtime (`LLMRouter` does). */
export interface LoadableRouter extends GatewayRouter {
  load(models: ReadonlyArray<ModelConfigInput>): string[];
  unload(name: string): boolean;
}

export function isLoadableRouter(router: GatewayRouter): router is LoadableRouter {
  const r = router as Partial<LoadableRouter>;
  return typeof r.load === 'function' && typeof r.unload === 'function';
}

/** True for a router built from a v3 config (it keeps tenant views of its own). */
export function hasConfigTenants(router: GatewayRouter): boolean {
  return (router as { routerConfig?: { version?: unknown } }).routerConfig?.version === 3;
}

/**
 * The router's deployment name of a tenant's own model: `@<tenantId>/<name>~<version>`, the version being
 * a hash of the model's config (canonical JSON, so every process names it alike and they share its cache
 * entries), so a changed model is a new deployment: answers the exact cache kept for the old one are
 * never served for it.
 */
export function tenantDeploymentName(tenantId: string, model: ModelConfigInput): string {
  return `@${tenantId}/${model.name}~${fnv1a(canonicalJson(model))}`;
}

/** 32-bit FNV-1a as 8 hex digits (a version tag, not a security measure). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

interface TenantEntry {
  /** What the entry was built from (the tenant's models and allow-list): a change is synced again. */
  fingerprint: string;
  /** Public model name -> router deployment name. */
  own: Map<string, string>;
  /** The tenant's allow-list plus its own models (only when it has an allow-list). */
  allowList: string[] | undefined;
}

/**
 * Serves the custom models stored with a tenant (`tenant.models`, set through the admin API) to that
 * tenant only, over a router that can `load`/`unload` deployments at runtime.
 *
 * Each own model becomes a router deployment named `@<tenantId>/<name>~<version>`. The tenant addresses
 * it by its own name (which shadows a shared deployment of the same name), sees it in `models(tenant)`
 * under that name, and answers, ledger and headers name it so too. Every call is limited (`allowedModels`) to the
 * shared deployments plus the caller's own, so no tenant can reach another's models, not even through
 * `auto` or fallbacks. `sync(tenant)` runs whenever the gateway reads a tenant (authentication) and
 * reloads when the tenant's models or allow-list changed, so a model added by an admin in one gateway
 * process is served by every process on that tenant's next request.
 *
 * With no tenant models loaded, every call passes straight through.
 */
export class TenantModelRouter implements GatewayRouter {
  readonly embed?: (input: string[], options?: RouterCallOptions) => Promise<RouterEmbedResult>;
  readonly on?: GatewayRouter['on'];
  readonly #inner: LoadableRouter;
  readonly #log: (message: string, error?: unknown) => void;
  readonly #entries = new Map<string, TenantEntry>();
  /** Router deployment name -> public name, for every loaded own model. */
  readonly #publicNames = new Map<string, string>();

  constructor(inner: LoadableRouter, log: (message: string, error?: unknown) => void = () => {}) {
    this.#inner = inner;
    this.#log = log;
    if (inner.embed) {
      const embed = inner.embed.bind(inner);
      this.embed = async (input, options) => {
        const r = await embed(input, this.#scoped(options));
        return this.#publicNames.has(r.deployment) ? { ...r, deployment: this.#public(r.deployment) } : r;
      };
    }
    if (inner.on) this.on = inner.on.bind(inner);
  }

  /**
   * Brings the router in line with the tenant's stored models (when they changed) and returns
   * the tenant as requests should see it: with its own models added to its allow-list, if it has one.
   */
  sync(tenant: Tenant): Tenant {
    let entry = this.#entries.get(tenant.id);
    if (entry === undefined && !tenant.models?.length) return tenant;
    const fingerprint = canonicalJson([tenant.models ?? null, tenant.allowedModels ?? null]);
    if (entry === undefined || entry.fingerprint !== fingerprint) entry = this.#apply(tenant, entry, fingerprint);
    return entry?.allowList ? { ...tenant, allowedModels: entry.allowList } : tenant;
  }

  /** Unloads a (deleted) tenant's models. */
  forget(tenantId: string): void {
    const entry = this.#entries.get(tenantId);
    if (!entry) return;
    for (const name of entry.own.values()) this.#unload(name);
    this.#entries.delete(tenantId);
  }

  models(tenant?: string): readonly DeploymentInfo[] {
    const all = this.#inner.models();
    if (this.#publicNames.size === 0) return all;
    const entry = tenant === undefined ? undefined : this.#entries.get(tenant);
    const out: DeploymentInfo[] = [];
    for (const d of all) {
      const pub = this.#publicNames.get(d.name);
      if (pub === undefined) {
        if (!entry?.own.has(d.name)) out.push(d);
      } else if (entry?.own.get(pub) === d.name) {
        out.push({ ...d, name: pub });
      }
    }
    return out;
  }

  async generate(request: GenerateRequest, options?: GenerateOptions): Promise<RouterResult> {
    const result = await this.#inner.generate(request, this.#scoped(options));
    return this.#relabel(result);
  }

  stream(request: GenerateRequest, options?: GenerateOptions): RouterStream {
    const s = this.#inner.stream(request, this.#scoped(options));
    return this.#publicNames.size === 0 ? s : this.#relabelStream(s);
  }

  async route(request: GenerateRequest, options?: RouteOptions): Promise<RouteDecision> {
    const decision = await this.#inner.route(request, this.#scoped(options));
    return this.#publicNames.size === 0 ? decision : this.#relabelDecision(decision);
  }

  // ---- internals ------------------------------------------------------------------------------

  #apply(tenant: Tenant, old: TenantEntry | undefined, fingerprint: string): TenantEntry | undefined {
    const own = new Map<string, string>();
    const configs: ModelConfigInput[] = [];
    const taken = new Set(this.#inner.models().map((d) => d.name));
    for (const m of tenant.models ?? []) {
      const name = tenantDeploymentName(tenant.id, m);
      if (taken.has(name) && !this.#publicNames.has(name)) {
        this.#log(`tenant "${tenant.id}": model "${m.name}" not loaded: the router already has a deployment named "${name}"`);
        continue;
      }
      own.set(m.name, name);
      if (!taken.has(name)) configs.push({ ...m, name }); // an unchanged model stays loaded as it is
    }
    try {
      if (configs.length > 0) this.#inner.load(configs);
    } catch (e) {
      this.#log(`tenant "${tenant.id}": its models could not be loaded`, e);
      own.clear();
    }
    const kept = new Set(own.values());
    for (const name of old?.own.values() ?? []) if (!kept.has(name)) this.#unload(name);
    for (const [pub, name] of own) this.#publicNames.set(name, pub);
    if (own.size === 0) {
      // Models that failed to load: remember them, so they are not retried on every request.
      if (tenant.models?.length) this.#entries.set(tenant.id, { fingerprint, own, allowList: undefined });
      else this.#entries.delete(tenant.id);
      return undefined;
    }
    const allowList = tenant.allowedModels ? [...new Set([...tenant.allowedModels, ...own.keys()])] : undefined;
    const entry: TenantEntry = { fingerprint, own, allowList };
    this.#entries.set(tenant.id, entry);
    return entry;
  }

  #unload(name: string): void {
    this.#publicNames.delete(name);
    this.#inner.unload(name);
  }

  #public(name: string): string {
    return this.#publicNames.get(name) ?? name;
  }

  /** The call limited to the shared deployments plus the caller's own models, with own names translated. */
  #scoped<O extends RouterCallOptions>(options: O | undefined): O | undefined {
    if (this.#publicNames.size === 0) return options;
    const entry = options?.tenant === undefined ? undefined : this.#entries.get(options.tenant);
    const own = entry?.own;
    const requested = options?.allowedModels;
    const allowed: string[] = [];
    for (const d of this.#inner.models()) {
      if (this.#publicNames.has(d.name)) continue; // someone's own model: added below for its tenant only
      if (own?.has(d.name)) continue; // shadowed by the tenant's own model of that name
      if (requested && !requested.includes(d.name) && !(d.alias !== undefined && requested.includes(d.alias))) continue;
      allowed.push(d.name);
    }
    if (own) allowed.push(...own.values());
    const translate = (n: string) => own?.get(n) ?? n;
    const scoped = { ...options, allowedModels: allowed } as unknown as O;
    if (options?.model !== undefined) scoped.model = translate(options.model);
    if (options?.fallbacks) scoped.fallbacks = options.fallbacks.map(translate);
    return scoped;
  }

  #relabel(result: RouterResult): RouterResult {
    if (this.#publicNames.size === 0) return result;
    const r: RouterResult = {
      ...result,
      deployment: this.#public(result.deployment),
      attempts: result.attempts.map((a) => (this.#publicNames.has(a.deployment) ? { ...a, deployment: this.#public(a.deployment) } : a)),
    };
    if (result.decision) r.decision = this.#relabelDecision(result.decision);
    return r;
  }

  #relabelDecision(d: RouteDecision): RouteDecision {
    const p = (n: string) => this.#public(n);
    return {
      ...d,
      selected: p(d.selected),
      order: d.order.map(p),
      candidates: d.candidates.map((c) => ({ ...c, name: p(c.name) })),
      excluded: d.excluded.map((e) => ({ ...e, name: p(e.name) })),
    };
  }

  #relabelStream(s: RouterStream): RouterStream {
    const result = s.result.then((r) => this.#relabel(r));
    result.catch(() => {}); // consumers still see the rejection; this only marks it handled
    const relabelPart = (part: RouterStreamPart): RouterStreamPart => (part.type === 'route' ? { ...part, deployment: this.#public(part.deployment) } : part);
    return {
      requestId: s.requestId,
      result,
      [Symbol.asyncIterator](): AsyncIterator<RouterStreamPart> {
        const it = s[Symbol.asyncIterator]();
        return {
          async next() {
            const n = await it.next();
            return n.done ? n : { done: false, value: relabelPart(n.value) };
          },
          async return(value?: unknown) {
            return it.return ? it.return(value) : { done: true, value: undefined };
          },
        };
      },
    };
  }
}

import type { Capability, ModelConfig, RouterConfig } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import type { EngineContext, EngineFactory } from '../engines/types.js';
import { freezeTiers } from '../pricing/compute-cost.js';
import { resolveModelPrice } from '../pricing/price-for.js';
import type { PriceTable } from '../pricing/types.js';
import type { EngineCapabilities, GenerateRequest, LanguageEngine, ModelPrice } from '../spec/index.js';
import { answerVersion, configVersion } from './config-version.js';
import { DeploymentLimiter } from './deployment-limiter.js';
import type { CircuitState } from './resilience/circuit-breaker.js';
import { circuitFingerprint, circuitKey, defaultCircuitStateStore, type CircuitStateStore, type DeploymentCircuit } from './resilience/circuit-state-store.js';
import { DeploymentStats } from './stats.js';
import { tenantScopedId, tenantScopedRequest } from './tenant-scoped-id.js';
import type { Deployment } from './types.js';

export interface DeploymentInit {
  config: ModelConfig;
  routing: RouterConfig['routing'];
  factory: EngineFactory;
  engineContext: EngineContext;
  /** A pre-built engine (tests, custom wiring). */
  engine?: LanguageEngine | undefined;
  now: () => number;
  statsAlpha?: number | undefined;
  errorRateHalfLifeMs?: number | undefined;
  onCircuit: (deployment: string, from: CircuitState, to: CircuitState) => void;
  /** Price table for deployments without a configured price. Default: the shipped table. */
  priceTable?: PriceTable | undefined;
  /** Where the circuit lives. Default: in memory, this deployment's own. */
  circuitStore?: CircuitStateStore | undefined;
  /** The router's `warn` option, for the circuit store (`CircuitOptions.warn`). */
  warn?: ((message: string) => void) | undefined;
  /** The v3 tenant owning this model (its circuit key is then `<tenant>/<name>#<fingerprint>`: `circuitKey`). */
  tenant?: string | undefined;
  /**
   * True for a model on its tenant's own provider account: a model the tenant brings (`setTenant(t, { useEnv:
   * false })`, the gateway's tenant models) that names no `apiKeyEnv`, so its engine reads no environment of the
   * router's. Its calls send end-user ids and prompt-cache keys as they are; every other deployment's (shared, a
   * tenant's model on the router's environment, or one naming `apiKeyEnv`: the variable may hold the operator's key)
   * scoped (`RouterDeployment.requestFor`). A model given the operator's key or address literally cannot be told
   * apart: it counts as the tenant's own.
   */
  ownAccount?: boolean | undefined;
  /** The key of the scoped ids (`RouterOptions.endUserIdSecret`; see `tenantScopedId`). */
  endUserIdSecret?: string | undefined;
  /** That tenant's incarnation (`SetTenantOptions.incarnation`; its circuit key is then `<tenant>:<incarnation>/<name>#<fingerprint>`). */
  incarnation?: string | number | undefined;
  /** The fields of a tenant's own model that are not set (`SetTenantOptions.unsetSecrets`), one a line. */
  unsetSecrets?: string | undefined;
  /** Where the model is in its config (`models.2`, `tenants.0.models.1`): see `RouterDeployment.configPath`. */
  configPath?: string | undefined;
}

/** Expected output tokens when the request sets no `maxTokens` (cost estimates, tpm admission). */
export const DEFAULT_EXPECTED_OUTPUT_TOKENS = 256;

const ENGINE_CAPABILITIES: ReadonlyArray<keyof EngineCapabilities & Capability> = ['streaming', 'tools', 'json', 'vision', 'embeddings', 'reasoning'];

/** Capabilities of an engine as config capability names (every engine chats and completes). */
export function engineCapabilities(caps: EngineCapabilities): Set<Capability> {
  const set = new Set<Capability>(['chat', 'completion']);
  for (const c of ENGINE_CAPABILITIES) if (caps[c]) set.add(c);
  return set;
}

/** What the factory says the engine for `config` can do, without creating it (undefined: unknown). */
function factoryCapabilities(factory: EngineFactory, config: ModelConfig): readonly Capability[] | undefined {
  if (typeof factory.capabilities !== 'function') return undefined;
  try {
    const caps = factory.capabilities(config);
    return Array.isArray(caps) ? caps : undefined;
  } catch {
    return undefined; // creating the engine will say what is wrong
  }
}

/** The provider the factory says the engine for `config` will report, without creating it; else the engine kind. */
function factoryProvider(factory: EngineFactory, config: ModelConfig): string {
  if (typeof factory.provider !== 'function') return config.engine;
  try {
    const provider = factory.provider(config);
    return typeof provider === 'string' && provider !== '' ? provider : config.engine;
  } catch {
    return config.engine; // creating the engine will say what is wrong
  }
}

/**
 * A deployment as the router holds it: config, lazily created engine, capabilities, price,
 * and its live health (stats + circuit breaker).
 */
export class RouterDeployment implements Deployment {
  readonly name: string;
  readonly config: ModelConfig;
  price: Readonly<ModelPrice> | undefined = undefined;
  priceFromTable = false;
  readonly stats: DeploymentStats;
  readonly breaker: DeploymentCircuit;
  /**
   * The capabilities (configured, else declared by the engine factory for this config) list `embeddings`
   * but neither `chat` nor `completion`: an embedding model, left out of `generate` / `stream` candidates.
   */
  readonly embeddingOnly: boolean;
  /** Admission control for `limits` (undefined when the config sets none). Shared with a deployment it replaced. */
  limiter: DeploymentLimiter | undefined;
  /** The v3 / `setTenant` tenant owning this model; undefined for a shared deployment. */
  readonly tenant: string | undefined;
  /** On its tenant's own provider account (`DeploymentInit.ownAccount`): ids are sent as they are. */
  readonly ownAccount: boolean;
  private instance: LanguageEngine | undefined;
  private caps: ReadonlySet<Capability> | undefined;
  private versionTag: string | undefined;
  private answerTag: string | undefined;
  private providerTag: string | undefined;
  /** `close()` was called: no engine is created any more (nothing would close it). */
  private closed = false;
  /**
   * Retired (`unload`, a replaced deployment, a tenant's changed or dropped own model): no engine is created for it any
   * more, and its engine is closed once idle. A call that planned it before moves on at once (`no_deployment`, which
   * clients retry: no request, no retry, no strike; see `run-attempts`).
   */
  retired = false;
  /**
   * Where the model is in its config (`models.2`; a tenant's own model: in its tenant's `models`), as errors name its
   * fields to a tenant (`unservable-own-model.ts`). Updated when a tenant set again keeps the deployment at another index.
   */
  configPath: string | undefined;
  /** The engine's `close()`, once asked (by `retire` once idle, or the router's `close()`): asked only once. */
  private closing: Promise<void> | undefined;

  /** The owning tenant's incarnation its circuit is keyed by (see `DeploymentInit.incarnation`). */
  get incarnation(): string | number | undefined {
    return this.init.incarnation;
  }

  /** The fields not set, one a line (`DeploymentInit.unsetSecrets`): another list makes the deployment anew. */
  get unsetSecrets(): string | undefined {
    return this.init.unsetSecrets;
  }

  constructor(private readonly init: DeploymentInit) {
    this.name = init.config.name;
    this.config = init.config;
    this.tenant = init.tenant;
    this.ownAccount = init.tenant !== undefined && init.ownAccount === true;
    this.configPath = init.configPath;
    this.setPriceTable(init.priceTable);
    this.limiter = DeploymentLimiter.for(init.config.limits, init.now);
    this.instance = init.engine;
    const known = init.config.capabilities ?? (init.engine ? undefined : factoryCapabilities(init.factory, init.config));
    if (known) this.caps = new Set(known);
    this.embeddingOnly = this.caps !== undefined && this.caps.has('embeddings') && !this.caps.has('chat') && !this.caps.has('completion');
    // A tenant's model is keyed by its config's fingerprint too: one changed to call another upstream or key (a
    // `setTenant` with a new key after its calls failed) starts closed in a shared store as in memory.
    const fingerprint = init.tenant === undefined ? undefined : circuitFingerprint(init.config);
    this.breaker = (init.circuitStore ?? defaultCircuitStateStore).circuit(circuitKey(this.name, init.tenant, init.incarnation, fingerprint), {
      config: init.routing.circuitBreaker,
      now: init.now,
      onTransition: (from, to) => init.onCircuit(this.name, from, to),
      ...(init.warn ? { warn: init.warn } : {}),
    });
    this.stats = new DeploymentStats({
      now: init.now,
      alpha: init.statsAlpha,
      errorRateHalfLifeMs: init.errorRateHalfLifeMs,
      circuit: () => this.breaker.state,
    });
  }

  /** Config price, else free for local engines, else the table's row by model id (default: shipped table); undefined = unknown. */
  setPriceTable(table: PriceTable | undefined): void {
    // The deployment's own frozen copy: not the config's object, nor one shared with other deployments (a local
    // engine's 0). models() and explanations hand it out as is: nobody can edit what the router bills with.
    const price = resolveModelPrice(this.init.config, table);
    // The long-context tiers too (a config's or a hand-built table's are not frozen), ascending by threshold.
    this.price = price && Object.freeze({ ...price, ...(price.longContext && { longContext: freezeTiers(price.longContext) }) });
    this.priceFromTable = this.init.config.price === undefined && this.price !== undefined;
  }

  /**
   * Takes over the limiter state of the deployment this one replaces (same name, e.g. `load()`), so a
   * config reload neither forgets calls in flight nor refills the rpm/tpm windows.
   */
  inheritLimiter(old: RouterDeployment): void {
    if (!this.limiter || !old.limiter) return;
    old.limiter.limits = this.limiter.limits;
    this.limiter = old.limiter;
  }

  /** `maxTokens` as this deployment receives it: clamped to `maxOutputTokens` (absent stays absent). */
  outputCap(maxTokens: number | undefined): number | undefined {
    const cap = this.config.maxOutputTokens;
    return cap !== undefined && maxTokens !== undefined && maxTokens > cap ? cap : maxTokens;
  }

  /**
   * The request as this deployment receives it: `maxTokens` above `maxOutputTokens` is clamped to it; on a call of
   * `tenant` (`ExecutionPlan.tenant`), a deployment on the operator's provider account (shared, or a tenant's model
   * on the router's environment or naming `apiKeyEnv`: not `ownAccount`) gets the end-user ids and prompt-cache keys,
   * those in `providerOptions` too, scoped to the tenant (`tenantScopedRequest`); a model on the tenant's own account
   * gets them as they are.
   */
  requestFor(request: GenerateRequest, tenant?: string): GenerateRequest {
    const sent = this.ownAccount ? request : tenantScopedRequest(request, tenant, this.init.endUserIdSecret);
    const cap = this.outputCap(sent.maxTokens);
    return cap === sent.maxTokens ? sent : { ...sent, maxTokens: cap };
  }

  /** An embed call's end-user id as this deployment receives it (scoped as `requestFor` scopes `user`). */
  userFor(user: string, tenant: string | undefined): string {
    return tenant === undefined || this.ownAccount || user === '' ? user : tenantScopedId(tenant, user, this.init.endUserIdSecret);
  }

  /** Tokens an attempt is charged at admission (tpm): the prompt estimate plus the expected output. */
  admissionTokens(estimatedInputTokens: number, maxTokens: number | undefined): number {
    return estimatedInputTokens + (this.outputCap(maxTokens) ?? DEFAULT_EXPECTED_OUTPUT_TOKENS);
  }

  /** The engine, created on first use. */
  engine(): LanguageEngine {
    if (!this.instance) {
      if (this.closed) throw new LLMError({ code: 'shutting_down', message: `The router was closed: "${this.name}" has no engine any more`, deployment: this.name });
      if (this.retired) throw new LLMError({ code: 'shutting_down', message: `Deployment "${this.name}" was removed: it has no engine any more`, deployment: this.name });
      this.instance = this.init.factory(this.config, this.init.engineContext);
    }
    return this.instance;
  }

  /** Whether the engine was created (so `close()` knows what to release). */
  get engineCreated(): boolean {
    return this.instance !== undefined;
  }

  /** Configured capabilities, else the ones the engine factory declares for the config, else the engine's. */
  get capabilities(): ReadonlySet<Capability> {
    if (!this.caps) this.caps = engineCapabilities(this.engine().capabilities);
    return this.caps;
  }

  /** What the engine is built with (its environment: the router's, or only `apiKeyEnv`'s for `setTenant(t, { useEnv: false })`). */
  get engineContext(): EngineContext {
    return this.init.engineContext;
  }

  /** A tag of this deployment's config (`configVersion`): equal configs, equal tags, in every process. */
  get version(): string {
    return (this.versionTag ??= configVersion(this.config));
  }

  /** A tag of what decides this deployment's answers (`answerVersion`; this object's own when its config cannot be serialized): names its answers in the caches. */
  get answerVersion(): string {
    return (this.answerTag ??= answerVersion(this.config, this));
  }

  /** Provider model id, without creating the engine when the config says it. */
  get modelId(): string {
    return this.instance?.modelId ?? this.config.model ?? this.config.name;
  }

  /** The engine's provider; before the engine exists, what its factory says it will be (`EngineFactory.provider`). */
  get provider(): string {
    return this.instance?.provider ?? (this.providerTag ??= factoryProvider(this.init.factory, this.config));
  }

  /**
   * Retires a deployment the router no longer has (see `retired`): its engine, if one was created, is closed now when
   * no attempt is in flight on it, else as the last one ends (`idle` is called then); an engine given pre-built
   * (`RouterOptions.engines`) is left open. Returns whether it waits for that.
   */
  retire(idle?: () => void): boolean {
    this.retired = true;
    // A pre-built engine (`RouterOptions.engines`) is the caller's: a deployment loaded again under the name takes the
    // same instance, so retiring never closes it (the router's `close()` does while a deployment has it).
    if (this.init.engine !== undefined) return false;
    if (this.stats.inFlight === 0) {
      if (this.instance !== undefined) void this.close().catch(() => {});
      return false;
    }
    this.stats.onIdle = () => {
      this.stats.onIdle = undefined;
      idle?.();
      void this.close().catch(() => {});
    };
    return true;
  }

  close(): Promise<void> {
    this.closed = true;
    return (this.closing ??= this.closeEngine());
  }

  private async closeEngine(): Promise<void> {
    const engine = this.instance;
    if (engine?.close) await engine.close();
  }
}

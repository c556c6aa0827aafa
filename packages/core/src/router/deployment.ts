import type { Capability, ModelConfig, RouterConfig } from '../config/schema.js';
import type { EngineContext, EngineFactory } from '../engines/types.js';
import { resolveModelPrice } from '../pricing/price-for.js';
import type { EngineCapabilities, LanguageEngine, ModelPrice } from '../spec/index.js';
import { CircuitBreaker, type CircuitState } from './resilience/circuit-breaker.js';
import { DeploymentStats } from './stats.js';
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
}

const ENGINE_CAPABILITIES: ReadonlyArray<keyof EngineCapabilities & Capability> = ['streaming', 'tools', 'json', 'vision', 'embeddings', 'reasoning'];

/** Capabilities of an engine as config capability names (every engine chats and completes). */
export function engineCapabilities(caps: EngineCapabilities): Set<Capability> {
  const set = new Set<Capability>(['chat', 'completion']);
  for (const c of ENGINE_CAPABILITIES) if (caps[c]) set.add(c);
  return set;
}

/**
 * A deployment as the router holds it: config, lazily created engine, capabilities, price,
 * and its live health (stats + circuit breaker).
 */
export class RouterDeployment implements Deployment {
  readonly name: string;
  readonly config: ModelConfig;
  readonly price: ModelPrice | undefined;
  readonly priceFromTable: boolean;
  readonly stats: DeploymentStats;
  readonly breaker: CircuitBreaker;
  private instance: LanguageEngine | undefined;
  private caps: ReadonlySet<Capability> | undefined;

  constructor(private readonly init: DeploymentInit) {
    this.name = init.config.name;
    this.config = init.config;
    // Config price, else free for local engines, else the shipped table by model id; undefined = unknown.
    this.price = resolveModelPrice(init.config);
    this.priceFromTable = init.config.price === undefined && this.price !== undefined;
    this.instance = init.engine;
    if (init.config.capabilities) this.caps = new Set(init.config.capabilities);
    this.breaker = new CircuitBreaker({
      config: init.routing.circuitBreaker,
      now: init.now,
      onTransition: (from, to) => init.onCircuit(this.name, from, to),
    });
    this.stats = new DeploymentStats({
      now: init.now,
      alpha: init.statsAlpha,
      errorRateHalfLifeMs: init.errorRateHalfLifeMs,
      circuit: () => this.breaker.state,
    });
  }

  /** The engine, created on first use. */
  engine(): LanguageEngine {
    if (!this.instance) this.instance = this.init.factory(this.config, this.init.engineContext);
    return this.instance;
  }

  /** Whether the engine was created (so `close()` knows what to release). */
  get engineCreated(): boolean {
    return this.instance !== undefined;
  }

  /** Configured capabilities, else the engine's declared ones. */
  get capabilities(): ReadonlySet<Capability> {
    if (!this.caps) this.caps = engineCapabilities(this.engine().capabilities);
    return this.caps;
  }

  /** Provider model id, without creating the engine when the config says it. */
  get modelId(): string {
    return this.instance?.modelId ?? this.config.model ?? this.config.name;
  }

  get provider(): string {
    return this.instance?.provider ?? this.config.engine;
  }

  async close(): Promise<void> {
    const engine = this.instance;
    if (engine?.close) await engine.close();
  }
}

import { LLMError } from '../../errors/llm-error.js';
import { LinearPosterior } from '../../learning/bandit/linear-posterior.js';
import type { RouterModel } from '../../learning/training/router-model.js';
import type { Deployment, RankedCandidate, RouterEvents, Strategy, StrategyContext } from '../types.js';
import { answerVersion } from '../config-version.js';
import { PendingDecisions } from './adaptive-pending.js';
import { checkIntelligentOptions, createAdaptivePrior } from './intelligent.js';
import { byScoreThenPriority, checkOptionNames, expectedCostUsd, observedLatency } from './util.js';

export interface AdaptiveOptions {
  /** Router model for the cold start (a loaded one or a path); without one, `quality` from config, else 0.5. */
  model?: RouterModel | string;
  /** Deployment name -> router model name (see `intelligent`). */
  models?: Record<string, string>;
  /** Quality points per USD of expected cost, subtracted from the sampled quality. Default 0. */
  lambda?: number;
  /** Quality points per ms of observed latency. Default 0. */
  mu?: number;
  /** How many observations the cold-start prior is worth (read when a deployment's model is first created). Default 4. */
  priorWeight?: number;
  /** Posterior spread of Thompson sampling (reward noise). Default 0.25. */
  explorationScale?: number;
  /** Weight of a success without explicit feedback (reward 1). Default 0.25; failures (those the router counts against the deployment) count fully (reward 0). */
  implicitWeight?: number;
  /**
   * Most pending requests remembered for late feedback, over all tenants. Default 10 000. When full, the oldest
   * decision of the tenant with the most waiting is dropped first (calls without a tenant count as one tenant), so a
   * busy tenant pushes out its own decisions, not a quiet tenant's.
   */
  maxPending?: number;
  /**
   * Most tenants whose own explicit feedback on shared deployments is kept (each tenant's layer over the shared
   * state; past it the least recently used tenant's layer is dropped, its calls then ranked on the shared state).
   * Default 10 000.
   */
  maxTenantLayers?: number;
}

/** A live outcome of one attempt on a deployment. */
export interface AdaptiveOutcome {
  requestId: string;
  deployment: string;
  ok: boolean;
}

/** Context vector: [1, prior quality - 0.5, log prompt length (scaled, centred)]. */
const DIM = 3;
/** Prior of a tenant's explicit layer (with weight 0: observations only). */
const NO_PRIOR: readonly number[] = [0, 0, 0];

/** One candidate of a remembered decision: its arm (a tenant's own deployment has its own) and context. */
interface PendingArm {
  arm: LinearPosterior;
  z: Float64Array;
  /** A shared deployment in a call made for a tenant: explicit feedback goes to that tenant's layer, not to `arm`. */
  layered?: true;
}

/** A deployment's model, with the config it was learned on and that config's `answerVersion`. */
interface Arm {
  arm: LinearPosterior;
  config: object;
  version: string;
}

/** A tenant's explicit feedback on a shared deployment, over the shared model `base` it was given on. */
interface Layer {
  layer: LinearPosterior;
  base: LinearPosterior;
}

interface Pending {
  /** By deployment name (unique among one call's candidates). */
  contexts: Map<string, PendingArm>;
  /** `implicitWeight` of the call (config merged with its own options). */
  weight: number;
  /** The tenant the call was made for (else whose own deployments were candidates), if any (`forgetTenant`). */
  tenant?: string;
  /** `maxTenantLayers` of the call, when it was made for a tenant. */
  maxLayers?: number;
  /** Deployment that answered, once known. */
  answered?: string;
  implicit?: boolean;
}

/**
 * `adaptive`: a contextual bandit (Thompson sampling over a Bayesian linear model per deployment: a shared one, or
 * a tenant's own, which learns apart from another tenant's own deployment of the same name) that learns from live
 * outcomes (an attempt whose failure the router counted against the deployment, its `strike`, = reward 0; a
 * success without feedback = reward 1 at `implicitWeight`) and explicit feedback (`feedback(requestId, score)`
 * with score in [0,1], which replaces the implicit success reward). Explicit feedback is the rating tenant's own: on a
 * shared deployment in a call made for a tenant it updates that tenant's layer (observations only, made at its
 * first feedback, at most `maxTenantLayers` tenants, least recently used dropped), and that tenant's calls are
 * ranked on the shared state plus its layer; live outcomes (facts about the deployment) stay shared. Calls without
 * a tenant learn everything on the shared state. Cold-started from the learned predictor: the
 * prior mean makes the expected reward equal to the predicted quality until outcomes arrive. Score = sampled
 * quality - lambda x expected cost (resolved as `intelligent` does: an unknown price is not free) - mu x latency.
 * Options: the constructor's, under `routing.options.adaptive`, under the call's `strategyOptions`.
 */
export class AdaptiveStrategy implements Strategy {
  readonly name = 'adaptive';
  readonly spreads = true;
  readonly description = 'Contextual Thompson sampling on live outcomes and feedback, cold-started from the learned predictor.';
  /**
   * Arms by owning tenant (undefined: the shared deployments), then deployment name. A deployment replaced under
   * its name (`load()`, a tenant's own model changed by `setTenant`) by one that answers otherwise (another
   * `answerVersion`: model, engine, server, options...) gets a new arm at its next call; one whose routing fields
   * alone changed (priority, price, quality, limits...) keeps what was learned.
   */
  private readonly arms = new Map<string | undefined, Map<string, Arm>>();
  /**
   * A tenant's own explicit feedback on shared deployments, by tenant (least recently used first), then deployment
   * name: observations only (prior weight 0), added to the shared arm when that tenant's calls are ranked.
   */
  private readonly explicit = new Map<string, Map<string, Layer>>();
  private readonly pending = new PendingDecisions<Pending>();
  private readonly prior: Strategy;
  private spare: number | undefined;

  constructor(private readonly defaults: AdaptiveOptions = {}) {
    this.checkOptions(defaults as Record<string, unknown>);
    this.prior = createAdaptivePrior(pick(defaults as Record<string, unknown>, ['model', 'models']));
  }

  /**
   * Loads the prior's router model when the router is built (`routing.options.adaptive.model`, else the
   * constructor's) and warms USE lite when it embeds prompts: `ready()`, `fromConfig`, `llmrr config validate` and the
   * server start refuse a missing or broken file as `config_invalid` naming `routing.options.adaptive.model` (one
   * given in code: option "model"); calls share the load.
   */
  prepare(options: Record<string, unknown>): Promise<void> | void {
    return this.prior.prepare!(pick(options, ['model', 'models', 'embed']));
  }

  /** A deployment's model; a new one is kept only when `keep` (a call that can be learned from). */
  private arm(d: Deployment, priorWeight: number, keep: boolean): LinearPosterior {
    const known = this.arms.get(d.tenant)?.get(d.name);
    if (known?.config === d.config) return known.arm;
    // Another config under this name (the deployment was replaced): the same answers keep what was learned.
    const version = known || keep ? answerVersion(d.config, d) : undefined;
    if (known && known.version === version) {
      if (keep) known.config = d.config;
      return known.arm;
    }
    // theta0 = [0.5, 1, 0]: expected reward = prior quality.
    const a = new LinearPosterior([0.5, 1, 0], priorWeight);
    if (keep) {
      let own = this.arms.get(d.tenant);
      if (!own) this.arms.set(d.tenant, (own = new Map()));
      own.set(d.name, { arm: a, config: d.config, version: version! });
    }
    return a;
  }

  /**
   * Checks options (the constructor's, `routing.options.adaptive` when the router is built): throws `invalid_request`
   * naming the option; a call's `strategyOptions` are checked as they are read.
   */
  checkOptions(o: Record<string, unknown>): void {
    checkOptionNames('adaptive', o, ADAPTIVE_OPTIONS);
    for (const k of Object.keys(NUMBERS) as Array<keyof typeof NUMBERS>) option(o, k, k);
    checkIntelligentOptions(o, []);
  }

  /**
   * Drops a removed tenant's own deployments' models, its explicit feedback on shared ones and the decisions of its
   * calls that were waiting for feedback.
   */
  forgetTenant(tenant: string): void {
    this.arms.delete(tenant);
    this.explicit.delete(tenant);
    this.pending.deleteTenant(tenant);
  }

  private gauss(random: () => number): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = Math.max(1e-12, random()), v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  rank(ctx: StrategyContext): RankedCandidate[] | Promise<RankedCandidate[]> {
    // Prior qualities from the learned predictor (lambda 0: quality only).
    const priorCtx: StrategyContext = { ...ctx, options: { ...pick(ctx.options, ['model', 'models', 'embed']), lambda: 0 } };
    const ranked = this.prior.rank(priorCtx);
    return ranked instanceof Promise ? ranked.then((r) => this.sampleRank(ctx, r)) : this.sampleRank(ctx, ranked);
  }

  private sampleRank(ctx: StrategyContext, priorRanked: RankedCandidate[]): RankedCandidate[] {
    const o = { ...this.defaults, ...ctx.options } as Record<string, unknown>;
    const lambda = option(o, 'lambda');
    const mu = option(o, 'mu');
    const scale = option(o, 'explorationScale');
    const priorWeight = option(o, 'priorWeight');
    // Nothing to learn from, so no state is made for them, and they must not push out real decisions before their
    // feedback: a `route()` preview (no call follows), the router's own calls (the semantic cache's guard) and
    // embedding calls (never rated; their outcomes say nothing of answers).
    const learns = ctx.preview !== true && ctx.internal !== true && ctx.requiredCapabilities?.has('embeddings') !== true;
    let tenant = ctx.tenant;
    // This tenant's explicit feedback on shared deployments (a call that learns marks the tenant as recently used).
    const layers = tenant === undefined ? undefined : this.explicit.get(tenant);
    if (layers && learns) {
      this.explicit.delete(tenant!);
      this.explicit.set(tenant!, layers);
    }
    const priorQ = new Map<Deployment, number>(priorRanked.map((r) => [r.deployment, r.factors?.['predictedQuality'] ?? 0.5]));
    // A prompt the prior reads poorly (`intelligent`'s `promptCoverage`): said in each candidate's note.
    const coverage = priorRanked.find((r) => r.factors?.['promptCoverage'] !== undefined);
    const costs = candidateCosts(ctx, priorRanked);
    const length = Math.log1p(ctx.estimatedInputTokens) / 8 - 0.5;
    const contexts = new Map<string, PendingArm>();
    const out: RankedCandidate[] = [];
    for (const d of ctx.candidates) {
      const q0 = priorQ.get(d) ?? d.config.quality ?? 0.5;
      const z = Float64Array.of(1, q0 - 0.5, length);
      const shared = this.arm(d, priorWeight, learns);
      tenant ??= d.tenant;
      let arm = shared;
      if (ctx.tenant !== undefined && d.tenant === undefined) {
        contexts.set(d.name, { arm: shared, z, layered: true });
        // A layer given on a replaced deployment's model is not this one's.
        const layer = layers?.get(d.name);
        if (layer?.base === shared) arm = LinearPosterior.sum(shared, layer.layer);
      } else contexts.set(d.name, { arm: shared, z });
      const theta = arm.sample(scale, () => this.gauss(ctx.random));
      const mean = arm.mean();
      let sampled = 0, expected = 0;
      for (let i = 0; i < DIM; i++) {
        sampled += theta[i]! * z[i]!;
        expected += mean[i]! * z[i]!;
      }
      const cost = costs.get(d)!;
      const latency = observedLatency(ctx, d.name);
      const score = sampled - lambda * cost - mu * (latency ?? 0);
      const factors: Record<string, number> = { priorQuality: q0, expectedQuality: expected, sampledQuality: sampled, observations: arm.observations, expectedCostUsd: cost, score };
      if (latency !== undefined) factors['latencyMs'] = latency;
      if (coverage) {
        factors['promptCoverage'] = coverage.factors!['promptCoverage']!;
        out.push({ deployment: d, score, factors, note: `prior: ${coverage.note!.split('; ')[0]!}` });
      } else out.push({ deployment: d, score, factors });
    }
    const id = requestIdOf(ctx);
    if (id !== undefined && learns) {
      const p: Pending = { contexts, weight: option(o, 'implicitWeight') };
      if (tenant !== undefined) p.tenant = tenant;
      if (ctx.tenant !== undefined) p.maxLayers = option(o, 'maxTenantLayers');
      this.remember(id, p, option(o, 'maxPending'));
    }
    return out.sort(byScoreThenPriority);
  }

  private remember(id: string, p: Pending, max: number): void {
    this.pending.set(id, p, max);
  }

  /** A live outcome: a failed attempt is reward 0; a success is reward 1 at `implicitWeight` until feedback replaces it. */
  observe(outcome: AdaptiveOutcome): void {
    const p = this.pending.get(outcome.requestId);
    const c = p?.contexts.get(outcome.deployment);
    if (!p || !c) return;
    if (!outcome.ok) {
      c.arm.update(c.z, 0, 1);
      return;
    }
    const w = p.weight;
    if (w > 0) c.arm.update(c.z, 1, w);
    p.answered = outcome.deployment;
    p.implicit = w > 0;
  }

  /**
   * Explicit feedback on a request's answer (score in [0,1], 1 = good). Returns false when the request
   * is unknown (never routed by this strategy, already rated, or forgotten) or the deployment that answered was
   * replaced since by one that answers otherwise (the score is not learned).
   */
  feedback(requestId: string, score: number): boolean {
    if (typeof score !== 'number' || !(score >= 0 && score <= 1)) {
      throw new LLMError({ code: 'invalid_request', message: `feedback score must be a number in [0,1] (got ${JSON.stringify(score)})`, param: 'score' });
    }
    const p = this.pending.get(requestId);
    if (!p?.answered) return false;
    this.pending.delete(requestId);
    const { arm: shared, z, layered } = p.contexts.get(p.answered)!;
    // The answering deployment was replaced since (another model under its name, a new arm): nothing to learn for the
    // new one, and the old arm is no one's. A shared deployment's arm is in the shared map; a tenant's own in its own.
    if (this.arms.get(undefined)?.get(p.answered)?.arm !== shared && (p.tenant === undefined || this.arms.get(p.tenant)?.get(p.answered)?.arm !== shared)) return false;
    // The rating tenant's own view of a shared deployment; the implicit success stays in the shared state.
    const arm = layered ? this.layer(p.tenant!, p.answered, p.maxLayers!, shared) : shared;
    // Replace the implicit success (weight w, reward 1) by the explicit score (weight 1).
    if (p.implicit) arm.update(z, 1, -p.weight);
    arm.update(z, score, 1);
    return true;
  }

  /** A tenant's explicit layer on shared deployment `name`, made when missing (the tenant becomes the most recently used). */
  private layer(tenant: string, name: string, max: number, base: LinearPosterior): LinearPosterior {
    let layers = this.explicit.get(tenant);
    if (layers) this.explicit.delete(tenant);
    else {
      layers = new Map();
      for (const oldest of this.explicit.keys()) {
        if (this.explicit.size < max) break;
        this.explicit.delete(oldest);
      }
    }
    this.explicit.set(tenant, layers);
    let layer = layers.get(name);
    if (layer?.base !== base) layers.set(name, (layer = { layer: new LinearPosterior(NO_PRIOR, 0), base }));
    return layer.layer;
  }

  /**
   * Posterior mean reward per deployment name at a neutral context, and observations (for dashboards/tests): the
   * shared deployments', or with `tenant`, those a call of that tenant sees (the shared ones with its own explicit
   * feedback, and its own deployments over the shared ones of the same name).
   */
  snapshot(tenant?: string): Record<string, { expectedQuality: number; observations: number }> {
    const out = new Map<string, { expectedQuality: number; observations: number }>();
    const layers = tenant === undefined ? [this.arms.get(undefined)] : [this.arms.get(undefined), this.arms.get(tenant)];
    const own = tenant === undefined ? undefined : this.explicit.get(tenant);
    for (const arms of layers) {
      for (const [name, known] of arms ?? []) {
        const layer = arms === layers[0] ? own?.get(name) : undefined;
        const arm = layer?.base === known.arm ? LinearPosterior.sum(known.arm, layer.layer) : known.arm;
        const m = arm.mean();
        out.set(name, { expectedQuality: m[0]!, observations: arm.observations });
      }
    }
    // fromEntries defines own properties: a deployment named "__proto__" is an entry, not the object's prototype.
    return Object.fromEntries(out);
  }

  /**
   * Subscribes to a router's `request:end` events (live outcomes). Returns this. An `LLMRouter` this strategy is
   * registered with (`strategies` option, `addStrategy`) subscribes it already; calling `connect` too is harmless
   * (its emitter adds a listener once), so each outcome is learned once either way.
   */
  connect(router: RequestEndSource): this {
    router.on('request:end', this.onRequestEnd);
    return this;
  }

  /**
   * Feeds `request:end` events into `observe` (every attempt of the call, of a failed call too). A failed attempt
   * is learned only when the router counted it against the deployment (`strike`, the circuit's own rule): a caller
   * that went away or whose deadline passed, a consumer that stopped reading, a fault of the request say nothing
   * about the deployment that was answering.
   */
  onRequestEnd = (e: RouterEvents['request:end']): void => {
    // Embedding calls say nothing about a deployment's answers.
    if (e.kind === 'embed') return;
    const attempts = e.result?.attempts ?? e.attempts;
    if (!attempts) return;
    for (const a of attempts) {
      if (a.ok || a.strike === true) this.observe({ requestId: e.requestId, deployment: a.deployment, ok: a.ok });
    }
  };
}

/**
 * Expected cost per candidate, as `intelligent` (the prior) resolves it: the price, else the router model's cost,
 * else (unknown, not free) that of the dearest candidate with a known cost.
 */
function candidateCosts(ctx: StrategyContext, priorRanked: readonly RankedCandidate[]): Map<Deployment, number> {
  const fromPrior = new Map<Deployment, number | undefined>(priorRanked.map((r) => [r.deployment, r.factors?.['expectedCostUsd']]));
  const costs = new Map<Deployment, number>();
  let dearest = 0;
  for (const d of ctx.candidates) {
    // A candidate the prior did not rank (a non-finite prediction) is costed from its price alone.
    const c = fromPrior.get(d) ?? expectedCostUsd(d, ctx);
    if (c === undefined) continue;
    costs.set(d, c);
    if (c > dearest) dearest = c;
  }
  for (const d of ctx.candidates) if (!costs.has(d)) costs.set(d, dearest);
  return costs;
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** Numeric options: default, and the values that mean something. */
const NUMBERS = {
  lambda: { fallback: 0, ok: (_v: number) => true, what: 'a finite number' },
  mu: { fallback: 0, ok: (_v: number) => true, what: 'a finite number' },
  explorationScale: { fallback: 0.25, ok: (v: number) => v >= 0, what: 'a number >= 0' },
  priorWeight: { fallback: 4, ok: (v: number) => v > 0, what: 'a number > 0' },
  implicitWeight: { fallback: 0.25, ok: (v: number) => v >= 0, what: 'a number >= 0' },
  maxPending: { fallback: 10_000, ok: (v: number) => Number.isInteger(v) && v >= 1, what: 'a whole number >= 1' },
  maxTenantLayers: { fallback: 10_000, ok: (v: number) => Number.isInteger(v) && v >= 1, what: 'a whole number >= 1' },
};

/** Every option `adaptive` reads. */
const ADAPTIVE_OPTIONS: readonly string[] = [...Object.keys(NUMBERS), 'model', 'models', 'embed'];

/** Option `k` (its default when absent); another value throws `invalid_request` naming `param`. */
function option(o: Record<string, unknown>, k: keyof typeof NUMBERS, param = `strategyOptions.${k}`): number {
  const v = o[k];
  const rule = NUMBERS[k];
  if (v === undefined) return rule.fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !rule.ok(v)) {
    throw new LLMError({ code: 'invalid_request', message: `adaptive: option "${k}" must be ${rule.what} (got ${JSON.stringify(v)})`, param });
  }
  return v;
}

/** The request id of a routing call: `ctx.requestId` when the router passes it, else `metadata.requestId`. */
function requestIdOf(ctx: StrategyContext): string | undefined {
  const direct = (ctx as StrategyContext & { requestId?: unknown }).requestId;
  if (typeof direct === 'string') return direct;
  const m = ctx.metadata['requestId'];
  return typeof m === 'string' ? m : undefined;
}

/** Something with `on('request:end', listener)`, like `LLMRouter`. */
export interface RequestEndSource {
  on(event: 'request:end', listener: (e: RouterEvents['request:end']) => void): unknown;
}

/** A fresh adaptive strategy, optionally wired to a router's live outcomes. */
export function createAdaptiveStrategy(options: AdaptiveOptions = {}, router?: RequestEndSource): AdaptiveStrategy {
  const s = new AdaptiveStrategy(options);
  return router ? s.connect(router) : s;
}

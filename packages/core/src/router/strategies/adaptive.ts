import { LLMError } from '../../errors/llm-error.js';
import { LinearPosterior } from '../../learning/bandit/linear-posterior.js';
import type { RouterModel } from '../../learning/training/router-model.js';
import type { Deployment, RankedCandidate, RouterEvents, Strategy, StrategyContext } from '../types.js';
import { createIntelligentStrategy } from './intelligent.js';
import { byScoreThenPriority, expectedCostUsd, observedLatency } from './util.js';

export interface AdaptiveOptions {
  /** Router model for the cold start (a loaded one or a path); without one, `quality` from config, else 0.5. */
  model?: RouterModel | string;
  /** Deployment name -> router model name (see `intelligent`). */
  models?: Record<string, string>;
  /** Quality points per USD of expected cost, subtracted from the sampled quality. Default 0. */
  lambda?: number;
  /** Quality points per ms of observed latency. Default 0. */
  mu?: number;
  /** How many observations the cold-start prior is worth. Default 4. */
  priorWeight?: number;
  /** Posterior spread of Thompson sampling (reward noise). Default 0.25. */
  explorationScale?: number;
  /** Weight of a success without explicit feedback (reward 1). Default 0.25; failures (those the router counts against the deployment) count fully (reward 0). */
  implicitWeight?: number;
  /** Most pending requests remembered for late feedback. Default 10 000. */
  maxPending?: number;
}

/** A live outcome of one attempt on a deployment. */
export interface AdaptiveOutcome {
  requestId: string;
  deployment: string;
  ok: boolean;
}

/** Context vector: [1, prior quality - 0.5, log prompt length (scaled, centred)]. */
const DIM = 3;

interface Pending {
  contexts: Map<string, Float64Array>;
  /** Deployment that answered, once known. */
  answered?: string;
  implicit?: boolean;
}

/**
 * `adaptive`: a contextual bandit (Thompson sampling over a Bayesian linear model per deployment) that
 * learns from live outcomes (an attempt whose failure the router counted against the deployment, its `strike`,
 * = reward 0; a success without feedback = reward 1 at `implicitWeight`) and explicit feedback
 * (`feedback(requestId, score)` with score in [0,1], which replaces the implicit success reward). Cold-started
 * from the learned predictor: the prior mean makes the expected reward equal to the predicted quality until
 * outcomes arrive. Score = sampled quality - lambda x expected cost - mu x latency.
 */
export class AdaptiveStrategy implements Strategy {
  readonly name = 'adaptive';
  readonly spreads = true;
  readonly description = 'Contextual Thompson sampling on live outcomes and feedback, cold-started from the learned predictor.';
  private readonly arms = new Map<string, LinearPosterior>();
  private readonly pending = new Map<string, Pending>();
  private readonly prior: Strategy;
  private spare: number | undefined;

  constructor(private readonly defaults: AdaptiveOptions = {}) {
    this.prior = createIntelligentStrategy({ ...(defaults.model ? { model: defaults.model } : {}), ...(defaults.models ? { models: defaults.models } : {}) });
  }

  private arm(name: string): LinearPosterior {
    let a = this.arms.get(name);
    if (!a) {
      // theta0 = [0.5, 1, 0]: expected reward = prior quality.
      a = new LinearPosterior([0.5, 1, 0], this.defaults.priorWeight ?? 4);
      this.arms.set(name, a);
    }
    return a;
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
    const priorCtx: StrategyContext = { ...ctx, options: { ...(this.defaults.model ? { model: this.defaults.model } : {}), ...(this.defaults.models ? { models: this.defaults.models } : {}), ...pick(ctx.options, ['model', 'models', 'embed']), lambda: 0 } };
    const ranked = this.prior.rank(priorCtx);
    return ranked instanceof Promise ? ranked.then((r) => this.sampleRank(ctx, r)) : this.sampleRank(ctx, ranked);
  }

  private sampleRank(ctx: StrategyContext, priorRanked: RankedCandidate[]): RankedCandidate[] {
    const o = { ...this.defaults, ...ctx.options } as Record<string, unknown>;
    const lambda = numberOf(o, 'lambda', 0);
    const mu = numberOf(o, 'mu', 0);
    const scale = numberOf(o, 'explorationScale', 0.25);
    const priorQ = new Map<Deployment, number>(priorRanked.map((r) => [r.deployment, r.factors?.['predictedQuality'] ?? 0.5]));
    const length = Math.log1p(ctx.estimatedInputTokens) / 8 - 0.5;
    const contexts = new Map<string, Float64Array>();
    const out: RankedCandidate[] = [];
    for (const d of ctx.candidates) {
      const q0 = priorQ.get(d) ?? d.config.quality ?? 0.5;
      const z = Float64Array.of(1, q0 - 0.5, length);
      contexts.set(d.name, z);
      const arm = this.arm(d.name);
      const theta = arm.sample(scale, () => this.gauss(ctx.random));
      const mean = arm.mean();
      let sampled = 0, expected = 0;
      for (let i = 0; i < DIM; i++) {
        sampled += theta[i]! * z[i]!;
        expected += mean[i]! * z[i]!;
      }
      const cost = expectedCostUsd(d, ctx) ?? 0;
      const latency = observedLatency(ctx, d.name);
      const score = sampled - lambda * cost - mu * (latency ?? 0);
      const factors: Record<string, number> = { priorQuality: q0, expectedQuality: expected, sampledQuality: sampled, observations: arm.observations, expectedCostUsd: cost, score };
      if (latency !== undefined) factors['latencyMs'] = latency;
      out.push({ deployment: d, score, factors });
    }
    const id = requestIdOf(ctx);
    // A `route()` preview is followed by no call: nothing to learn from, and it must not push out real decisions.
    if (id !== undefined && ctx.preview !== true) this.remember(id, { contexts });
    return out.sort(byScoreThenPriority);
  }

  private remember(id: string, p: Pending): void {
    const max = this.defaults.maxPending ?? 10_000;
    if (this.pending.size >= max) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.pending.set(id, p);
  }

  /** A live outcome: a failed attempt is reward 0; a success is reward 1 at `implicitWeight` until feedback replaces it. */
  observe(outcome: AdaptiveOutcome): void {
    const p = this.pending.get(outcome.requestId);
    const z = p?.contexts.get(outcome.deployment);
    if (!p || !z) return;
    const arm = this.arm(outcome.deployment);
    if (!outcome.ok) {
      arm.update(z, 0, 1);
      return;
    }
    const w = this.defaults.implicitWeight ?? 0.25;
    if (w > 0) arm.update(z, 1, w);
    p.answered = outcome.deployment;
    p.implicit = w > 0;
  }

  /**
   * Explicit feedback on a request's answer (score in [0,1], 1 = good). Returns false when the request
   * is unknown (never routed by this strategy, already rated, or forgotten).
   */
  feedback(requestId: string, score: number): boolean {
    if (typeof score !== 'number' || !(score >= 0 && score <= 1)) {
      throw new LLMError({ code: 'invalid_request', message: `feedback score must be a number in [0,1] (got ${JSON.stringify(score)})`, param: 'score' });
    }
    const p = this.pending.get(requestId);
    if (!p?.answered) return false;
    const z = p.contexts.get(p.answered)!;
    const arm = this.arm(p.answered);
    // Replace the implicit success (weight w, reward 1) by the explicit score (weight 1).
    if (p.implicit) arm.update(z, 1, -(this.defaults.implicitWeight ?? 0.25));
    arm.update(z, score, 1);
    this.pending.delete(requestId);
    return true;
  }

  /** Posterior mean reward per deployment at a neutral context, and observations (for dashboards/tests). */
  snapshot(): Record<string, { expectedQuality: number; observations: number }> {
    const out: Record<string, { expectedQuality: number; observations: number }> = {};
    for (const [name, arm] of this.arms) {
      const m = arm.mean();
      out[name] = { expectedQuality: m[0]!, observations: arm.observations };
    }
    return out;
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

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function numberOf(o: Record<string, unknown>, k: string, fallback: number): number {
  const v = o[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
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

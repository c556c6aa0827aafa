import type { Capability, RoutingConfig } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import { toLLMError } from '../errors/to-llm-error.js';
import { estimateRequestTokens } from '../pricing/estimate-tokens.js';
import type { GenerateRequest } from '../spec/index.js';
import { addRefusal, exclusion, matchesName, noCandidateError, noDeploymentError, refusedExclusion, saturatedError, saturation, selectCandidates, unfitReason, type CandidateQuery, type CandidateSelection, type Exclusion, type Refusal } from './candidates.js';
import { DEFAULT_EXPECTED_OUTPUT_TOKENS, type RouterDeployment } from './deployment.js';
import { plannedRefusal } from './engine-refusal.js';
import type { AffinityLookup } from './prompt-cache-affinity/prompt-cache-affinity.js';
import type { AffinityHit } from './prompt-cache-affinity/affinity-store.js';
import { preferAffinity } from './prompt-cache-affinity/prefer-affinity.js';
import { impliedCapabilities } from './request.js';
import type { CandidateExplanation, RankedCandidate, RouteDecision, RouterCallOptions, Strategy, StrategyContext } from './types.js';

export { DEFAULT_EXPECTED_OUTPUT_TOKENS };

export interface RoutePlanInput {
  deployments: readonly RouterDeployment[];
  routing: RoutingConfig;
  strategy: Strategy;
  strategyName: string;
  /** Built-in strategies are trusted to return only candidates; custom ones are checked. */
  trusted: boolean;
  strategyOptions: Record<string, unknown>;
  request: GenerateRequest;
  stream: boolean;
  options: RouterCallOptions;
  requestId: string;
  now: () => number;
  random: () => number;
  /** Build the full `RouteDecision` (explain, `route()`). */
  explain: boolean;
  /** A `route()` preview: no call follows, so stateful strategies neither advance nor remember (`StrategyContext.preview`). */
  preview?: boolean | undefined;
  /** The router's own call (the semantic cache's guard and embeddings): never rated (`StrategyContext.internal`). */
  internal?: boolean | undefined;
  /**
   * An `embed` call (`request` then carries one user message per input and `maxTokens: 0`): candidates need
   * `embed()`; `inputTokens` is the estimate for the whole batch, `contextTokens` the longest input's; `tokens`
   * (token-id input) needs an engine with `embedTokens()`, `dimensions` (the call sets it) one declaring `embedDimensions`.
   */
  embed?: { inputTokens: number; contextTokens: number; tokens?: boolean; dimensions?: boolean } | undefined;
  /** The request's estimated input tokens when the caller has them already (else estimated here). */
  estimatedInputTokens?: number | undefined;
  /**
   * Prompt-cache affinity: the request's keys, looked up for `models` (those with several candidate
   * deployments), and with `remember` also when `models` is empty (a candidate's model has several deployments
   * configured, so the deployment that answers is remembered for later calls). Called only under a strategy that
   * spreads (`Strategy.spreads`) and when one of the two holds, so a router with one deployment per model does no
   * affinity work at all. Undefined result: the request has no affinity.
   */
  affinity?: ((models: readonly string[], remember: boolean) => Promise<AffinityLookup | undefined> | undefined) | undefined;
  /** The router's `warn` option, for the strategy (`StrategyContext.warn`). */
  warn?: ((message: string) => void) | undefined;
  /**
   * The call's tenant as the router resolves it (`options.tenant`, else a v3 config's `defaultTenant`), for the
   * strategy (`StrategyContext.tenant`); `options.tenant` when not given.
   */
  tenant?: string | undefined;
}

export interface RoutePlan {
  /** Deployments in the order they will be tried. */
  order: RouterDeployment[];
  forced: RouterDeployment | undefined;
  estimatedInputTokens: number;
  decision: RouteDecision | undefined;
  /** The request's prompt-cache affinity: remembered for the deployment that answers. */
  affinity?: AffinityLookup | undefined;
}

/** Why a client sent token ids it did not write itself, and how it sends text instead. */
const TOKEN_INPUT_HINT =
  "token ids as input need an OpenAI-compatible deployment; send the input as text (LangChain's OpenAIEmbeddings sends token ids unless check_embedding_ctx_length=False)";

const NO_CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>();
const EMPTY_METADATA: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
const clock = typeof performance !== 'undefined' ? () => performance.now() : () => Date.now();

/**
 * Candidates (fit, healthy), ranked by the strategy, then the configured fallbacks: the order in which
 * a call will try deployments. Synchronous when the strategy is (all built-ins are).
 */
export function planRoute(input: RoutePlanInput): RoutePlan | Promise<RoutePlan> {
  const t0 = input.explain ? clock() : 0;
  const { request, options, embed } = input;
  if (input.trusted && options.strategyOptions !== undefined) checkCallOptions(input.strategy, input.strategyName, options.strategyOptions);
  if (options.fallbacks !== undefined) checkCallFallbacks(input.deployments, options.fallbacks, options.allowedModels);
  const estimatedInputTokens = embed ? embed.inputTokens : (input.estimatedInputTokens ?? estimateRequestTokens(request));
  const required = impliedCapabilities(request, input.stream, options.requiredCapabilities);
  const query: CandidateQuery = {
    model: options.model,
    region: options.region,
    allowedModels: options.allowedModels,
    required,
    estimatedInputTokens,
    maxTokens: request.maxTokens,
    embed: embed !== undefined,
    contextTokens: embed?.contextTokens,
  };
  if (embed?.tokens === true) query.embedTokens = true;
  if (embed?.dimensions === true) query.embedDimensions = true;
  // A chat call: each candidate's engine is asked what it refuses of the request (`LanguageEngineV1.refusal`).
  if (embed === undefined) query.request = request;
  const selection = selectCandidates(input.deployments, query);
  if (selection.candidates.length === 0) {
    // Every deployment asked for refuses the request (a final assistant message Mistral refuses): its fallbacks take it.
    if (selection.refused !== undefined && selection.soonestFreeMs === undefined) {
      const plan = refusedFallbackPlan(input, selection, query, estimatedInputTokens, t0);
      if (plan) return plan;
    }
    // Waiting helps when a fit deployment is only at its limits: say when, as a provider's 429 would.
    if (selection.soonestFreeMs !== undefined) throw saturatedError(selection.excluded, options.model, selection.soonestFreeMs);
    // A 400 when the request asks what none of them can give (a capability, a context window); else no_deployment.
    const tokensRefused = embed?.tokens === true && selection.refusal?.param === 'input';
    throw noCandidateError(selection.excluded, options.model, selection.refusal, tokensRefused ? TOKEN_INPUT_HINT : undefined);
  }
  let lookup: Promise<AffinityLookup | undefined> | undefined;
  let looked = false;
  if (input.affinity && input.strategy.spreads === true) {
    const models = spreadModels(selection.candidates);
    looked = models.length > 0;
    // Only remembered (no lookup): the other deployments of the model are not candidates now (allow-list,
    // circuit open, limits), but the one that answers holds the prefix when they are again.
    if (looked || configuredTwice(input.deployments, selection.candidates)) lookup = input.affinity(models, true);
  }
  if (lookup) return lookup.then((affinity) => rankPlan(input, selection, query, estimatedInputTokens, required, affinity, looked, t0));
  return rankPlan(input, selection, query, estimatedInputTokens, required, undefined, false, t0);
}

/**
 * A call's `strategyOptions` for a built-in strategy, checked as its config is (an unknown or misspelt name, a bad
 * value): the call's `invalid_request` naming `strategyOptions.<option>`.
 */
function checkCallOptions(strategy: Strategy, name: string, o: Record<string, unknown>): void {
  if (typeof strategy.checkOptions !== 'function') return;
  try {
    strategy.checkOptions(o);
  } catch (e) {
    const err = toLLMError(e);
    const param = `strategyOptions${err.param !== undefined ? `.${err.param}` : ''}`;
    throw new LLMError({ code: 'invalid_request', message: `${param}: ${err.message}`, param, cause: e });
  }
}

/**
 * A call's own `fallbacks`: a list of names, each of a deployment (name or alias) the caller may use, as `model` must
 * be and as `routing.fallbacks` must be at start. Else `invalid_request` naming `fallbacks.N` (the gateway's
 * `llmrr.fallbacks.N`), rather than a fallback dropped unseen. A disabled deployment is accepted (skipped while it is).
 */
function checkCallFallbacks(all: readonly RouterDeployment[], fallbacks: unknown, allowedModels: readonly string[] | undefined): void {
  if (!Array.isArray(fallbacks)) {
    throw new LLMError({ code: 'invalid_request', message: 'fallbacks must be an array of deployment names', param: 'fallbacks' });
  }
  const usable = (d: RouterDeployment) => !allowedModels || allowedModels.some((n) => matchesName(d, n));
  for (let i = 0; i < fallbacks.length; i++) {
    const name: unknown = fallbacks[i];
    const param = `fallbacks.${i}`;
    if (typeof name !== 'string') throw new LLMError({ code: 'invalid_request', message: `${param} must be a deployment name (a string)`, param });
    if (all.some((d) => matchesName(d, name) && usable(d))) continue;
    const shown = name.length > 100 ? `${JSON.stringify(name.slice(0, 100))}...` : JSON.stringify(name);
    const known = all.filter(usable).map((d) => d.name).join(', ');
    throw new LLMError({ code: 'invalid_request', message: `${param}: unknown model ${shown} (no deployment by that name or alias). Known: ${known}`, param });
  }
}

/** True when the model of one of `candidates` has two deployments or more in `deployments`. */
function configuredTwice(deployments: readonly RouterDeployment[], candidates: readonly RouterDeployment[]): boolean {
  if (deployments.length < 2) return false;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    const m = c.modelId;
    for (let j = 0; j < deployments.length; j++) {
      const d = deployments[j]!;
      if (d !== c && d.modelId === m) return true;
    }
  }
  return false;
}

/** The models of which `candidates` hold two deployments or more (where affinity can choose), in order. */
function spreadModels(candidates: readonly RouterDeployment[]): string[] {
  const out: string[] = [];
  if (candidates.length < 2) return out;
  const seen = new Set<string>();
  for (let i = 0; i < candidates.length; i++) {
    const m = candidates[i]!.modelId;
    if (seen.has(m)) {
      if (!out.includes(m)) out.push(m);
    } else seen.add(m);
  }
  return out;
}

function rankPlan(
  input: RoutePlanInput,
  selection: CandidateSelection,
  query: CandidateQuery,
  estimatedInputTokens: number,
  required: readonly Capability[],
  affinity: AffinityLookup | undefined,
  looked: boolean,
  t0: number,
): RoutePlan | Promise<RoutePlan> {
  const { request, options } = input;
  const ctx: StrategyContext = {
    request,
    candidates: selection.candidates,
    stats: (name) => statsOf(input.deployments, selection.candidates, name),
    estimatedInputTokens,
    expectedOutputTokens: request.maxTokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS,
    random: input.random,
    now: input.now,
    options: input.strategyOptions,
    metadata: options.metadata ?? EMPTY_METADATA,
    stream: input.stream,
    requiredCapabilities: required.length === 0 ? NO_CAPABILITIES : new Set(required),
    strategy: input.strategyName,
    requestId: input.requestId,
    warn: input.warn,
  };
  if (input.preview) ctx.preview = true;
  if (input.internal) ctx.internal = true;
  const tenant = input.tenant ?? options.tenant;
  if (tenant !== undefined) ctx.tenant = tenant;
  const ranked = input.strategy.rank(ctx);
  const finish = (r: RankedCandidate[]): RoutePlan => {
    const strategyList = input.trusted ? r : checkRanked(r, selection.candidates, input.strategyName);
    if (strategyList.length === 0) {
      const excluded = [...selection.excluded, ...leftOutBy(ctx, selection.candidates, strategyList, input.strategyName)];
      const asked = requestRefusal(ctx, selection);
      if (asked) throw noCandidateError(excluded, options.model, asked.refusal, `strategy "${input.strategyName}" left every candidate out for the request's ${asked.refusal.param ?? 'size'}: ${asked.example}`);
      throw noDeploymentError(excluded, options.model, `strategy "${input.strategyName}" ranked no candidate`);
    }
    const preferred = affinity === undefined || !looked ? undefined : preferAffinity(strategyList, affinity.hits);
    const list = preferred?.ranked ?? strategyList;
    const refusedFallbacks: Exclusion[] = [];
    const order = buildOrder(list, input, query, selection.refused, refusedFallbacks);
    const plan: RoutePlan = { order, forced: selection.forced, estimatedInputTokens, decision: undefined };
    if (affinity) plan.affinity = affinity;
    if (input.explain) {
      const excluded = [...selection.excluded, ...refusedFallbacks, ...leftOutBy(ctx, selection.candidates, strategyList, input.strategyName, order)];
      plan.decision = explainPlan(input, list, order, excluded, selection.forced, (clock() - t0) * 1000);
      if (affinity && looked) explainAffinity(plan.decision, affinity.keys.source, preferred?.hit, preferred?.ranked !== undefined ? strategyList[0]!.deployment.name : undefined);
    }
    return plan;
  };
  // (Promise.resolve: a thenable from another realm or library becomes a native promise, which callers test with instanceof.)
  return isPromise(ranked) ? Promise.resolve(ranked).then(finish) : finish(ranked);
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

function statsOf(all: readonly RouterDeployment[], candidates: readonly RouterDeployment[], name: string) {
  for (let i = 0; i < candidates.length; i++) if (candidates[i]!.name === name) return candidates[i]!.stats;
  for (let i = 0; i < all.length; i++) if (all[i]!.name === name) return all[i]!.stats;
  throw new LLMError({ code: 'invalid_request', message: `Strategy asked for the stats of unknown deployment "${name}"` });
}

/**
 * The candidates the strategy did not rank, each with the reason it gave (`ctx.leftOut`), else a generic one. One in
 * `order` (a configured fallback: buildOrder appends those that fit) is tried, so it is not listed.
 */
function leftOutBy(ctx: StrategyContext, candidates: readonly RouterDeployment[], ranked: readonly RankedCandidate[], strategy: string, order?: readonly RouterDeployment[]): Exclusion[] {
  const out: Exclusion[] = [];
  if (ranked.length === candidates.length) return out;
  for (const d of candidates) {
    if (ranked.some((r) => r.deployment === d) || order?.includes(d)) continue;
    const said = ctx.leftOut?.find((x) => x?.name === d.name);
    out.push(exclusion(d, typeof said?.reason === 'string' ? said.reason : `left out by strategy "${strategy}"`, 'strategy'));
  }
  return out;
}

/**
 * When the strategy left every candidate out for the request's own ask (`leftOut` entries with a `param`) and every
 * deployment excluded before was too (`selection.refusal`): the refusal (a 400 naming the field) and one reason to
 * quote (the entries' reasons quote config and request only, so every caller may see it); else undefined.
 */
function requestRefusal(ctx: StrategyContext, selection: CandidateSelection): { refusal: Refusal; example: string } | undefined {
  let refusal: Refusal | null | undefined = selection.excluded.length > 0 ? selection.refusal : undefined;
  let example: string | undefined;
  for (const d of selection.candidates) {
    const said = ctx.leftOut?.find((x) => x?.name === d.name);
    const param = typeof said?.param === 'string' ? said.param : undefined;
    refusal = addRefusal(refusal, param !== undefined ? { code: 'invalid_request', param } : undefined);
    if (refusal === null) return undefined;
    example ??= `${d.name}: ${String(said!.reason)}`;
  }
  return refusal && example !== undefined ? { refusal, example } : undefined;
}

/** A custom strategy's ranking, kept to the candidates it was given (once each). */
function checkRanked(ranked: RankedCandidate[], candidates: readonly RouterDeployment[], strategy: string): RankedCandidate[] {
  if (!Array.isArray(ranked)) {
    throw new LLMError({ code: 'internal', message: `Strategy "${strategy}" must return an array of ranked candidates` });
  }
  const seen = new Set<RouterDeployment>();
  const out: RankedCandidate[] = [];
  for (const r of ranked) {
    const d = candidates.find((c) => c === r?.deployment || c.name === r?.deployment?.name);
    if (!d || seen.has(d)) continue;
    seen.add(d);
    out.push(r.deployment === d ? r : { ...r, deployment: d });
  }
  return out;
}

/**
 * When every deployment the call could use was left out because its engine refuses the request (`selection.refused`:
 * a final assistant message the `mistral` preset refuses), the configured fallbacks of those deployments (the call's
 * `fallbacks`, else `routing.fallbacks`: a list, or the map's entry for the requested model, a refusing deployment's
 * name or alias, or `*`), in their order: those that can serve the request and take it, each whose engine exists
 * asked its refusal too (`plannedRefusal`; one that refuses is listed in `excluded`), the one opened longest ago forced
 * when each has an open circuit. Undefined when none is configured; throws the refusal (`unsupported` naming the
 * field) when each one refuses too.
 */
function refusedFallbackPlan(input: RoutePlanInput, selection: CandidateSelection, query: CandidateQuery, estimatedInputTokens: number, t0: number): RoutePlan | undefined {
  const refused = selection.refused!;
  const fb = input.options.fallbacks ?? input.routing.fallbacks;
  let names: readonly string[] = [];
  if (Array.isArray(fb)) names = fb;
  else {
    const map = fb as Record<string, string[]>;
    const keys = [input.options.model, ...refused.flatMap((d) => [d.name, d.config.alias]), '*'];
    const key = keys.find((k) => k !== undefined && Object.hasOwn(map, k));
    if (key !== undefined) names = map[key]!;
  }
  if (names.length === 0) return undefined;
  const excluded = [...selection.excluded];
  let refusal = selection.refusal;
  const order: RouterDeployment[] = [];
  const fit: CandidateQuery = { ...query, model: undefined, request: undefined };
  for (const name of names) {
    for (const d of input.deployments) {
      if (!matchesName(d, name) || order.includes(d) || refused.includes(d)) continue;
      if (unfitReason(d, fit) !== undefined || saturation(d, query) !== undefined) continue;
      const asked = plannedRefusal(d, input.request);
      if (asked !== undefined) {
        excluded.push(refusedExclusion(d, asked));
        refusal = addRefusal(refusal, { code: 'unsupported', param: asked.param });
        continue;
      }
      order.push(d);
    }
  }
  if (order.length === 0) throw noCandidateError(excluded, input.options.model, refusal);
  // Every fallback left has an open circuit: the one that opened longest ago is tried anyway, as `selectCandidates`
  // forces a plan's only candidates (rather than fail without a call).
  let forced: RouterDeployment | undefined;
  if (order.every((d) => !d.breaker.isAvailable())) {
    for (const d of order) if (forced === undefined || d.breaker.openedAt < forced.breaker.openedAt) forced = d;
    order.splice(order.indexOf(forced!), 1);
    order.unshift(forced!);
  }
  const plan: RoutePlan = { order, forced, estimatedInputTokens, decision: undefined };
  if (input.explain) {
    const who = refused.map((d) => `"${d.name}"`).join(', ');
    plan.decision = {
      requestId: input.requestId,
      strategy: input.strategyName,
      selected: order[0]!.name,
      order: order.map((d) => d.name),
      candidates: [],
      excluded: excluded.map((e) => ({ ...e })),
      reason: forced
        ? `"${order[0]!.name}" is a fallback of ${who}, which refuse${refused.length === 1 ? 's' : ''} this request (see excluded); every fallback's circuit was open, so the one opened longest ago is tried anyway; ${excluded.length} excluded.`
        : `"${order[0]!.name}" is the first fallback of ${who}, which refuse${refused.length === 1 ? 's' : ''} this request (see excluded); ${excluded.length} excluded.`,
      decisionUs: (clock() - t0) * 1000,
    };
  }
  return plan;
}

/**
 * Ranked candidates (all, or only the first when `fallbackToRanked` is off), then fit fallbacks, without duplicates.
 * A fallback whose engine refuses the request is left out: one `selectCandidates` left out for it (`refused`, already
 * in `excluded`), or another whose existing engine refuses it (`plannedRefusal`), added to `refusedOut`.
 */
function buildOrder(
  ranked: RankedCandidate[],
  input: RoutePlanInput,
  query: CandidateQuery,
  refused: readonly RouterDeployment[] | undefined,
  refusedOut: Exclusion[],
): RouterDeployment[] {
  const fallbacks = fallbackNames(input, ranked);
  const n = input.routing.fallbackToRanked ? ranked.length : 1;
  const order: RouterDeployment[] = new Array(n);
  for (let i = 0; i < n; i++) order[i] = ranked[i]!.deployment as RouterDeployment;
  if (fallbacks.length === 0) return order;
  const all = input.deployments;
  for (const name of fallbacks) {
    for (let i = 0; i < all.length; i++) {
      const d = all[i]!;
      if (!matchesName(d, name) || order.includes(d) || refused?.includes(d) === true) continue;
      // A fallback must be able to serve the request too (capabilities, context, region, allow-list), and have room.
      if (unfitReason(d, { ...query, model: undefined, request: undefined }) !== undefined || saturation(d, query) !== undefined) continue;
      const asked = query.request !== undefined ? plannedRefusal(d, query.request) : undefined;
      if (asked !== undefined) {
        if (!refusedOut.some((e) => e.name === d.name)) refusedOut.push(refusedExclusion(d, asked));
        continue;
      }
      order.push(d);
    }
  }
  return order;
}

/** Configured fallbacks: the per-call list, else `routing.fallbacks` (a list, or a map by requested model / first choice / `*`). */
function fallbackNames(input: RoutePlanInput, ranked: RankedCandidate[]): readonly string[] {
  const fb = input.options.fallbacks ?? input.routing.fallbacks;
  if (Array.isArray(fb)) return fb;
  const map = fb as Record<string, string[]>;
  const first = ranked[0]!.deployment;
  const keys = [input.options.model, first.name, first.config.alias, '*'];
  for (const k of keys) if (k !== undefined && Object.hasOwn(map, k)) return map[k]!;
  return [];
}

function explainPlan(
  input: RoutePlanInput,
  ranked: RankedCandidate[],
  order: RouterDeployment[],
  excluded: Exclusion[],
  forced: RouterDeployment | undefined,
  decisionUs: number,
): RouteDecision {
  const candidates: CandidateExplanation[] = ranked.map((r, i) => {
    const d = r.deployment as RouterDeployment;
    const c: CandidateExplanation = { name: d.name, model: d.modelId, engine: d.config.engine, rank: i + 1, stats: d.stats.snapshot() };
    if (r.score !== undefined) c.score = r.score;
    if (r.factors) c.factors = { ...r.factors };
    if (r.note) c.note = r.note;
    // The deployment's frozen price (no copy per call): editing it cannot change what the router bills.
    if (d.price) c.price = d.price;
    if (d.tenant !== undefined) c.tenant = d.tenant;
    return c;
  });
  const top = ranked[0]!;
  const factors = top.factors
    ? Object.entries(top.factors)
        .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : Number(v.toPrecision(4))}`)
        .join(', ')
    : '';
  let reason = `"${top.deployment.name}" ranked first by ${input.strategyName}`;
  if (top.note) reason += ` (${top.note})`;
  else if (factors) reason += ` (${factors})`;
  if (ranked.length > 1) reason += ` ahead of ${ranked.length - 1} other candidate${ranked.length > 2 ? 's' : ''}`;
  if (forced) reason += `; every candidate's circuit was open, so the one opened longest ago is tried anyway`;
  if (excluded.length > 0) reason += `; ${excluded.length} excluded`;
  reason += '.';
  return {
    requestId: input.requestId,
    strategy: input.strategyName,
    selected: order[0]!.name,
    order: order.map((d) => d.name),
    candidates,
    excluded: excluded.map((e) => ({ ...e })),
    reason,
    decisionUs,
  };
}

/** The decision's `affinity`, and a sentence in its reason when affinity chose the first deployment. */
function explainAffinity(decision: RouteDecision, source: AffinityLookup['keys']['source'], hit: AffinityHit | undefined, strategyFirst: string | undefined): void {
  if (hit === undefined) {
    decision.affinity = { source, applied: false };
    decision.reason += ' Prompt-cache affinity: no deployment remembered for this request\'s cached prefix.';
    return;
  }
  decision.affinity = { source, remembered: hit.deployment, applied: strategyFirst !== undefined };
  const what = source === 'promptCacheKey' ? 'promptCacheKey' : 'cached prompt prefix';
  if (strategyFirst !== undefined) {
    decision.reason = `"${hit.deployment}" chosen by prompt-cache affinity: it served this request's ${what} last (the strategy ranked "${strategyFirst}" first). ${decision.reason}`;
  } else if (decision.selected === hit.deployment) {
    decision.reason += ` Prompt-cache affinity: "${hit.deployment}" also served this request's ${what} last.`;
  } else {
    decision.reason += ` Prompt-cache affinity: "${hit.deployment}" served this request's ${what} last but is not a candidate now (unfit, circuit open, at its limits), so the strategy's order stands.`;
  }
}

import type { Capability } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import type { EngineRefusal, GenerateRequest, LanguageEngine } from '../spec/index.js';
import type { Saturation } from './deployment-limiter.js';
import type { RouterDeployment } from './deployment.js';
import { plannedRefusal } from './engine-refusal.js';
import type { RouteExclusion } from './types.js';

export interface CandidateQuery {
  /** Requested deployment name or alias. */
  model?: string | undefined;
  region?: string | undefined;
  allowedModels?: readonly string[] | undefined;
  required: readonly Capability[];
  estimatedInputTokens: number;
  maxTokens?: number | undefined;
  /** An `embed` call: the deployment's engine must have `embed()`. Other calls leave embedding-only deployments out. */
  embed?: boolean | undefined;
  /** An `embed` call with token ids as input: the engine must have `embedTokens()`; with `dimensions`: declare `embedDimensions`. */
  embedTokens?: boolean | undefined;
  embedDimensions?: boolean | undefined;
  /** Tokens that must fit the context window, when not `estimatedInputTokens` (embed: the longest input). */
  contextTokens?: number | undefined;
  /**
   * A chat call's request (`generate`, `stream`; not `embed`): `selectCandidates` asks each deployment otherwise fit
   * whose engine exists what that engine refuses of it (`plannedRefusal`) and leaves one that refuses out
   * (`refusedExclusion`).
   */
  request?: GenerateRequest | undefined;
}

/** A deployment left out, and why (`RouteDecision.excluded`). */
export type Exclusion = RouteExclusion;

export interface CandidateSelection {
  candidates: RouterDeployment[];
  excluded: Exclusion[];
  /** Set when every otherwise-fit deployment had an open circuit: the least recently opened, tried anyway. */
  forced: RouterDeployment | undefined;
  /** When some fit deployment was skipped at its limits: the soonest one of them frees up (ms). */
  soonestFreeMs: number | undefined;
  /** What the exclusions add up to (`addRefusal`): a refusal when each one is the request's own ask. */
  refusal: Refusal | null | undefined;
  /** The deployments left out because their engine refuses the request (`CandidateQuery.request`), if any. */
  refused?: RouterDeployment[];
}

/** True when `d` is `name` or carries it as alias. */
export function matchesName(d: RouterDeployment, name: string): boolean {
  return d.name === name || d.config.alias === name;
}

/** Why a deployment outside the caller's allow-list is unfit; such deployments are never listed to the caller. */
const NOT_ALLOWED = 'not in the allowed models';

function allowed(d: RouterDeployment, list: readonly string[]): boolean {
  for (let i = 0; i < list.length; i++) if (matchesName(d, list[i]!)) return true;
  return false;
}

/**
 * What the request itself asks that a deployment cannot give (a capability, its size, its region): retrying never
 * helps, so when it holds for every deployment left out the call is the client's error (400), not `no_deployment`.
 * `param` names the request field (core's name; the gateway names it as its client does).
 */
export interface Refusal {
  code: 'invalid_request' | 'unsupported' | 'context_length_exceeded';
  param: string | undefined;
}

/** Why a deployment cannot serve the query, and the refusal when that is the request's own ask. */
export interface Unfit {
  reason: string;
  /** Undefined when the reason is the deployment's (disabled, its engine not created). */
  refusal?: Refusal | undefined;
}

/** The request field that needs each capability; `model` where no field of the request does (an embedding call, chat). */
const CAPABILITY_PARAM: Record<Capability, string | undefined> = {
  chat: 'model',
  completion: 'model',
  embeddings: 'model',
  streaming: 'stream',
  tools: 'tools',
  json: 'responseFormat',
  vision: 'messages',
  reasoning: 'reasoning',
};

const NOT_FOR_CHAT: Refusal = { code: 'unsupported', param: 'model' };

/**
 * Why `d` cannot serve the query, or undefined when it can (ignoring the circuit and the requested
 * model). Also used for fallbacks, which must be able to serve the request too.
 */
export function unfitReason(d: RouterDeployment, q: CandidateQuery): string | undefined {
  return unfit(d, q)?.reason;
}

/** `unfitReason`, with the refusal when the reason is the request's own ask. */
export function unfit(d: RouterDeployment, q: CandidateQuery): Unfit | undefined {
  const cfg = d.config;
  // First, so that nothing else is said about a deployment the caller may not use.
  if (q.allowedModels && !allowed(d, q.allowedModels)) return { reason: NOT_ALLOWED };
  if (!cfg.enabled) return { reason: 'disabled' };
  if (d.embeddingOnly && q.embed !== true) {
    return {
      reason: cfg.capabilities
        ? 'an embedding model (capabilities list embeddings but not chat or completion)'
        : `an embedding model (engine "${cfg.engine}" declares embeddings but not chat or completion for it)`,
      refusal: NOT_FOR_CHAT,
    };
  }
  if (q.region !== undefined && cfg.region !== q.region) {
    return {
      reason: cfg.region === undefined ? `no region configured (requested "${q.region}")` : `region "${cfg.region}" is not the requested "${q.region}"`,
      refusal: { code: 'invalid_request', param: 'region' },
    };
  }
  if (q.required.length > 0) {
    let caps: ReadonlySet<Capability>;
    try {
      caps = d.capabilities;
    } catch (e) {
      return { reason: `engine could not be created: ${e instanceof Error ? e.message : String(e)}` };
    }
    let missing: Capability[] | undefined;
    for (let i = 0; i < q.required.length; i++) {
      const c = q.required[i]!;
      if (!caps.has(c)) (missing ??= []).push(c);
    }
    if (missing) return { reason: `lacks capabilities: ${missing.join(', ')}`, refusal: { code: 'unsupported', param: CAPABILITY_PARAM[missing[0]!] } };
  }
  if (q.embed === true) {
    let engine: LanguageEngine;
    try {
      engine = d.engine();
    } catch (e) {
      return { reason: `engine could not be created: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (typeof engine.embed !== 'function') return { reason: `engine "${cfg.engine}" has no embed()`, refusal: { code: 'unsupported', param: 'model' } };
    // Never sent to an engine that would ignore them (a wrong vector length) or cannot take them.
    if (q.embedTokens === true && typeof engine.embedTokens !== 'function') {
      return { reason: `engine "${cfg.engine}" cannot embed token ids (input as text only)`, refusal: { code: 'unsupported', param: 'input' } };
    }
    if (q.embedDimensions === true && engine.embedDimensions !== true) {
      return { reason: `engine "${cfg.engine}" cannot set the vectors' dimensions`, refusal: { code: 'unsupported', param: 'dimensions' } };
    }
  }
  if (cfg.contextWindow !== undefined) {
    const output = d.outputCap(q.maxTokens) ?? 0;
    const input = q.contextTokens ?? q.estimatedInputTokens;
    const need = input + output;
    if (need > cfg.contextWindow) {
      if (q.embed === true) {
        return { reason: `context window ${cfg.contextWindow} < ~${input} tokens of the longest input`, refusal: { code: 'context_length_exceeded', param: 'input' } };
      }
      return {
        reason: `context window ${cfg.contextWindow} < ~${need} tokens needed (~${input} input + ${output} maxTokens)`,
        // `maxTokens` when the prompt alone fits: a smaller one would.
        refusal: { code: 'context_length_exceeded', param: input > cfg.contextWindow ? 'messages' : 'maxTokens' },
      };
    }
  }
  return undefined;
}

/**
 * The refusals of the exclusions so far (`sum`: undefined before the first) with one more exclusion's `next`: their
 * code when they share it (else `invalid_request`) and param when they share it; null once an exclusion is not the
 * request's own ask (its state or config: disabled, limits, circuit), which a 400 would hide.
 */
export function addRefusal(sum: Refusal | null | undefined, next: Refusal | undefined): Refusal | null {
  if (sum === null || next === undefined) return null;
  if (sum === undefined || (sum.code === next.code && sum.param === next.param)) return next;
  return { code: sum.code === next.code ? sum.code : 'invalid_request', param: sum.param === next.param ? sum.param : undefined };
}

/** Why `d` cannot take this call now because of its `limits`, or undefined (also for deployments without limits). */
export function saturation(d: RouterDeployment, q: CandidateQuery): Saturation | undefined {
  const limiter = d.limiter;
  return limiter === undefined ? undefined : limiter.check(d.admissionTokens(q.estimatedInputTokens, q.maxTokens), d.stats.latencyMs);
}

/**
 * The deployments that can serve a request, with the reason for each one left out.
 * Throws `model_not_found` when a requested model matches no deployment at all.
 */
export function selectCandidates(all: readonly RouterDeployment[], q: CandidateQuery): CandidateSelection {
  const candidates: RouterDeployment[] = [];
  const excluded: Exclusion[] = [];
  let circuitOpen: RouterDeployment[] | undefined;
  let soonestFreeMs: number | undefined;
  let refusal: Refusal | null | undefined;
  let refused: RouterDeployment[] | undefined;
  let matchedModel = q.model === undefined;
  for (let i = 0; i < all.length; i++) {
    const d = all[i]!;
    if (q.model !== undefined && !matchesName(d, q.model)) continue;
    const why = unfit(d, q);
    // A deployment outside the allow-list is not the caller's to know about: it matches no requested name,
    // and errors and `explain` leave it out.
    if (why?.reason === NOT_ALLOWED) continue;
    matchedModel = true;
    if (why !== undefined) {
      excluded.push(exclusion(d, why.reason, 'unfit'));
      refusal = addRefusal(refusal, why.refusal);
      continue;
    }
    // What its engine refuses of this request (an author name OpenAI refuses, a final assistant message Mistral
    // refuses): the request's own ask, as a capability is, so before the deployment's state. Only an engine already
    // created is asked (`plannedRefusal`): planning creates none.
    const asked = q.request !== undefined ? plannedRefusal(d, q.request) : undefined;
    if (asked !== undefined) {
      excluded.push(refusedExclusion(d, asked));
      (refused ??= []).push(d);
      refusal = addRefusal(refusal, { code: 'unsupported', param: asked.param });
      continue;
    }
    // Below, the deployment could serve the request: its state left it out.
    const full = saturation(d, q);
    if (full !== undefined) {
      refusal = null;
      excluded.push(exclusion(d, `saturated: ${full.reason}`, 'saturated'));
      if (soonestFreeMs === undefined || full.retryAfterMs < soonestFreeMs) soonestFreeMs = full.retryAfterMs;
      continue;
    }
    if (!d.breaker.isAvailable()) {
      const state = d.breaker.state;
      const e = exclusion(d, `circuit ${state}${d.stats.lastErrorCode ? ` (last error ${d.stats.lastErrorCode})` : ''}`, 'circuit');
      e.circuit = state;
      excluded.push(e);
      (circuitOpen ??= []).push(d);
      refusal = null;
      continue;
    }
    candidates.push(d);
  }
  if (!matchedModel) throw modelNotFoundError(all, q.model!, q.allowedModels);
  let forced: RouterDeployment | undefined;
  if (candidates.length === 0 && circuitOpen) {
    // Every fit deployment is open: try the one that opened longest ago rather than fail without a call.
    forced = circuitOpen[0]!;
    for (const d of circuitOpen) if (d.breaker.openedAt < forced.breaker.openedAt) forced = d;
    candidates.push(forced);
  }
  const selection: CandidateSelection = { candidates, excluded, forced, soonestFreeMs, refusal };
  if (refused) selection.refused = refused;
  return selection;
}

/** `d` left out because its engine refuses the request: kind `unfit`, the refusal's words, `code` and `param`. */
export function refusedExclusion(d: RouterDeployment, refusal: EngineRefusal): Exclusion {
  const e = exclusion(d, refusal.message, 'unfit');
  e.code = 'unsupported';
  e.param = refusal.param;
  return e;
}

/** `d` left out for `reason` of `kind`, with its owner when it is a tenant's own model. */
export function exclusion(d: RouterDeployment, reason: string, kind: Exclusion['kind']): Exclusion {
  const e: Exclusion = { name: d.name, reason, kind };
  if (d.tenant !== undefined) e.tenant = d.tenant;
  return e;
}

/** `model_not_found` for a requested name that no deployment of `all` the caller may use carries (known: those it may). */
export function modelNotFoundError(all: readonly RouterDeployment[], model: string, allowedModels: readonly string[] | undefined): LLMError {
  const known = all
    .filter((d) => !allowedModels || allowed(d, allowedModels))
    .map((d) => d.name)
    .join(', ');
  return new LLMError({
    code: 'model_not_found',
    message: `No deployment named "${model}" (by name or alias). Known: ${known}`,
    param: 'model',
  });
}

/** `rate_limited` when every deployment that could serve the request is at its limits. */
export function saturatedError(excluded: readonly Exclusion[], model: string | undefined, retryAfterMs: number): LLMError {
  return new LLMError({
    code: 'rate_limited',
    message: `Every deployment that could serve this request${model ? ` for model "${model}"` : ''} is at its limits; retry in ~${retryAfterMs} ms:\n${excluded.map((e) => `  ${e.name}: ${e.reason}`).join('\n')}`,
    retryAfterMs,
    details: { excluded },
  });
}

/** The `no_deployment` error listing why each deployment was excluded. */
export function noDeploymentError(excluded: readonly Exclusion[], model: string | undefined, extra?: string): LLMError {
  return new LLMError({ code: 'no_deployment', message: noDeploymentMessage(excluded, model, extra), details: { excluded } });
}

/**
 * The error when no deployment is left to try, listing why each was excluded: the refusal's 400 when every
 * exclusion is the request's own ask (`addRefusal`; the same request always fails, and clients retry a 5xx),
 * else `no_deployment`.
 */
export function noCandidateError(excluded: readonly Exclusion[], model: string | undefined, refusal: Refusal | null | undefined, extra?: string): LLMError {
  if (!refusal) return noDeploymentError(excluded, model, extra);
  return new LLMError({ code: refusal.code, message: noDeploymentMessage(excluded, model, extra), param: refusal.param, details: { excluded } });
}

function noDeploymentMessage(excluded: readonly Exclusion[], model: string | undefined, extra: string | undefined): string {
  const why = excluded.length > 0 ? excluded.map((e) => `  ${e.name}: ${e.reason}`).join('\n') : '  (no deployments configured)';
  return `No deployment can serve this request${model ? ` for model "${model}"` : ''}${extra ? ` (${extra})` : ''}:\n${why}`;
}

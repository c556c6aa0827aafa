import type { Capability } from '../config/schema.js';
import { LLMError } from '../errors/llm-error.js';
import type { Saturation } from './deployment-limiter.js';
import type { RouterDeployment } from './deployment.js';

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
  /** Tokens that must fit the context window, when not `estimatedInputTokens` (embed: the longest input). */
  contextTokens?: number | undefined;
}

export interface Exclusion {
  name: string;
  reason: string;
}

export interface CandidateSelection {
  candidates: RouterDeployment[];
  excluded: Exclusion[];
  /** Set when every otherwise-fit deployment had an open circuit: the least recently opened, tried anyway. */
  forced: RouterDeployment | undefined;
  /** When some fit deployment was skipped at its limits: the soonest one of them frees up (ms). */
  soonestFreeMs: number | undefined;
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
 * Why `d` cannot serve the query, or undefined when it can (ignoring the circuit and the requested
 * model). Also used for fallbacks, which must be able to serve the request too.
 */
export function unfitReason(d: RouterDeployment, q: CandidateQuery): string | undefined {
  const cfg = d.config;
  // First, so that nothing else is said about a deployment the caller may not use.
  if (q.allowedModels && !allowed(d, q.allowedModels)) return NOT_ALLOWED;
  if (!cfg.enabled) return 'disabled';
  if (d.embeddingOnly && q.embed !== true) {
    return cfg.capabilities
      ? 'an embedding model (capabilities list embeddings but not chat or completion)'
      : `an embedding model (engine "${cfg.engine}" declares embeddings but not chat or completion for it)`;
  }
  if (q.region !== undefined && cfg.region !== q.region) {
    return cfg.region === undefined ? `no region configured (requested "${q.region}")` : `region "${cfg.region}" is not the requested "${q.region}"`;
  }
  if (q.required.length > 0) {
    let caps: ReadonlySet<Capability>;
    try {
      caps = d.capabilities;
    } catch (e) {
      return `engine could not be created: ${e instanceof Error ? e.message : String(e)}`;
    }
    let missing: Capability[] | undefined;
    for (let i = 0; i < q.required.length; i++) {
      const c = q.required[i]!;
      if (!caps.has(c)) (missing ??= []).push(c);
    }
    if (missing) return `lacks capabilities: ${missing.join(', ')}`;
  }
  if (q.embed === true) {
    let embed: unknown;
    try {
      embed = d.engine().embed;
    } catch (e) {
      return `engine could not be created: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (typeof embed !== 'function') return `engine "${cfg.engine}" has no embed()`;
  }
  if (cfg.contextWindow !== undefined) {
    const output = d.outputCap(q.maxTokens) ?? 0;
    const input = q.contextTokens ?? q.estimatedInputTokens;
    const need = input + output;
    if (need > cfg.contextWindow) {
      return q.embed === true
        ? `context window ${cfg.contextWindow} < ~${input} tokens of the longest input`
        : `context window ${cfg.contextWindow} < ~${need} tokens needed (~${input} input + ${output} maxTokens)`;
    }
  }
  return undefined;
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
  let matchedModel = q.model === undefined;
  for (let i = 0; i < all.length; i++) {
    const d = all[i]!;
    if (q.model !== undefined && !matchesName(d, q.model)) continue;
    const reason = unfitReason(d, q);
    // A deployment outside the allow-list is not the caller's to know about: it matches no requested name,
    // and errors and `explain` leave it out.
    if (reason === NOT_ALLOWED) continue;
    matchedModel = true;
    if (reason !== undefined) {
      excluded.push({ name: d.name, reason });
      continue;
    }
    const full = saturation(d, q);
    if (full !== undefined) {
      excluded.push({ name: d.name, reason: `saturated: ${full.reason}` });
      if (soonestFreeMs === undefined || full.retryAfterMs < soonestFreeMs) soonestFreeMs = full.retryAfterMs;
      continue;
    }
    if (!d.breaker.isAvailable()) {
      excluded.push({ name: d.name, reason: `circuit ${d.breaker.state}${d.stats.lastErrorCode ? ` (last error ${d.stats.lastErrorCode})` : ''}` });
      (circuitOpen ??= []).push(d);
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
  return { candidates, excluded, forced, soonestFreeMs };
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
  const why = excluded.length > 0 ? excluded.map((e) => `  ${e.name}: ${e.reason}`).join('\n') : '  (no deployments configured)';
  return new LLMError({
    code: 'no_deployment',
    message: `No deployment can serve this request${model ? ` for model "${model}"` : ''}${extra ? ` (${extra})` : ''}:\n${why}`,
    details: { excluded },
  });
}

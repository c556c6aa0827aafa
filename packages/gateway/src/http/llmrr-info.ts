import type { RouterResult } from '@llmrr/core';
import type { LlmrrResponseInfo } from '../schemas/openai-chat.js';

/** The `llmrr` field added to response bodies: deployment, cost, cache and (when asked) the decision. */
export function llmrrInfo(result: RouterResult, explain: boolean): LlmrrResponseInfo {
  const info: LlmrrResponseInfo = {
    request_id: result.requestId,
    deployment: result.deployment,
    provider: result.provider,
    cost_usd: result.cost.totalUsd,
    cost_estimated: result.cost.estimated,
    cached: result.cached,
    latency_ms: result.latencyMs,
  };
  if (explain && result.decision) info.decision = result.decision;
  if (result.cascade) info.cascade = cascadeInfo(result.cascade);
  return info;
}

function cascadeInfo(c: NonNullable<RouterResult['cascade']>): NonNullable<LlmrrResponseInfo['cascade']> {
  const info: NonNullable<LlmrrResponseInfo['cascade']> = {
    name: c.name,
    verifier: c.verifier,
    threshold: c.threshold,
    score: c.score,
    escalated: c.escalated,
    weak_deployment: c.weak.deployment,
    weak_cost_usd: c.weak.cost.totalUsd,
  };
  if (c.strong) info.strong_deployment = c.strong.deployment;
  if (c.strongError) info.strong_error = c.strongError.code;
  return info;
}

/** `x-llmrr-cascade`: `accepted`, `escalated`, or `escalated-strong-failed` (the weak answer served). */
export function cascadeHeader(c: NonNullable<RouterResult['cascade']>): string {
  return !c.escalated ? 'accepted' : c.strongError ? 'escalated-strong-failed' : 'escalated';
}

/**
 * Response headers that tell which deployment answered, at what cost, and from the cache or not; added to
 * `headers` (a reply's headers) and returned.
 */
export function resultHeaders(result: RouterResult, headers: Record<string, string> = {}): Record<string, string> {
  headers['x-llmrr-model'] = headerText(result.deployment);
  headers['x-llmrr-cache'] = result.cached === false ? 'miss' : `hit-${result.cached}`;
  headers['x-llmrr-cost-usd'] = formatUsd(result.cost.totalUsd);
  if (result.cacheScore !== undefined) headers['x-llmrr-cache-score'] = formatScore(result.cacheScore);
  if (result.cascade) headers['x-llmrr-cascade'] = cascadeHeader(result.cascade);
  return headers;
}

/**
 * A name (a deployment's) as a header value: as it is when it is printable ASCII without `%` (every usual
 * name), else percent-encoded (`encodeURIComponent`): a header cannot carry characters above U+00FF at all,
 * Latin-1 ones are read differently by different clients, and with `%` encoded too, a client can always
 * `decodeURIComponent` the value.
 */
export function headerText(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) return encodeURIComponent(value);
  }
  return value;
}

/** A semantic-cache similarity for `x-llmrr-cache-score` (4 decimals). */
export function formatScore(score: number): string {
  return Number.isFinite(score) ? String(Math.round(score * 10_000) / 10_000) : '0';
}

/**
 * A USD amount for `x-llmrr-cost-usd`: 9 decimals (trailing zeros dropped), the nano-dollar precision of core's
 * `computeCost` and of the ledger (`cost_nano`), so the header carries the amount the ledger records.
 */
export function formatUsd(usd: number): string {
  return Number.isFinite(usd) ? usd.toFixed(9).replace(/\.?0+$/, '') || '0' : '0';
}

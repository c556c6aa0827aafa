import type { CandidateExplanation, DeploymentStatsSnapshot, LLMError, RouteDecision, RouteExclusion, RouterResult } from '@llmrr/core';
import type { Principal } from '../auth/principal.js';

/**
 * Who sees a deployment's traffic. A deployment's counters (requests, failures, error rate, latency, in flight) and
 * what strategies derive from them (scores, factors, notes, learned quality) count every tenant's calls in this
 * process, so a tenant sees them only for its own models; of a shared deployment it sees the circuit alone. A
 * caller without a tenant of its own (a gateway without stores) and the demo tenant see everything. Ownership is
 * the router's (`owner`: `DeploymentInfo.tenant`, `CandidateExplanation.tenant`, `RouteExclusion.tenant`), not the
 * stored tenant record's model names: a stored model the router could not set is not the tenant's deployment (it
 * is served the shared one of that name). One rule for every answer that carries them: `/api/status`,
 * `/api/route`'s candidates and the `llmrr.explain` decision of the model routes.
 */
export function seesTraffic(principal: Principal, owner: string | undefined): boolean {
  return seesAllTraffic(principal) || (owner !== undefined && owner === principal.tenantId);
}

function seesAllTraffic(principal: Principal): boolean {
  return principal.tenant === undefined || principal.demo;
}

/**
 * A routing decision as `principal` may see it. Of a shared deployment (one it does not see the traffic of), a
 * candidate keeps only what is config or visible anyway: `name`, `model`, `engine`, `rank`, `stats: { circuit }` and
 * `price` (no score, factors nor note: each is read off the traffic or a learned model of it); an excluded entry's
 * reason is cut to its kind (`saturated`, `circuit <state>`, `left out by strategy "<strategy>"`, an engine's refusal
 * (`unfit`, code `unsupported`, which the engine may have learned from another tenant's call) to `its engine refuses
 * this request (<param>)`; any other unfit one, which quotes config and the request only, stays); and when the first candidate is such a deployment the decision's reason is
 * the neutral `"<name>" ranked first by <strategy>.`. The same object when nothing is hidden (no copy for a caller
 * who sees all).
 */
export function visibleDecision(decision: RouteDecision, principal: Principal): RouteDecision {
  if (seesAllTraffic(principal)) return decision;
  let candidates: CandidateExplanation[] | undefined;
  let excluded: RouteExclusion[] | undefined;
  let reason = decision.reason;
  decision.candidates.forEach((c, i) => {
    if (seesTraffic(principal, c.tenant)) return;
    candidates ??= decision.candidates.slice();
    const shown: CandidateExplanation = { name: c.name, model: c.model, engine: c.engine, rank: c.rank, stats: { circuit: c.stats.circuit } as DeploymentStatsSnapshot };
    if (c.price) shown.price = c.price;
    candidates[i] = shown;
    if (i === 0) reason = `"${c.name}" ranked first by ${decision.strategy}.`;
  });
  decision.excluded.forEach((e, i) => {
    if (seesTraffic(principal, e.tenant)) return;
    const cut = hiddenReason(e, decision.strategy, true);
    if (cut === e.reason) return;
    excluded ??= decision.excluded.slice();
    excluded[i] = { ...e, reason: cut };
  });
  if (!candidates && !excluded) return decision;
  return { ...decision, candidates: candidates ?? decision.candidates, excluded: excluded ?? decision.excluded, reason };
}

/**
 * A routing error as `principal` may see it, by the same cut as `visibleDecision`: the exclusions a "no deployment
 * can serve" / "every deployment is at its limits" error lists (`details.excluded`) are cut to their kind for shared
 * deployments (an engine's refusal keeps its words: the advice for the caller's own request), and a skipped attempt's "Deployment X is saturated: <in-flight counts>" to "saturated". The cut
 * error drops `details` (the full one is its `cause`, for the server log; the ledger records the router's error).
 * The same object when nothing is hidden.
 */
export function visibleError(err: LLMError, principal: Principal): LLMError {
  if (seesAllTraffic(principal) || err.details === null || typeof err.details !== 'object') return err;
  const details = err.details as { excluded?: unknown; limit?: unknown; tenant?: unknown };
  if (details.limit === 'deployment' && err.deployment !== undefined) {
    if (seesTraffic(principal, typeof details.tenant === 'string' ? details.tenant : undefined)) return err;
    return err.with({ message: `Deployment "${err.deployment}" is saturated`, details: undefined, cause: err });
  }
  if (!Array.isArray(details.excluded)) return err;
  let message = err.message;
  for (const e of details.excluded as RouteExclusion[]) {
    if (seesTraffic(principal, e.tenant)) continue;
    const cut = hiddenReason(e, undefined, false);
    if (cut !== e.reason) message = message.replace(`  ${e.name}: ${e.reason}`, `  ${e.name}: ${cut}`);
  }
  return message === err.message ? err : err.with({ message, details: undefined, cause: err });
}

/**
 * An exclusion's reason without the traffic it may quote (in-flight counts, last error, a strategy's observations).
 * `strategy` undefined (an error, which does not name it): `left out by strategy`. `refusals`: an engine's refusal
 * (`unfit`, `unsupported`) cut too, in an explanation; an error keeps its words, the advice answering the caller's own
 * request (which field to change; core's wording of a refusal the engine learned quotes no earlier call). Only the
 * words: that a deployment refuses such a request before the call at all is shared state (the engine's latch is per
 * deployment and process), so a tenant can still tell that some call was refused that way before (documented).
 */
function hiddenReason(e: RouteExclusion, strategy: string | undefined, refusals: boolean): string {
  switch (e.kind) {
    case 'saturated':
      return 'saturated';
    case 'circuit':
      return `circuit ${e.circuit ?? 'open'}`;
    case 'strategy':
      return strategy === undefined ? 'left out by strategy' : `left out by strategy "${strategy}"`;
    default:
      // An engine's refusal of the request (`unsupported`) may be one the engine learned from an earlier call's answer
      // (Mistral's last-role 400, Google's model-turn 400: latched), so another tenant's traffic: the field only.
      if (refusals && e.code === 'unsupported') return `its engine refuses this request${e.param === undefined ? '' : ` (${e.param})`}`;
      // Any other `unfit` quotes the deployment's config and the request only.
      return e.reason;
  }
}

/** A result whose `decision` (explain) is as `principal` may see it (`visibleDecision`). */
export function visibleResult(result: RouterResult, principal: Principal): RouterResult {
  if (!result.decision || seesAllTraffic(principal)) return result;
  const decision = visibleDecision(result.decision, principal);
  return decision === result.decision ? result : { ...result, decision };
}

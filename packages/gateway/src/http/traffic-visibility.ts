import type { CandidateExplanation, RouteDecision, RouterResult } from '@llmrr/core';
import type { Principal } from '../auth/principal.js';

/**
 * Who sees a deployment's traffic. A deployment's counters (requests, failures, error rate, latency, in flight) and
 * what strategies derive from them count every tenant's calls in this process, so a tenant sees them only for its
 * own models; of a shared deployment it sees the circuit alone. A caller without a tenant of its own (a gateway
 * without stores) and the demo tenant see everything. One rule for every answer that carries them: `/api/status`,
 * `/api/route`'s candidates and the `llmrr.explain` decision of the model routes.
 */
export function seesTraffic(principal: Principal, deployment: string): boolean {
  return seesAllTraffic(principal) || principal.tenant!.models?.some((m) => m.name === deployment) === true;
}

function seesAllTraffic(principal: Principal): boolean {
  return principal.tenant === undefined || principal.demo;
}

/**
 * Strategy factors that are (or are read off) a deployment's traffic: `adaptive`'s observations, the observed
 * latency (`latencyMs`; `balanced`'s normalised `latency` and `errorRate`), `least-loaded`'s in-flight count and load.
 */
const TRAFFIC_FACTORS: ReadonlySet<string> = new Set(['observations', 'latencyMs', 'ttftMs', 'latency', 'errorRate', 'inFlight', 'load']);

/**
 * A routing decision as `principal` may see it: a shared deployment's candidate keeps `stats` `{ circuit }` only and
 * loses its traffic factors, and the reason's factor list (the first candidate's) loses them too. The same object
 * when nothing is hidden (no copy for a caller who sees all).
 */
export function visibleDecision(decision: RouteDecision, principal: Principal): RouteDecision {
  if (seesAllTraffic(principal)) return decision;
  let candidates: CandidateExplanation[] | undefined;
  let reason = decision.reason;
  decision.candidates.forEach((c, i) => {
    if (seesTraffic(principal, c.name)) return;
    candidates ??= decision.candidates.slice();
    const shown = { ...c, stats: { circuit: c.stats.circuit } } as CandidateExplanation;
    if (c.factors) {
      const factors: Record<string, number> = {};
      for (const [k, v] of Object.entries(c.factors)) if (!TRAFFIC_FACTORS.has(k)) factors[k] = v;
      shown.factors = factors;
    }
    candidates[i] = shown;
    if (c.rank === 1) reason = withoutTrafficFactors(reason);
  });
  return candidates ? { ...decision, candidates, reason } : decision;
}

/** A result whose `decision` (explain) is as `principal` may see it (`visibleDecision`). */
export function visibleResult(result: RouterResult, principal: Principal): RouterResult {
  if (!result.decision || seesAllTraffic(principal)) return result;
  const decision = visibleDecision(result.decision, principal);
  return decision === result.decision ? result : { ...result, decision };
}

/** The decision's reason without traffic factors in its `"name" ranked first by strategy (k=v, ...)` list. */
function withoutTrafficFactors(reason: string): string {
  const at = reason.indexOf(' ranked first by ');
  const open = at < 0 ? -1 : reason.indexOf(' (', at);
  const close = open < 0 ? -1 : reason.indexOf(')', open);
  if (close < 0) return reason;
  const items = reason.slice(open + 2, close).split(', ');
  const kept = items.filter((kv) => {
    const eq = kv.indexOf('=');
    return eq < 0 || !TRAFFIC_FACTORS.has(kv.slice(0, eq));
  });
  if (kept.length === items.length) return reason;
  return reason.slice(0, open) + (kept.length > 0 ? ` (${kept.join(', ')})` : '') + reason.slice(close + 1);
}

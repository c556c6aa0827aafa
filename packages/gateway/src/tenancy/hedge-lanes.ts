import type { DeploymentInfo } from '@llmrr/core';
import type { GatewayRouter } from '../types.js';

/**
 * How many answers a call that waits for its hedge lanes (a router `generate` or `embed`, not a stream) may be billed
 * for in full: with the router's `routing.hedging` on, one per lane that may run, the winner's and those the other
 * lanes completed in the same turn before the router could cancel them (core's `failedAttempts*`) or lost after their
 * response (a refused answer): `1 + maxHedges`, but no more than the deployments that can serve the call (the router
 * hedges only over a plan of more than one deployment, one lane per deployment; a cascade's entry is none, nor, for a
 * chat call, an embedding-only deployment). For a cascade (`steps`), each step is its own call hedged over its own
 * deployments: the most lanes of any step. 1 without hedging. The budget reservation and the `tpm` estimate count that
 * many calls (`AdmitInput.billedCalls`), so what the call settles stays within them.
 */
export function hedgeLanes(
  router: GatewayRouter,
  candidates: readonly DeploymentInfo[],
  steps?: ReadonlyMap<string, readonly DeploymentInfo[]>,
  embed = false,
): number {
  const hedging = router.routerConfig?.routing.hedging;
  if (hedging?.enabled !== true) return 1;
  const lanes = 1 + (hedging.maxHedges ?? 1);
  if (steps === undefined) return Math.max(1, Math.min(lanes, serving(candidates, embed)));
  let most = 1;
  for (const list of steps.values()) most = Math.max(most, Math.min(lanes, serving(list, embed)));
  return most;
}

/** How many of `list` can serve the call: not a cascade's entry, and for a chat call not embedding-only. */
function serving(list: readonly DeploymentInfo[], embed: boolean): number {
  let n = 0;
  for (const d of list) if (d.cascade === undefined && (embed || !embeddingOnly(d))) n++;
  return n;
}

function embeddingOnly(d: DeploymentInfo): boolean {
  return d.capabilities.includes('embeddings') && !d.capabilities.includes('chat') && !d.capabilities.includes('completion');
}

import type { DeploymentInfo } from '@llmrr/core';
import type { GatewayRouter } from '../types.js';

/**
 * How many answers a call that waits for its hedge lanes (a router `generate` or `embed`, not a stream) may be billed
 * for in full: with the router's `routing.hedging` on, one per lane that may run, the winner's and those the other
 * lanes completed in the same turn before the router could cancel them (core's `failedAttempts*`) or lost after their
 * response (a refused answer): `1 + maxHedges`, but no more than `candidates` (the router hedges only over a plan of
 * more than one deployment, one lane per deployment). 1 without hedging. The budget reservation and the `tpm` estimate
 * count that many calls (`AdmitInput.billedCalls`), so what the call settles stays within them.
 */
export function hedgeLanes(router: GatewayRouter, candidates: readonly DeploymentInfo[]): number {
  const hedging = router.routerConfig?.routing.hedging;
  if (hedging?.enabled !== true) return 1;
  return Math.max(1, Math.min(1 + (hedging.maxHedges ?? 1), candidates.length));
}

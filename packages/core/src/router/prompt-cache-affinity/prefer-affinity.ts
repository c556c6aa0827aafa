import type { RouterDeployment } from '../deployment.js';
import type { RankedCandidate } from '../types.js';
import type { AffinityHit } from './affinity-store.js';

/**
 * The remembered deployment of the strategy's first choice's model, and the ranking with it first, or
 * undefined when the ranking stays as it is: nothing is remembered for that model, the remembered one is
 * already first, or it is not a candidate (unfit, circuit open, at its limits, not allowed). A prompt cache
 * never carries across models, so a strategy choosing between models is never overridden. The others keep
 * their order behind it.
 */
export function preferAffinity(ranked: readonly RankedCandidate[], hits: readonly AffinityHit[]): { hit: AffinityHit | undefined; ranked: RankedCandidate[] | undefined } {
  const top = ranked[0];
  if (top === undefined) return { hit: undefined, ranked: undefined };
  const model = (top.deployment as RouterDeployment).modelId;
  const hit = hits.find((h) => h.model === model);
  if (hit === undefined || top.deployment.name === hit.deployment) return { hit, ranked: undefined };
  for (let i = 1; i < ranked.length; i++) {
    const r = ranked[i]!;
    if (r.deployment.name !== hit.deployment || (r.deployment as RouterDeployment).modelId !== model) continue;
    const out = [r];
    for (let j = 0; j < ranked.length; j++) if (j !== i) out.push(ranked[j]!);
    return { hit, ranked: out };
  }
  return { hit, ranked: undefined };
}
